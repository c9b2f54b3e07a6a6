"""Products: ``product.template`` with one variant, ``product.product``, whose code is the SKU.

Written from::

    {"code": "SKU-001", "name": "Widget", "unit": "EA", "list_price": "12.50"}

(``sku`` and ``price`` are accepted for ``code`` and ``list_price``). New
products are salable goods with one variant whose ``suffix_code`` is the SKU;
the unit is matched by Tryton's symbol or name, or Junction's canonical code
(EA, pc → "u"), and is "u" when missing. The remote id Junction keeps is the
variant's id, which is what sale lines refer to. Junction manages the
template's name, list price and unit; Tryton refuses to change the unit of a
product that has stock moves (a permanent error for that record).

Read back as Junction's canonical product: ``sku``, ``name``, ``unit`` (EA for
Tryton's "u", otherwise Tryton's symbol), ``price`` (the effective list price
as a decimal string), ``active``, ``tryton_id``. A change of the template
counts as a change of the product (Tryton does not touch the variant's
``write_date`` then).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...base import Page, SourceRecord
from ...errors import PermanentError
from ..client import TrytonClient
from ..reading import ALL, changed, pages, stamp
from ..upsert import Current, Desired, Writer, each_or_error
from .common import Lookups, decimal, text

READ_UNITS = {"u": "EA"}  # Tryton's piece, in Junction's canonical unit codes
DEFAULT_UNIT = "u"


class Products(Writer):
    """``product`` ↔ product.template + product.product."""

    model = "product.template"
    # Tryton on SQLite checks that new product codes are unique with one SQL condition per product,
    # nested; past about 85 products in one call SQLite refuses the statement ("parser stack
    # overflow", an HTTP 503 that would fail the whole batch on every retry). PostgreSQL enforces
    # the rule itself, where the cap costs one more call per 100 products.
    max_create = 50

    def __init__(self, client: TrytonClient, lookups: Lookups):
        self.client, self.units = client, lookups.units

    # --- Writing

    def key(self, payload: dict[str, Any]) -> str:
        code = text(payload.get("code")) or text(payload.get("sku"))
        if not code:
            raise PermanentError("The record has no code (SKU): a Tryton product is matched by its code.")
        return code

    def prepare(self, payloads: list[dict[str, Any]]) -> list[Desired | PermanentError]:
        return each_or_error(payloads, self._desired)

    def _desired(self, payload: dict[str, Any]) -> Desired:
        code = self.key(payload)
        name = text(payload.get("name"))
        if not name:
            raise PermanentError(f"Product {code} has no name.")
        given_unit = text(payload.get("unit"))
        unit = self.units.id_for(given_unit or DEFAULT_UNIT)
        price_text = text(payload.get("list_price", payload.get("price")))
        price = decimal(price_text, f"The list price of product {code}") if price_text else None
        values = {
            "name": name,
            "type": "goods",
            "salable": True,
            "list_price": price if price is not None else decimal(0, "0"),
            "default_uom": unit,
            "sale_uom": unit,
            "products": [["create", [{"suffix_code": code}]]],
        }
        return Desired(code, values, {"name": name, "price": price, "unit": unit if given_unit else None})

    def current(self, keys: list[str]) -> dict[str, Current]:
        fields = ["code", "template", "name", "default_uom", "template.list_price"]
        rows = self.client.search_read("product.product", [("code", "in", keys)], fields, context=ALL)
        return {
            row["code"]: Current(row["template"], row["id"], {**row, "list_price": row["template."]["list_price"]})
            for row in rows
        }

    def plan(self, current: Current, desired: Desired) -> dict[str, Any] | None:
        want, have = desired.compare, current.data
        changes: dict[str, Any] = {}
        if want["name"] != have["name"]:
            changes["name"] = want["name"]
        if want["price"] is not None and want["price"] != have["list_price"]:
            changes["list_price"] = want["price"]
        if want["unit"] is not None and want["unit"] != have["default_uom"]:
            changes |= {"default_uom": want["unit"], "sale_uom": want["unit"]}
        return changes or None

    def create(self, values: list[dict[str, Any]]) -> list[int]:
        return self.client.create(self.model, values)

    def write(self, pairs: list[tuple[Current, dict[str, Any]]]) -> None:
        self.client.write(self.model, *[part for now, changes in pairs for part in ([now.id], changes)])

    def created_targets(self, desired: list[Desired], ids: list[int]) -> list[int]:
        """The variants of the new templates: sale lines and Junction refer to those."""
        rows = self.client.search_read("product.product", [("template", "in", ids)], ["template"], context=ALL)
        variant = {row["template"]: row["id"] for row in sorted(rows, key=lambda r: r["id"], reverse=True)}
        return [variant[template] for template in ids]

    # --- Reading

    def read(self, watermark: str | None, page_size: int) -> Iterator[Page]:
        found = changed(self.client, "product.product", watermark, paths=("", "template."))
        fields = ["code", "name", "default_uom", "list_price_used", "active", "salable", "type"]
        for page, mark in pages(found, page_size, watermark):
            rows = {r["id"]: r for r in self.client.model("product.product", "read", [c.id for c in page], fields)}
            records = [
                SourceRecord(rows[c.id]["code"] or f"id-{c.id}", self.record(rows[c.id]), stamp(c.at)) for c in page
            ]
            yield Page(records, mark)

    def record(self, row: dict[str, Any]) -> dict[str, Any]:
        """A product variant in Junction's canonical product field names."""
        symbol = self.units.symbol_for(row["default_uom"])
        price = row["list_price_used"]
        return {
            "sku": row["code"] or "",
            "name": row["name"] or "",
            "unit": READ_UNITS.get(symbol, symbol),
            "price": "" if price is None else str(price),
            "type": row["type"],
            "salable": bool(row["salable"]),
            "active": bool(row["active"]),
            "tryton_id": row["id"],
        }

    def all_keys(self) -> set[str]:
        rows = self.client.search_read("product.product", [], ["code"], context=ALL)
        return {row["code"] for row in rows if row["code"]}
