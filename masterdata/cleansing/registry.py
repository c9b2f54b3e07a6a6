"""Which rules run on which field: a chain per field kind, plus extra rules for
particular field names. Adding a field of a known kind needs no code here.

Every chain starts with ``BASICS`` (text coercion, control characters, Unicode
NFC, whitespace) and a length cap, so no kind-specific rule sees junk it was
not written for.
"""

from masterdata.cleansing import codes, companies, contact, dates, geo, money, names, text, units
from masterdata.cleansing.base import Rule
from masterdata.entities import Kind

BASICS: tuple[Rule, ...] = (text.coerce, text.strip_control, text.nfc, text.collapse_whitespace)
CAPPED = (*BASICS, text.max_length)

KIND_RULES: dict[str, tuple[Rule, ...]] = {
    Kind.TEXT: (*BASICS, text.truncate),
    Kind.PERSON_NAME: (*CAPPED, names.person_name_casing),
    Kind.COMPANY: (*CAPPED, companies.legal_suffix),
    Kind.EMAIL: (*CAPPED, contact.extract_email, contact.lowercase_email, contact.valid_email),
    Kind.PHONE: (*CAPPED, contact.phone_e164),
    Kind.STREET: (*CAPPED, names.place_casing),
    Kind.CITY: (*CAPPED, names.place_casing),
    Kind.POSTCODE: (*CAPPED, geo.postcode_format),
    Kind.REGION: (*CAPPED, names.region_casing),
    Kind.COUNTRY: (*CAPPED, geo.country_alpha2),
    Kind.DATE: (*CAPPED, dates.date_iso),
    Kind.TAX_ID: (*CAPPED, codes.tax_id_compact, codes.tax_id_vat),
    Kind.SKU: (*CAPPED, codes.sku_normalize),
    Kind.GTIN: (*CAPPED, codes.gtin_digits, codes.gtin_check_digit),
    Kind.MONEY: (*CAPPED, money.money_decimal),
    Kind.CURRENCY: (*CAPPED, money.currency_iso),
    Kind.UNIT: (*CAPPED, units.unit_code),
    Kind.WEIGHT: (*CAPPED, units.weight_kg),
    Kind.CHOICE: (*CAPPED, text.choice_slug),
}

# Rules that belong to a field's meaning rather than its kind.
FIELD_RULES: dict[str, tuple[Rule, ...]] = {
    "date_of_birth": (dates.birth_range,),
}

# Kinds other fields depend on (phone and postcode read the country; amounts
# may one day read the currency): cleaned first, in this order.
FIRST_KINDS: tuple[str, ...] = (Kind.COUNTRY, Kind.CURRENCY)


def chain_for(field) -> tuple[Rule, ...]:
    """The rules a field runs through, in order (an unknown kind gets BASICS)."""
    return KIND_RULES.get(field.kind, CAPPED) + FIELD_RULES.get(field.name, ())


def field_order(fields) -> list:
    """Fields in cleaning order: ``FIRST_KINDS`` first, then as declared."""
    rank = {kind: i for i, kind in enumerate(FIRST_KINDS)}
    return sorted(fields, key=lambda f: rank.get(f.kind, len(rank)))
