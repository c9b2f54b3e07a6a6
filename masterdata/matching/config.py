"""Per-entity matching configuration: comparators, level weights, blocking keys, rules, thresholds.

Weights are log2 likelihood ratios in the Fellegi-Sunter sense: how many times
more often a field agrees at that level between two records of one real
customer than between two different customers (negative: disagreement is
evidence against). A pair's score is the posterior probability of a match,
``1 / (1 + 2 ** -(prior + sum of weights))``, so 0.5 means even odds. The
figures were set from what each field's agreement is worth and checked against
the generated data in ``bench/`` (see bench/README.md). They are the defaults:
``find_pairs`` on a large enough file re-estimates them from the file itself,
without labels (``estimate.py``).
"""

from dataclasses import dataclass
from dataclasses import field as dataclass_field

from masterdata.entities import Entity
from masterdata.matching.blocking import KeySpec
from masterdata.matching.rules import (
    BELOW_REVIEW,
    Conflicting,
    Corroborated,
    Household,
    Housemates,
    Rule,
    SharedMailbox,
    Twins,
)
from masterdata.matching.types import Thresholds


@dataclass(frozen=True)
class Compare:
    """One comparator: the registry name of its class, the field(s) it reads, its options."""

    kind: str
    name: str
    field: str | None = None
    options: dict = dataclass_field(default_factory=dict)


@dataclass(frozen=True)
class EntityConfig:
    entity: str
    comparisons: tuple[Compare, ...]
    weights: dict[str, dict[str, float]]  # comparison name -> level -> log2 weight
    prior: float  # log2 odds of a match before any field is compared
    thresholds: Thresholds
    keys: tuple[KeySpec, ...]
    order: tuple[str, ...]  # fields that sort records inside an oversized block
    rules: tuple[Rule, ...] = ()
    window: int = 20
    # Term-frequency adjustment: comparison -> (field, transform, how often a typical value occurs). An exact
    # agreement on a value rarer than typical weighs more ("Zykowski"), on a commoner one less ("Smith").
    frequencies: dict[str, tuple[str, str, float]] = dataclass_field(default_factory=dict)
    # Levels whose configured weight a file's own estimate (``estimate.py``) must not replace: comparison -> labels.
    fixed_levels: dict[str, tuple[str, ...]] = dataclass_field(default_factory=dict)


def _key(prefix: str, *parts: tuple, min_length: int = 1, window: int | None = None) -> KeySpec:
    return KeySpec(prefix, tuple((p[0], p[1], p[2] if len(p) > 2 else None) for p in parts), min_length, window)


CUSTOMER = EntityConfig(
    entity=Entity.CUSTOMER,
    comparisons=(
        Compare("person_name", "person_name", options={"first": "first_name", "last": "last_name"}),
        Compare("email", "email"),
        Compare("phone", "phone"),
        Compare("date", "date_of_birth"),
        Compare("street", "street"),
        Compare("postcode", "postcode"),
        Compare("fuzzy", "city"),
        Compare("exact", "region"),
        Compare("exact", "country"),
        Compare("company", "company"),
        Compare("code", "tax_id"),
    ),
    weights={
        "first_name": {
            "exact": 6.5,
            "nickname": 5,
            "initial": 1.5,
            "high": 3.5,
            "mid": 0.5,
            "other_name": -4,
            "different": -6,
        },
        "last_name": {"exact": 8.5, "high": 4.5, "mid": 0.5, "different": -6},
        "email": {"exact": 14, "typo": 8, "local": 0, "different": -2.5},
        "phone": {"exact": 11, "subscriber": 9, "typo": 5, "different": -2.5},
        "date_of_birth": {"exact": 12, "swapped": 6, "typo": 5, "close": 0, "different": -8},
        "street": {"exact": 7, "similar": 5.5, "same_street": 0.5, "different": -2.5},
        "postcode": {"exact": 4, "close": 1, "different": -2},
        "city": {"exact": 3, "close": 2, "different": -2},
        "region": {"exact": 0.5, "different": -1},
        "country": {"exact": 0.3, "different": -3},
        "company": {"exact": 3, "similar": 2, "different": -1},
        "tax_id": {"exact": 18, "typo": 10, "typo2": 5, "different": -6},
    },
    prior=-14,
    thresholds=Thresholds(review=0.6, link=0.97),
    keys=(
        # Mirrored name keys share the "n" space: swapped first and last names still meet.
        # Name blocks are the largest: a narrower window there (other keys catch what it misses).
        _key("n", ("last_name", "phonetic"), ("first_name", "initial"), window=8),
        _key("n", ("first_name", "phonetic"), ("last_name", "initial"), window=8),
        _key("e", ("email", "raw")),
        _key("el", ("email", "email_local"), min_length=5),
        _key("p", ("phone", "last7")),
        _key("pc", ("postcode", "code"), ("last_name", "name", 2)),
        _key("d", ("date_of_birth", "raw"), ("first_name", "initial")),
        _key("d", ("date_of_birth", "raw"), ("last_name", "initial")),
        _key("t", ("tax_id", "code")),
        _key("dp", ("date_of_birth", "raw"), ("postcode", "code")),
        # The same house: a record whose names were both retyped still meets its duplicate there.
        _key("a", ("postcode", "code"), ("street", "street_number"), ("street", "street_name", 4)),
    ),
    order=("last_name", "first_name", "date_of_birth"),
    frequencies={"first_name": ("first_name", "name", 0.01), "last_name": ("last_name", "name", 0.003)},
    # The same mailbox name on another domain follows from the name ("robert.smith"): namesakes share it.
    fixed_levels={"email": ("local",)},
    rules=(
        Household(),
        Twins(),
        Housemates(),
        SharedMailbox(),
        Corroborated(),
        Conflicting("date_of_birth"),
        Conflicting("tax_id"),
        Conflicting("first_name", labels=("other_name", "different")),
    ),
)

PRODUCT = EntityConfig(
    entity=Entity.PRODUCT,
    comparisons=(
        Compare("gtin", "gtin"),
        Compare("code", "sku"),
        Compare("text", "name", options={"numbers_matter": True}),
        Compare("text", "description"),
        Compare("exact", "unit"),
        Compare("number", "price"),
        Compare("exact", "currency"),
        Compare("number", "weight"),
    ),
    weights={
        "gtin": {"exact": 16, "different": -12},
        "sku": {"exact": 12, "typo": 4, "typo2": 1, "different": -3},
        "name": {"exact": 7, "high": 5, "medium": 2, "variant": -8, "different": -5},
        "description": {"exact": 2, "high": 1.5, "medium": 0.5, "variant": -1, "different": -0.5},
        "unit": {"exact": 0.5, "different": -1},
        "price": {"exact": 1.5, "close": 0.5, "different": -1},
        "currency": {"exact": 0.2, "different": 0},
        "weight": {"exact": 1.5, "close": 0.5, "different": -2},
    },
    prior=-10,
    thresholds=Thresholds(review=0.6, link=0.97),
    keys=(
        _key("g", ("gtin", "gtin")),
        _key("s", ("sku", "code"), min_length=3),
        _key("n", ("name", "name_tokens")),
        _key("np", ("name", "code", 8), min_length=4),
    ),
    order=("name", "sku"),
    rules=(Conflicting("gtin", BELOW_REVIEW),),
)

SUPPLIER = EntityConfig(
    entity=Entity.SUPPLIER,
    comparisons=(
        Compare("company", "name"),
        Compare("code", "tax_id"),
        Compare("email", "email"),
        Compare("phone", "phone"),
        Compare("street", "street"),
        Compare("postcode", "postcode"),
        Compare("fuzzy", "city"),
        Compare("exact", "country"),
    ),
    weights={
        "name": {"exact": 9, "similar": 5, "different": -5},
        "tax_id": {"exact": 18, "typo": 6, "typo2": 2, "different": -8},
        "email": {"exact": 10, "local": 1, "typo": 6, "different": -1},
        "phone": {"exact": 9, "subscriber": 7, "typo": 3, "different": -1.5},
        "street": {"exact": 5, "similar": 4, "same_street": 0.5, "different": -2},
        "postcode": {"exact": 3, "close": 1, "different": -2},
        "city": {"exact": 2, "close": 1.5, "different": -2},
        "country": {"exact": 0.3, "different": -4},
    },
    prior=-10,
    thresholds=Thresholds(review=0.6, link=0.97),
    keys=(
        _key("c", ("name", "company")),
        _key("cp", ("name", "company", 4), ("postcode", "code")),
        _key("t", ("tax_id", "code")),
        _key("e", ("email", "raw")),
        _key("p", ("phone", "last7")),
    ),
    order=("name", "city"),
    rules=(Conflicting("tax_id"),),
)

LOCATION = EntityConfig(
    entity=Entity.LOCATION,
    comparisons=(
        Compare("code", "code"),
        Compare("text", "name", options={"numbers_matter": True}),
        Compare("exact", "location_type"),
        Compare("street", "street"),
        Compare("postcode", "postcode"),
        Compare("fuzzy", "city"),
        Compare("exact", "country"),
    ),
    weights={
        "code": {"exact": 12, "typo": 3, "typo2": 1, "different": -2},
        "name": {"exact": 6, "high": 4, "medium": 1.5, "variant": -6, "different": -3},
        "location_type": {"exact": 0.5, "different": -3},
        "street": {"exact": 6, "similar": 5, "same_street": 1, "different": -3},
        "postcode": {"exact": 3, "close": 1, "different": -2},
        "city": {"exact": 2, "close": 1.5, "different": -2},
        "country": {"exact": 0.3, "different": -5},
    },
    prior=-9,
    thresholds=Thresholds(review=0.6, link=0.97),
    keys=(
        _key("k", ("code", "code")),
        _key("n", ("name", "name_tokens")),
        _key("a", ("postcode", "code"), ("street", "street_name", 6)),
    ),
    order=("name", "code"),
)

CONFIGS: dict[str, EntityConfig] = {c.entity: c for c in (CUSTOMER, PRODUCT, SUPPLIER, LOCATION)}


def config_for(entity: str) -> EntityConfig:
    """The matching configuration of ``entity``; ``KeyError`` names the known entities."""
    try:
        return CONFIGS[entity]
    except KeyError:
        raise KeyError(f"unknown entity {entity!r}: expected one of {', '.join(CONFIGS)}") from None
