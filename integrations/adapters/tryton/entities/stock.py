"""Inventory levels: the quantity of each product in each configured stock location.

Written as counts, with stock inventories: see inventories.py.

Tryton computes stock from moves. ``product.product.read`` with the context
``{"locations": [id], "with_childs": true}`` returns ``quantity`` (done moves)
and ``forecast_quantity`` (planned ones too) per product in that location and
the ones inside it, so one call per location and page gives a whole page.

Records: ``{"sku", "location", "quantity", "forecast_quantity", "unit"}``,
external id ``<sku>@<location>``. Incrementally, the products read are those
with a stock move created or changed after the watermark, and the watermark is
the latest such change; without one, every goods product. No version is set:
the payload hash tells Junction whether a level changed.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...base import OutRecord, Page, SourceRecord, WriteResult
from ...errors import PermanentError
from ..client import TrytonClient
from ..lookups import location_ids
from ..reading import ALL, since, stamp
from ..upsert import Target
from .common import Lookups, number
from .inventories import StockCounts
from .products import READ_UNITS


class StockLevels(Target):
    """``inventory_level`` ↔ product quantities per location (read), stock inventories (write)."""

    def __init__(self, client: TrytonClient, lookups: Lookups, locations: list[str]):
        self.client, self.units, self.locations = client, lookups.units, locations
        self.counts = StockCounts(client, lookups)

    def upsert_all(self, records: list[OutRecord], batch_size: int) -> list[WriteResult]:
        """Counted quantities become Tryton's, through confirmed stock inventories (see inventories.py)."""
        return self.counts.upsert_all(records, batch_size)

    def _products(self, watermark: str | None) -> tuple[list[int], str | None]:
        """Products whose stock may have changed, and the watermark once they are read."""
        if not watermark:
            rows = self.client.search_read("product.product", [("type", "=", "goods")], ["id"], order=[("id", "ASC")])
            moves = self.client.search_read("stock.move", [], ["last_modified_at"], order=[("id", "DESC")], limit=1)
            latest = max((m["last_modified_at"] for m in moves), default=None)
            return [row["id"] for row in rows], stamp(latest) if latest else None
        moves = self.client.search_read("stock.move", since(watermark), ["product", "last_modified_at"])
        latest = max((m["last_modified_at"] for m in moves), default=None)
        return sorted({m["product"] for m in moves}), stamp(latest) if latest else watermark

    def read(self, watermark: str | None, page_size: int) -> Iterator[Page]:
        locations = location_ids(self.client, self.locations)
        products, mark = self._products(watermark)
        fields = ["code", "quantity", "forecast_quantity", "default_uom"]
        for start in range(0, len(products), page_size):
            ids, records = products[start : start + page_size], []
            for code, location in locations.items():
                context = {**ALL, "locations": [location], "with_childs": True}
                for row in self.client.model("product.product", "read", ids, fields, context=context):
                    sku = row["code"] or f"id-{row['id']}"
                    symbol = self.units.symbol_for(row["default_uom"])
                    payload = {
                        "sku": sku,
                        "location": code,
                        "quantity": number(row["quantity"]),
                        "forecast_quantity": number(row["forecast_quantity"]),
                        "unit": READ_UNITS.get(symbol, symbol),
                    }
                    records.append(SourceRecord(f"{sku}@{code}", payload))
            last = start + page_size >= len(products)
            yield Page(records, mark if last else watermark)

    def all_keys(self) -> set[str]:
        raise PermanentError("Inventory levels are computed by Tryton: there is nothing to reconcile.")
