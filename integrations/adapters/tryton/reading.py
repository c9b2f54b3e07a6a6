"""Incremental reads by change time, and the watermark each page may store.

Tryton stamps ``create_date`` on insert and ``write_date`` on update (naive UTC,
microseconds); a record never updated has no ``write_date``. Records changed
after a watermark are ``["OR", ("write_date", ">", wm), ("create_date", ">", wm)]``,
searched with ``active_test: false`` so archived ones come too.

One call lists the changed records' ids and change times; they are sorted by
(change time, id) and read in pages. A page's watermark is the latest change
time that no later page shares: records created in one call share a timestamp,
and a watermark cut inside such a group would skip the rest of it next time
(the filter is ``>``). So a page inside a group keeps the previous watermark.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import PermanentError
from .client import TrytonClient

ALL = {"active_test": False}


@dataclass(frozen=True)
class Changed:
    id: int
    at: dt.datetime


def parse_watermark(watermark: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(watermark)
    except ValueError:
        raise PermanentError(f"Watermark {watermark!r} is not an ISO 8601 date and time.") from None


def stamp(value: dt.datetime) -> str:
    """A change time as the watermark and version text (always with microseconds, so it sorts as text)."""
    return value.isoformat(timespec="microseconds")


def since(watermark: str | None, paths: tuple[str, ...] = ("",)) -> list:
    """The domain of records changed after ``watermark`` (empty: everything); ``paths`` adds related records."""
    if not watermark:
        return []
    after = parse_watermark(watermark)
    clauses = [(f"{path}{column}", ">", after) for path in paths for column in ("write_date", "create_date")]
    return [["OR", *clauses]]


def value_at(row: dict[str, Any], path: str) -> Any:
    """``row["template."]["last_modified_at"]`` for ``"template.last_modified_at"`` (Tryton's dotted reads)."""
    *relations, name = path.split(".")
    for relation in relations:
        row = row.get(f"{relation}.") or {}
    return row.get(name)


def changed(
    client: TrytonClient, model: str, watermark: str | None, *, paths: tuple[str, ...] = ("",), domain: list = ()
) -> list[Changed]:
    """Ids and change times of ``model`` records changed after ``watermark``, oldest first.

    ``paths`` like ``("", "template.")`` also count a change of a related record (a product's template).
    """
    fields = [f"{path}last_modified_at" for path in paths]
    rows = client.search_read(model, [*since(watermark, paths), *domain], fields, order=[("id", "ASC")], context=ALL)
    found = []
    for row in rows:
        times = [t for t in (value_at(row, f) for f in fields) if t is not None]
        if times:
            found.append(Changed(row["id"], max(times)))
    return sorted(found, key=lambda c: (c.at, c.id))


def pages(found: list[Changed], size: int, watermark: str | None) -> Iterator[tuple[list[Changed], str | None]]:
    """Pages of ``found`` (sorted), each with the watermark that is safe once it is committed."""
    for start in range(0, len(found), size):
        page = found[start : start + size]
        following = found[start + size] if start + size < len(found) else None
        done = [c.at for c in page if following is None or c.at < following.at]
        if done:
            watermark = stamp(max(done))
        yield page, watermark
