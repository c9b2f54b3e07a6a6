"""Identifiers: SKUs and location codes, GTIN barcodes, tax IDs (python-stdnum)."""

import re

from stdnum import ean
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError
from stdnum.util import get_cc_module

from masterdata.cleansing.base import Context, Reject, rule, short

_DASHES = re.compile(r"[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")  # hyphen look-alikes


@rule("sku.normalize")
def sku_normalize(text: str, ctx: Context) -> str | None:
    """SKUs and codes are upper-cased, with typographic dashes (en dash, minus
    sign, …) made plain "-" and spaces around dashes removed ("ab - 12" ->
    "AB-12"); the dashes themselves are kept, since they are often meaningful."""
    text = _DASHES.sub("-", text.upper())
    return re.sub(r"\s*-\s*", "-", text)


GTIN_LENGTHS = (8, 12, 13, 14)


@rule("gtin.digits")
def gtin_digits(text: str, ctx: Context) -> str | None:
    """GTINs keep only their digits: spaces, dashes and dots are removed
    ("400-6381 33393 1" -> "4006381333931"); letters are an error."""
    digits = re.sub(r"[\s\-.]", "", text)
    if not digits.isdigit() or not digits.isascii():
        raise Reject(f"{short(text)} is not a GTIN: a GTIN has only digits")
    return digits


@rule("gtin.check_digit")
def gtin_check_digit(text: str, ctx: Context) -> str | None:
    """A GTIN must have 8, 12, 13 or 14 digits and a correct GS1 check digit
    (validated with python-stdnum); otherwise the record is quarantined, and the
    reason names the check digit that was expected."""
    if len(text) not in GTIN_LENGTHS:
        raise Reject(f"{short(text)} is not a GTIN: it has {len(text)} digits, a GTIN has 8, 12, 13 or 14")
    expected = ean.calc_check_digit(text[:-1])
    if text[-1] != expected:
        raise Reject(f"GTIN {text} has check digit {text[-1]}, expected {expected} (mistyped or truncated barcode?)")
    return text


@rule("tax_id.compact")
def tax_id_compact(text: str, ctx: Context) -> str | None:
    """Tax IDs are upper-cased with spaces and dots removed ("de 123.456.789" ->
    "DE123456789"); dashes are kept, some national formats need them."""
    return re.sub(r"[\s.]", "", text.upper())


# VAT prefixes python-stdnum validates: EU members (Greece writes "EL") and neighbours.
VAT_PREFIXES = frozenset(cc.upper() for cc in eu_vat.MEMBER_STATES) | {"EL", "GB", "CH", "NO"}


def _vat_module(prefix: str):
    return eu_vat if prefix.lower() in eu_vat.MEMBER_STATES or prefix == "EL" else get_cc_module(prefix, "vat")


@rule("tax_id.vat")
def tax_id_vat(text: str, ctx: Context) -> str | None:
    """A tax ID starting with a European VAT prefix ("DE", "FR", "EL", "GB", …)
    is checked as that country's VAT number with python-stdnum; an invalid one
    is a warning, not an error, since sources mix other tax numbers in."""
    prefix = text[:2]
    if prefix not in VAT_PREFIXES or not (text[2:3].isdigit() or text[:3] == "CHE"):
        return text
    try:
        _vat_module(prefix).validate(text)
    except ValidationError as exc:
        ctx.warn(f"{text} does not look like a valid {prefix} VAT number: {exc.message.lower().rstrip('.')}")
    return text
