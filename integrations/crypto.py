"""Connector credentials at rest: Fernet (AES-128-CBC + HMAC-SHA256) under rotating keys.

settings.JUNCTION_ENCRYPTION_KEYS lists keys newest first; MultiFernet
encrypts with the first and decrypts with any, so rotation is: prepend a new
key, run ``manage.py rotate_credentials``, then drop the old key.
"""

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"JUNCTION_ENCRYPTION_KEYS holds a key that is not a Fernet key: {exc}") from None


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.JUNCTION_ENCRYPTION_KEYS))


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
            "them removed before `manage.py rotate_credentials` ran?"
        ) from None


def rotate(token: str) -> str:
    """The same secret re-encrypted under the newest key."""
    return fernet().rotate(token.encode()).decode() if token else ""
