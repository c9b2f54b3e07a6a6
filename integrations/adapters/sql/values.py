"""Values between a database and JSON payloads, and the text form of watermarks and keys."""

from __future__ import annotations

import base64
import math
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import sqlalchemy as sa


def json_safe(value: Any) -> Any:
    """``value`` as something json.dumps and PostgreSQL's jsonb both accept."""
    match value:
        case None | bool() | int() | str():
            return value
        case float():
            return value if math.isfinite(value) else str(value)
        case Decimal():
            return str(value)
        case datetime() | date() | time():
            return value.isoformat()
        case timedelta():
            return value.total_seconds()
        case bytes() | bytearray() | memoryview():
            return base64.b64encode(bytes(value)).decode("ascii")
        case dict():
            return {str(k): json_safe(v) for k, v in value.items()}
        case list() | tuple() | set() | frozenset():
            return [json_safe(v) for v in value]
        case _:  # UUID, IP addresses, ranges, enums
            return str(value)


def as_text(value: Any) -> str:
    """A single value as the text used in ids, versions and watermarks."""
    value = json_safe(value)
    return value if isinstance(value, str) else str(value)


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("|", "%7C")


def encode_position(*values: Any) -> str:
    """``"<watermark>|<id>"`` (or key values joined by ``|``); ``%`` and ``|`` inside are %-escaped."""
    return "|".join(_escape(as_text(v)) for v in values)


def decode_position(text: str) -> list[str]:
    """The values encode_position joined, as text (the database converts them to the column's type)."""
    return [unquote(part) for part in text.split("|")]


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"true", "t", "1", "yes"}:
        return True
    if lowered in {"false", "f", "0", "no"}:
        return False
    raise ValueError(f"{text!r} is not a boolean")


_FROM_TEXT = {
    datetime: datetime.fromisoformat,
    date: date.fromisoformat,
    time: time.fromisoformat,
    Decimal: Decimal,
    int: int,
    float: float,
    bool: _parse_bool,
    bytes: lambda text: base64.b64decode(text, validate=True),
    uuid.UUID: uuid.UUID,
}


_FROM_NUMBER = {str: str, Decimal: lambda number: Decimal(str(number)), float: float}


def to_db(value: Any, type_: sa.types.TypeEngine) -> Any:
    """A JSON payload value as the Python type the column expects (ISO text → datetime, …)."""
    try:
        python_type = type_.python_type
    except NotImplementedError:
        return value
    if isinstance(value, str) and python_type is not str and python_type in _FROM_TEXT:
        return _FROM_TEXT[python_type](value)
    if value is None or isinstance(value, (bool, python_type)):
        return value
    if isinstance(value, int | float | Decimal) and python_type in _FROM_NUMBER:
        return _FROM_NUMBER[python_type](value)
    return value


def row_key(values: Any) -> tuple:
    """Key values in a form that compares and hashes like the database's (memoryview → bytes)."""
    return tuple(bytes(v) if isinstance(v, memoryview) else v for v in values)
