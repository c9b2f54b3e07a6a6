from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Health: /healthz, worker and scheduler heartbeats, the home dashboard."""

    name = "monitoring"
