"""accounts uses Django's User and Group; roles are groups (see roles.py).

Its one model is the API token: django-rest-knox's token (only a SHA-512
digest of the secret is stored) with a name and a last-used time.
"""

from django.db import models
from knox.models import AbstractAuthToken


class ApiToken(AbstractAuthToken):
    """A person's API token: shown once, stored hashed, revocable, with an expiry.

    knox makes the digest the primary key; here it is only unique, so the trail
    and the pages can name a token by a plain id that reveals nothing.
    """

    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=128, unique=True)
    name = models.CharField(max_length=64)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"
