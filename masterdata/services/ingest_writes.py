"""The writes of a batch ingest: a handful of bulk statements per page, each change in the audit trail."""

from django.db import connection
from django.utils import timezone

from audit.bulk import bulk_insert, bulk_insert_rows, bulk_update, log_bulk_create, log_bulk_update, pipelined
from config import rowsjson
from config.lookups import any_of
from masterdata.models import BlockingKey, DuplicateCandidate, GoldenRecord, SourceRecord

from .ingest_page import NEW_KEY

SOURCE_FIELDS = [
    "payload",
    "payload_hash",
    "locale",
    "values",
    "errors",
    "changes",
    "warnings",
    "received_at",
    "status",
    "golden",
]
GOLDEN_FIELDS = ["values", "lineage", "display_name", "updated"]


def write_page(page, *, actor=None, cid: str | None = None) -> None:
    """Write what the page's decisions changed, in the caller's transaction."""
    bulk_insert(page.new_goldens)
    for external_id, key in page.links.items():
        page.sources[external_id].golden = page.goldens[key]  # the xref, now that every golden has its id
    candidates = _candidates(page)  # reads golden records and needs their ids: before the pipeline
    bulk_insert(candidates)
    # The rows below go to PostgreSQL while their audit entries are built (a third of the step's
    # Python); the entries' insert, which returns their ids, waits for all of them.
    with pipelined():
        bulk_insert(page.new_sources)
        changed_sources = [(page.source_before[pk], page.by_pk[pk]) for pk in page.source_before]
        bulk_update([after for _, after in changed_sources], SOURCE_FIELDS)
        changed_goldens = [
            (before, page.goldens[key])
            for key, before in page.golden_before.items()
            if golden_differs(before, page.goldens[key])
        ]
        now = timezone.now()
        for _, golden in changed_goldens:
            golden.updated = now
        bulk_update([after for _, after in changed_goldens], GOLDEN_FIELDS)
        _write_keys(page)
        log_bulk_create([*page.new_goldens, *page.new_sources, *candidates], actor=actor, cid=cid)
        written = {SourceRecord: SOURCE_FIELDS, GoldenRecord: GOLDEN_FIELDS}
        log_bulk_update([*changed_sources, *changed_goldens], fields=written, actor=actor, cid=cid)


def golden_differs(before: GoldenRecord, after: GoldenRecord) -> bool:
    """Whether ``after`` must be written: an unchanged golden record is not (no empty audit entry,
    no "updated" that means nothing)."""
    return any(getattr(before, name) != getattr(after, name) for name in GOLDEN_FIELDS[:-1])


def _write_keys(page) -> None:
    """``index_golden`` for every golden record whose values changed: its keys replaced."""
    page.flush_index()
    stored = [key for key in page.golden_keys if key < NEW_KEY]  # golden records created here have none yet
    pks = {key: page.goldens[key].pk for key in page.golden_keys}
    replace_keys(
        page.entity,
        {pks[key]: values for key, values in page.golden_keys.items()},
        {pks[key]: page.rank_of(key) for key in page.golden_keys},
        stored=stored,
    )


def replace_keys(entity: str, keys: dict[int, set[str]], ranks: dict[int, bytes], *, stored) -> None:
    """Give each golden record id of ``keys`` (active records of ``entity``) exactly its blocking
    keys, at its place ``ranks[id]`` in their blocks; ``stored``: the ids that may have some already."""
    rows = [
        {"golden_id": golden_id, "entity": entity, "key": value, "rank": ranks[golden_id]}
        for golden_id, values in keys.items()
        for value in sorted(values)
    ]
    if connection.vendor == "postgresql" and stored:
        # Keys of records that hold none yet (new golden records, most of a first load's) cannot
        # conflict: a plain insert, which costs PostgreSQL half what the conflict-checking one does.
        held = set(stored)
        _replace_changed_keys([row for row in rows if row["golden_id"] in held], stored)
        bulk_insert_rows(BlockingKey, [row for row in rows if row["golden_id"] not in held])
        return
    if stored:
        BlockingKey.objects.filter(any_of("golden_id", stored)).delete()
    bulk_insert_rows(BlockingKey, rows)


def _replace_changed_keys(rows: list[dict], stored) -> None:
    """One statement: a changed golden record keeps most of its keys, so only the keys it lost are
    deleted, only the ones it gained inserted and only those whose place moved (a new name) updated
    (all deleted and inserted again was a fifth of PostgreSQL's time in a master-data run, with a
    foreign-key check per row)."""
    table, shape = BlockingKey._meta.db_table, "golden_id bigint, entity text, key text, rank text"
    sql = (
        "WITH wanted AS (SELECT golden_id, entity, key, decode(rank, 'hex') AS rank"  # noqa: S608 - fixed names
        f" FROM jsonb_to_recordset(%s::jsonb) AS r({shape})),"
        f" lost AS (DELETE FROM {table} b WHERE b.golden_id = ANY(%s::bigint[]) AND NOT EXISTS"
        " (SELECT FROM wanted w WHERE w.golden_id = b.golden_id AND w.key = b.key))"
        f" INSERT INTO {table} AS b (golden_id, entity, key, rank) SELECT golden_id, entity, key, rank FROM wanted"
        " ON CONFLICT ON CONSTRAINT blocking_key_unique DO UPDATE SET rank = EXCLUDED.rank"
        " WHERE b.rank IS DISTINCT FROM EXCLUDED.rank"
    )
    hexed = [{**row, "rank": row["rank"].hex()} for row in rows]
    with rowsjson.cursor() as cursor:
        cursor.execute(sql, [rowsjson.dumps(hexed), list(stored)])


def _candidates(page) -> list[DuplicateCandidate]:
    """The page's review candidates, each pair stored once with the lower id on the left."""
    explained = page.scores.explain([pair for *_, pair in page.proposals])
    page.load_goldens({other for _, _, other, _ in page.proposals})  # the entries name both records
    out = []
    for (candidate, new_key, other_key, _), pair in zip(page.proposals, explained, strict=True):
        left, right = sorted((page.golden(new_key), page.golden(other_key)), key=lambda golden: golden.pk)
        candidate.left, candidate.right, candidate.score, candidate.fields = left, right, pair.score, pair.fields
        out.append(candidate)
    return out
