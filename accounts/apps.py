from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    """People, roles and the one place that decides what a person may see."""

    name = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self):
        from . import signals  # noqa: F401  (sign-in events: session state and the audit trail)
        from .roles import sync_role_permissions

        # accounts is the last app in INSTALLED_APPS, so when its post_migrate
        # fires every other app's permissions already exist.
        post_migrate.connect(sync_role_permissions, sender=self, dispatch_uid="accounts.sync_roles")
