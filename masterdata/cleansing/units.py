"""Units of measure: canonical codes, conversion factors, and weights in kilograms.

Each canonical unit has a dimension and a ``Decimal`` factor to that
dimension's base unit (KG, M, L, M2, M3, EA). Packaging units (BOX, PACK, …)
hold a product-specific number of pieces, so they have no factor: converting
them is refused. Aliases include UN/ECE Recommendation 20 codes (KGM, LTR, H87…).
"""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from masterdata.cleansing.base import Context, Reject, rule, short
from masterdata.cleansing.money import format_decimal, parse_decimal
from masterdata.cleansing.text import fold


@dataclass(frozen=True)
class Unit:
    code: str
    dimension: str
    factor: Decimal | None  # to the dimension's base unit; None: no fixed factor
    aliases: tuple[str, ...] = ()


_D = Decimal
UNITS = (
    Unit("EA", "count", _D(1), ("ea", "each", "pc", "pcs", "piece", "pieces", "unit", "units", "stk", "stuck",
                                "st", "h87", "c62", "pce", "item", "items", "x")),
    Unit("PR", "count", _D(2), ("pr", "pair", "pairs", "paar")),
    Unit("DZ", "count", _D(12), ("dz", "dzn", "doz", "dozen", "dozens")),
    Unit("BOX", "package", None, ("box", "boxes", "bx", "carton", "ctn", "karton")),
    Unit("PACK", "package", None, ("pack", "packs", "pk", "pkg", "package", "packet", "pa", "packung")),
    Unit("CASE", "package", None, ("case", "cases", "cs")),
    Unit("PALLET", "package", None, ("pallet", "pallets", "pal", "plt", "pf")),
    Unit("ROLL", "package", None, ("roll", "rolls", "ro", "rolle")),
    Unit("SET", "package", None, ("set", "sets")),
    Unit("KG", "mass", _D(1), ("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramm", "kgm")),
    Unit("G", "mass", _D("0.001"), ("g", "gr", "grs", "gram", "grams", "gramm", "gramme", "grammes", "grm")),
    Unit("MG", "mass", _D("0.000001"), ("mg", "milligram", "milligrams", "mgm")),
    Unit("T", "mass", _D(1000), ("t", "tonne", "tonnes", "metric ton", "tne")),
    Unit("LB", "mass", _D("0.45359237"), ("lb", "lbs", "pound", "pounds", "lbr")),
    Unit("OZ", "mass", _D("0.028349523125"), ("oz", "ounce", "ounces", "onz")),
    Unit("L", "volume", _D(1), ("l", "lt", "ltr", "litre", "litres", "liter", "liters")),
    Unit("ML", "volume", _D("0.001"), ("ml", "millilitre", "milliliter", "millilitres", "milliliters", "mlt")),
    Unit("CL", "volume", _D("0.01"), ("cl", "centilitre", "centiliter", "clt")),
    Unit("GAL", "volume", _D("3.785411784"), ("gal", "gallon", "gallons", "gll")),  # US gallon
    Unit("M3", "volume", _D(1000), ("m3", "m³", "cbm", "cubic metre", "cubic meter", "mtq")),
    Unit("M", "length", _D(1), ("m", "metre", "metres", "meter", "meters", "mtr", "lm")),
    Unit("CM", "length", _D("0.01"), ("cm", "centimetre", "centimeter", "centimetres", "centimeters", "cmt")),
    Unit("MM", "length", _D("0.001"), ("mm", "millimetre", "millimeter", "millimetres", "millimeters", "mmt")),
    Unit("KM", "length", _D(1000), ("km", "kilometre", "kilometer", "kilometres", "kilometers", "kmt")),
    Unit("IN", "length", _D("0.0254"), ("in", "inch", "inches", "inh", '"')),
    Unit("FT", "length", _D("0.3048"), ("ft", "foot", "feet", "fot", "'")),
    Unit("M2", "area", _D(1), ("m2", "m²", "sqm", "square metre", "square meter", "mtk")),
)  # fmt: skip
_BY_ALIAS = {alias: unit for unit in UNITS for alias in (unit.code.lower(), *unit.aliases)}


def find_unit(text) -> Unit | None:
    """The canonical unit for a code, name or abbreviation; None when unknown."""
    return _find_unit(str(text or "").strip().casefold().rstrip("."))


@lru_cache(maxsize=4096)
def _find_unit(raw: str) -> Unit | None:
    return _BY_ALIAS.get(raw) or _BY_ALIAS.get(fold(raw))


def convert(quantity, from_unit, to_unit) -> Decimal:
    """``quantity`` (Decimal, int or numeric text) in ``from_unit`` expressed in
    ``to_unit``: ``convert(Decimal("500"), "g", "kg") == Decimal("0.5")``. Units
    are any alias. ``ValueError`` for unknown units, different dimensions, or
    packaging units, whose size depends on the product."""
    source, target = find_unit(from_unit), find_unit(to_unit)
    for name, unit in ((from_unit, source), (to_unit, target)):
        if unit is None:
            raise ValueError(f"unknown unit of measure {name!r}")
        if unit.factor is None and source != target:
            raise ValueError(f"{unit.code} holds a product-specific quantity; it has no fixed conversion")
    if source.dimension != target.dimension:
        raise ValueError(f"cannot convert {source.code} ({source.dimension}) to {target.code} ({target.dimension})")
    amount = _decimal(quantity)
    return amount if source == target else amount * source.factor / target.factor


def _decimal(quantity) -> Decimal:
    try:  # a float by its shortest text: 0.1 is Decimal("0.1"), not 0.1000000000000000055…
        amount = Decimal(str(quantity) if isinstance(quantity, float) else quantity)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"{quantity!r} is not a quantity") from None
    if not amount.is_finite():
        raise ValueError(f"{quantity!r} is not a quantity")
    return amount


@rule("unit.code")
def unit_code(text: str, ctx: Context) -> str | None:
    """Units of measure become canonical codes: "pcs", "piece", "each" -> "EA";
    "kilogram", "KGM" -> "KG"; "litre" -> "L"; "box" -> "BOX". An unknown unit is
    an error."""
    unit = find_unit(text)
    if unit is None:
        raise Reject(f"{short(text)} is not a unit of measure we know (e.g. EA, KG, G, LB, L, ML, M, BOX)")
    return unit.code


_QUANTITY = re.compile(r"^\s*([+-]?\d[\d.,'’ ]*?)\s*([^\d\s.,].*)?$")


@rule("weight.kg")
def weight_kg(text: str, ctx: Context) -> str | None:
    """Weights become kilograms as a decimal string: "500 g" -> "0.5", "1.2 lb"
    -> "0.544310844", "2,5 kg" -> "2.5". A bare number is taken as kilograms.
    An unknown or non-mass unit, a negative weight or a non-number is an error."""
    match = _QUANTITY.match(text)
    if not match:
        raise Reject(f"{short(text)} is not a weight (expected a number and a unit, e.g. '500 g')")
    try:
        quantity = parse_decimal(match[1], ctx.locale, ctx.warn)
        kilograms = convert(quantity, match[2] or "kg", "kg")
    except ValueError as exc:
        raise Reject(f"{short(text)} is not a weight: {exc}") from None
    if kilograms < 0:
        raise Reject(f"weight {short(text)} is negative")
    return format_decimal(kilograms.normalize())
