"""The adapter registry: adapter type key → adapter class. No if/else chains."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Adapter

_ADAPTERS: dict[str, type[Adapter]] = {}


def register(cls: type[Adapter]) -> type[Adapter]:
    """Class decorator: make an adapter available under ``cls.key``."""
    if cls.key in _ADAPTERS and _ADAPTERS[cls.key] is not cls:
        raise ValueError(f"Adapter key {cls.key!r} is already registered by {_ADAPTERS[cls.key].__name__}")
    _ADAPTERS[cls.key] = cls
    return cls


def get(key: str) -> type[Adapter]:
    load_all()
    try:
        return _ADAPTERS[key]
    except KeyError:
        raise LookupError(f"No adapter of type {key!r}; known types: {', '.join(sorted(_ADAPTERS))}") from None


def choices() -> list[tuple[str, str]]:
    load_all()
    return sorted(((key, cls.label) for key, cls in _ADAPTERS.items()), key=lambda c: c[1])


def load_all() -> None:
    """Import every adapter module named in settings.JUNCTION_ADAPTERS so it registers itself."""
    from importlib import import_module

    from django.conf import settings

    for module in settings.JUNCTION_ADAPTERS:
        import_module(module)
