"""A file's own weights, learned without labels (``masterdata.matching.estimate``), and the rules capping them."""

import random

import numpy as np

from masterdata.matching import Decision, find_pairs, score_pair, score_pairs
from masterdata.matching.blocking import candidate_pairs
from masterdata.matching.config import CUSTOMER
from masterdata.matching.engine import _order
from masterdata.matching.estimate import MIN_RECORDS, learn
from masterdata.matching.frame import Frame
from masterdata.matching.scoring import build_comparators

FIRST = ["Anna", "Ben", "Carla", "David", "Eva", "Felix", "Greta", "Hugo", "Ida", "Jonas", "Klara", "Lukas"] * 3
LAST = [f"{a}{b}" for a in ("Berg", "Wald", "Stein", "Feld", "Brunn", "Hof") for b in ("mann", "er", "inger", "hold")]


def people(count: int, seed: int = 3) -> list[dict]:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    out = []
    for i in range(count):
        out.append(
            {
                "id": f"p{i}",
                "first_name": rng.choice(FIRST[:12]),
                "last_name": rng.choice(LAST),
                "date_of_birth": f"{rng.randint(1940, 2000)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                "tax_id": str(rng.randint(10**8, 10**9 - 1)),
                "street": f"{rng.randint(1, 200)} {rng.choice(LAST)}weg",
                "postcode": f"{rng.randint(10000, 99999)}",
                "city": rng.choice(["Berlin", "Hamburg", "Bremen", "Kiel", "Essen"]),
            }
        )
    return out


def retyped_duplicates(records: list[dict], seed: int = 4) -> tuple[list[dict], list[tuple[str, str]]]:
    """A duplicate of every other record, from a source that often replaces whole fields (as FEBRL's does)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    dups, truth = [], []
    for record in records[::2]:
        dup = {**record, "id": record["id"] + "d"}
        if rng.random() < 0.4:
            dup["first_name"] = rng.choice([n for n in FIRST[:12] if n != record["first_name"]])
        if rng.random() < 0.4:
            dup["date_of_birth"] = f"{rng.randint(1940, 2000)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
        if rng.random() < 0.5:
            dup["tax_id"] = str(rng.randint(10**8, 10**9 - 1))
        dups.append(dup)
        truth.append((record["id"], dup["id"]))
    return dups, truth


def test_small_files_keep_the_configured_weights():
    records = people(MIN_RECORDS - 1)
    frame = Frame(records)
    pairs = candidate_pairs(frame, CUSTOMER.keys, _order(CUSTOMER, frame), CUSTOMER.window)
    assert learn(CUSTOMER, build_comparators(CUSTOMER), frame, pairs) is None


def test_a_file_that_often_replaces_first_names_learns_a_milder_penalty_for_them():
    base = people(1600)
    dups, _ = retyped_duplicates(base)
    frame = Frame(base + dups)
    pairs = candidate_pairs(frame, CUSTOMER.keys, _order(CUSTOMER, frame), CUSTOMER.window)
    model = learn(CUSTOMER, build_comparators(CUSTOMER), frame, pairs)
    different = model.weights["first_name"][build_comparators(CUSTOMER)[0].level("different")]
    assert different > CUSTOMER.weights["first_name"]["different"] + 2
    # A shared tax id is near proof here (random 9-digit ids): weighed by how rarely strangers share one.
    assert np.isfinite(model.prior) and model.prior < -8


def test_learned_weights_find_more_of_the_files_duplicates_without_false_pairs():
    base = people(1600)
    dups, truth = retyped_duplicates(base)
    found = {(p.left_id, p.right_id) for p in find_pairs("customer", base + dups)}
    found |= {(b, a) for a, b in found}
    fixed = score_pairs("customer", [base[i * 2] for i in range(len(dups))], dups)
    fixed_found = sum(p.decision is not None for p in fixed)
    learned_found = sum(pair in found for pair in truth)
    assert learned_found > fixed_found
    truth_both_ways = set(truth) | {(b, a) for a, b in truth}
    assert found <= truth_both_ways  # no pair of two different people


def test_households_in_a_large_file_are_still_not_linked():
    base = people(1600)
    dups, _ = retyped_duplicates(base)
    home = {"last_name": "Zimmermann", "street": "3 Lindenweg", "postcode": "10115", "city": "Berlin"}
    husband = {"id": "h1", "first_name": "Peter", "date_of_birth": "1970-01-02", "phone": "+4930123456", **home}
    wife = {"id": "h2", "first_name": "Maria", "date_of_birth": "1972-05-06", "phone": "+4930123456", **home}
    pairs = find_pairs("customer", base + dups + [husband, wife])
    assert not [p for p in pairs if {p.left_id, p.right_id} == {"h1", "h2"}]


def test_housemates_with_other_names_sharing_a_phone_and_address_are_not_candidates():
    home = {"street": "3 Oak Ave", "postcode": "62701", "city": "Springfield", "phone": "+14158234599"}
    a = {"id": "a", "first_name": "John", "last_name": "Miller", "country": "US", **home}
    b = {"id": "b", "first_name": "Sarah", "last_name": "Olsen", "country": "US", **home}
    pair = score_pair("customer", a, b)
    assert pair.decision is None
    assert any("sharing an address" in reason for reason in pair.reasons)


def test_twins_go_to_review_at_most():
    twin = {"last_name": "Weber", "date_of_birth": "2001-03-03", "street": "Hauptstr. 5", "postcode": "10115"}
    anna, lena = {"id": "t1", "first_name": "Anna", **twin}, {"id": "t2", "first_name": "Lena", **twin}
    pair = score_pair("customer", anna, lena)
    assert pair.decision != Decision.LINK
    assert any("twins" in reason for reason in pair.reasons)
