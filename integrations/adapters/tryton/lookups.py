"""Ids of Tryton's reference data (countries, units of measure, stock locations), looked up once per adapter."""

from __future__ import annotations

from collections import defaultdict

from ..errors import PermanentError
from .client import TrytonClient

# Junction's canonical unit codes (masterdata/cleansing/units.py) and common spellings of a piece,
# where Tryton's symbol differs. Everything else is matched by Tryton's symbol or name.
UNIT_ALIASES = {
    "ea": "u",
    "pc": "u",
    "pcs": "u",
    "piece": "u",
    "pieces": "u",
    "each": "u",
    "unit": "u",
    "units": "u",
    "m2": "m²",
    "m3": "m³",
}


class Countries:
    """ISO 3166 alpha-2 code ↔ Tryton country id, fetched for what a batch needs and kept."""

    def __init__(self, client: TrytonClient):
        self.client = client
        self.ids: dict[str, int] = {}
        self.codes: dict[int, str] = {}

    def _remember(self, rows: list[dict]) -> None:
        for row in rows:
            if row.get("code"):
                self.ids[row["code"].upper()] = row["id"]
                self.codes[row["id"]] = row["code"].upper()

    def load_codes(self, codes: set[str]) -> None:
        missing = sorted({c.upper() for c in codes} - self.ids.keys())
        if missing:
            self._remember(self.client.search_read("country.country", [("code", "in", missing)], ["code"]))

    def id_for(self, code: str) -> int:
        """The country id for an ISO code (after ``load_codes``); PermanentError when Tryton has no such country."""
        try:
            return self.ids[code.upper()]
        except KeyError:
            raise PermanentError(
                f"Country {code!r} is not in Tryton's country list: use an ISO 3166-1 alpha-2 code "
                "(DE, FR, US, …) of a country created in Tryton."
            ) from None

    def code_for(self, ident: int | None) -> str:
        return self.codes.get(ident, "") if ident else ""

    def load_ids(self, ids: set[int]) -> None:
        missing = sorted(ids - self.codes.keys() - {None})
        if missing:
            self._remember(self.client.search_read("country.country", [("id", "in", missing)], ["code"]))


class Units:
    """Units of measure by symbol, name or alias (case does not matter), read once."""

    def __init__(self, client: TrytonClient):
        self.client = client
        self._by_name: dict[str, int] | None = None
        self.symbols: dict[int, str] = {}

    def _load(self) -> dict[str, int]:
        if self._by_name is None:
            rows = self.client.search_read("product.uom", [], ["symbol", "name"], context={"active_test": False})
            self._by_name = {}
            for row in sorted(rows, key=lambda r: r["id"], reverse=True):  # the oldest wins a clash
                self._by_name[row["name"].casefold()] = row["id"]
                self._by_name[row["symbol"].casefold()] = row["id"]
                self.symbols[row["id"]] = row["symbol"]
        return self._by_name

    def id_for(self, text: str) -> int:
        units = self._load()
        wanted = str(text).strip().casefold()
        ident = units.get(wanted) or units.get(UNIT_ALIASES.get(wanted, ""))
        if ident is None:
            known = ", ".join(sorted(set(self.symbols.values()))[:20])
            raise PermanentError(f"Unit {text!r} is not a unit of measure in Tryton (symbols there: {known}, …).")
        return ident

    def symbol_for(self, ident: int | None) -> str:
        self._load()
        return self.symbols.get(ident, "") if ident else ""


def location_ids(client: TrytonClient, codes: list[str]) -> dict[str, int]:
    """Stock location code → id; PermanentError naming the codes Tryton does not know."""
    rows = client.search_read("stock.location", [("code", "in", codes)], ["code"])
    found = {row["code"]: row["id"] for row in rows}
    if missing := [code for code in codes if code not in found]:
        raise PermanentError(
            f"Tryton has no stock location with the code {', '.join(missing)} (setting stock_locations)."
        )
    return found


# Tryton's location types that hold no counted stock, in words for messages.
LOCATION_KINDS = {"lost_found": "lost and found", "view": "view (a grouping)"}


def counted_locations(client: TrytonClient, codes: list[str]) -> dict[str, int | PermanentError]:
    """Stock location code → the storage location an inventory counts in, or why there is none.

    Tryton only takes a location of type storage for an inventory: a storage
    location is used as it is, a warehouse by its storage location (where the
    goods sit). Unknown, ambiguous and other kinds of location (supplier,
    customer, view, …) are a PermanentError naming the code.
    """
    rows = client.search_read("stock.location", [("code", "in", codes)], ["code", "type", "storage_location"])
    found: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        found[row["code"]].append(row)
    return {code: _counted(code, found.get(code, [])) for code in codes}


def _counted(code: str, rows: list[dict]) -> int | PermanentError:
    if not rows:
        return PermanentError(f"Tryton has no active stock location with the code {code!r}.")
    if len(rows) > 1:
        return PermanentError(
            f"{len(rows)} stock locations in Tryton have the code {code!r}: give each its own code "
            "so the count goes to the right one."
        )
    (row,) = rows
    if row["type"] == "warehouse" and row["storage_location"]:
        return row["storage_location"]
    if row["type"] == "storage":
        return row["id"]
    kind = LOCATION_KINDS.get(row["type"], row["type"])
    return PermanentError(
        f"Stock location {code!r} is a {kind} location in Tryton: stock is counted in a warehouse "
        "or a storage location."
    )
