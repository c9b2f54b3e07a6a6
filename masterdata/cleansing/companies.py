"""Company legal suffixes: one canonical spelling in the value, none for matching.

"ACME gmbh", "Acme G.m.b.H." and "Acme GmbH" all end in "GmbH"; for matching,
``company_core`` drops the suffix altogether so "Acme Ltd" meets "Acme Limited"
and "ACME Inc.".
"""

import re

from masterdata.cleansing.base import Context, rule
from masterdata.cleansing.text import fold

# Canonical spelling -> other spellings. Keys are compared without dots, spaces,
# commas and case, so "S. A." and "s.a." are both "sa".
SUFFIXES = {
    "GmbH & Co. KG": ["gmbh & co kg", "gmbh and co kg", "gmbh u co kg", "gmbh+co kg"],
    "GmbH": ["gmbh", "gesellschaft mit beschränkter haftung"],
    "AG": ["ag", "aktiengesellschaft"],
    "KG": ["kg"],
    "OHG": ["ohg"],
    "UG": ["ug", "ug (haftungsbeschränkt)"],
    "e.V.": ["ev"],
    "Ltd": ["ltd", "limited"],
    "Pty Ltd": ["pty ltd", "pty limited", "proprietary limited"],
    "PLC": ["plc", "public limited company"],
    "LLP": ["llp"],
    "LP": ["lp"],
    "LLC": ["llc", "l l c"],
    "Inc.": ["inc", "incorporated"],
    "Corp.": ["corp", "corporation"],
    "Co.": ["co", "company"],
    "& Co.": ["& co", "and co", "& company"],
    "S.A.": ["sa", "société anonyme", "sociedad anónima"],
    "S.A.S.": ["sas"],
    "SARL": ["sarl"],
    "S.p.A.": ["spa"],
    "S.r.l.": ["srl"],
    "S.L.": ["sl"],
    "Ltda.": ["ltda"],
    "B.V.": ["bv"],
    "N.V.": ["nv"],
    "SE": ["se"],
    "AB": ["ab"],
    "A/S": ["a/s"],
    "ASA": ["asa"],
    "Oy": ["oy"],
    "Oyj": ["oyj"],
    "K.K.": ["kk"],
    "Sp. z o.o.": ["sp z oo", "sp zoo"],
    "s.r.o.": ["sro"],
}


def _key(text: str) -> str:
    return re.sub(r"[\s.,]+", "", text.casefold())


_CANONICAL = {_key(alias): canon for canon, aliases in SUFFIXES.items() for alias in [canon, *aliases]}
_MAX_WORDS = max(len(alias.split()) for aliases in SUFFIXES.values() for alias in aliases)
_CORE_WORDS = frozenset(word for aliases in SUFFIXES.values() for alias in aliases for word in fold(alias).split())


def _trailing_suffix(words: list[str]) -> tuple[int, str] | None:
    """The longest run of final words that spells a suffix: (how many, canonical)."""
    for n in range(min(_MAX_WORDS, len(words) - 1), 0, -1):
        canon = _CANONICAL.get(_key("".join(words[-n:])))
        if canon:
            return n, canon
    return None


@rule("company.legal_suffix")
def legal_suffix(text: str, ctx: Context) -> str | None:
    """A legal-form suffix at the end of a company name gets its canonical
    spelling: "gmbh" -> "GmbH", "Limited" -> "Ltd", "s.a." -> "S.A.", "inc" ->
    "Inc.", "Corporation" -> "Corp.". A name that is only a suffix is unchanged."""
    words = text.split(" ")
    found = _trailing_suffix(words)
    if not found:
        return text
    n, canon = found
    trailing_comma = "," if words[-n - 1].endswith(",") else ""
    head = " ".join(words[:-n]).rstrip(",")
    return f"{head}{trailing_comma} {canon}"


def company_core(text) -> str:
    """The matching form of a company name without its legal suffixes:
    ``company_core("Müller GmbH & Co. KG")`` is ``"muller"`` and
    ``company_core("ACME, Inc.")`` is ``"acme"``. A name made only of suffix
    words ("AG") keeps them."""
    undotted = re.sub(r"(?<=\w)\.(?=\w)", "", str(text or ""))  # "S.A." -> "SA."
    words = fold(undotted).split()
    core = list(words)
    while core and core[-1] in _CORE_WORDS:
        core.pop()
    return " ".join(core or words)
