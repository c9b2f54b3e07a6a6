"""Explicit rules that cap a pair's score whatever its field weights add up to.

Weights alone would merge a household: a husband and wife share a surname,
an address and a landline, and those agreements outweigh two different first
names. Rules name such situations and cap the score: ``BELOW_REVIEW`` keeps the
pair out of the results, ``BELOW_LINK`` lets a steward decide but never merges
it automatically. Each rule is a small class; an entity's configuration lists
the ones that apply to it.
"""

import numpy as np

BELOW_REVIEW = "below_review"
BELOW_LINK = "below_link"


class Rule:
    """A named cap: :meth:`applies` tells, per pair, whether the cap holds."""

    cap = BELOW_LINK
    reason = ""
    # The comparisons the rule reads: a file's own weights for them are learned without this rule's pairs.
    fields: tuple[str, ...] = ()

    def applies(self, levels) -> np.ndarray:
        raise NotImplementedError


class Household(Rule):
    """Same surname, clearly different first names, and no tax id or email in common: two people of one
    household, not one person, unless the birth dates agree (``Twins``)."""

    cap = BELOW_REVIEW
    reason = "same surname, different first name: another member of the household"
    fields = ("first_name", "last_name", "date_of_birth", "tax_id", "email")

    def applies(self, levels) -> np.ndarray:
        same_last = levels.any("last_name", "exact", "high")
        same_birth = levels.any("date_of_birth", "exact", "swapped", "typo")
        other_first = levels.any("first_name", "other_name", "different") & ~same_birth
        shared_id = levels.any("tax_id", "exact", "typo") | levels.any("email", "exact")
        return same_last & other_first & ~shared_id


class Twins(Rule):
    """Same surname and birth date, two known, different first names ("Anna" and "Lena"), no tax id or email in
    common: twins, or one person whose first name was mistyped or replaced. The data cannot tell: a steward
    decides, never an automatic link."""

    reason = "same surname and birth date, different first names: twins, or a first name entered wrongly"
    fields = ("first_name", "last_name", "date_of_birth", "tax_id", "email")

    def applies(self, levels) -> np.ndarray:
        same_last = levels.any("last_name", "exact", "high")
        same_birth = levels.any("date_of_birth", "exact", "swapped", "typo")
        shared_id = levels.any("tax_id", "exact", "typo") | levels.any("email", "exact")
        return same_last & same_birth & levels.any("first_name", "other_name", "different") & ~shared_id


class SharedMailbox(Household):
    """The household case where both use one email address: a steward decides."""

    cap = BELOW_LINK
    reason = "different first names sharing one email address"
    fields = ("first_name", "last_name", "email")

    def applies(self, levels) -> np.ndarray:
        same_last_or_none = levels.any("last_name", "exact", "high", "missing")
        other_first = levels.any("first_name", "other_name", "different")
        return same_last_or_none & other_first & levels.any("email", "exact")


class Housemates(Rule):
    """Different first *and* last names, and nothing personal in common (tax id, email, birth date): two
    people sharing a home, a landline or an address, not one person with two names."""

    cap = BELOW_REVIEW
    reason = "different first and last names: two people sharing an address or phone"
    fields = ("first_name", "last_name", "tax_id", "email", "date_of_birth")

    def applies(self, levels) -> np.ndarray:
        other_person = levels.any("first_name", "other_name", "different") & levels.any("last_name", "different")
        shared_id = (
            levels.any("tax_id", "exact", "typo")
            | levels.any("email", "exact", "typo")
            | levels.any("date_of_birth", "exact", "swapped", "typo")
        )
        return other_person & ~shared_id


class Corroborated(Rule):
    """A link needs more than a name and an address: an email, phone, birth date or tax id in common.

    Keeps namesakes out of automatic links, a sparse record that has only a
    name with them, and a father and son of one name at one address.
    """

    reason = "only the name (and address) agree: nothing personal confirms it is the same person"
    fields = ("email", "phone", "date_of_birth", "tax_id")

    def applies(self, levels) -> np.ndarray:
        corroborated = (
            levels.any("email", "exact", "typo")
            | levels.any("phone", "exact", "subscriber")
            | levels.any("date_of_birth", "exact", "typo", "swapped")
            | levels.any("tax_id", "exact", "typo", "typo2")
        )
        return ~corroborated


class Conflicting(Rule):
    """A clear conflict on an identifying field (birth date, tax id, GTIN, first name) stops an
    automatic link: twins share everything but a first name."""

    def __init__(self, field: str, cap: str = BELOW_LINK, labels: tuple[str, ...] = ("different",)):
        self.field = field
        self.cap = cap
        self.labels = labels
        self.reason = f"{field.replace('_', ' ')} differs"
        self.fields = (field,)

    def applies(self, levels) -> np.ndarray:
        return levels.any(self.field, *self.labels)


def cap_scores(scores: np.ndarray, capped: list[tuple[str, np.ndarray]], review: float, link: float) -> np.ndarray:
    """Scores lowered by the rules that apply: under ``BELOW_REVIEW`` to at most half the review threshold
    (clearly not a candidate), under ``BELOW_LINK`` to just under the link threshold (0.0001, the precision
    of the command's output)."""
    limit = {BELOW_REVIEW: review / 2, BELOW_LINK: link - 1e-4}
    out = scores.copy()
    for cap, mask in capped:
        out[mask] = np.minimum(out[mask], limit[cap])
    return out
