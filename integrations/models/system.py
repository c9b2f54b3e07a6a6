from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from accounts.querysets import RestrictedQuerySet
from integrations.choices import Environment, SystemKind


def validate_locale(tag: str) -> None:
    from masterdata.cleansing.locales import locale_info

    if tag and locale_info(tag).tag is None:
        raise ValidationError(f"{tag!r} is not a locale we know; write it like en_US, en_GB or de_DE.")


class System(models.Model):
    """An external application Junction connects to (an ERP, a shop, a WMS…)."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=SystemKind.choices)
    environment = models.CharField(max_length=20, choices=Environment.choices, default=Environment.SANDBOX)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_systems",
        help_text="The person accountable for this system's integrations.",
    )
    # How the system writes dates and numbers: 03/04/2026 is 4 March for en_GB, March 3 for en_US.
    locale = models.CharField(
        max_length=20,
        blank=True,
        validators=[validate_locale],
        help_text="How this system writes dates and numbers, e.g. en_US, en_GB, de_DE. Resolves 03/04/2026.",
    )
    notes = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("integrations:system_detail", args=[self.pk])


# Direct foreign-key object permissions: they are deleted with the system and
# filter with a join instead of a cast (see shared/stack-notes.md).
class SystemUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(System, on_delete=models.CASCADE)


class SystemGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(System, on_delete=models.CASCADE)
