"""Comparators for text: cities, postcodes, streets, company names, product names, numbers."""

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler, Levenshtein

from masterdata.matching.comparators.base import Comparator, Comparison, cpdist, cpdist_where, levels_from


class FuzzyComparator(Comparator):
    """Short text (cities): exact, Jaro-Winkler above ``close`` (0.9 by default), or different."""

    LEVELS = ("missing", "exact", "close", "different")
    transform = "fold"

    def compare(self, frame, left, right):
        codes = frame.codes(self.field, self.transform)
        missing = (codes[left] < 0) | (codes[right] < 0)
        need = ~missing & (codes[left] != codes[right])
        sim = cpdist_where(JaroWinkler.normalized_similarity, frame.strings(self.field, self.transform), left, right,
                           need, 1.0)  # fmt: skip
        close = sim >= self.options.get("close", 0.9)
        levels = levels_from([(codes[left] == codes[right], 1), (close, 2)], missing, 3)
        return [Comparison(self.name, self.field, levels, np.where(missing, np.nan, sim))]


class PostcodeComparator(Comparator):
    """Postcodes: exact, one character off or the same district (first three characters), or different."""

    LEVELS = ("missing", "exact", "close", "different")
    transform = "code"

    def compare(self, frame, left, right):
        codes = frame.codes(self.field, "code")
        district = frame.codes(self.field, "prefix3")
        missing = (codes[left] < 0) | (codes[right] < 0)
        dist = cpdist(Levenshtein.distance, *self.strings(frame, left, right))
        close = (dist <= 1) | ((district[left] == district[right]) & (district[left] >= 0))
        levels = levels_from([(codes[left] == codes[right], 1), (close, 2)], missing, 3)
        return [Comparison(self.name, self.field, levels, self._similarity(levels, {1: 1.0, 2: 0.7}))]


class StreetComparator(Comparator):
    """Street lines: the same address, the same one spelled differently, the same street at another number, or
    different. Neighbours (same street, other house number) are kept apart from the same address."""

    LEVELS = ("missing", "exact", "similar", "same_street", "different")
    transform = "street"

    def compare(self, frame, left, right):
        codes = frame.codes(self.field, "street")
        numbers = frame.codes(self.field, "street_number")
        missing = (codes[left] < 0) | (codes[right] < 0)
        need = ~missing & (codes[left] != codes[right])
        sim = cpdist_where(fuzz.token_sort_ratio, frame.strings(self.field, "street"), left, right, need, 1.0, 100)
        street_names = frame.strings(self.field, "street_name")
        names = cpdist_where(JaroWinkler.normalized_similarity, street_names, left, right, need, 1.0)
        same_number = numbers[left] == numbers[right]
        levels = levels_from(
            [
                (codes[left] == codes[right], 1),
                ((sim >= 0.85) & same_number, 2),
                ((names >= 0.9) & same_number & (numbers[left] >= 0), 2),
                (names >= 0.9, 3),
            ],
            missing,
            4,
        )
        return [Comparison(self.name, self.field, levels, np.where(missing, np.nan, sim))]


class CompanyComparator(Comparator):
    """Company names by their core (legal form dropped): exact, similar, or different."""

    LEVELS = ("missing", "exact", "similar", "different")
    transform = "company"

    def compare(self, frame, left, right):
        codes = frame.codes(self.field, self.transform)
        missing = (codes[left] < 0) | (codes[right] < 0)
        a, b = self.strings(frame, left, right)
        sim = np.maximum(cpdist(fuzz.token_sort_ratio, a, b) / 100, cpdist(JaroWinkler.normalized_similarity, a, b))
        levels = levels_from([(codes[left] == codes[right], 1), (sim >= 0.9, 2)], missing, 3)
        return [Comparison(self.name, self.field, levels, np.where(missing, np.nan, sim))]


class TextComparator(Comparator):
    """Longer text (product names, descriptions) by shared words.

    With ``numbers_matter`` a pair whose numbers differ ("T-shirt 42" and
    "T-shirt 44", "500 ml" and "1 l") is a ``variant``: a different product,
    however many words it shares.
    """

    LEVELS = ("missing", "exact", "high", "medium", "variant", "different")
    transform = "fold"

    def compare(self, frame, left, right):
        codes = frame.codes(self.field, self.transform)
        missing = (codes[left] < 0) | (codes[right] < 0)
        a, b = self.strings(frame, left, right)
        sim = cpdist(fuzz.token_set_ratio, a, b) / 100
        sort_sim = cpdist(fuzz.token_sort_ratio, a, b) / 100
        variant = np.zeros(len(left), dtype=bool)
        if self.options.get("numbers_matter"):
            nums = frame.codes(self.field, "street_number")  # the numbers in the text, joined
            variant = nums[left] != nums[right]
        levels = levels_from(
            [(codes[left] == codes[right], 1), (variant, 4), (sort_sim >= 0.9, 2), (sim >= 0.9, 3), (sim >= 0.75, 3)],
            missing,
            5,
        )
        return [Comparison(self.name, self.field, levels, np.where(missing, np.nan, sim))]


class NumberComparator(Comparator):
    """Amounts and weights: equal within ``exact`` (0.5 % by default), within ``close`` (5 %), or different."""

    LEVELS = ("missing", "exact", "close", "different")

    def compare(self, frame, left, right):
        values = frame.numbers(self.field)
        a, b = values[left], values[right]
        missing = np.isnan(a) | np.isnan(b)
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-9)
        rel = np.where(missing, 1.0, rel)
        levels = levels_from(
            [(rel <= self.options.get("exact", 0.005), 1), (rel <= self.options.get("close", 0.05), 2)], missing, 3
        )
        return [Comparison(self.name, self.field, levels, np.where(missing, np.nan, np.clip(1 - rel, 0, 1)))]
