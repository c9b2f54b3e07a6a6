"""Sales orders: ``sale.sale`` with its lines, quoted and confirmed.

Written from a payload whose party and products the engine has already
resolved to Tryton ids (the mapping's ``reference`` op returns the id Junction
delivered them under)::

    {"reference": "SHOP-1001", "party": "42", "sale_date": "2024-05-01",
     "lines": [{"product": "7", "quantity": 2, "unit_price": "12.50"}]}

``reference`` (the source's order id) is the upsert key. A line without
``unit_price`` takes the product's list price; its unit is the product's sale
unit. The invoice and shipment addresses are the party's first invoice and
delivery addresses (or its first address). After saving, a draft sale is
quoted and a quotation confirmed, in one call each for the batch.

Tryton forbids changing a confirmed sale. So when an order comes again:

- draft or quotation in Tryton: its party, date, description and lines are
  brought in line (a quotation goes back to draft first), then it is quoted
  and confirmed again;
- confirmed, processing or done: nothing is written. If the order still
  matches, the result is ``unchanged``; if it differs, a permanent error says
  so and the record is quarantined for a person to change or cancel the sale
  in Tryton;
- cancelled: a permanent error (Junction never reopens a cancelled sale).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from ...base import Page
from ...errors import PermanentError
from ..client import TrytonClient
from ..reading import ALL
from ..upsert import Current, Desired, Writer, each_or_error, in_batches
from .common import Lookups, decimal, text

OPEN_STATES = ("draft", "quotation")
MANAGED = ("party", "sale_date", "description")


def _id(value: Any, what: str) -> int:
    try:
        ident = int(str(value).strip())
    except ValueError:
        raise PermanentError(f"{what} {value!r} is not a Tryton id.") from None
    if ident < 1:
        raise PermanentError(f"{what} {value!r} is not a Tryton id.")
    return ident


def _line_key(line: dict[str, Any]) -> tuple:
    return (line.get("product"), float(line.get("quantity") or 0), Decimal(str(line.get("unit_price") or 0)))


class Sales(Writer):
    """``sales_order`` → sale.sale (write only)."""

    model = "sale.sale"

    def __init__(self, client: TrytonClient, lookups: Lookups):
        self.client = client

    def key(self, payload: dict[str, Any]) -> str:
        reference = text(payload.get("reference"))
        if not reference:
            raise PermanentError("The order has no reference: a Tryton sale is matched by its reference.")
        return reference

    def prepare(self, payloads: list[dict[str, Any]]) -> list[Desired | PermanentError]:
        checked = each_or_error(payloads, self._checked)
        valid = [c for c in checked if isinstance(c, dict)]
        products = self._products({line["product"] for c in valid for line in c["lines"]})
        addresses = self._addresses({c["party"] for c in valid})
        return [c if isinstance(c, Exception) else self._desired(c, products, addresses) for c in checked]

    def _checked(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload with ids as ints and amounts as Decimals, or a PermanentError saying what is wrong."""
        reference = self.key(payload)
        if payload.get("party") in (None, ""):
            raise PermanentError(f"Order {reference} has no party (the customer's Tryton id).")
        lines = payload.get("lines")
        if not isinstance(lines, list) or not lines:
            raise PermanentError(f"Order {reference} has no lines.")
        checked = []
        for number, line in enumerate(lines, 1):
            where = f"Line {number} of order {reference}"
            if not isinstance(line, dict):
                raise PermanentError(f"{where} is not an object.")
            if line.get("product") in (None, ""):
                raise PermanentError(f"{where} has no product: its product has not reached Tryton, or has no SKU.")
            quantity = decimal(line.get("quantity"), f"The quantity of {where.lower()}")
            price = line.get("unit_price")
            checked.append(
                {
                    "product": _id(line["product"], f"The product of {where.lower()}"),
                    "quantity": float(quantity),
                    "unit_price": None if price in (None, "") else decimal(price, f"The unit price of {where.lower()}"),
                }
            )
        sale_date = text(payload.get("sale_date"))
        try:
            date = dt.date.fromisoformat(sale_date[:10]) if sale_date else None
        except ValueError:
            raise PermanentError(f"The sale date {sale_date!r} of order {reference} is not an ISO date.") from None
        return {
            "reference": reference,
            "party": _id(payload["party"], f"The party of order {reference}"),
            "sale_date": date,
            "description": text(payload.get("description")) or None,
            "lines": checked,
        }

    def _products(self, ids: set[int]) -> dict[int, dict]:
        if not ids:
            return {}
        fields = ["sale_uom", "list_price_used"]
        rows = self.client.search_read("product.product", [("id", "in", sorted(ids))], fields, context=ALL)
        return {row["id"]: row for row in rows}

    def _addresses(self, parties: set[int]) -> dict[int, dict[str, int]]:
        """Each party's invoice and shipment address, chosen as Tryton's ``address_get`` does."""
        order = [("party", "ASC"), ("sequence", "ASC"), ("id", "ASC")]
        rows = self.client.search_read(
            "party.address", [("party", "in", sorted(parties))], ["party", "invoice", "delivery"], order=order
        )
        chosen: dict[int, dict[str, int]] = {}
        for row in rows:
            mine = chosen.setdefault(row["party"], {"first": row["id"]})
            for flag, field in (("invoice", "invoice_address"), ("delivery", "shipment_address")):
                if row[flag]:
                    mine.setdefault(field, row["id"])
        return {
            party: {field: mine.get(field, mine["first"]) for field in ("invoice_address", "shipment_address")}
            for party, mine in chosen.items()
        }

    def _desired(self, checked: dict[str, Any], products: dict[int, dict], addresses: dict) -> Desired:
        lines = []
        for line in checked["lines"]:
            product = products.get(line["product"])  # unknown: Tryton refuses the line with its own message
            price = line["unit_price"] if line["unit_price"] is not None else (product or {}).get("list_price_used")
            values = {"product": line["product"], "quantity": line["quantity"], "unit_price": price}
            if product:
                values["unit"] = product["sale_uom"]
            lines.append(values)
        header = {field: checked[field] for field in MANAGED if checked[field] is not None}
        address = addresses.get(checked["party"], {})
        values = {"reference": checked["reference"], **header, **address, "lines": [["create", lines]]}
        return Desired(checked["reference"], values, {"header": header, "address": address, "lines": lines})

    def current(self, keys: list[str]) -> dict[str, Current]:
        fields = ["reference", "state", "number", "invoice_address", "shipment_address", *MANAGED]
        rows = self.client.search_read(self.model, [("reference", "in", keys)], fields, order=[("id", "DESC")])
        sales = {row["reference"]: row for row in rows}  # several with one reference: the oldest
        lines: dict[int, list] = {row["id"]: [] for row in sales.values()}
        if lines:
            domain = [("sale", "in", list(lines)), ("type", "=", "line")]
            for line in self.client.search_read("sale.line", domain, ["sale", "product", "quantity", "unit_price"]):
                lines[line["sale"]].append(line)
        return {ref: Current(row["id"], row["id"], {**row, "lines": lines[row["id"]]}) for ref, row in sales.items()}

    def plan(self, current: Current, desired: Desired) -> dict[str, Any] | None:
        have, want = current.data, desired.compare
        name = f"Sale {have['number'] or have['reference']}"
        if have["state"] == "cancelled":
            raise PermanentError(f"{name} is cancelled in Tryton; Junction does not reopen cancelled sales.")
        changes = {field: value for field, value in want["header"].items() if value != have[field]}
        if "party" in changes or not (have["invoice_address"] and have["shipment_address"]):
            changes |= want["address"]
        if sorted(map(_line_key, have["lines"])) != sorted(map(_line_key, want["lines"])):
            changes["lines"] = [["delete", [line["id"] for line in have["lines"]]], ["create", want["lines"]]]
        if have["state"] in OPEN_STATES:
            return changes  # even when empty: it still has to be quoted and confirmed
        if changes:
            raise PermanentError(
                f"{name} is {have['state']} in Tryton, which does not allow changing a confirmed sale: "
                f"the new {', '.join(sorted(changes))} were not applied. Change or cancel the sale in Tryton."
            )
        return None

    def create(self, values: list[dict[str, Any]]) -> list[int]:
        return self.client.create(self.model, values)

    def write(self, pairs: list[tuple[Current, dict[str, Any]]]) -> None:
        if quotations := [now.id for now, _ in pairs if now.data["state"] == "quotation"]:
            self.client.model(self.model, "draft", quotations)  # a quotation is read-only
        if changed := [part for now, changes in pairs if changes for part in ([now.id], changes)]:
            self.client.write(self.model, *changed)

    def finish(self, targets: list[int]) -> list[Exception | None]:
        """Quote the drafts, then confirm the quotations: one call each, one by one when Tryton refuses."""
        errors: dict[int, Exception] = {}
        for button, state in (("quote", "draft"), ("confirm", "quotation")):
            rows = self.client.model(self.model, "read", targets, ["state"])
            due = [row["id"] for row in rows if row["state"] == state and row["id"] not in errors]
            outcomes = in_batches(due, lambda ids, b=button: self.client.model(self.model, b, ids) or [None] * len(ids))
            errors |= {ident: error for ident, error in zip(due, outcomes, strict=True) if error is not None}
        return [errors.get(target) for target in targets]

    def read(self, watermark: str | None, page_size: int) -> Iterator[Page]:
        raise PermanentError("The Tryton adapter writes sales orders but does not read them.")

    def all_keys(self) -> set[str]:
        rows = self.client.search_read(self.model, [], ["reference"])
        return {row["reference"] for row in rows if row["reference"]}
