"""The menu shows each person what they may use, including single-object grants."""

import pytest
from guardian.shortcuts import assign_perm

from config.navigation import menu_for
from integrations.tests.factories import SystemFactory

pytestmark = pytest.mark.django_db


def labels(user):
    return [item["label"] for item in menu_for(user)]


def test_menu_per_role(personas):
    assert labels(personas["admin"]) == [
        "Dashboard",
        "Systems",
        "Master data",
        "Review queue",
        "Audit trail",
        "API",
        "Admin",
    ]
    assert labels(personas["auditor"]) == ["Dashboard", "Systems", "Master data", "Review queue", "Audit trail", "API"]
    assert labels(personas["engineer"]) == ["Dashboard", "Systems", "Master data", "Review queue", "API"]
    assert labels(personas["steward"]) == ["Dashboard", "Systems", "Master data", "Review queue", "API"]
    assert labels(personas["viewer"]) == ["Dashboard", "Systems", "Master data", "API"]
    assert labels(personas["nobody"]) == ["Dashboard", "API"]


def test_review_queue_badge_counts_open_pairs(personas):
    from masterdata.choices import CandidateStatus
    from masterdata.tests.factories import GoldenRecordFactory, candidate_for

    def badge(user):
        return next(item["badge"] for item in menu_for(user) if item["label"] == "Review queue")

    assert badge(personas["steward"]) is None  # nothing waits: no badge
    candidate_for(GoldenRecordFactory(), GoldenRecordFactory())
    candidate_for(GoldenRecordFactory(), GoldenRecordFactory())
    candidate_for(GoldenRecordFactory(), GoldenRecordFactory(), status=CandidateStatus.NOT_DUPLICATE)
    assert badge(personas["steward"]) == 2
    assert all(item["badge"] is None for item in menu_for(personas["steward"]) if item["label"] != "Review queue")


def test_a_single_object_grant_brings_the_menu_entry(personas):
    assign_perm("view_system", personas["nobody"], SystemFactory())
    assert "Systems" in labels(personas["nobody"])


def test_anonymous_has_no_menu():
    from django.contrib.auth.models import AnonymousUser

    assert menu_for(AnonymousUser()) == []
