from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Systems, connectors and flows, and the Celery tasks that run syncs."""

    name = "integrations"
