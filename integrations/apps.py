import logging

from django.apps import AppConfig
from django.core import checks
from django.db import transaction

log = logging.getLogger(__name__)


class IntegrationsConfig(AppConfig):
    """Systems, connectors and flows, and the Celery tasks that run syncs."""

    name = "integrations"

    def ready(self):
        checks.register(check_outbound_allowlist)
        from masterdata.signals import golden_merged, golden_recomputed, golden_unmerged

        golden_merged.connect(_merged, dispatch_uid="integrations.merged")
        golden_unmerged.connect(_unmerged, dispatch_uid="integrations.unmerged")
        golden_recomputed.connect(_recomputed, dispatch_uid="integrations.recomputed")


def _merged(sender, merge, **kwargs):
    _carry_to_targets(merge, undone=False)


def _unmerged(sender, merge, **kwargs):
    _carry_to_targets(merge, undone=True)


def _carry_to_targets(merge, undone: bool) -> None:
    """Plan the merge's changes at the targets (engine/merges.py). In a savepoint, and never
    failing the steward's merge: whatever goes wrong here is logged, the merge stands."""
    from integrations.engine import merges

    try:
        with transaction.atomic():
            merges.plan(merge, undone=undone)
    except Exception:
        log.exception("Merge %s: its changes at the targets could not be planned", merge.pk)


def _recomputed(sender, application, goldens, **kwargs):
    """Plan the updates at the targets of golden records whose values applied survivorship rules
    changed (engine/merges.py). As for merges: in a savepoint, never failing the application."""
    from integrations.engine import merges

    try:
        with transaction.atomic():
            merges.plan_recomputed(application, goldens)
    except Exception:
        log.exception("Rule application %s: its updates at the targets could not be planned", application.pk)


def check_outbound_allowlist(app_configs=None, **kwargs):
    """A JUNCTION_OUTBOUND_ALLOWLIST entry that cannot be read stops startup, not the first connection."""
    from django.core.exceptions import ImproperlyConfigured

    from integrations import outbound

    try:
        outbound.allowlist()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="integrations.E001")]
    return []
