"""Tamper evidence: every audit entry sealed into a SHA-256 hash chain.

Design (docs/security.md, "Audit trail"):

- auditlog's ``LogEntry`` is not replaced. A database trigger queues every
  inserted entry in ``AuditPending`` (``bulk_create`` and raw inserts too,
  which fire no Django signal); the sealer appends queued entries to
  ``AuditSeal`` in id order.
- Sealing runs after commit, on a worker (``audit.tasks.seal_audit_trail``,
  sent by ``audit.signals`` and every minute by beat), under one PostgreSQL
  advisory lock. Writers never wait for that lock: the hot path only inserts
  its entry (and the trigger's queue row).
- A link is ``SHA-256`` over ``{"seq", "prev", "entry"}`` serialised as
  canonical JSON (sorted keys, no spaces, UTC ISO timestamps), where
  ``entry`` is every stored column of the log entry. Changing any column of
  an entry, or any seal, breaks the link at that point.
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from auditlog.models import LogEntry
from django.db import connection, transaction
from django.utils import timezone

from config.lookups import any_of

from .bulk import bulk_insert_rows
from .models import AuditAnchor, AuditPending, AuditSeal

log = logging.getLogger(__name__)

GENESIS = "0" * 64
# Every column of auditlog's table: a column left out could be edited unnoticed.
SEALED_FIELDS = (
    "id",
    "content_type_id",
    "object_pk",
    "object_id",
    "object_repr",
    "serialized_data",
    "action",
    "changes_text",
    "changes",
    "actor_id",
    "actor_email",
    "cid",
    "remote_addr",
    "remote_port",
    "timestamp",
    "additional_data",
)
# Any constant: the key of the one advisory lock that serialises sealers and purges.
LOCK_KEY = 0x4A554E4354  # "JUNCT"


@dataclass(frozen=True)
class Head:
    """The chain's last link (a seal, or after a purge of everything, the anchor)."""

    seq: int
    hash: str


def canonical(row: dict) -> dict:
    """The entry's columns as JSON-ready values that read the same from SQLite and PostgreSQL."""
    values = {}
    for field in SEALED_FIELDS:
        value = row[field]
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat(timespec="microseconds")
        values[field] = value
    return values


def digest(seq: int, prev_hash: str, row: dict) -> str:
    """The hash that seals entry ``row`` as link ``seq`` after ``prev_hash``."""
    payload = {"seq": seq, "prev": prev_hash, "entry": canonical(row)}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def entry_rows(ids) -> dict[int, dict]:
    """``{id: columns}`` of the entries with these ids that still exist."""
    return {row["id"]: row for row in LogEntry.objects.filter(any_of("pk", ids)).order_by().values(*SEALED_FIELDS)}


def lock() -> None:
    """Take the chain's lock until the end of the current transaction.

    PostgreSQL: an advisory lock, so only sealers and purges queue behind it.
    SQLite: the IMMEDIATE transaction already holds the database's write lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def head() -> Head:
    """The last link: the newest seal, else the newest purge anchor, else the genesis."""
    seal = AuditSeal.objects.order_by("-seq").values("seq", "hash").first()
    anchor = AuditAnchor.objects.order_by("-seq").values("seq", "hash").first()
    candidates = [Head(**link) for link in (seal, anchor) if link]
    return max(candidates, key=lambda link: link.seq, default=Head(0, GENESIS))


def seal_pending(batch_size: int = 2000) -> int:
    """Append every queued entry to the chain, oldest id first; return how many were sealed.

    Safe to run anywhere, any number of times at once: the lock lets one
    sealer work at a time and each batch commits on its own.
    """
    total = 0
    while True:
        with transaction.atomic():
            lock()
            queued = list(AuditPending.objects.order_by("entry_id").values_list("entry_id", flat=True)[:batch_size])
            if not queued:
                return total
            total += _seal(queued)
            AuditPending.objects.filter(any_of("entry_id", queued)).delete()


def _seal(queued: list[int]) -> int:
    rows = entry_rows(queued)
    already = set(AuditSeal.objects.filter(any_of("entry_id", queued)).values_list("entry_id", flat=True))
    link = head()
    seq, prev, now = link.seq, link.hash, timezone.now()
    seals = []
    for entry_id in queued:
        if entry_id in already:
            continue
        row = rows.get(entry_id)
        if row is None:
            # Deleted between its commit and its seal: nothing left to seal. Logged, since it is
            # either a test tidying up or someone removing an entry within seconds of writing it.
            log.warning("Audit entry %s was deleted before it could be sealed", entry_id)
            continue
        seq += 1
        digest_ = digest(seq, prev, row)
        seals.append({"seq": seq, "entry_id": entry_id, "prev_hash": prev, "hash": digest_, "sealed_at": now})
        prev = digest_
    bulk_insert_rows(AuditSeal, seals)
    return len(seals)
