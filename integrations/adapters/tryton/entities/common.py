"""What the entity modules share: the lookups bundle and small value helpers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ...errors import PermanentError
from ..client import TrytonClient
from ..lookups import Countries, Units


@dataclass
class Lookups:
    """Reference data cached for the life of one adapter instance."""

    countries: Countries
    units: Units

    @classmethod
    def for_client(cls, client: TrytonClient) -> Lookups:
        return cls(Countries(client), Units(client))


def text(value: Any) -> str:
    """A payload value as trimmed text; None and missing are ""."""
    return "" if value is None else str(value).strip()


def decimal(value: Any, what: str) -> Decimal:
    """A payload amount as Decimal (never through float); a PermanentError naming ``what`` otherwise."""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise PermanentError(f"{what} {value!r} is not a number.") from None
    if not number.is_finite():
        raise PermanentError(f"{what} {value!r} is not a number.")
    return number


def number(value: float | None) -> int | float | None:
    """Tryton's float quantities as JSON-friendly numbers: 3.0 becomes 3."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value
