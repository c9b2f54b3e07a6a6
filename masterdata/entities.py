"""The canonical master-data entities: their fields, and the kind of each field.

A field's *kind* selects its cleansing rules (``masterdata.cleansing``) and its
comparator (``masterdata.matching``), so adding a field of a known kind needs
no new code there. Golden and source records store values as JSON keyed by
these field names; dates are ISO 8601 strings and amounts decimal strings.
"""

from dataclasses import dataclass

from django.db import models


class Entity(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    PRODUCT = "product", "Product"
    SUPPLIER = "supplier", "Supplier"
    LOCATION = "location", "Location"


class Kind(models.TextChoices):
    TEXT = "text"  # free text: whitespace and Unicode normalization only
    PERSON_NAME = "person_name"  # first / last names
    COMPANY = "company"  # legal entity names (legal suffixes normalized for matching)
    EMAIL = "email"
    PHONE = "phone"  # E.164, country taken from the record's country field
    STREET = "street"
    CITY = "city"
    POSTCODE = "postcode"
    REGION = "region"
    COUNTRY = "country"  # ISO 3166-1 alpha-2
    DATE = "date"  # ISO 8601, day/month order from the source's locale
    TAX_ID = "tax_id"
    SKU = "sku"
    GTIN = "gtin"  # GTIN-8/12/13/14 with a valid check digit
    MONEY = "money"  # Decimal as a string
    CURRENCY = "currency"  # ISO 4217
    UNIT = "unit"  # canonical unit of measure code
    WEIGHT = "weight"  # kilograms, Decimal as a string
    CHOICE = "choice"


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    label: str = ""
    required: bool = False

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class EntitySchema:
    entity: str
    fields: tuple[Field, ...]
    display_fields: tuple[str, ...]  # joined to make a record's display name

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def display_name(self, values: dict) -> str:
        parts = [str(values.get(name) or "").strip() for name in self.display_fields]
        return " ".join(p for p in parts if p) or "(unnamed)"


ADDRESS = (
    Field("street", Kind.STREET),
    Field("city", Kind.CITY),
    Field("postcode", Kind.POSTCODE),
    Field("region", Kind.REGION),
    Field("country", Kind.COUNTRY),
)

SCHEMAS: dict[str, EntitySchema] = {
    Entity.CUSTOMER: EntitySchema(
        Entity.CUSTOMER,
        (
            Field("first_name", Kind.PERSON_NAME),
            Field("last_name", Kind.PERSON_NAME),
            Field("company", Kind.COMPANY),
            Field("email", Kind.EMAIL),
            Field("phone", Kind.PHONE),
            *ADDRESS,
            Field("date_of_birth", Kind.DATE, "Date of birth"),
            Field("tax_id", Kind.TAX_ID, "Tax ID"),
        ),
        display_fields=("first_name", "last_name", "company"),
    ),
    Entity.PRODUCT: EntitySchema(
        Entity.PRODUCT,
        (
            Field("sku", Kind.SKU, "SKU", required=True),
            Field("name", Kind.TEXT, required=True),
            Field("description", Kind.TEXT),
            Field("unit", Kind.UNIT, "Unit of measure"),
            Field("gtin", Kind.GTIN, "GTIN / barcode"),
            Field("price", Kind.MONEY),
            Field("currency", Kind.CURRENCY),
            Field("weight", Kind.WEIGHT, "Weight (kg)"),
        ),
        display_fields=("name",),
    ),
    Entity.SUPPLIER: EntitySchema(
        Entity.SUPPLIER,
        (
            Field("name", Kind.COMPANY, required=True),
            Field("tax_id", Kind.TAX_ID, "Tax ID"),
            Field("email", Kind.EMAIL),
            Field("phone", Kind.PHONE),
            *ADDRESS,
        ),
        display_fields=("name",),
    ),
    Entity.LOCATION: EntitySchema(
        Entity.LOCATION,
        (
            Field("code", Kind.SKU, required=True),
            Field("name", Kind.TEXT, required=True),
            Field("location_type", Kind.CHOICE, "Type"),  # warehouse, store, site
            *ADDRESS,
        ),
        display_fields=("name",),
    ),
}
