"""Casing of person names and place names.

Only values written in a single case are recased ("MCDONALD", "o'brien"): a
value that already mixes cases ("McDonald", "deBoer", "DiCaprio") is taken as
the source meant it. Values in scripts without case (CJK, Arabic) are unchanged.
"""

import re

from masterdata.cleansing.base import Context, rule

# Lowercase inside a name: "van der Berg", "de la Cruz", "Ludwig van Beethoven".
NAME_PARTICLES = frozenset({
    "van", "von", "der", "den", "de", "del", "della", "di", "da", "das", "dos", "do", "du", "la", "le", "ten",
    "ter", "zu", "bin", "ibn", "al", "el", "y", "e",
})  # fmt: skip
# Lowercase inside a place name, never first: "Frankfurt am Main", "Stratford-upon-Avon".
PLACE_PARTICLES = frozenset({
    "am", "an", "der", "den", "im", "in", "on", "upon", "sur", "sous", "en", "de", "la", "le", "les", "del",
    "di", "du", "of", "the", "and", "und",
})  # fmt: skip

_PARTS = re.compile(r"([\-'’])")  # hyphen and apostrophe separate capitalized parts
_MC = re.compile(r"^(Mc)(\w)")


def is_single_case(text: str) -> bool:
    """True when every cased letter of ``text`` is upper case, or every one lower."""
    return text.isupper() or text.islower()


def _cap(part: str) -> str:
    """Upper-case the first letter; "5th" and "3b" keep their lower-case letters."""
    if not part[:1].isalpha():
        return part
    return _MC.sub(lambda m: m.group(1) + m.group(2).upper(), part[:1].upper() + part[1:])


def _cap_word(word: str, particles: frozenset[str]) -> str:
    pieces = _PARTS.split(word)
    out = [_cap(p) for p in pieces]
    for i in range(2, len(out), 2):
        # "O'Brien" and "D'Angelo" but not the "s" of a possessive ("Men's").
        if pieces[i - 1] in "'’" and len(pieces[i]) == 1:
            out[i] = pieces[i]
        # "Stratford-upon-Avon": a particle between hyphens stays lowercase.
        if pieces[i - 1] == "-" and pieces[i] in particles and i < len(out) - 1:
            out[i] = pieces[i]
    return "".join(out)


def smart_case(text: str, particles: frozenset[str], particle_first: bool) -> str:
    """Title-case ``text`` (assumed single-case), keeping ``particles`` lowercase
    unless they are the last word, or the first word when ``particle_first`` is
    False ("Le Havre" but "van der Berg")."""
    words = text.lower().split(" ")
    last = len(words) - 1
    return " ".join(
        word if word in particles and i < last and (particle_first or i > 0) else _cap_word(word, particles)
        for i, word in enumerate(words)
    )


@rule("name.casing")
def person_name_casing(text: str, ctx: Context) -> str | None:
    """A name written all in capitals or all in lower case gets name casing:
    "o'brien" -> "O'Brien", "MCDONALD" -> "McDonald", "van der berg" -> "van der
    Berg", "JEAN-LUC" -> "Jean-Luc". Mixed-case names are left as sent."""
    return smart_case(text, NAME_PARTICLES, particle_first=True) if is_single_case(text) else text


@rule("place.casing")
def place_casing(text: str, ctx: Context) -> str | None:
    """A place or street written all in capitals or all in lower case is
    title-cased, with small words kept lowercase inside it: "FRANKFURT AM MAIN" ->
    "Frankfurt am Main", "12 MAIN ST" -> "12 Main St", "5TH AVENUE" -> "5th Avenue"."""
    return smart_case(text, PLACE_PARTICLES, particle_first=False) if is_single_case(text) else text


@rule("region.casing")
def region_casing(text: str, ctx: Context) -> str | None:
    """A region code of up to three letters is upper-cased ("ny" -> "NY",
    "nsw" -> "NSW"); a region name gets place casing ("BAVARIA" -> "Bavaria")."""
    if len(text) <= 3 and text.isalpha():
        return text.upper()
    return place_casing(text, ctx)
