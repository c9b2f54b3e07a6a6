"""The menu shows each person what they may use, including single-object grants."""

from html.parser import HTMLParser

import pytest
from django.urls import get_resolver, reverse
from guardian.shortcuts import assign_perm

from config.navigation import menu_for, menu_labels
from integrations.tests.factories import SystemFactory

pytestmark = pytest.mark.django_db


def labels(user):
    """Every label shown, each section followed by its children."""
    return menu_labels(user)


INTEGRATIONS_ALL = ["Integrations", "Systems", "Connectors", "Flows", "Runs", "Dead-letter queue", "Reconciliations"]


def test_menu_per_role(personas):
    assert labels(personas["admin"]) == [
        "Dashboard",
        "Alerts",
        *INTEGRATIONS_ALL,
        "Master data",
        "Review queue",
        "Audit trail",
        "API",
        "Admin",
    ]
    assert labels(personas["auditor"]) == [
        "Dashboard",
        "Alerts",
        *INTEGRATIONS_ALL,
        "Master data",
        "Review queue",
        "Audit trail",
        "API",
    ]
    # Engineers hold "add" on connectors and flows: the entries lead them to create their first.
    assert labels(personas["engineer"]) == [
        "Dashboard",
        "Alerts",
        *INTEGRATIONS_ALL,
        "Master data",
        "Review queue",
        "API",
    ]
    assert labels(personas["steward"]) == ["Dashboard", "Integrations", "Systems", "Master data", "Review queue", "API"]
    assert labels(personas["viewer"]) == [
        "Dashboard",
        "Alerts",
        "Integrations",
        "Systems",
        "Connectors",
        "Flows",
        "Runs",
        "Reconciliations",
        "Master data",
        "API",
    ]  # no record outcomes for viewers, so no dead-letter queue
    assert labels(personas["nobody"]) == ["Dashboard", "API"]


def test_sections_hold_their_children_and_mark_the_current_page(personas):
    menu = menu_for(personas["admin"], "integrations:flow_detail")
    section = next(item for item in menu if item["label"] == "Integrations")
    assert section["url"] is None and section["active"]
    assert [c["label"] for c in section["children"] if c["active"]] == ["Flows"]
    assert not next(item for item in menu if item["label"] == "Dashboard")["active"]
    assert section["children"][0]["url"] == "/integrations/systems/"


class CurrentEntries(HTMLParser):
    """The labels of the main menu's links that a rendered page marks ``aria-current="page"``
    (the label is the link's first text: a badge's count follows it)."""

    def __init__(self, html: str):
        super().__init__()
        self.labels, self._in_current, self._menu_depth = [], False, 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "ul" and (self._menu_depth or ("data-testid", "main-nav") in attrs):
            self._menu_depth += 1
        if tag == "a":
            self._in_current = bool(self._menu_depth) and ("aria-current", "page") in attrs

    def handle_endtag(self, tag):
        if tag == "ul" and self._menu_depth:
            self._menu_depth -= 1

    def handle_data(self, data):
        if self._in_current and data.strip():
            self.labels.append(data.strip())
            self._in_current = False


def view_names(namespace: str) -> list[str]:
    resolver = get_resolver().namespace_dict[namespace][1]
    return sorted(f"{namespace}:{name}" for name in resolver.reverse_dict if isinstance(name, str))


def current_labels(user, view_name: str) -> list[str]:
    return [item["label"] for item in menu_for(user, view_name) if item["active"]]


def test_every_master_data_page_marks_its_entry_and_review_pages_the_queue(personas):
    names = view_names("masterdata")
    assert "masterdata:survivorship_rules" in names and "masterdata:candidate_detail" in names
    for name in names:
        expected = "Review queue" if name.startswith("masterdata:candidate_") else "Master data"
        assert current_labels(personas["admin"], name) == [expected], name
    for name in view_names("audit"):
        assert current_labels(personas["admin"], name) == ["Audit trail"], name


def test_the_rendered_menu_marks_master_data_on_the_survivorship_pages(client_for, personas):
    from masterdata.tests.factories import GoldenRecordFactory, candidate_for

    client = client_for(personas["admin"])
    pages = {
        reverse("masterdata:survivorship_rules", args=["customer"]): "Master data",
        reverse("masterdata:survivorship_rule", args=["customer", "email"]): "Master data",
        reverse("masterdata:goldenrecord_detail", args=[GoldenRecordFactory().pk]): "Master data",
        reverse("masterdata:quarantine"): "Master data",
        reverse("masterdata:goldenrecord_list"): "Master data",
        reverse(
            "masterdata:candidate_detail", args=[candidate_for(GoldenRecordFactory(), GoldenRecordFactory()).pk]
        ): "Review queue",
    }
    for url, label in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert CurrentEntries(response.content.decode()).labels == [label], url


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
    assert labels(personas["nobody"]) == ["Dashboard", "Integrations", "Systems", "API"]


def test_a_single_flow_grant_brings_the_flows_entry(personas):
    from integrations.tests.pages import make_flow

    assign_perm("view_flow", personas["nobody"], make_flow())
    assert labels(personas["nobody"]) == ["Dashboard", "Integrations", "Flows", "API"]


def test_anonymous_has_no_menu():
    from django.contrib.auth.models import AnonymousUser

    assert menu_for(AnonymousUser()) == []


def test_a_grant_to_a_group_counts_and_all_object_checks_take_one_query(personas, django_assert_num_queries):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from integrations.tests.pages import rest_connector

    team = Group.objects.create(name="Shop team")
    personas["nobody"].groups.add(team)
    assign_perm("view_connector", team, rest_connector())
    nobody = get_user_model().objects.get(pk=personas["nobody"].pk)  # no permission caches yet
    nobody.get_all_permissions()  # the role's permissions: two queries of Django's own
    with django_assert_num_queries(1):  # systems, connectors and flows: one query for all grants
        assert menu_labels(nobody) == ["Dashboard", "Integrations", "Connectors", "API"]
