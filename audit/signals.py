"""Seal new audit entries soon after they are committed, without making writers wait.

Each committed entry asks for a sealing task, at most once per ``SEAL_DELAY``
per process: the task runs ``SEAL_DELAY`` seconds later and seals everything
queued by then, so one message covers a burst. Entries that slip past (no
signal for ``bulk_create``, a broker that was down) are sealed by beat's
minutely run; ``verify_audit_trail`` seals before it checks.
"""

import logging
import threading
import time

from django.db import transaction

log = logging.getLogger(__name__)

SEAL_DELAY = 2.0  # seconds
_lock = threading.Lock()
_next_send = 0.0


def entry_saved(sender, instance, created=False, using=None, **kwargs):
    """``post_save`` of LogEntry: seal it once its transaction commits (one callback per transaction)."""
    if not created:
        return
    connection = transaction.get_connection(using)
    if connection.in_atomic_block and any(entry[1] is request_seal for entry in connection.run_on_commit):
        return  # a transaction writing 10,000 entries asks once
    transaction.on_commit(request_seal, using=using)


def request_seal() -> None:
    """Send one delayed sealing task, unless one sent less than SEAL_DELAY ago will cover this entry."""
    global _next_send
    from .tasks import seal_audit_trail

    now = time.monotonic()
    with _lock:
        if now < _next_send:
            return
        _next_send = now + SEAL_DELAY
    try:
        seal_audit_trail.apply_async(countdown=SEAL_DELAY, retry=False)
    except Exception:  # a broker outage must not fail the request: beat seals within a minute
        log.warning("Could not queue audit sealing; the periodic run will seal", exc_info=True)
