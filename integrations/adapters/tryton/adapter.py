"""TrytonAdapter: Junction's entities in a Tryton ERP, over JSON-RPC.

| Entity | Tryton | Reads | Writes (upsert key) |
|---|---|---|---|
| customer, supplier | party.party, its first address, email and phone | yes | yes (code) |
| product | product.template + product.product | yes | yes (code = SKU) |
| sales_order | sale.sale with lines, quoted and confirmed | no | yes (reference) |
| inventory_level | quantities per stock location; written as a confirmed stock.inventory | yes | yes (sku + location) |

Each entity is one class in ``entities/``, looked up in :data:`ENTITIES`; the
batching, fallback and watermark logic they share is in ``upsert.py`` and
``reading.py``; inventory levels are counted, not upserted
(``entities/inventories.py``). See docs/connectors/tryton.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from rest_framework import serializers

from integrations.outbound import http_transport

from ..base import Adapter, Check, OutRecord, Page, WriteResult, validate
from ..errors import AdapterError, PermanentError
from ..registry import register
from .client import TrytonClient
from .entities.common import Lookups
from .entities.parties import Parties
from .entities.products import Products
from .entities.sales import Sales
from .entities.stock import StockLevels
from .settings import TrytonCredentialsSerializer, TrytonSettingsSerializer
from .upsert import Target

# Junction entity → how to build its handler from (client, lookups, settings).
ENTITIES: dict[str, Callable[[TrytonClient, Lookups, dict], Any]] = {
    "customer": lambda client, lookups, options: Parties(client, lookups, with_company=True),
    "supplier": lambda client, lookups, options: Parties(client, lookups, with_company=False),
    "product": lambda client, lookups, options: Products(client, lookups),
    "sales_order": lambda client, lookups, options: Sales(client, lookups),
    "inventory_level": lambda client, lookups, options: StockLevels(client, lookups, options["stock_locations"]),
}
# What "Test connection" reads, in the order the flows need it.
CHECKED_MODELS = (
    "party.party",
    "party.address",
    "party.contact_mechanism",
    "country.country",
    "product.template",
    "product.product",
    "product.uom",
    "sale.sale",
    "sale.line",
    "stock.location",
    "stock.move",
    "stock.inventory",
)


@register
class TrytonAdapter(Adapter):
    """Customers, suppliers, products, sales orders and stock levels in a Tryton ERP (JSON-RPC)."""

    key = "tryton"
    label = "Tryton ERP"
    settings_schema = TrytonSettingsSerializer
    credentials_schema = TrytonCredentialsSerializer
    archives = frozenset({"customer", "supplier"})  # parties: ``active`` archives and restores them

    def __init__(self, settings: dict[str, Any], credentials: dict[str, Any] | None = None):
        super().__init__(settings, credentials)
        try:
            # Validated when saved; again here, so defaults added since apply.
            self.options = validate(TrytonSettingsSerializer, settings)
            secrets = validate(TrytonCredentialsSerializer, self.credentials)
        except serializers.ValidationError as exc:
            problems = "; ".join(f"{field}: {' '.join(map(str, errors))}" for field, errors in exc.detail.items())
            raise PermanentError(f"Invalid Tryton connector settings or credentials: {problems}") from exc
        company = self.options.get("company")
        self.client = TrytonClient(
            self.options["url"],
            self.options["database"],
            secrets["login"],
            secrets["password"],
            timeout=self.options["timeout"],
            context={"company": company, "companies": [company]} if company else None,
            transport=http_transport(),
        )
        self.lookups = Lookups.for_client(self.client)

    def close(self) -> None:
        self.client.close()

    def handler(self, entity: str) -> Any:
        try:
            build = ENTITIES[entity]
        except KeyError:
            known = ", ".join(sorted(ENTITIES))
            raise PermanentError(f"The Tryton adapter has no entity {entity!r} (it knows {known}).") from None
        return build(self.client, self.lookups, self.options)

    def read(self, entity: str, *, watermark: str | None = None, page_size: int = 500) -> Iterator[Page]:
        """Pages of records created or changed after ``watermark`` (archived ones too), oldest change first."""
        yield from self.handler(entity).read(watermark, page_size)

    def write(self, entity: str, records: list[OutRecord]) -> list[WriteResult]:
        """Write ``records`` in batches of ``batch_size``: upserts by key (upsert.py), stock as inventories."""
        handler = self.handler(entity)
        if not isinstance(handler, Target):
            raise PermanentError(f"The Tryton adapter reads {entity} but does not write it.")
        return handler.upsert_all(records, self.options["batch_size"])

    def reconcile_ids(self, entity: str) -> set[str]:
        """Every key Tryton holds for ``entity``, archived records included: what is missing was deleted."""
        return self.handler(entity).all_keys()

    def key_of(self, entity: str, payload: dict[str, Any]) -> str:
        return self.handler(entity).key(payload)

    def test_connection(self) -> list[Check]:
        """Reach the server, log in, then read each model the flows use."""
        checks: list[Check] = []
        try:
            version = self.client.version()
        except AdapterError as exc:
            return [Check("Reach the Tryton server", False, exc.message)]
        checks.append(Check("Reach the Tryton server", True, f"Tryton {version} answers at {self.client.url}."))
        try:
            user_id = self.client.login()
            company = self.client.context.get("company")
        except AdapterError as exc:
            return [*checks, Check("Log in", False, exc.message)]
        where = f"company id {company}" if company else "no company (sales need one)"
        detail = f"Logged in to {self.client.database} as {self.client.login_name} (user id {user_id}), {where}."
        checks.append(Check("Log in", bool(company), detail))
        for model in CHECKED_MODELS:
            try:
                count = self.client.model(model, "search_count", [])
                checks.append(Check(f"Read {model}", True, f"{count} record(s) visible."))
            except AdapterError as exc:
                checks.append(Check(f"Read {model}", False, exc.message))
        return checks
