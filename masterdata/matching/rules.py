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

    def applies(self, levels) -> np.ndarray:
        raise NotImplementedError


class Household(Rule):
    """Same surname, clearly different first names, and no tax id or email in common: two people of one
    household, not one person. Two known, different first names ("John" and "Mary") mark a household even
    with one birth date (twins); a garbled first name ("Jxhn") only when the birth dates differ too."""

    cap = BELOW_REVIEW
    reason = "same surname, different first name: another member of the household"

    def applies(self, levels) -> np.ndarray:
        same_last = levels.any("last_name", "exact", "high")
        same_birth = levels.any("date_of_birth", "exact", "swapped", "typo")
        other_first = levels.any("first_name", "other_name") | (levels.any("first_name", "different") & ~same_birth)
        shared_id = levels.any("tax_id", "exact", "typo") | levels.any("email", "exact")
        return same_last & other_first & ~shared_id


class SharedMailbox(Household):
    """The household case where both use one email address: a steward decides."""

    cap = BELOW_LINK
    reason = "different first names sharing one email address"

    def applies(self, levels) -> np.ndarray:
        same_last_or_none = levels.any("last_name", "exact", "high", "missing")
        other_first = levels.any("first_name", "other_name", "different")
        return same_last_or_none & other_first & levels.any("email", "exact")


class Corroborated(Rule):
    """A link needs more than a name and an address: an email, phone, birth date or tax id in common.

    Keeps namesakes out of automatic links, a sparse record that has only a
    name with them, and a father and son of one name at one address.
    """

    reason = "only the name (and address) agree: nothing personal confirms it is the same person"

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
