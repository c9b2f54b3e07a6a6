"""A big block: a new record meets the golden records nearest it there, not the whole block.

Twenty-five Smiths whose first names are J and vowels share both name keys
("Smith, J." and, mirrored, "J000, S.") and nothing else, so every one of them
is in both blocks and in name order.
"""

import itertools

import pytest
from django.db import transaction

from integrations.tests.factories import SystemFactory
from masterdata import cleansing, matching
from masterdata.models import BlockingKey, GoldenRecord, SourceRecord
from masterdata.services.ingest import candidates_for, index_golden, ingest, window
from masterdata.services.ingest_batch import Decider, ingest_many
from masterdata.services.ingest_page import MARGIN, Page
from masterdata.tests.test_ingest_batch import forget_master_data, one_by_one, snapshot

pytestmark = pytest.mark.django_db

NAMES = ["J" + a + b for a, b in itertools.product("aeiou", repeat=2)]  # "Jaa" ... "Juu", in name order


def smith(first: str, **more) -> dict:
    return {"first_name": first, "last_name": "Smith", "email": f"{first.lower()}.smith@example.org", **more}


def stored_smiths(system, names=NAMES) -> dict[str, int]:
    """The Smiths stored one by one: first name -> golden record id."""
    return {first: ingest(system, "customer", f"S-{first}", smith(first)).golden.pk for first in names}


def test_every_smith_holds_both_name_keys_at_his_place_in_name_order():
    goldens = stored_smiths(SystemFactory(name="CRM"))

    for key in ("n:S530|j", "n:J000|s"):
        block = BlockingKey.objects.filter(key=key).order_by("rank", "golden_id")
        assert [row.golden_id for row in block] == [goldens[first] for first in NAMES]
        assert bytes(block.first().rank) == b"smith jaa "  # last name, first name, birth date: folded


def test_a_new_record_meets_only_the_neighbours_of_its_place_in_a_big_block():
    goldens = stored_smiths(SystemFactory(name="CRM"), [n for n in NAMES if n != "Jii"])
    values = cleansing.cleanse("customer", smith("Jii", email="")).values
    width = matching.key_window("customer", "n:S530|j")
    assert width == 8 and len(goldens) > 2 * width + 2  # the block is bigger than a window

    found = {golden.pk for golden, _ in candidates_for("customer", values)}

    place = NAMES.index("Jii")
    near = NAMES[place - width : place] + NAMES[place + 1 : place + 1 + width]
    assert found == {goldens[first] for first in near}
    assert goldens["Jaa"] not in found and goldens["Juu"] not in found  # same keys, too far away


def test_a_window_reads_outwards_from_the_place_and_skips_merged_away_records():
    goldens = stored_smiths(SystemFactory(name="CRM"))
    (rank,) = matching.sort_positions("customer", [cleansing.cleanse("customer", smith("Jii")).values])
    GoldenRecord.objects.filter(pk=goldens["Jie"]).update(merged_into=goldens["Jaa"])
    index_golden(GoldenRecord.objects.get(pk=goldens["Jie"]))  # as ``merge`` does: no keys for it

    before, after = window("customer", "n:S530|j", rank, limit=3)

    # At or before the place, nearest first: "Jii" itself, then "Jie" is merged away.
    assert [g for _, g in before] == [goldens["Jii"], goldens["Jia"], goldens["Jeu"]]
    assert [g for _, g in after] == [goldens["Jio"], goldens["Jiu"], goldens["Joa"]]
    assert window("supplier", "n:S530|j", rank) == ([], [])  # another entity's block


@pytest.mark.parametrize("page_size", [1, 7, 40])
def test_a_page_meets_the_same_neighbours_as_one_by_one_while_it_changes_the_block(page_size):
    """The page changes stored Smiths next to where its new records go (new emails: their stored
    keys no longer count; a new first name: a new place), more than the margin read past a window,
    and adds Smiths of its own: the decisions are those of ingest one record after another."""
    crm = SystemFactory(name="CRM")
    near = NAMES[5:12]  # "Jea" ... "Jia", just before "Jie"
    assert len(near) > MARGIN
    page = [(f"S-{first}", smith(first, email=f"{first.lower()}@new.example.org")) for first in near]
    page += [("S-Jou", smith("Jaa"))]  # a stored Smith renamed: he moves to the top of the block
    page += [(f"N-{first}", smith(first, email="")) for first in ("Jie", "Jeb", "Juv", "Jia", "Jab")]
    page += [("N-Jea", smith("Jea", email="jea@new.example.org"))]  # the new version of "Jea" again: a link
    stored_smiths(crm)
    expected = snapshot(one_by_one(crm, page))
    forget_master_data()
    stored_smiths(crm)
    results = []
    for start in range(0, len(page), page_size):
        results += ingest_many(crm, "customer", page[start : start + page_size], locale="de-DE")

    assert snapshot(results) == expected
    assert (
        SourceRecord.objects.get(external_id="N-Jea").golden_id
        == SourceRecord.objects.get(external_id="S-Jea").golden_id
    )


def test_a_page_reads_further_into_a_block_when_it_moved_the_neighbours_away():
    """Seven Smiths right before the new record become Browns earlier in the page: more than the
    margin read past the window, so the page reads further down the block, as one by one would."""
    crm = SystemFactory(name="CRM")
    goldens = stored_smiths(crm)
    moved = NAMES[15:22]  # "Joa" ... "Jue"
    assert len(moved) > MARGIN
    renamed = [(f"S-{first}", smith(first, last_name="Brown")) for first in moved]
    newcomer = smith("Jue", email="")
    with transaction.atomic():
        page = Page.load(crm, "customer", [*renamed, ("N-1", newcomer)], "")
        decider = Decider(page)
        for i in range(len(renamed)):
            decider.decide(i)
        in_page = set(page.pool(len(renamed)))
        transaction.set_rollback(True)

    one_by_one(crm, renamed)
    by_one = {golden.pk for golden, _ in candidates_for("customer", cleansing.cleanse("customer", newcomer).values)}

    assert in_page == by_one == {goldens[first] for first in NAMES[7:15] + NAMES[22:]}


def test_the_migration_gives_keys_stored_before_ranks_their_place():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("masterdata.migrations.0005_blocking_key_rank")
    goldens = stored_smiths(SystemFactory(name="CRM"), NAMES[:3])
    BlockingKey.objects.update(rank=b"")  # as the keys were before

    migration.rank_existing_keys(apps, None)

    held = {(g, bytes(rank)) for g, rank in BlockingKey.objects.values_list("golden_id", "rank")}
    assert held == {(goldens[first], f"smith {first.lower()} ".encode()) for first in NAMES[:3]}


def test_another_entitys_record_holding_the_same_key_is_never_a_candidate():
    """Entities share key texts (an email, a tax id): a supplier with a customer's email and name
    is in another block, one by one and in pages."""
    crm, shop = SystemFactory(name="CRM"), SystemFactory(name="Shop")
    anna = {"first_name": "Anna", "last_name": "Smith", "email": "anna@example.org", "tax_id": "DE123456789"}
    supplier = ingest(crm, "supplier", "V-1", {"name": "Anna Smith", **anna}).golden
    values = cleansing.cleanse("customer", anna).values
    shared = matching.blocking_keys("customer", values) & set(supplier.blocking_keys.values_list("key", flat=True))
    assert shared  # the same key texts are stored, under the supplier

    assert candidates_for("customer", values) == []
    (outcome,) = ingest_many(shop, "customer", [("C-1", anna)])
    assert outcome.golden.entity == "customer" and outcome.golden.pk != supplier.pk and not outcome.candidates
    assert set(BlockingKey.objects.filter(golden=outcome.golden).values_list("entity", flat=True)) == {"customer"}
