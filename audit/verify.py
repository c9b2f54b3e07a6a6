"""Walk the audit hash chain and name its first broken link."""

from dataclasses import dataclass, field
from datetime import timedelta

from auditlog.models import LogEntry
from django.conf import settings
from django.utils import timezone

from .chain import GENESIS, digest, entry_rows
from .choices import AuditEvent
from .models import AuditAnchor, AuditSeal, ChainCheck


@dataclass(frozen=True)
class Break:
    """The first problem found: what kind, at which link and entry, in words."""

    kind: str  # one of BREAK_KINDS
    message: str
    seq: int | None = None
    entry_id: int | None = None


BREAK_KINDS = ("entry_changed", "entry_deleted", "seal_missing", "link_broken", "never_sealed", "truncated", "anchor")


@dataclass
class Report:
    checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    anchor_seq: int = 0
    breaks: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def first_break(self) -> Break | None:
        return self.breaks[0] if self.breaks else None


def verify(*, stale_minutes: int | None = None, chunk_size: int = 5000, record: bool = True) -> Report:
    """Check every link from the newest purge anchor on; stop at the first break.

    Also reports entries older than ``stale_minutes`` that were never sealed
    (inserted with the queue trigger bypassed, or their queue row removed),
    and a chain that ends before the head an earlier verification saw.
    """
    if stale_minutes is None:
        stale_minutes = settings.JUNCTION_AUDIT_SEAL_GRACE_MINUTES
    anchor = AuditAnchor.objects.order_by("-seq").first()
    report = Report(anchor_seq=anchor.seq if anchor else 0, head_hash=anchor.hash if anchor else GENESIS)
    report.head_seq = report.anchor_seq
    checks = (
        lambda: _anchor_recorded(anchor),
        lambda: _links(report, chunk_size),
        lambda: _tail_kept(report),
        lambda: _unsealed(stale_minutes),
    )
    for check in checks:  # in this order, so the first break reported is the earliest in the chain
        if (problem := check()) is not None:
            report.breaks.append(problem)
            break
    if record:
        ChainCheck.objects.create(
            ok=report.ok,
            checked=report.checked,
            head_seq=report.head_seq,
            head_hash=report.head_hash,
            problem=report.first_break.message if report.breaks else "",
        )
    return report


def _links(report: Report, chunk_size: int) -> Break | None:
    seq, prev = report.head_seq, report.head_hash
    deleted_users = DeletedUsers()
    while True:
        seals = list(AuditSeal.objects.filter(seq__gt=seq).order_by("seq")[:chunk_size])
        if not seals:
            return None
        rows = entry_rows(seal.entry_id for seal in seals)
        for seal in seals:
            problem = _check(seal, seq, prev, rows.get(seal.entry_id), deleted_users)
            if problem is not None:
                return problem
            seq, prev = seal.seq, seal.hash
            report.checked += 1
            report.head_seq, report.head_hash = seq, prev


class DeletedUsers:
    """Ids of users whose deletion the trail itself records (read once, when first needed).

    auditlog's actor is a foreign key with SET NULL: deleting a user blanks the actor of
    every entry they made. Such an entry still verifies when its seal matches it with the
    id of a user the trail shows deleted; blanking the actor of a user who still exists
    (or whose deletion is not in the trail) is a change like any other.
    """

    def __init__(self):
        self._ids: list[int] | None = None

    def ids(self) -> list[int]:
        if self._ids is None:
            from django.contrib.auth import get_user_model
            from django.contrib.contenttypes.models import ContentType

            user_type = ContentType.objects.get_for_model(get_user_model())
            deletions = LogEntry.objects.filter(content_type=user_type, action=LogEntry.Action.DELETE)
            self._ids = sorted({int(pk) for pk in deletions.values_list("object_pk", flat=True) if pk.isdigit()})
        return self._ids

    def explain(self, seal: AuditSeal, row: dict) -> bool:
        """True when ``row`` matches its seal once its blanked actor is a deleted user's id."""
        if row["actor_id"] is not None:
            return False
        return any(digest(seal.seq, seal.prev_hash, {**row, "actor_id": pk}) == seal.hash for pk in self.ids())


def _check(
    seal: AuditSeal, seq: int, prev: str, row: dict | None, deleted_users: DeletedUsers | None = None
) -> Break | None:
    where = {"seq": seal.seq, "entry_id": seal.entry_id}
    if seal.seq != seq + 1:
        return Break(
            "seal_missing", f"Seals {seq + 1} to {seal.seq - 1} are missing (deleted from the chain).", **where
        )
    if seal.prev_hash != prev:
        return Break("link_broken", f"Seal {seal.seq} does not follow seal {seq}: a seal was edited.", **where)
    if row is None:
        return Break("entry_deleted", f"Entry {seal.entry_id} (seal {seal.seq}) was deleted.", **where)
    if digest(seal.seq, seal.prev_hash, row) != seal.hash and not (deleted_users and deleted_users.explain(seal, row)):
        return Break(
            "entry_changed", f"Entry {seal.entry_id} (seal {seal.seq}) was changed after it was sealed.", **where
        )
    return None


def _tail_kept(report: Report) -> Break | None:
    """An earlier good check saw the chain reach seal N: seal N must still be there, unchanged."""
    seen = ChainCheck.objects.filter(ok=True, head_seq__gt=report.anchor_seq).order_by("-head_seq").first()
    if seen is None or (seen.head_seq <= report.head_seq and _same(seen)):
        return None
    return Break(
        "truncated",
        f"The chain ends at seal {report.head_seq}, but on {seen.checked_at:%Y-%m-%d %H:%M} "
        f"it reached seal {seen.head_seq} with another hash: its tail was cut off or rewritten.",
        seq=seen.head_seq,
    )


def _same(seen: ChainCheck) -> bool:
    return AuditSeal.objects.filter(seq=seen.head_seq, hash=seen.head_hash).exists()


def _anchor_recorded(anchor: AuditAnchor | None) -> Break | None:
    """A purge anchor counts only if the purge that made it is itself in the trail."""
    if anchor is None:
        return None
    recorded = LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS,
        additional_data__event=AuditEvent.PURGED,
        additional_data__anchor_seq=anchor.seq,
        additional_data__anchor_hash=anchor.hash,
    ).exists()
    if recorded:
        return None
    return Break("anchor", f"The chain starts at seal {anchor.seq}, but no recorded purge made that anchor.")


def _unsealed(stale_minutes: int) -> Break | None:
    cutoff = timezone.now() - timedelta(minutes=stale_minutes)
    sealed = AuditSeal.objects.values("entry_id")
    entry = (
        LogEntry.objects.filter(timestamp__lt=cutoff).exclude(pk__in=sealed).order_by("pk").values("pk", "timestamp")
    ).first()
    if entry is None:
        return None
    return Break(
        "never_sealed",
        f"Entry {entry['pk']} of {entry['timestamp']:%Y-%m-%d %H:%M} was never sealed "
        f"(older than {stale_minutes} minutes).",
        entry_id=entry["pk"],
    )
