"""Ingest one source record: cleanse, match, then link, create, review or quarantine."""

import hashlib
import json
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from masterdata import cleansing, matching
from masterdata.choices import CandidateStatus, IngestResult, SourceStatus
from masterdata.models import BlockingKey, DuplicateCandidate, GoldenRecord, SourceRecord

from .locks import lock_entity
from .survivorship import refresh_golden

MAX_CANDIDATES = 50  # best-scoring golden records considered per incoming record
CANDIDATE_POOL = MAX_CANDIDATES * 4  # golden records scored per incoming record, best blocking overlap first


@dataclass
class IngestOutcome:
    result: str
    source: SourceRecord
    golden: GoldenRecord | None = None
    candidates: list[DuplicateCandidate] = field(default_factory=list)


def payload_hash(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def index_golden(golden: GoldenRecord) -> None:
    """Rebuild the blocking keys of ``golden`` from its current values, at its current place in their
    blocks (none for a record merged away: only active records are found)."""
    held = BlockingKey.objects.filter(golden=golden)
    if not golden.is_active:
        held.delete()
        return
    keys = matching.blocking_keys(golden.entity, golden.values)
    (rank,) = matching.sort_positions(golden.entity, [golden.values])
    held.exclude(key__in=keys).delete()
    held.exclude(rank=rank).update(rank=rank)
    existing = set(held.values_list("key", flat=True))
    BlockingKey.objects.bulk_create(
        [BlockingKey(golden=golden, entity=golden.entity, key=k, rank=rank) for k in keys - existing]
    )


def window_sql(side: str, key: str = "%s", rank: str = "%s", limit: str = "%s") -> str:
    """The statement reading one side of a block from a record's place outwards (``before``: at
    or before it, newest first among equals; ``after``), nearest first, up to a limit; the entity
    is its first parameter, ``key``, ``rank`` and ``limit`` are placeholders or a query's columns,
    and a golden record id to leave out is a parameter after ``rank``. An index walk that never
    looks at the golden records: keys carry their entity, and only active records hold any."""
    op, order = {"before": ("<=", "DESC"), "after": (">", "ASC")}[side]
    return (
        f"SELECT b.rank, b.golden_id FROM {BlockingKey._meta.db_table} b"  # noqa: S608 - fixed names
        f" WHERE b.entity = %s AND b.key = {key} AND b.rank {op} {rank} AND b.golden_id <> %s"
        f" ORDER BY b.rank {order}, b.golden_id {order} LIMIT {limit}"
    )


def window(entity: str, key: str, rank: bytes, exclude_id: int | None = None, limit: int | None = None):
    """The active golden records of ``entity`` holding ``key`` nearest a record at ``rank``:
    ``limit`` (by default the key's window) at or before it and as many after it, as
    ``(rank, golden id)`` lists, nearest first. Index walks, however big the block."""
    exclude = -1 if exclude_id is None else exclude_id
    params = [entity, key, rank, exclude, limit or matching.key_window(entity, key)]
    with connection.cursor() as cursor:
        cursor.execute(window_sql("before"), params)
        before = [(bytes(r), golden_id) for r, golden_id in cursor.fetchall()]
        cursor.execute(window_sql("after"), params)
        after = [(bytes(r), golden_id) for r, golden_id in cursor.fetchall()]
    return before, after


def candidates_for(entity: str, values: dict, exclude_id: int | None = None) -> list[tuple[GoldenRecord, object]]:
    """Active golden records near ``values`` in a block they share with it, scored, best first."""
    keys = matching.blocking_keys(entity, values)
    if not keys:
        return []
    (rank,) = matching.sort_positions(entity, [values])
    shared: dict[int, int] = {}
    for key in keys:
        before, after = window(entity, key, rank, exclude_id)
        for _, golden_id in before + after:
            shared[golden_id] = shared.get(golden_id, 0) + 1
    # The records sharing the most keys first: with one typo a duplicate still shares the others.
    overlap = sorted(shared, key=lambda golden_id: (-shared[golden_id], golden_id))[:CANDIDATE_POOL]
    by_id = GoldenRecord.objects.in_bulk(overlap)
    goldens = [by_id[golden_id] for golden_id in overlap]
    # One vectorized pass over all candidates: the same pairs score_pair would give, one by one.
    pairs = matching.score_pairs(entity, [values] * len(goldens), [g.values for g in goldens])
    return best_candidates(list(zip(goldens, pairs, strict=True)), key=lambda pair: pair.score)


def best_candidates(scored: list[tuple], key) -> list[tuple]:
    """The MAX_CANDIDATES best ``(candidate, score)`` pairs, best first. Equal scores keep their
    order: the candidate sharing more blocking keys, then the older record (so the batch ingest,
    which ranks the same way, picks the same ones)."""
    return sorted(scored, key=lambda pair: key(pair[1]), reverse=True)[:MAX_CANDIDATES]


def propose(golden: GoldenRecord, other: GoldenRecord, pair) -> DuplicateCandidate | None:
    """Record a review candidate unless the pair was already decided."""
    left, right = sorted((golden, other), key=lambda g: g.pk)
    candidate, created = DuplicateCandidate.objects.get_or_create(
        left=left, right=right, defaults={"entity": golden.entity, "score": pair.score, "fields": pair.fields}
    )
    if not created and candidate.status == CandidateStatus.OPEN:
        candidate.score, candidate.fields = pair.score, pair.fields
        candidate.save(update_fields=["score", "fields"])
    return candidate if candidate.status == CandidateStatus.OPEN else None


@transaction.atomic
def ingest(system, entity: str, external_id: str, payload: dict, locale: str = "") -> IngestOutcome:
    """Bring one record from ``system`` into master data.

    Idempotent: the same payload again is ``unchanged``; a new version of a known
    record updates its source record and golden record in place.
    """
    lock_entity(entity)
    digest = payload_hash(payload)
    source = (
        SourceRecord.objects.select_for_update().filter(system=system, entity=entity, external_id=external_id).first()
    )
    if source and source.payload_hash == digest:
        return IngestOutcome(IngestResult.UNCHANGED, source, source.golden)
    cleaned = cleansing.cleanse(entity, payload, locale=locale or None)
    source = source or SourceRecord(system=system, entity=entity, external_id=str(external_id))
    source.payload, source.payload_hash, source.locale = payload, digest, locale
    source.values, source.errors = cleaned.values, cleaned.errors
    source.changes = [change_dict(c) for c in cleaned.changes]
    source.warnings, source.received_at = cleaned.warnings, timezone.now()
    if cleaned.errors:
        source.status = SourceStatus.QUARANTINED
        source.save()
        return IngestOutcome(IngestResult.QUARANTINED, source, source.golden)

    source.status = SourceStatus.LINKED
    if source.golden_id:  # a known record changed: its golden record follows
        source.save()
        golden = refresh_golden(source.golden)
        index_golden(golden)
        return IngestOutcome(IngestResult.LINKED, source, golden)

    scored = candidates_for(entity, cleaned.values)
    link = matching.thresholds(entity).link
    if scored and scored[0][1].score >= link:
        source.golden = scored[0][0]
        source.save()
        golden = refresh_golden(source.golden)
        index_golden(golden)
        return IngestOutcome(IngestResult.LINKED, source, golden)

    golden = GoldenRecord.objects.create(entity=entity, display_name="", values={})
    source.golden = golden
    source.save()
    refresh_golden(golden)
    index_golden(golden)
    review = matching.thresholds(entity).review
    proposals = [propose(golden, other, pair) for other, pair in scored if pair.score >= review]
    proposals = [p for p in proposals if p]
    return IngestOutcome(IngestResult.REVIEW if proposals else IngestResult.CREATED, source, golden, proposals)


def change_dict(change) -> dict:
    return {"field": change.field, "before": change.before, "after": change.after, "rule": change.rule}
