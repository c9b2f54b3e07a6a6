"""The contract every adapter fulfils.

An adapter is built from a connector's validated settings and decrypted
credentials. It never touches Junction's database: the engine records
outcomes, so an adapter only reads from or writes to its peer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from rest_framework import serializers


@dataclass(frozen=True)
class Check:
    """One step of "Test connection": what was tried and how it went."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class SourceRecord:
    """A record as read from a source."""

    external_id: str
    payload: dict[str, Any]
    # The record's version or change time, when the source has one; the
    # idempotency key uses it and falls back to the payload hash.
    version: str | None = None


@dataclass
class Page:
    """One page of a read, and the watermark that is safe to store once it is committed."""

    records: list[SourceRecord]
    watermark: str | None = None


@dataclass
class OutRecord:
    """A record to upsert into a target."""

    key: str  # the record's idempotency key (stable across retries)
    payload: dict[str, Any]
    target_id: str | None = None  # the target's own id, when Junction already knows it


@dataclass
class WriteResult:
    """What happened to one OutRecord. ``error`` is set when the record failed."""

    key: str
    action: str = "created"  # created | updated | unchanged
    target_id: str | None = None
    error: Exception | None = None


class Adapter:
    """Base class; subclasses set the class attributes and override what they support."""

    key: ClassVar[str]  # registry key, stored on Connector.adapter
    label: ClassVar[str]
    # Settings and credentials schemas; field-level errors come from these.
    settings_schema: ClassVar[type[serializers.Serializer]]
    credentials_schema: ClassVar[type[serializers.Serializer] | None] = None
    # Whether it can be a flow's source and a flow's target.
    can_read: ClassVar[bool] = True
    can_write: ClassVar[bool] = True
    # Records are pushed to Junction (stored as InboundEvents) instead of read.
    inbound: ClassVar[bool] = False
    # Entities whose records it archives when written with ``"active": false`` (and restores with
    # ``true``): a golden record merged away is archived at the targets that hold it.
    archives: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, settings: dict[str, Any], credentials: dict[str, Any] | None = None):
        self.settings = settings
        self.credentials = credentials or {}

    def test_connection(self) -> list[Check]:
        raise NotImplementedError

    def read(self, entity: str, *, watermark: str | None = None, page_size: int = 500) -> Iterator[Page]:
        """Pages of records changed after ``watermark`` (all records when it is None)."""
        raise NotImplementedError

    def committed(self, entity: str, watermark: str | None) -> None:
        """A live run has committed every record up to ``watermark``: safe to let go of them
        at the source (the files adapter moves finished files to the archive)."""

    def write(self, entity: str, records: list[OutRecord]) -> list[WriteResult]:
        """Upsert ``records`` by key; one result per record, in order. Raise only for whole-batch failures."""
        raise NotImplementedError

    def reconcile_ids(self, entity: str) -> set[str]:
        """Every key the target holds for ``entity`` (archived records too), for finding deletions.
        Adapters that cannot list them leave this unimplemented."""
        raise NotImplementedError

    def key_of(self, entity: str, payload: dict[str, Any]) -> str:
        """The key ``reconcile_ids`` lists for a record Junction sent with ``payload``."""
        raise NotImplementedError

    def close(self) -> None:
        """Release connections. The engine calls it when a run is done."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def validate(schema: type[serializers.Serializer], data: dict[str, Any]) -> dict[str, Any]:
    """Validated settings, or ``serializers.ValidationError`` with one message per bad field.

    For opening an adapter: destinations are not checked here but on each connection
    (integrations/outbound.py), where a refusal is a permanent error.
    """
    from integrations.outbound import AT_CONNECT

    serializer = schema(data=data, context={AT_CONNECT: True})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def loads_json(text: str | bytes) -> Any:
    """``json.loads`` as RFC 8259 has it: NaN and Infinity are refused (``ValueError``). Python
    reads them, but PostgreSQL's jsonb does not: a record holding one would fail its whole page
    where it is stored, instead of being refused where it was read, with a reason."""
    return json.loads(text, parse_constant=_refuse_constant)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


__all__ = ["Adapter", "Check", "OutRecord", "Page", "SourceRecord", "WriteResult", "loads_json", "validate"]
