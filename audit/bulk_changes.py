"""``QuerySet.update`` with the audit entries auditlog would have written for ``save()``.

auditlog sees neither ``QuerySet.update`` nor ``bulk_create``/``bulk_update``
(``audit/bulk.py`` covers those two). ``QuerySet.delete`` needs nothing: Django
sends ``post_delete`` for each row whenever a receiver is connected, and
auditlog's is. Engine bookkeeping that is deliberately not audited is listed
in docs/security.md ("Audit trail").
"""

import copy

from django.db import transaction

from .bulk import log_bulk_update


def audited_update(queryset, *, actor=None, **values) -> int:
    """Update the rows of ``queryset`` like ``queryset.update(**values)`` and log one entry per changed row.

    The rows are read and locked first (``select_for_update``), so the
    before-values in the entries are the ones the update replaced. Meant for
    updates of a few rows; a sweep over thousands should not be audited row by row.
    """
    with transaction.atomic():
        before = list(queryset.select_for_update())
        updated = queryset.model.objects.filter(pk__in=[obj.pk for obj in before]).update(**values)
        pairs = []
        for old in before:
            new = copy.copy(old)
            for field, value in values.items():
                setattr(new, field, value)
            pairs.append((old, new))
        log_bulk_update(pairs, actor=actor)
    return updated
