"""Batched upserts by key: the steps every writable entity shares.

Per batch (``batch_size`` records, each key at most once): one ``search_read``
for the keys that already exist, one ``create`` for the new records (or one per
``max_create`` of them, for an entity Tryton cannot create a whole batch of), one
``write`` for the changed ones (Tryton takes ``ids, values, ids, values, …``
in a single call), and nothing for records whose managed fields already match.

When Tryton refuses a batch call with a UserError, the call is repeated one
record at a time, so a bad record fails alone with Tryton's own message and the
good ones go through. Any other failure (connection, login, 5xx) is raised:
the whole batch is retried by the engine, and records already saved are then
found by key and come back ``unchanged``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..base import OutRecord, WriteResult
from ..errors import PermanentError
from .client import TrytonUserError

T = TypeVar("T")


@dataclass
class Desired:
    """A record as Tryton should hold it: its key, the values to create it with, and what ``plan`` compares."""

    key: str
    values: dict[str, Any]
    compare: dict[str, Any] = field(default_factory=dict)


@dataclass
class Current:
    """A record as Tryton holds it now."""

    id: int
    target_id: int  # what Junction stores as the remote id (a product variant's id, not its template's)
    data: dict[str, Any] = field(default_factory=dict)


def each_or_error(payloads: list[dict[str, Any]], build: Callable[[dict[str, Any]], T]) -> list[T | PermanentError]:
    """``build`` applied to each payload; a payload it refuses gets its PermanentError instead, in place."""
    out: list[T | PermanentError] = []
    for payload in payloads:
        try:
            out.append(build(payload))
        except PermanentError as exc:
            out.append(exc)
    return out


class Target:
    """An entity the adapter can write: ``upsert_all`` gives one WriteResult per record, in order."""

    def upsert_all(self, records: list[OutRecord], batch_size: int) -> list[WriteResult]:
        raise NotImplementedError


class Writer(Target):
    """How one entity is upserted by key; subclasses fill in the steps (see parties.py, products.py, sales.py).

    Inventory levels are a Target but not a Writer: Tryton has no stock record
    to upsert, so they are counted instead (entities/inventories.py).
    """

    model: str  # the model created and written
    # Records per create call when the entity needs fewer than the batch (None: the whole batch).
    max_create: int | None = None

    def key(self, payload: dict[str, Any]) -> str:
        """The upsert key of a payload; a PermanentError when it has none."""
        raise NotImplementedError

    def prepare(self, payloads: list[dict[str, Any]]) -> list[Desired | PermanentError]:
        """Validate and translate payloads (ids of countries, units, …), one call per lookup for the batch."""
        raise NotImplementedError

    def current(self, keys: list[str]) -> dict[str, Current]:
        """What Tryton holds for these keys (archived records included)."""
        raise NotImplementedError

    def plan(self, current: Current, desired: Desired) -> dict[str, Any] | None:
        """Values to write; ``{}`` when nothing is written but ``finish`` is still due; None when unchanged."""
        raise NotImplementedError

    def create(self, values: list[dict[str, Any]]) -> list[int]:
        raise NotImplementedError

    def write(self, pairs: list[tuple[Current, dict[str, Any]]]) -> None:
        raise NotImplementedError

    def created_targets(self, desired: list[Desired], ids: list[int]) -> list[int]:
        """Remote ids of freshly created records (the ids ``create`` returned, unless overridden)."""
        return ids

    def finish(self, targets: list[int]) -> list[Exception | None]:
        """After saving: workflow steps (a sale's quote and confirm). One error or None per target."""
        return [None] * len(targets)

    def upsert_all(self, records: list[OutRecord], batch_size: int) -> list[WriteResult]:
        """See :func:`upsert`."""
        return upsert(self, records, batch_size)


def in_batches(items: list, call: Callable[[list], list]) -> list:
    """``call(items)``; when Tryton refuses it, ``call([item])`` for each item, errors in their place."""
    if not items:
        return []
    try:
        return call(items)
    except TrytonUserError as exc:
        if len(items) == 1:
            return [exc]
    results: list = []
    for item in items:
        try:
            results.extend(call([item]))
        except TrytonUserError as exc:
            results.append(exc)
    return results


def batches(writer: Writer, records: list[OutRecord], size: int, results: list) -> Iterator[list]:
    """Batches of ``(position, record)`` with each key at most once (a repeated key waits for the next batch)."""
    pending = []
    for position, record in enumerate(records):
        try:
            pending.append((position, record, writer.key(record.payload)))
        except PermanentError as exc:
            results[position] = WriteResult(record.key, error=exc)
    while pending:
        batch, keys, later = [], set(), []
        for item in pending:
            if len(batch) < size and item[2] not in keys:
                batch.append(item[:2])
                keys.add(item[2])
            else:
                later.append(item)
        yield batch
        pending = later


def upsert(writer: Writer, records: list[OutRecord], batch_size: int) -> list[WriteResult]:
    """One WriteResult per record, in order; see the module docstring."""
    results: list[WriteResult | None] = [None] * len(records)
    for batch in batches(writer, records, batch_size, results):
        _upsert_batch(writer, batch, results)
    return results


def _upsert_batch(writer: Writer, batch: list[tuple[int, OutRecord]], results: list) -> None:
    ready = []
    for (position, record), desired in zip(batch, writer.prepare([r.payload for _, r in batch]), strict=True):
        if isinstance(desired, Exception):
            results[position] = WriteResult(record.key, error=desired)
        else:
            ready.append((position, record, desired))
    current = writer.current([d.key for _, _, d in ready]) if ready else {}
    creates, updates, saved = [], [], []
    for position, record, desired in ready:
        now = current.get(desired.key)
        if now is None:
            creates.append((position, record, desired))
            continue
        try:
            changes = writer.plan(now, desired)
        except PermanentError as exc:
            results[position] = WriteResult(record.key, error=exc)
            continue
        if changes is None:
            results[position] = WriteResult(record.key, "unchanged", str(now.target_id))
        else:
            updates.append((position, record, now, changes))

    new = [c[2] for c in creates]
    step = writer.max_create or len(new) or 1
    created = [
        outcome
        for start in range(0, len(new), step)
        for outcome in in_batches(
            new[start : start + step],
            lambda items: writer.created_targets(items, writer.create([d.values for d in items])),
        )
    ]
    for (position, record, _), outcome in zip(creates, created, strict=True):
        if isinstance(outcome, Exception):
            results[position] = WriteResult(record.key, error=outcome)
        else:
            saved.append((position, WriteResult(record.key, "created", str(outcome)), outcome))

    to_write = [(now, changes) for _, _, now, changes in updates if changes]
    written = iter(in_batches(to_write, lambda pairs: writer.write(pairs) or [None] * len(pairs)))
    for position, record, now, changes in updates:
        error = next(written) if changes else None
        if error is not None:
            results[position] = WriteResult(record.key, error=error)
        else:
            saved.append((position, WriteResult(record.key, "updated", str(now.target_id)), now.target_id))

    finished = writer.finish([target for _, _, target in saved]) if saved else []
    for (position, result, _), error in zip(saved, finished, strict=True):
        if error is not None:
            result.error = error
        results[position] = result
