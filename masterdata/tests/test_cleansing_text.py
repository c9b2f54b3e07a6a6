"""Text basics: coercion, control characters, NFC, whitespace, length caps, fold."""

from datetime import date
from decimal import Decimal

import pytest

from masterdata.cleansing import fold
from masterdata.cleansing.base import CleanseResult
from masterdata.cleansing.locales import NO_LOCALE
from masterdata.cleansing.pipeline import cleanse_field
from masterdata.cleansing.text import DEFAULT_LIMIT, TEXT_LIMIT
from masterdata.entities import Field, Kind


def run(kind, value, name="field"):
    result = CleanseResult(values={})
    return cleanse_field(Field(name, kind), value, NO_LOCALE, {}, result), result


def test_numbers_are_coerced_to_plain_text_without_a_change():
    value, result = run(Kind.TEXT, 12)
    assert value == "12"
    assert result.changes == []


def test_whole_float_loses_its_point_zero_and_the_change_is_recorded():
    value, result = run(Kind.TEXT, 4006381333931.0)
    assert value == "4006381333931"
    assert [c.rule for c in result.changes] == ["text.coerce"]


def test_decimal_and_date_values_become_text():
    assert run(Kind.TEXT, Decimal("12.50"))[0] == "12.50"
    assert run(Kind.TEXT, date(1985, 3, 4))[0] == "1985-03-04"


def test_lists_dicts_booleans_and_nan_are_errors_not_exceptions():
    for junk in ([1, 2], {"a": 1}, True, float("nan"), object()):
        value, result = run(Kind.TEXT, junk)
        assert value is None
        assert "expected" in result.errors["field"]


def test_control_characters_and_bidi_overrides_are_removed():
    value, result = run(Kind.TEXT, "Ann\x00a\u202e\x07 Lee\u200b")
    assert value == "Anna Lee"
    assert "text.control_chars" in [c.rule for c in result.changes]


# Zero-width space, word joiner, BOM, bidirectional embeddings, overrides and isolates.
@pytest.mark.parametrize("invisible", "\u200b\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
def test_each_invisible_character_is_removed_from_otherwise_plain_text(invisible):
    value, result = run(Kind.TEXT, f"Ann{invisible}Lee")
    assert value == "AnnLee"
    assert [c.rule for c in result.changes] == ["text.control_chars"]


def test_tabs_and_newlines_become_single_spaces():
    assert run(Kind.TEXT, "  red\t\tsofa\r\n large \u00a0 ")[0] == "red sofa large"


def test_zero_width_joiner_in_emoji_is_kept():
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert run(Kind.TEXT, f"Team {family}")[0] == f"Team {family}"


def test_lone_surrogates_are_removed_so_the_value_encodes_as_utf8():
    value, _ = run(Kind.TEXT, "Bad\udcff Bytes")
    assert value == "Bad Bytes"
    value.encode("utf-8")


def test_decomposed_accents_are_composed_nfc():
    value, result = run(Kind.TEXT, "Jose\u0301")
    assert value == "Jos\u00e9"
    assert "text.nfc" in [c.rule for c in result.changes]


def test_blank_value_becomes_none_with_a_change_and_empty_string_is_just_missing():
    value, result = run(Kind.TEXT, "   ")
    assert value is None
    assert result.changes[0].after is None
    assert run(Kind.TEXT, "") == (None, CleanseResult(values={}))


def test_long_free_text_is_truncated_with_a_warning():
    value, result = run(Kind.TEXT, "x" * 10_000)
    assert len(value) == TEXT_LIMIT
    assert "cut to 5000" in result.warnings["field"]
    assert result.errors == {}


def test_long_name_is_an_error_and_keeps_only_the_capped_prefix():
    value, result = run(Kind.PERSON_NAME, "a" * 10_000)
    assert len(value) == DEFAULT_LIMIT
    assert result.errors["field"] == "is 10000 characters long; at most 255 are allowed"
    assert result.changes[-1].rule == "text.max_length"


def test_choice_is_stored_as_a_slug():
    assert run(Kind.CHOICE, " Distribution  Center ")[0] == "distribution_center"


def test_fold_folds_accents_case_punctuation_and_whitespace():
    assert fold("  Zoë  O'Brien-Müller ") == "zoe o brien muller"


def test_fold_transliterates_other_scripts_and_drops_emoji():
    assert fold("Иван") == "ivan"
    assert fold("Anna 😀") == "anna"


def test_fold_of_none_and_numbers():
    assert fold(None) == ""
    assert fold(12) == "12"
