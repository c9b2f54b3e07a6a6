"""Ingest a page of source records in a few queries, deciding exactly as ``ingest`` does one by one.

``ingest`` costs about a dozen statements per record. ``ingest_many`` takes a
whole page through the same steps in four stages:

1. **Load** (``page.Page.load``): the page's known source records (locked),
   the survivorship rules, the golden records the page's records belong to
   and, for every blocking key of the page, the golden records holding it.
2. **Prepare**: cleanse every record that changed, compute all blocking keys
   in one pass, and score every (record, candidate) pair the decisions may need
   in one vectorized pass: candidates already stored, and records earlier in
   the page as the golden records they would create.
3. **Decide** in page order, in memory: the steps of ``ingest`` against a
   state each decision updates, so record 7 finds the golden record record 3
   created, and two new records of one person link together. A pair the
   second stage did not foresee (a golden record whose values changed earlier
   in the page) is scored when it comes up.
4. **Write** (``ingest_writes.write_page``): bulk inserts and updates, with the
   audit entries of every record created or changed.
"""

import copy
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from masterdata import matching
from masterdata.choices import IngestResult, SourceStatus
from masterdata.models import BlockingKey, DuplicateCandidate, GoldenRecord, SourceRecord

from .ingest import IngestOutcome, best_candidates, change_dict
from .ingest_page import Page
from .ingest_writes import write_page
from .locks import lock_entity
from .survivorship import recompute

LOOKAHEAD = 64  # records whose pairs an unforeseen scoring pass also scores
# The tables pages of records grow, whose planner statistics a long load keeps up with
# (``config.statistics.refresh_grown`` between pages: a first load starts them empty).
GROWN = (SourceRecord, GoldenRecord, BlockingKey)


@transaction.atomic
def ingest_many(
    system, entity: str, items: list[tuple[str, dict]], locale: str = "", *, actor=None, cid: str | None = None
) -> list[IngestOutcome]:
    """Bring ``(external_id, payload)`` pairs from ``system`` into master data, in order.

    The outcomes, master data and review candidates are those of calling
    ``ingest`` for each pair in turn; it takes a few queries per page instead.
    Audit entries name ``actor`` and ``cid`` (by default, whoever and whatever
    runs now).
    """
    items = [(str(external_id), payload) for external_id, payload in items]
    if not items:
        return []
    lock_entity(entity)
    page = Page.load(system, entity, items, locale)
    decider = Decider(page)
    outcomes = [decider.decide(i) for i in range(len(items))]
    write_page(page, actor=actor, cid=cid)
    decider.settle_snapshots()
    return outcomes


class Decider:
    """The decisions of ``ingest``, one record after another, on a :class:`Page`."""

    def __init__(self, page: Page):
        self.page = page
        self.limits = matching.thresholds(page.entity)
        self.received = timezone.now()
        self._holders: dict[int, list[IngestOutcome]] = {}  # id(object) -> outcomes showing it
        self._snapshots: list[tuple[object, object]] = []  # (copy an outcome shows, the live object)
        self._position = {i: at for at, i in enumerate(page.matches)}  # record -> its place among those matched

    def decide(self, i: int) -> IngestOutcome:
        page = self.page
        external_id, payload = page.items[i]
        digest = page.digests[i]
        source = page.sources.get(external_id)
        if source is not None and source.payload_hash == digest:
            return self._show(IngestOutcome(IngestResult.UNCHANGED, source, page.golden_of(external_id)))
        source = self._writable_source(external_id, source)
        cleaned = page.cleaned[i]
        source.payload, source.payload_hash, source.locale = payload, digest, page.locale
        source.values, source.errors = cleaned.values, cleaned.errors
        source.changes = [change_dict(c) for c in cleaned.changes]
        # Distinct arrival times keep "most recent wins" in page order, as one by one.
        source.warnings, source.received_at = cleaned.warnings, self.received + timedelta(microseconds=i)
        if cleaned.errors:
            source.status = SourceStatus.QUARANTINED
            return self._show(IngestOutcome(IngestResult.QUARANTINED, source, page.golden_of(external_id)))
        source.status = SourceStatus.LINKED
        known = page.links.get(external_id)
        if known is not None:  # a known record changed: its golden record follows
            return self._show(IngestOutcome(IngestResult.LINKED, source, self._refresh(known)))
        scored = self._candidates(i)
        if scored and scored[0][1] >= self.limits.link:
            page.attach(external_id, scored[0][0])
            return self._show(IngestOutcome(IngestResult.LINKED, source, self._refresh(scored[0][0])))
        key = page.new_golden()
        page.attach(external_id, key)
        golden = self._refresh(key)
        proposals = [self._propose(i, key, other) for other, value in scored if value >= self.limits.review]
        result = IngestResult.REVIEW if proposals else IngestResult.CREATED
        return self._show(IngestOutcome(result, source, golden, proposals))

    def _candidates(self, i: int) -> list[tuple[int, float]]:
        """``candidates_for`` on the page's state: ``(golden key, score)``, best first."""
        page = self.page
        found = page.pool(i)
        record = page.record_value_ids[i]
        pairs = [(record, page.value_id_of(golden)) for golden in found]
        scores = page.scores
        if any(pair not in scores for pair in pairs):
            scores.score_all(pairs + self._lookahead(i))  # what the prepare stage did not foresee
        scored = [(golden, scores.score(pair)) for golden, pair in zip(found, pairs, strict=True)]
        return best_candidates(scored, key=float)

    def _lookahead(self, i: int) -> list[tuple[int, int]]:
        """The unscored pairs the next records would need against the page's state now. A scoring
        pass costs milliseconds however few pairs it holds: one pass serves the records after this
        one too, unless a decision in between changes their candidates' values again."""
        page, scores = self.page, self.page.scores
        at = self._position.get(i)
        pairs = []
        for j in page.matches[at + 1 : at + 1 + LOOKAHEAD] if at is not None else ():
            record = page.record_value_ids[j]
            for golden in page.pool(j):
                value_id = page.known_value_id(golden)
                if value_id is not None and (record, value_id) not in scores:
                    pairs.append((record, value_id))
        return pairs

    def _refresh(self, key: int):
        """``refresh_golden`` and ``index_golden`` on the page's copy of a golden record."""
        page = self.page
        golden = page.golden(key)
        self._detach(golden)
        page.remember_before(key)
        recompute(golden, page.members(key), page.rules)
        page.reindex(key)
        return golden

    def _propose(self, i: int, new_key: int, other: int) -> DuplicateCandidate:
        """A review candidate for a new golden record: never decided before, as the record is new."""
        pair = (self.page.record_value_ids[i], self.page.value_id_of(other))
        candidate = DuplicateCandidate(entity=self.page.entity, score=self.page.scores.score(pair))
        self.page.proposals.append((candidate, new_key, other, pair))
        return candidate

    def _writable_source(self, external_id: str, source: SourceRecord | None) -> SourceRecord:
        if source is None:
            return self.page.new_source(external_id)
        self._detach(source)
        self.page.remember_before_source(source)
        return source

    def _show(self, outcome: IngestOutcome) -> IngestOutcome:
        for shown in (outcome.source, outcome.golden):
            if shown is not None:
                self._holders.setdefault(id(shown), []).append(outcome)
        return outcome

    def _detach(self, live) -> None:
        """Before a record changes again, earlier outcomes keep a copy of it as it was then
        (one by one, each call returned its own instance)."""
        holders = self._holders.pop(id(live), None)
        if not holders:
            return
        frozen = copy.copy(live)
        self._snapshots.append((frozen, live))
        for outcome in holders:
            if outcome.source is live:
                outcome.source = frozen
            if outcome.golden is live:
                outcome.golden = frozen

    def settle_snapshots(self) -> None:
        """Copies of records created in this page learn their new primary keys and timestamps."""
        for frozen, live in self._snapshots:
            if frozen.pk is None:
                frozen.pk = live.pk
                for name in ("created", "updated"):
                    if hasattr(live, name):
                        setattr(frozen, name, getattr(live, name))
