from django.db import models
from django.urls import reverse
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from accounts.querysets import RestrictedQuerySet
from integrations import crypto
from integrations.adapters import registry
from integrations.adapters.base import validate
from integrations.choices import CircuitState


class Connector(models.Model):
    """One system's adapter instance: how Junction reads from and writes to it."""

    system = models.ForeignKey("integrations.System", on_delete=models.PROTECT, related_name="connectors")
    name = models.CharField(max_length=100, unique=True)
    adapter = models.CharField(max_length=40, help_text="The adapter type, e.g. rest, sql, files.")
    settings = models.JSONField(default=dict, blank=True)
    # Fernet token of the credentials dict; write-only: no page or API returns it.
    credentials = models.TextField(blank=True, editable=False)
    credentials_changed = models.DateTimeField(null=True, blank=True, editable=False)
    enabled = models.BooleanField(default=True)
    # Circuit breaker: a target that keeps failing is paused and probed before resuming.
    circuit = models.CharField(max_length=10, choices=CircuitState.choices, default=CircuitState.CLOSED)
    consecutive_failures = models.PositiveIntegerField(default=0)
    circuit_retry_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("integrations:connector_detail", args=[self.pk])

    @property
    def adapter_class(self):
        return registry.get(self.adapter)

    @property
    def adapter_label(self) -> str:
        try:
            return self.adapter_class.label
        except LookupError:
            return self.adapter

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials)

    def set_credentials(self, data: dict) -> None:
        self.credentials = crypto.encrypt({k: v for k, v in data.items() if v not in ("", None)})
        self.credentials_changed = timezone.now()

    def open_adapter(self):
        """A ready adapter instance (close it, or use it as a context manager).

        Settings pass the adapter's schema again, so the adapter sees its defaults
        and a setting made invalid by an adapter upgrade fails here, named.
        """
        cls = self.adapter_class
        return cls(validate(cls.settings_schema, self.settings), crypto.decrypt(self.credentials))


class ConnectorUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Connector, on_delete=models.CASCADE)


class ConnectorGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Connector, on_delete=models.CASCADE)
