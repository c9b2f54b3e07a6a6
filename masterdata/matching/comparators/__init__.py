"""Field comparators: for every candidate pair, how closely one field agrees (see ``base``).

``REGISTRY`` maps the names an entity's configuration uses to comparator classes.
"""

from masterdata.matching.comparators.base import Comparator, Comparison
from masterdata.matching.comparators.identity import (
    CodeComparator,
    DateComparator,
    EmailComparator,
    ExactComparator,
    GtinComparator,
    PhoneComparator,
)
from masterdata.matching.comparators.names import PersonNameComparator
from masterdata.matching.comparators.text import (
    CompanyComparator,
    FuzzyComparator,
    NumberComparator,
    PostcodeComparator,
    StreetComparator,
    TextComparator,
)

REGISTRY: dict[str, type[Comparator]] = {
    "exact": ExactComparator,
    "code": CodeComparator,
    "gtin": GtinComparator,
    "email": EmailComparator,
    "phone": PhoneComparator,
    "date": DateComparator,
    "person_name": PersonNameComparator,
    "fuzzy": FuzzyComparator,
    "postcode": PostcodeComparator,
    "street": StreetComparator,
    "company": CompanyComparator,
    "text": TextComparator,
    "number": NumberComparator,
}

__all__ = ["REGISTRY", "Comparator", "Comparison"]
