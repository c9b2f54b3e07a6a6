"""Celery tasks of the audit trail: sealing new entries and checking the chain."""

import logging

from celery import shared_task

from . import chain, verify

log = logging.getLogger(__name__)


@shared_task(name="audit.tasks.seal_audit_trail", ignore_result=True, acks_late=True)
def seal_audit_trail() -> int:
    """Append committed, unsealed entries to the hash chain (idempotent; runs after commits and every minute)."""
    return chain.seal_pending()


@shared_task(name="audit.tasks.verify_audit_trail", ignore_result=True, acks_late=True)
def verify_audit_trail() -> bool:
    """Seal, then walk the whole chain; the result shows on the auditor's page and a break is logged as an error."""
    chain.seal_pending()
    report = verify.verify()
    if not report.ok:
        log.error("Audit trail verification failed: %s", report.first_break.message)
    return report.ok
