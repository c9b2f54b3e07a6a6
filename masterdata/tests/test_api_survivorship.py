"""/api/v1/masterdata/survivorship-rules/ and /rule-applications/: the same checks and permissions
as the page (field-level errors, Viewers see nothing, only stewards and administrators change)."""

import pytest
from auditlog.models import LogEntry

from conftest import api_as
from integrations.tests.factories import SystemFactory
from masterdata.models import RuleApplication, SurvivorshipRule
from masterdata.services.rules import set_rule
from masterdata.tests.factories import golden_with_sources

pytestmark = pytest.mark.django_db

RULES = "/api/v1/masterdata/survivorship-rules/"
APPLICATIONS = "/api/v1/masterdata/rule-applications/"


def test_a_steward_creates_and_changes_a_rule_audited(personas):
    erp, shop = SystemFactory(name="ERP"), SystemFactory(name="Shop")
    client = api_as(personas["steward"])
    body = {"entity": "customer", "field": "email", "strategy": "most_trusted", "trusted_systems": [shop.pk, erp.pk]}
    created = client.post(RULES, body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["trusted_systems"] == [shop.pk, erp.pk]

    changed = client.patch(f"{RULES}{created.json()['id']}/", {"strategy": "most_complete"}, format="json")
    assert changed.status_code == 200 and changed.json()["trusted_systems"] == []
    rule = SurvivorshipRule.objects.get()
    entries = LogEntry.objects.get_for_object(rule)
    assert entries.count() == 2 and {e.actor for e in entries} == {personas["steward"]}


def test_field_level_errors(personas):
    client = api_as(personas["steward"])
    response = client.post(
        RULES, {"entity": "product", "field": "email", "strategy": "most_trusted", "trusted_systems": [999_999]}
    )
    assert response.status_code == 400
    assert response.json() == {
        "field": ["Product records have no field “email”."],
        "trusted_systems": ["No system has the id 999999."],
    }
    missing = client.post(RULES, {"entity": "customer", "field": "city", "strategy": "most_trusted"}, format="json")
    assert missing.json() == {"trusted_systems": ["Name at least one system, most trusted first."]}


def test_viewers_see_no_rules_and_readers_change_none(personas):
    rule = set_rule("customer", "email", "most_complete", [])
    assert api_as(personas["viewer"]).get(RULES).json()["count"] == 0
    assert api_as(personas["viewer"]).patch(f"{RULES}{rule.pk}/", {"strategy": "most_recent"}).status_code == 404
    for role in ("engineer", "auditor"):
        client = api_as(personas[role])
        assert client.get(RULES).json()["count"] == 1, role
        assert client.patch(f"{RULES}{rule.pk}/", {"strategy": "most_recent"}).status_code == 404, role
        assert client.post(RULES, {"entity": "customer", "strategy": "most_recent"}).status_code == 403, role
        assert client.post(APPLICATIONS, {"entity": "customer"}).status_code == 403, role
    assert api_as(personas["viewer"]).post(APPLICATIONS, {"entity": "customer"}).status_code == 403
    assert SurvivorshipRule.objects.get().strategy == "most_complete" and not RuleApplication.objects.exists()


def test_applying_through_the_api_one_at_a_time(personas, django_capture_on_commit_callbacks):
    golden_with_sources((SystemFactory(), "C-1", {"first_name": "Ada"}))
    client = api_as(personas["steward"])
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(APPLICATIONS, {"entity": "customer"}, format="json")
    assert response.status_code == 201
    assert {k: response.json()[k] for k in ("entity", "status", "total", "requested_by")} == {
        "entity": "customer",
        "status": "pending",
        "total": 1,
        "requested_by": "steward",
    }
    assert len(queued) == 1

    busy = client.post(APPLICATIONS, {"entity": "customer"}, format="json")
    assert busy.status_code == 409 and "already being applied" in busy.json()["detail"]
    unknown = client.post(APPLICATIONS, {"entity": "invoice"}, format="json")
    assert unknown.status_code == 400 and "entity" in unknown.json()
    assert api_as(personas["auditor"]).get(APPLICATIONS).json()["count"] == 1
    assert api_as(personas["viewer"]).get(APPLICATIONS).json()["count"] == 0
