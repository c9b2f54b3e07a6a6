"""One page of a batch ingest in memory: what it loads in a few queries, and the state decisions update.

Golden records are identified by a *key*: the primary key of a stored one,
``NEW_KEY + n`` for the n-th created in this page. New keys sort after every
stored one, in creation order, as their primary keys will: ties between
candidates go to the older record in both paths.
"""

import copy
from bisect import bisect_right

from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast

from audit.bulk import reserve_ids
from config import rowsjson
from config.lookups import any_of
from masterdata import cleansing, matching
from masterdata.models import BlockingKey, GoldenRecord, SourceRecord

from .ingest import CANDIDATE_POOL, payload_hash, window_sql
from .pair_scores import PairScores, ValueTable, blocking_keys_many
from .survivorship import load_rules

NEW_KEY = 1 << 62
MARGIN = 4  # stored holders read past a key's window: room for the ones a page changes


class Page:
    """The records of one ``ingest_many`` call and the master data they touch."""

    def __init__(self, system, entity: str, items: list[tuple[str, dict]], locale: str):
        self.system, self.entity, self.items, self.locale = system, entity, items, locale
        self.rules = load_rules(entity)
        self.table = ValueTable()
        self.scores = PairScores(entity, self.table)
        self.sources: dict[str, SourceRecord] = {}  # external id -> its record, stored or new
        self.by_pk: dict[int, SourceRecord] = {}  # the page's stored source records
        self.links: dict[str, int] = {}  # external id -> golden key (the xref)
        self.goldens: dict[int, GoldenRecord] = {}
        self.new_goldens: list[GoldenRecord] = []
        self.new_sources: list[SourceRecord] = []
        self.source_before: dict[int, SourceRecord] = {}  # pk -> as loaded, for changed stored records
        self.golden_before: dict[int, GoldenRecord] = {}
        self.golden_keys: dict[int, set[str]] = {}  # golden key -> all its blocking keys, once they changed
        self.proposals: list[tuple] = []  # (DuplicateCandidate, new golden key, other golden key, scored pair)
        # Blocks as stored: (key, a record's rank) -> holders at or before it (nearest first), after it, limit.
        self.windows: dict[tuple[str, bytes], tuple[list, list, int]] = {}
        # Blocks as the page changed them: blocking key of the page -> golden keys created or changed
        # here holding it (their stored rows, in ``_changed``, no longer count), at ``_ranks``.
        self.index: dict[str, set[int]] = {}
        self._indexed: dict[int, set[str]] = {}  # golden key -> the page's blocking keys it holds
        self._changed: set[int] = set()
        self._ranks: dict[int, bytes] = {}
        self._rank_cache: dict[int, bytes] = {}  # value id -> sort position
        self._value_ids: dict[int, int] = {}  # golden key -> value id of its current values
        self._key_cache: dict[int, set[str]] = {}  # value id -> blocking keys
        self._members: dict[int, list[SourceRecord]] = {}
        self._reserved: list[int] = []
        self._stale: set[int] = set()  # golden keys whose values changed since the index was updated
        self.union: set[str] = set()

    @classmethod
    def load(cls, system, entity: str, items: list[tuple[str, dict]], locale: str) -> "Page":
        page = cls(system, entity, items, locale)
        page._load_sources()
        page._cleanse()
        page.load_goldens(set(page.links.values()))
        page._prepare_matching()
        return page

    # --- loading -------------------------------------------------------------------------------

    def _load_sources(self) -> None:
        ids = {external_id for external_id, _ in self.items}
        stored = SourceRecord.objects.select_for_update().filter(
            any_of("external_id", ids), system=self.system, entity=self.entity
        )
        for source in stored.order_by("pk"):  # locked in one order: two pages never deadlock
            source.system = self.system  # its audit entry names the system without a query
            self.sources[source.external_id] = self.by_pk[source.pk] = source
            if source.golden_id:
                self.links[source.external_id] = source.golden_id

    def _cleanse(self) -> None:
        """Cleanse what changed and find which records will look for candidates, replaying
        the page's order: a record sent twice is unchanged the second time."""
        last = {external_id: source.payload_hash for external_id, source in self.sources.items()}
        linked, done = set(self.links), {}
        self.digests = [payload_hash(payload) for _, payload in self.items]
        self.cleaned: list = [None] * len(self.items)
        self.matches: list[int] = []  # positions of records that will look for candidates
        new = 0
        for i, (external_id, payload) in enumerate(self.items):
            digest = self.digests[i]
            if last.get(external_id) == digest:
                continue
            new += external_id not in last
            last[external_id] = digest
            if digest not in done:
                done[digest] = cleansing.cleanse(self.entity, payload, locale=self.locale or None)
            self.cleaned[i] = done[digest]
            if not self.cleaned[i].errors and external_id not in linked:
                self.matches.append(i)
                linked.add(external_id)
        self._reserved = reserve_ids(SourceRecord, new)[::-1]
        changing = {self.links[ext] for i, (ext, _) in enumerate(self.items) if self.cleaned[i] and ext in self.links}
        self._load_members(changing)

    def load_goldens(self, keys) -> None:
        """Stored golden records not loaded yet, in one query."""
        missing = [key for key in keys if key not in self.goldens and key < NEW_KEY]
        for pk, golden in GoldenRecord.objects.in_bulk(missing).items():
            self.goldens[pk] = golden
            self._value_ids[pk] = self.table.id(golden.values)

    def _load_values(self, keys) -> None:
        """Only the values of stored golden records that are candidates: most are scored, never changed."""
        missing = [key for key in keys if key not in self._value_ids and key < NEW_KEY]
        # Thousands of rows a page: read as text and decoded by orjson (Django's JSONField decodes
        # with the standard library), in no order (the model's ordering sorts them by name).
        rows = GoldenRecord.objects.filter(any_of("pk", missing)).order_by()
        for pk, text in rows.values_list("pk", Cast("values", TextField())):
            self._value_ids[pk] = self.table.id(rowsjson.loads(text))

    def _load_members(self, keys) -> None:
        """The source records of stored golden records (the page's own instances where loaded)."""
        keys = [key for key in keys if key not in self._members and key < NEW_KEY]
        for key in keys:
            self._members[key] = []
        for source in SourceRecord.objects.filter(any_of("golden_id", keys)):
            self._members[source.golden_id].append(self.by_pk.get(source.pk, source))

    def _prepare_matching(self) -> None:
        """Blocking keys of every record, the stored golden records nearest it in those blocks,
        and the scores of every pair a decision is likely to need, each in one pass."""
        values = [self.cleaned[i].values for i in self.matches]
        self.record_value_ids = {i: self.table.id(v) for i, v in zip(self.matches, values, strict=True)}
        self.record_ranks = dict(zip(self.matches, matching.sort_positions(self.entity, values), strict=True))
        would_be = {i: self.table.id(_alone(v)) for i, v in zip(self.matches, values, strict=True)}
        ids = sorted({*self.record_value_ids.values(), *would_be.values()})
        keys = blocking_keys_many(self.entity, [self.table.rows[v] for v in ids])
        self._key_cache.update(zip(ids, keys, strict=True))
        self.record_keys = {i: self._key_cache[self.record_value_ids[i]] for i in self.matches}
        self.union = set().union(*self.record_keys.values())
        wanted = {(key, self.record_ranks[i]) for i in self.matches for key in self.record_keys[i]}
        self._read_windows([(key, rank, matching.key_window(self.entity, key) + MARGIN) for key, rank in wanted])
        pools = {i: self.pool(i) for i in self.matches}
        self._load_values({golden for found in pools.values() for golden in found})
        stored = [(g, (self.record_value_ids[i], self._value_ids[g])) for i, found in pools.items() for g in found]
        self.scores.score_all([pair for _, pair in stored] + self._pairs_within_page(would_be))
        # The stored golden records a record may link to: their source records decide their new values.
        link = matching.thresholds(self.entity).link
        likely = {g for g, pair in stored if self.scores.score(pair) >= link}
        self.load_goldens(likely)
        self._load_members(likely)

    def _read_windows(self, requests: list[tuple[str, bytes, int]]) -> None:
        """Each ``(key, rank, limit)``'s stored holders: ``limit`` at or before ``rank`` and as many
        after it, as ``ingest.window`` reads them one by one, for a whole page in one statement
        (the embedded database reads the keys' whole blocks and cuts the windows here: small data)."""
        if not requests:
            return
        if connection.vendor == "postgresql":
            self._read_windows_lateral(requests)
            return
        blocks = self._read_blocks(sorted({key for key, _, _ in requests}))
        for key, rank, lim in requests:
            block = blocks[key]
            at = bisect_right(block, (rank, NEW_KEY))  # past every holder at or before ``rank``
            self.windows[(key, rank)] = (block[max(0, at - lim) : at][::-1], block[at : at + lim], lim)

    def _read_blocks(self, keys: list[str]) -> dict[str, list[tuple[bytes, int]]]:
        """Every key's whole block, in order."""
        blocks: dict[str, list[tuple[bytes, int]]] = {key: [] for key in keys}
        holders = BlockingKey.objects.filter(any_of("key", keys), entity=self.entity)
        holders = holders.values_list("key", "rank", "golden_id")
        for key, rank, golden in holders:
            blocks[key].append((bytes(rank), golden))
        for block in blocks.values():
            block.sort()
        return blocks

    def _read_windows_lateral(self, requests: list[tuple[str, bytes, int]]) -> None:
        # ``ingest.window``'s two statements for each request, in one statement.
        sql = (
            "SELECT q.n, w.after, w.rank, w.golden_id"  # noqa: S608 - fixed names
            " FROM unnest(%s::text[], %s::bytea[], %s::int[]) WITH ORDINALITY AS q(key, rank, lim, n)"
            " CROSS JOIN LATERAL"
            f" ((SELECT false AS after, * FROM ({window_sql('before', 'q.key', 'q.rank', 'q.lim')}) b)"
            f" UNION ALL (SELECT true, * FROM ({window_sql('after', 'q.key', 'q.rank', 'q.lim')}) a)) w"
        )
        keys, ranks, limits = zip(*requests, strict=True)
        found: list[tuple[list, list]] = [([], []) for _ in requests]
        with rowsjson.cursor() as cursor:
            cursor.execute(sql, [list(keys), list(ranks), list(limits), self.entity, -1, self.entity, -1])
            for n, after, rank, golden in cursor.fetchall():
                found[n - 1][after].append((rank, golden))
        for (key, rank, lim), (before, after) in zip(requests, found, strict=True):
            self.windows[(key, rank)] = (sorted(before, reverse=True), sorted(after), lim)  # nearest first

    def pool(self, i: int) -> list[int]:
        """``ingest.candidates_for``'s pool for the i-th record, on the page's state: the golden
        records nearest it in each block it shares with them, those sharing the most first."""
        self.flush_index()
        rank, shared = self.record_ranks[i], {}
        for key in self.record_keys[i]:
            for golden in self._near(key, rank):
                shared[golden] = shared.get(golden, 0) + 1
        return [golden for _, golden in sorted((-count, golden) for golden, count in shared.items())[:CANDIDATE_POOL]]

    def _near(self, key: str, rank: bytes) -> list[int]:
        """``ingest.window`` on the page's state: the stored holders nearest ``rank`` that the page
        did not change, with the golden records the page created or changed, nearest first."""
        width = matching.key_window(self.entity, key)
        while True:
            before, after, lim = self.windows[(key, rank)]
            kept_before, kept_after = before, after
            if self._changed:
                kept_before = [entry for entry in before if entry[1] not in self._changed]
                kept_after = [entry for entry in after if entry[1] not in self._changed]
            # Too few left where the block goes on: read further (the page changed several there).
            if (len(kept_before) >= width or len(before) < lim) and (len(kept_after) >= width or len(after) < lim):
                break
            self._read_windows([(key, rank, lim * 2 + len(self._changed))])
        mine = self.index.get(key)
        if not mine:  # the page changed nothing in this block: as stored
            return [golden for _, golden in kept_before[:width] + kept_after[:width]]
        mine = [(self._ranks[golden], golden) for golden in mine]
        low = sorted(kept_before + [entry for entry in mine if entry[0] <= rank], reverse=True)[:width]
        high = sorted(kept_after + [entry for entry in mine if entry[0] > rank])[:width]
        return [golden for _, golden in low + high]

    def _pairs_within_page(self, would_be: dict[int, int]) -> list[tuple[int, int]]:
        """Each record against the earlier records of the page, as the golden records they would create."""
        index: dict[str, set[int]] = {}
        pairs = []
        for i in self.matches:
            pairs += [(self.record_value_ids[i], would_be[j]) for j in overlap(self.record_keys[i], index)]
            for key in self._key_cache[would_be[i]] & self.union:
                index.setdefault(key, set()).add(i)
        return pairs

    # --- the state decisions read and change ---------------------------------------------------

    def golden(self, key: int) -> GoldenRecord:
        if key not in self.goldens:
            self.load_goldens([key])
        return self.goldens[key]

    def golden_of(self, external_id: str) -> GoldenRecord | None:
        key = self.links.get(external_id)
        return None if key is None else self.golden(key)

    def value_id_of(self, key: int) -> int:
        if key not in self._value_ids:
            self.golden(key)
        return self._value_ids[key]

    def known_value_id(self, key: int) -> int | None:
        """The value id of a golden record whose values are at hand, without loading anything."""
        return self._value_ids.get(key)

    def members(self, key: int) -> list[SourceRecord]:
        if key not in self._members:
            self._load_members([key])
        return self._members[key]

    def attach(self, external_id: str, key: int) -> None:
        self.members(key).append(self.sources[external_id])
        self.links[external_id] = key

    def new_golden(self) -> int:
        key = NEW_KEY + len(self.new_goldens)
        golden = GoldenRecord(entity=self.entity, display_name="", values={})
        self.goldens[key], self._members[key] = golden, []
        self.new_goldens.append(golden)
        return key

    def new_source(self, external_id: str) -> SourceRecord:
        # Its primary key is reserved now: golden records' lineage names it before it is written.
        source = SourceRecord(pk=self._reserved.pop(), system=self.system, entity=self.entity, external_id=external_id)
        self.sources[external_id] = source
        self.new_sources.append(source)
        return source

    def remember_before(self, key: int) -> None:
        if key < NEW_KEY and key not in self.golden_before:
            self.golden_before[key] = copy.copy(self.goldens[key])

    def remember_before_source(self, source: SourceRecord) -> None:
        if source.pk in self.by_pk and source.pk not in self.source_before:
            self.source_before[source.pk] = copy.copy(source)

    def reindex(self, key: int) -> None:
        """``index_golden`` in memory: the golden record's keys follow its values. Deferred until
        a lookup needs the index (:meth:`flush_index`), so many changed records share one pass."""
        value_id = self.table.id(self.goldens[key].values)
        if self._value_ids.get(key) != value_id:
            self._value_ids[key] = value_id
            self._stale.add(key)

    def flush_index(self) -> None:
        """Compute the blocking keys and ranks of the golden records changed since the last lookup, in one pass."""
        if not self._stale:
            return
        # Not ``- set(self._key_cache)``: that copied every value id the page knows, once per decision.
        todo = sorted({self._value_ids[key] for key in self._stale}.difference(self._rank_cache))
        rows = [self.table.rows[v] for v in todo]
        self._rank_cache.update(zip(todo, matching.sort_positions(self.entity, rows), strict=True))
        todo = [v for v in todo if v not in self._key_cache]
        self._key_cache.update(
            zip(todo, blocking_keys_many(self.entity, [self.table.rows[v] for v in todo]), strict=True)
        )
        for key in self._stale:
            value_id = self._value_ids[key]
            keys = self.golden_keys[key] = self._key_cache[value_id]
            self._ranks[key] = self._rank_cache[value_id]
            if key < NEW_KEY:
                self._changed.add(key)  # its stored keys and rank are out of date from now on
            for old in self._indexed.get(key, set()) - keys:
                self.index[old].discard(key)
            self._indexed[key] = keys & self.union
            for fresh in self._indexed[key]:
                self.index.setdefault(fresh, set()).add(key)
        self._stale.clear()

    def rank_of(self, key: int) -> bytes:
        """The place in its blocks of a golden record whose keys the page recomputed."""
        return self._ranks[key]


def overlap(keys: set[str], index: dict[str, set[int]]) -> list[int]:
    """The CANDIDATE_POOL entries of ``index`` sharing most of ``keys``, then the oldest."""
    shared: dict[int, int] = {}
    for key in keys:
        for found in index.get(key, ()):
            shared[found] = shared.get(found, 0) + 1
    return [found for _, found in sorted((-count, found) for found, count in shared.items())[:CANDIDATE_POOL]]


def _alone(values: dict) -> dict:
    """The values of a golden record made of this one record (survivorship with a single source):
    a guess that only decides what is scored ahead; a wrong one costs a later scoring pass."""
    return {field: (None if value in (None, "") else value) for field, value in values.items()}
