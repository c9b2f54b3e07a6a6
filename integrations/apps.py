from django.apps import AppConfig
from django.core import checks


class IntegrationsConfig(AppConfig):
    """Systems, connectors and flows, and the Celery tasks that run syncs."""

    name = "integrations"

    def ready(self):
        checks.register(check_outbound_allowlist)
        from masterdata.signals import golden_merged, golden_unmerged

        golden_merged.connect(_archive_merged, dispatch_uid="integrations.archive_merged")
        golden_unmerged.connect(_restore_unmerged, dispatch_uid="integrations.restore_unmerged")


def _archive_merged(sender, merge, **kwargs):
    from integrations.engine import merges

    merges.plan(merge)


def _restore_unmerged(sender, merge, **kwargs):
    from integrations.engine import merges

    merges.plan(merge, undone=True)


def check_outbound_allowlist(app_configs=None, **kwargs):
    """A JUNCTION_OUTBOUND_ALLOWLIST entry that cannot be read stops startup, not the first connection."""
    from django.core.exceptions import ImproperlyConfigured

    from integrations import outbound

    try:
        outbound.allowlist()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="integrations.E001")]
    return []
