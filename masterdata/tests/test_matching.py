"""Duplicate detection on the hard cases, with cleaned records built directly."""

import pytest

from masterdata.matching import Decision, find_pairs, score_pair, thresholds


def person(id, first, last, **values):
    return {"id": id, "first_name": first, "last_name": last, "country": "US", **values}


ROBERT = person(
    "r1",
    "Robert",
    "Smith",
    email="robert.smith@example.com",
    phone="+14158234567",
    street="12 Main Street",
    city="Springfield",
    postcode="62701",
    region="IL",
    date_of_birth="1980-05-17",
)


def linked_or_reviewed(pair):
    return pair.decision in (Decision.LINK, Decision.REVIEW)


def test_identical_records_link_with_a_score_of_almost_one():
    pair = score_pair("customer", ROBERT, {**ROBERT, "id": "r2"})
    assert pair.decision == Decision.LINK
    assert 0.99 < pair.score <= 1
    assert pair.fields["email"] == 1.0
    assert pair.fields["tax_id"] is None  # neither record has one


def test_duplicate_with_typos_nickname_and_other_formats_links():
    dup = person(
        "r2",
        "Bob",
        "Smiht",
        email="robert.smith@example.com",
        street="12 Main St.",
        city="Springfield",
        postcode="62701",
        date_of_birth="1980-05-17",
    )
    pair = score_pair("customer", ROBERT, dup)
    assert pair.decision == Decision.LINK
    assert pair.fields["first_name"] == 1.0  # nickname


def test_typo_duplicate_without_email_is_linked_or_reviewed():
    dup = person("r2", "Robrt", "Smith", street="12 Main St", postcode="62701", city="Springfeld")
    assert linked_or_reviewed(score_pair("customer", ROBERT, dup))


def test_household_members_are_not_linked_or_even_reviewed():
    wife = person(
        "m1",
        "Mary",
        "Smith",
        email="mary.smith@example.com",
        phone="+14158234567",  # the shared landline
        street="12 Main Street",
        city="Springfield",
        postcode="62701",
        date_of_birth="1982-01-02",
    )
    pair = score_pair("customer", ROBERT, wife)
    assert pair.decision is None
    assert any("household" in reason for reason in pair.reasons)


def test_household_with_similar_first_names_and_no_birth_dates_is_not_linked():
    john = person("j1", "John", "Miller", phone="+14158234599", street="3 Oak Ave", postcode="62701")
    joan = person("j2", "Joan", "Miller", phone="+14158234599", street="3 Oak Avenue", postcode="62701")
    assert score_pair("customer", john, joan).decision is None


def test_twins_with_one_birth_date_are_not_linked():
    a = person("t1", "Anna", "Weber", date_of_birth="2001-03-03", street="Hauptstraße 5", postcode="10115")
    b = person("t2", "Lena", "Weber", date_of_birth="2001-03-03", street="Hauptstr. 5", postcode="10115")
    assert score_pair("customer", a, b).decision != Decision.LINK


def test_namesakes_in_different_cities_are_not_linked():
    other = person(
        "r9",
        "Robert",
        "Smith",
        email="bsmith@other.org",
        phone="+16175550199",
        street="77 Beacon St",
        city="Boston",
        postcode="02108",
        date_of_birth="1975-03-03",
    )
    assert score_pair("customer", ROBERT, other).decision is None


def test_namesake_with_only_a_name_is_never_linked_automatically():
    sparse = person("r9", "Robert", "Smith", city="Springfield")
    assert score_pair("customer", ROBERT, sparse).decision != Decision.LINK


def test_father_and_son_with_one_name_and_address_are_not_linked():
    son = {**ROBERT, "id": "r3", "date_of_birth": "2008-09-01", "email": "rob.smith.jr@example.com"}
    pair = score_pair("customer", ROBERT, son)
    assert pair.decision != Decision.LINK


def test_swapped_first_and_last_names_are_caught():
    swapped = person("r2", "Smith", "Robert", phone="+14158234567", date_of_birth="1980-05-17")
    pair = score_pair("customer", ROBERT, swapped)
    assert pair.decision == Decision.LINK
    assert pair.fields["first_name"] == 1.0 and pair.fields["last_name"] == 1.0


def test_sparse_guest_checkout_with_the_same_email_is_linked_or_reviewed():
    guest = {"id": "g1", "first_name": "Rob", "last_name": "Smith", "email": "robert.smith@example.com"}
    assert linked_or_reviewed(score_pair("customer", ROBERT, guest))


def test_day_and_month_swapped_birth_date_still_matches():
    left = {**ROBERT, "date_of_birth": "1980-05-07"}
    right = {**ROBERT, "id": "r2", "date_of_birth": "1980-07-05", "email": None}
    pair = score_pair("customer", left, right)
    assert pair.decision == Decision.LINK
    assert pair.fields["date_of_birth"] == 0.8


def test_score_is_symmetric():
    dup = person("r2", "Bob", "Smith", email="robert.smith@example.com", city="Springfield")
    assert score_pair("customer", ROBERT, dup).score == pytest.approx(score_pair("customer", dup, ROBERT).score)


def test_find_pairs_returns_each_pair_once_above_the_review_threshold():
    records = [
        ROBERT,
        {**ROBERT, "id": "r2", "first_name": "Bob", "phone": None},
        person("m1", "Mary", "Smith", street="12 Main Street", postcode="62701", phone="+14158234567"),
        person("x1", "Alice", "Wong", email="alice@example.org", city="Portland"),
    ]
    pairs = find_pairs("customer", records)
    assert [(p.left_id, p.right_id) for p in pairs] == [("r1", "r2")]
    assert pairs[0].score >= thresholds("customer").review


def test_min_score_lowers_the_floor_and_marks_extra_pairs_for_review():
    records = [ROBERT, person("r9", "Robert", "Smith", city="Springfield")]
    assert all(p.decision == Decision.REVIEW for p in find_pairs("customer", records, min_score=0.01))
    assert find_pairs("customer", records, min_score=0.01)


def test_thresholds_are_ordered_for_every_entity():
    for entity in ("customer", "product", "supplier", "location"):
        limits = thresholds(entity)
        assert 0 < limits.review < limits.link <= 1


def test_unknown_entity_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown entity"):
        thresholds("spaceship")


def test_records_with_nothing_in_common_or_empty_records_do_not_match():
    assert find_pairs("customer", [{"id": "a"}, {"id": "b"}, person("c", "Ann", "Lee")]) == []
    assert score_pair("customer", {"id": "a"}, {"id": "b"}).decision is None
