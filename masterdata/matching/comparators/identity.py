"""Comparators for identifiers and contact points: codes, GTINs, emails, phones, dates."""

import numpy as np
from rapidfuzz.distance import OSA, Hamming, Levenshtein

from masterdata.matching.comparators.base import Comparator, Comparison, cpdist, cpdist_where, levels_from
from masterdata.matching.frame import Frame


class ExactComparator(Comparator):
    """Equal after folding (region, country, unit, currency, location type)."""

    transform = "fold"


class CodeComparator(Comparator):
    """Identifiers (tax ids, SKUs, location codes): equal, one slip apart (a wrong, missing, extra or two
    swapped characters), two slips apart, or different. Slips count only on codes of five characters or more."""

    LEVELS = ("missing", "exact", "typo", "typo2", "different")
    transform = "code"

    def compare(self, frame, left, right):
        codes = frame.codes(self.field, self.transform)
        missing = (codes[left] < 0) | (codes[right] < 0)
        a, b = self.strings(frame, left, right)
        dist = cpdist(OSA.distance, a, b)
        lengths = frame.derived(self.field + ":len", lambda f: _lengths(f, self.field, self.transform))
        long_enough = np.minimum(lengths[left], lengths[right]) >= 5
        levels = levels_from(
            [(codes[left] == codes[right], 1), ((dist <= 1) & long_enough, 2), ((dist <= 2) & long_enough, 3)],
            missing,
            4,
        )
        return [Comparison(self.name, self.field, levels, self._similarity(levels, {1: 1.0, 2: 0.8, 3: 0.6}))]


def _lengths(frame: Frame, field: str, transform: str) -> np.ndarray:
    return np.array([len(v) if v else 0 for v in frame.column(field, transform)])


class GtinComparator(Comparator):
    """Barcodes: the same GTIN (zero-padded to 14 digits) or not; no typos, check digits guard them."""

    transform = "gtin"


class EmailComparator(Comparator):
    """Emails: exact, a one-character typo, the same mailbox name, or different.

    Mailbox names are mostly made of the person's name ("robert.smith"), so the
    same letters in another mailbox ("robert_smith", "robert.smith72", another
    provider) say little more than the name does: level ``local``. A typo is
    one slip that is not just punctuation or a number ("robert.smith@gmial.com").
    """

    LEVELS = ("missing", "exact", "typo", "local", "different")

    def compare(self, frame, left, right):
        codes = frame.codes(self.field, "raw")
        local = frame.codes(self.field, "email_local")
        alnum = frame.codes(self.field, "email_alnum")
        numbers = frame.codes(self.field, "email_digits")
        missing = (codes[left] < 0) | (codes[right] < 0)
        exact = codes[left] == codes[right]
        need = ~missing & ~exact
        dist = cpdist_where(OSA.distance, frame.strings(self.field), left, right, need, 9.0)
        long_local = frame.derived("email_local_len", _local_length)[left] >= 5
        typo = (dist <= 1) & long_local & (numbers[left] == numbers[right]) & (alnum[left] != alnum[right])
        same_local = (local[left] == local[right]) & (local[left] >= 0) & long_local
        levels = levels_from([(exact, 1), (typo, 2), (same_local, 3)], missing, 4)
        return [Comparison(self.name, self.field, levels, self._similarity(levels, {1: 1.0, 2: 0.9, 3: 0.5}))]


def _local_length(frame: Frame) -> np.ndarray:
    return np.array([len(v) if v else 0 for v in frame.column("email", "email_local")])


class PhoneComparator(Comparator):
    """Phones (E.164): exact, the same subscriber number, a one-digit typo, or different."""

    LEVELS = ("missing", "exact", "subscriber", "typo", "different")
    transform = "digits"

    def compare(self, frame, left, right):
        codes = frame.codes(self.field, "digits")
        last = frame.codes(self.field, "last7")
        missing = (codes[left] < 0) | (codes[right] < 0)
        a, b = self.strings(frame, left, right, "digits")
        dist = cpdist(Levenshtein.distance, [s[-9:] for s in a], [s[-9:] for s in b])
        same_last = (last[left] == last[right]) & (last[left] >= 0)
        levels = levels_from([(codes[left] == codes[right], 1), (same_last, 2), (dist <= 1, 3)], missing, 4)
        return [Comparison(self.name, self.field, levels, self._similarity(levels, {1: 1.0, 2: 0.9, 3: 0.7}))]


class DateComparator(Comparator):
    """ISO dates: exact, day and month swapped, one digit off (a typo), two digits off (``close``), or
    different (a parent and child, say)."""

    LEVELS = ("missing", "exact", "swapped", "typo", "close", "different")

    def compare(self, frame, left, right):
        codes = frame.codes(self.field, "digits")
        missing = (codes[left] < 0) | (codes[right] < 0)
        exact = codes[left] == codes[right]
        digits = frame.strings(self.field, "digits")
        slips = cpdist_where(Hamming.distance, digits, left, right, ~missing & ~exact, 0.0)
        parts = frame.derived(self.field + ":ymd", lambda f: _ymd(f, self.field))
        pl, pr = parts[left], parts[right]
        swapped = (pl[:, 0] == pr[:, 0]) & (pl[:, 1] == pr[:, 2]) & (pl[:, 2] == pr[:, 1])
        levels = levels_from([(exact, 1), (swapped, 2), (slips <= 1, 3), (slips <= 2, 4)], missing, 5)
        return [Comparison(self.name, self.field, levels, self._similarity(levels, {1: 1.0, 2: 0.8, 3: 0.8, 4: 0.5}))]


def _ymd(frame: Frame, field: str) -> np.ndarray:
    def split(value):
        digits = value or ""
        if len(digits) != 8:
            return (-1, -2, -3)
        return (int(digits[:4]), int(digits[4:6]), int(digits[6:]))

    return np.array([split(v) for v in frame.column(field, "digits")], dtype=np.int64).reshape(-1, 3)
