"""Inventory levels written into Tryton: counted quantities, set with stock inventories.

Written from::

    {"id": "SKU-0001@WH-BER", "sku": "SKU-0001", "location": "WH-BER", "quantity": 42}

``location`` is a Tryton stock location code; an optional ``unit`` must be the
product's own unit (Junction does not convert). Other fields are ignored.

Tryton keeps no stock figure that could be written: it computes quantities
from stock moves. Its way of making them equal a count is a stock inventory
(``stock.inventory``): a storage location, today's date and lines of product
and counted quantity. Its ``confirm`` button creates and does one move per
line, between the location and its warehouse's lost-and-found location, for
the difference. Tryton only takes a location of type storage, so a warehouse
code means the warehouse's storage location.

Per batch of ``batch_size`` records:

1. payloads are checked (a quantity must be a number, not negative, with no
   more decimals than the product's unit allows);
2. one search for the batch's location codes, one for its SKUs (active goods);
3. one read of the current quantities per location (``product.product.read``
   with the context ``locations``, ``with_childs: false``: the figure the
   inventory takes as expected); a count that equals it is ``unchanged``;
4. one ``create`` for one inventory per location, with one line per product
   (the batch's last record for a product and location wins), and one
   ``confirm`` for them all.

When Tryton refuses the create or the confirm (a UserError), the drafts are
deleted and each location is tried alone, then each line of a location that
still fails, so a bad record fails alone with Tryton's words. Records come
back ``updated`` or ``unchanged`` with the remote id ``<product id>@<location
id>``; an earlier record that a later one replaced shares its outcome.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...base import OutRecord, WriteResult
from ...errors import AdapterError, PermanentError
from ..client import TrytonClient, TrytonUserError
from ..lookups import counted_locations
from .common import Lookups, decimal, text

INVENTORY = "stock.inventory"


@dataclass
class Count:
    """One record's counted quantity, and the Tryton ids it resolves to."""

    position: int  # the record's place in the write call
    sku: str
    code: str  # the location code as sent
    quantity: Decimal
    unit: str
    product: int = 0
    location: int = 0  # the storage location counted in
    digits: int = 0  # decimals of the product's unit

    @property
    def key(self) -> tuple[int, int]:
        return self.product, self.location

    @property
    def target(self) -> str:
        return f"{self.product}@{self.location}"


def parse(position: int, payload: dict[str, Any]) -> Count:
    """A payload as a Count; a PermanentError saying what is missing or wrong."""
    sku, code = text(payload.get("sku")), text(payload.get("location"))
    if not sku:
        raise PermanentError("The inventory level has no sku: a Tryton product is matched by its code.")
    if not code:
        raise PermanentError(f"The inventory level of {sku} has no location (a Tryton stock location code).")
    raw = payload.get("quantity")
    try:
        if isinstance(raw, bool):
            raise PermanentError("a yes/no value")
        quantity = decimal(raw, "quantity")
    except PermanentError:
        raise PermanentError(f"The quantity {raw!r} of {sku} at {code} is not a number.") from None
    if quantity < 0:
        raise PermanentError(f"The quantity of {sku} at {code} is {raw}: a counted quantity cannot be negative.")
    return Count(position, sku, code, quantity, text(payload.get("unit")))


class StockCounts:
    """``inventory_level`` → stock inventories, confirmed (write only; StockLevels reads)."""

    def __init__(self, client: TrytonClient, lookups: Lookups):
        self.client, self.units = client, lookups.units
        self.locations: dict[str, int | PermanentError] = {}  # per write call

    def upsert_all(self, records: list[OutRecord], batch_size: int) -> list[WriteResult]:
        """One WriteResult per record, in order; see the module docstring."""
        results: list[WriteResult | None] = [None] * len(records)
        for start in range(0, len(records), batch_size):
            self._batch(records, range(start, min(start + batch_size, len(records))), results)
        return results

    def _batch(self, records: list[OutRecord], positions: range, results: list) -> None:
        counts: list[Count] = []
        for position in positions:
            try:
                counts.append(parse(position, records[position].payload))
            except PermanentError as exc:
                results[position] = WriteResult(records[position].key, error=exc)
        ready = self._resolve(counts, records, results)
        latest = {count.key: count for count in ready}  # the last record for a product and location wins
        current = self._current(list(latest.values()))
        changed = [count for count in latest.values() if round(current[count.key], count.digits) != count.quantity]
        outcomes = self._count(changed)
        for count in ready:
            key = records[count.position].key
            if count.key in outcomes:
                error = outcomes[count.key]
                results[count.position] = WriteResult(key, "updated", count.target, error=error)
            else:
                results[count.position] = WriteResult(key, "unchanged", count.target)

    def _resolve(self, counts: list[Count], records: list[OutRecord], results: list) -> list[Count]:
        """Counts with their product and storage location ids; the others get their error."""
        if missing := sorted({c.code for c in counts} - self.locations.keys()):
            self.locations |= counted_locations(self.client, missing)
        products = self._products({c.sku for c in counts})
        ready = []
        for count in counts:
            try:
                self._place(count, products)
            except PermanentError as exc:
                results[count.position] = WriteResult(records[count.position].key, error=exc)
                continue
            ready.append(count)
        return ready

    def _products(self, skus: set[str]) -> dict[str, dict]:
        if not skus:
            return {}
        fields = ["code", "type", "default_uom", "default_uom.symbol", "default_uom.digits"]
        rows = self.client.search_read("product.product", [("code", "in", sorted(skus))], fields)
        return {row["code"]: row for row in rows}

    def _place(self, count: Count, products: dict[str, dict]) -> None:
        """Fill in the count's ids, or raise what stops it from being counted."""
        location = self.locations[count.code]
        if isinstance(location, PermanentError):
            raise location
        product = products.get(count.sku)
        if product is None:
            raise PermanentError(
                f"SKU {count.sku!r} is not an active product in Tryton, so its stock at {count.code} "
                "was not counted: create the product first."
            )
        if product["type"] != "goods":
            raise PermanentError(f"SKU {count.sku!r} is a {product['type']} product in Tryton: only goods have stock.")
        unit = product["default_uom."]
        if count.unit and self.units.id_for(count.unit) != product["default_uom"]:
            raise PermanentError(
                f"SKU {count.sku!r} is counted in {count.unit!r} but Tryton keeps it in {unit['symbol']!r}: "
                "Junction does not convert units."
            )
        digits = unit["digits"] or 0
        if -count.quantity.normalize().as_tuple().exponent > digits:
            raise PermanentError(
                f"The quantity {count.quantity} of {count.sku} at {count.code} has more decimals than "
                f"its unit {unit['symbol']!r} allows in Tryton ({digits})."
            )
        count.product, count.location, count.digits = product["id"], location, digits

    def _current(self, counts: list[Count]) -> dict[tuple[int, int], Decimal]:
        """Tryton's quantity of each count's product in its storage location: one read per location."""
        by_location: dict[int, set[int]] = {}
        for count in counts:
            by_location.setdefault(count.location, set()).add(count.product)
        current = {}
        for location, products in by_location.items():
            # The figure an inventory expects: done moves up to today, this location without its children.
            context = {"locations": [location], "with_childs": False}
            for row in self.client.model("product.product", "read", sorted(products), ["quantity"], context=context):
                current[row["id"], location] = Decimal(str(row["quantity"] or 0))
        return current

    def _count(self, counts: list[Count]) -> dict[tuple[int, int], Exception | None]:
        """Confirm one inventory per location; the outcome of each count (None when it was set)."""
        groups: dict[int, list[Count]] = {}
        for count in counts:
            groups.setdefault(count.location, []).append(count)
        return self._inventories(list(groups.values()))

    def _inventories(self, groups: list[list[Count]]) -> dict[tuple[int, int], Exception | None]:
        """All groups at once; when Tryton refuses, each group alone, then each line of a group alone."""
        if not groups:
            return {}
        try:
            self._confirm(groups)
            return {count.key: None for group in groups for count in group}
        except TrytonUserError as exc:
            if len(groups) == 1 and len(groups[0]) == 1:
                return {groups[0][0].key: exc}
        smaller = [[group] for group in groups] if len(groups) > 1 else [[[count]] for count in groups[0]]
        outcomes: dict[tuple[int, int], Exception | None] = {}
        for part in smaller:
            outcomes |= self._inventories(part)
        return outcomes

    def _confirm(self, groups: list[list[Count]]) -> None:
        """Create one inventory per group and confirm them; drafts of a refused confirm are deleted."""
        values = [
            {
                "location": group[0].location,
                "lines": [["create", [{"product": c.product, "quantity": float(c.quantity)} for c in group]]],
            }
            for group in groups
        ]
        ids = self.client.create(INVENTORY, values)
        try:
            self.client.model(INVENTORY, "confirm", ids)
        except AdapterError:
            self._discard(ids)
            raise

    def _discard(self, ids: list[int]) -> None:
        """Delete draft inventories, best effort: a confirm that timed out may have gone through after all."""
        # Done inventories cannot be deleted; a retry of the batch then finds the quantities set.
        with suppress(AdapterError):
            self.client.model(INVENTORY, "delete", ids)
