"""Ingest a batch of source records with the decisions ``ingest`` would make one by one."""

from django.db import transaction

from .ingest import IngestOutcome, ingest


@transaction.atomic
def ingest_many(system, entity: str, items: list[tuple[str, dict]], locale: str = "") -> list[IngestOutcome]:
    """Bring ``(external_id, payload)`` pairs from ``system`` into master data, in order."""
    return [ingest(system, entity, external_id, payload, locale=locale) for external_id, payload in items]
