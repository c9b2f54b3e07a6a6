"""Merge, unmerge and "not a duplicate": the steward's decisions, each one undoable or remembered."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from masterdata.choices import CandidateStatus
from masterdata.models import DuplicateCandidate, GoldenRecord, Merge
from masterdata.signals import golden_merged, golden_unmerged

from .ingest import index_golden
from .locks import lock_entity
from .survivorship import refresh_golden


def _snapshot(golden: GoldenRecord) -> dict:
    return {
        "values": golden.values,
        "lineage": golden.lineage,
        "pinned": golden.pinned,
        "display_name": golden.display_name,
    }


@transaction.atomic
def merge(survivor: GoldenRecord, absorbed: GoldenRecord, chosen: dict | None = None, *, actor=None, candidate=None):
    """Fold ``absorbed`` into ``survivor``: its source records move over, the
    survivor's values are recomputed, and ``chosen`` (field -> value, picked by a
    steward) is pinned. Returns the Merge, which ``unmerge`` can undo exactly."""
    lock_entity(survivor.entity)
    survivor, absorbed = (GoldenRecord.objects.select_for_update().get(pk=g.pk) for g in (survivor, absorbed))
    if survivor.pk == absorbed.pk or survivor.entity != absorbed.entity:
        raise ValidationError("Only two different records of the same entity can be merged.")
    if not (survivor.is_active and absorbed.is_active):
        raise ValidationError("One of these records was already merged into another one.")
    unknown = set(chosen or {}) - set(survivor.schema.field_names)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}")
    record = Merge.objects.create(
        survivor=survivor,
        absorbed=absorbed,
        candidate=candidate,
        survivor_before=_snapshot(survivor),
        chosen=chosen or {},
        moved_source_ids=list(absorbed.source_records.values_list("pk", flat=True)),
        actor=actor,
    )
    # save() per record, not update(): each moved xref is then in the audit trail.
    for source in absorbed.source_records.all():
        source.golden = survivor
        source.save(update_fields=["golden"])
    absorbed.merged_into = survivor
    absorbed.save(update_fields=["merged_into", "updated"])
    absorbed.blocking_keys.all().delete()
    survivor.pinned = {**survivor.pinned, **(chosen or {})}
    refresh_golden(survivor)
    index_golden(survivor)
    _close_candidates(survivor, absorbed, candidate, actor)
    golden_merged.send(Merge, merge=record)
    return record


def _close_candidates(survivor, absorbed, candidate, actor):
    now = timezone.now()
    if candidate is not None:
        candidate.status, candidate.decided_by, candidate.decided_at = CandidateStatus.MERGED, actor, now
        candidate.save()
    # Other open pairs that involved the absorbed record no longer make sense.
    involved = Q(left=absorbed) | Q(right=absorbed)
    for other in DuplicateCandidate.objects.filter(involved, status=CandidateStatus.OPEN):
        other.status, other.decided_by, other.decided_at = CandidateStatus.SUPERSEDED, actor, now
        other.save()


@transaction.atomic
def unmerge(record: Merge, *, actor=None) -> Merge:
    """Undo a merge exactly: the absorbed record comes back with its own source
    records, and the survivor returns to its values from before the merge."""
    lock_entity(record.survivor.entity)
    record = Merge.objects.select_for_update().get(pk=record.pk)
    if record.undone_at:
        raise ValidationError("This merge was already undone.")
    later = Merge.objects.filter(survivor=record.survivor, created__gt=record.created, undone_at__isnull=True)
    if later.exists() or not record.survivor.is_active:
        raise ValidationError("Undo the later merges of this record first.")
    survivor, absorbed = record.survivor, record.absorbed
    for source in survivor.source_records.filter(pk__in=record.moved_source_ids):
        source.golden = absorbed
        source.save(update_fields=["golden"])
    absorbed.merged_into = None
    absorbed.save(update_fields=["merged_into", "updated"])
    before = record.survivor_before
    survivor.values, survivor.lineage = before["values"], before["lineage"]
    survivor.pinned, survivor.display_name = before["pinned"], before["display_name"]
    survivor.save()
    index_golden(survivor)
    index_golden(absorbed)
    record.undone_at, record.undone_by = timezone.now(), actor
    record.save(update_fields=["undone_at", "undone_by"])
    if record.candidate_id:
        candidate = record.candidate
        candidate.status, candidate.decided_by, candidate.decided_at = CandidateStatus.OPEN, None, None
        candidate.save()
    golden_unmerged.send(Merge, merge=record)
    return record


@transaction.atomic
def mark_not_duplicate(candidate: DuplicateCandidate, *, actor=None) -> DuplicateCandidate:
    """Remember that these two are different: the pair is never proposed again."""
    candidate.status, candidate.decided_by, candidate.decided_at = CandidateStatus.NOT_DUPLICATE, actor, timezone.now()
    candidate.save()
    return candidate


def merge_candidates(candidates, *, actor=None) -> list[Merge]:
    """Bulk merge: each still-open candidate's newer record folds into the older
    one with survivorship defaults. Pairs already resolved on the way are skipped."""
    merges = []
    for candidate in candidates:
        candidate.refresh_from_db()
        left, right = candidate.left, candidate.right
        if candidate.status != CandidateStatus.OPEN or not (left.is_active and right.is_active):
            continue
        merges.append(merge(left, right, actor=actor, candidate=candidate))
    return merges
