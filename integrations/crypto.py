"""Secrets at rest (connector credentials): Fernet (AES-128-CBC + HMAC-SHA256) under rotating keys.

settings.JUNCTION_ENCRYPTION_KEYS lists keys newest first (from the
environment; ``make run`` gets a generated development key in the var dir).
MultiFernet encrypts with the first and decrypts with any, so rotation is:
prepend a new key, run ``manage.py rotate_keys`` (``--check`` confirms), then
drop the old key. See docs/security.md, "Secrets".
"""

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Every model field holding a Fernet token under these keys: rotate_keys re-encrypts them all.
ENCRYPTED_FIELDS = (("integrations.Connector", "credentials"),)


@lru_cache(maxsize=4)
def _fernets(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    try:
        fernets = [Fernet(key.encode()) for key in keys]
    except ValueError as exc:
        raise ImproperlyConfigured(f"JUNCTION_ENCRYPTION_KEYS holds a key that is not a Fernet key: {exc}") from None
    return MultiFernet(fernets), fernets[0]


def fernet() -> MultiFernet:
    return _fernets(tuple(settings.JUNCTION_ENCRYPTION_KEYS))[0]


def encrypt(data: dict) -> str:
    return fernet().encrypt(json.dumps(data, sort_keys=True).encode()).decode() if data else ""


def decrypt(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(fernet().decrypt(token.encode()))
    except InvalidToken:
        raise ImproperlyConfigured(
            "Stored credentials cannot be decrypted with JUNCTION_ENCRYPTION_KEYS: was the key that encrypted "
            "them removed before `manage.py rotate_keys` ran?"
        ) from None


def rotate(token: str) -> str:
    """The same secret re-encrypted under the newest key."""
    if not token:
        return ""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with any key in JUNCTION_ENCRYPTION_KEYS: put back the key "
            "that encrypted it (after the new one) and run `manage.py rotate_keys` again."
        ) from None


def under_newest_key(token: str) -> bool:
    """Whether ``token`` decrypts with the newest key alone (so older keys may be removed)."""
    try:
        _fernets(tuple(settings.JUNCTION_ENCRYPTION_KEYS))[1].decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def encrypted_fields():
    """(model, field name) for every field in ENCRYPTED_FIELDS."""
    return [(apps.get_model(label), field) for label, field in ENCRYPTED_FIELDS]
