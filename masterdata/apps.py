from django.apps import AppConfig


class MasterdataConfig(AppConfig):
    """Golden records, cleansing, matching and stewardship (see docs/architecture.md)."""

    name = "masterdata"
    verbose_name = "Master data"
