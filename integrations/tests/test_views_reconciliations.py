"""Reconciliation pages: who sees which (the connectors they may view, with the role's permission),
the list's filters, pages and empty state, one reconciliation's counts, missing records and polling,
the connector page's "Reconciliation" card with "Reconcile now" (queued row, audit event, refusals), and
"Accept these deletions" (the listed deliveries forgotten, audited, refused with the reason)."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from guardian.shortcuts import assign_perm

from integrations.choices import ReconciliationStatus
from integrations.models import Delivery, Reconciliation
from integrations.tests.pages import make_flow, rest_connector
from integrations.tests.reconciliation_world import deliver, gone, sql_target, stored

pytestmark = pytest.mark.django_db

LIST = reverse("integrations:reconciliation_list")
DONE, RUNNING, QUEUED, FAILED = (
    ReconciliationStatus.DONE,
    ReconciliationStatus.RUNNING,
    ReconciliationStatus.QUEUED,
    ReconciliationStatus.FAILED,
)


def accept_url(reconciliation):
    return reverse("integrations:reconciliation_accept", args=[reconciliation.pk])


def reconcile_url(connector):
    return reverse("integrations:connector_reconcile", args=[connector.pk])


def progress_url(reconciliation):
    return reverse("integrations:reconciliation_progress", args=[reconciliation.pk])


def shown(client, **params) -> list[Reconciliation]:
    response = client.get(LIST, params)
    assert response.status_code == 200
    return list(response.context["table"].data)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def two_targets(tmp_path, personas):
    """Connector A granted to the engineer (as its creator), B not; one done reconciliation of each."""
    a = sql_target(tmp_path, "Warehouse DB", owner=personas["engineer"])
    b = sql_target(tmp_path, "Payroll DB")
    return {"a": a, "b": b, "ra": stored(a, **gone("C-2"), delivered=2, present=1), "rb": stored(b, delivered=2)}


# --- Who sees what --------------------------------------------------------------------------


def test_engineer_sees_the_reconciliations_of_granted_connectors_only(client_for, personas, two_targets):
    client = client_for(personas["engineer"])
    assert shown(client) == [two_targets["ra"]]
    assert client.get(two_targets["ra"].get_absolute_url()).status_code == 200
    assert client.get(two_targets["rb"].get_absolute_url()).status_code == 404
    assert client.get(progress_url(two_targets["rb"])).status_code == 404
    html = client.get(LIST).content.decode()
    assert "Warehouse DB" in html and "Payroll DB" not in html  # neither in the rows nor in the target filter


def test_viewers_and_auditors_see_all_and_the_steward_none(client_for, personas, two_targets):
    both = {two_targets["ra"], two_targets["rb"]}
    assert set(shown(client_for(personas["viewer"]))) == both
    assert set(shown(client_for(personas["auditor"]))) == both
    for name in ("steward", "nobody"):
        client = client_for(personas[name])
        assert client.get(LIST).status_code == 403, name
        assert client.get(two_targets["ra"].get_absolute_url()).status_code == 404, name


def test_a_connector_grant_alone_shows_nothing_without_the_role_permission(client_for, personas, two_targets):
    assign_perm("view_connector", personas["nobody"], two_targets["a"])
    client = client_for(personas["nobody"])
    assert client.get(two_targets["a"].get_absolute_url()).status_code == 200
    assert client.get(two_targets["ra"].get_absolute_url()).status_code == 404
    assert 'data-testid="reconciliation-card"' not in client.get(two_targets["a"].get_absolute_url()).content.decode()


# --- The list -------------------------------------------------------------------------------


def test_filters_by_target_entity_and_status_and_pages(client_for, personas, settings, tmp_path, two_targets):
    settings.PAGINATE_BY = 2
    a, b = two_targets["a"], two_targets["b"]
    orders = stored(a, entity="sales_order", status=FAILED, error="no table")
    running = stored(b, status=RUNNING)
    client = client_for(personas["auditor"])
    assert shown(client, target=b.pk) == [running, two_targets["rb"]]
    assert shown(client, entity="sales_order") == [orders]
    assert shown(client, status="running") == [running]
    assert shown(client, status="done", target=a.pk) == [two_targets["ra"]]
    page_two = client.get(LIST, {"page": 2}).context["table"]
    assert page_two.page.number == 2 and list(page_two.page.object_list.data) == [two_targets["rb"], two_targets["ra"]]


def test_rows_say_who_started_it_and_what_was_found(client_for, personas, two_targets):
    stored(two_targets["a"], status=QUEUED, requested_by=personas["engineer"])
    html = client_for(personas["engineer"]).get(LIST).content.decode()
    assert "schedule" in html and ">engineer<" in html
    assert "1 gone" in html and 'data-status="queued"' in html and 'data-status="done"' in html


def test_list_queries_are_bounded(client_for, personas, two_targets, django_assert_max_num_queries):
    for _ in range(20):
        stored(two_targets["a"], requested_by=personas["engineer"], **gone("C-1"))
    client = client_for(personas["engineer"])
    with django_assert_max_num_queries(20):  # 17 today (menu, permissions, filter choices), however many rows
        assert len(shown(client)) == 21


def test_the_empty_list_explains_reconciliation_and_its_schedule(client_for, personas, settings):
    settings.JUNCTION_RECONCILE_HOURS = 24
    client = client_for(personas["engineer"])
    html = client.get(LIST).content.decode()
    assert 'data-testid="empty-state"' in html
    assert "compares them with the records Junction delivered there" in html
    assert "once a day" in html and "Reconcile now" in html
    settings.JUNCTION_RECONCILE_HOURS = 6
    assert "every 6 hours" in client.get(LIST).content.decode()
    settings.JUNCTION_RECONCILE_HOURS = 0
    assert "switched off" in client.get(LIST).content.decode()


# --- One reconciliation ---------------------------------------------------------------------


def test_detail_lists_the_missing_records_and_says_how_many_more(client_for, personas, two_targets):
    reconciliation = stored(two_targets["a"], **gone("C-7", "C-9"), delivered=9, present=4)
    Reconciliation.objects.filter(pk=reconciliation.pk).update(missing_count=5)
    html = client_for(personas["engineer"]).get(reconciliation.get_absolute_url()).content.decode()
    assert html.count('data-testid="missing-row"') == 2
    assert ">C-7<" in html and ">1:C-7<" in html and ">C-9<" in html
    assert 'data-testid="count-gone">5<' in html and 'data-testid="count-delivered">9<' in html
    assert "… and 3 more" in html
    assert "every 2s" not in html  # finished: no polling


def test_detail_without_gaps_or_failed(client_for, personas, two_targets):
    client = client_for(personas["viewer"])
    html = client.get(two_targets["rb"].get_absolute_url()).content.decode()
    assert "the target holds every record Junction delivered there" in html and "missing-table" not in html
    failed = stored(two_targets["a"], status=FAILED, error="Reporting DB: no such table: customers")
    html = client.get(failed.get_absolute_url()).content.decode()
    assert 'data-testid="reconciliation-error"' in html and "no such table: customers" in html
    assert "count-gone" not in html


def test_a_queued_reconciliation_polls_until_it_has_finished(client_for, personas, two_targets):
    reconciliation = stored(two_targets["a"], status=QUEUED, requested_by=personas["engineer"])
    client = client_for(personas["engineer"])
    html = client.get(reconciliation.get_absolute_url()).content.decode()
    assert f'hx-get="{progress_url(reconciliation)}"' in html and 'hx-trigger="every 2s"' in html
    assert "waiting for a worker" in html and "started by engineer" in html
    Reconciliation.objects.filter(pk=reconciliation.pk).update(status=RUNNING)
    partial = client.get(progress_url(reconciliation), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "every 2s" in partial and "asking Warehouse DB" in partial

    Reconciliation.objects.filter(pk=reconciliation.pk).update(status=DONE, **gone("C-2"), delivered=2, present=1)
    partial = client.get(progress_url(reconciliation), HTTP_HX_REQUEST="true").content.decode()
    assert "every 2s" not in partial and "hx-get" not in partial  # the swapped-in piece stops the polling
    assert 'data-testid="count-gone">1<' in partial and ">C-2<" in partial


def test_reconcile_again_only_for_people_who_may(client_for, personas, two_targets):
    url = two_targets["ra"].get_absolute_url()
    assert 'data-testid="reconcile-again"' in client_for(personas["engineer"]).get(url).content.decode()
    assert 'data-testid="reconcile-again"' not in client_for(personas["viewer"]).get(url).content.decode()


# --- "Reconcile now" ------------------------------------------------------------------------


def test_engineer_starts_one_queued_and_audited(client_for, personas, two_targets, django_capture_on_commit_callbacks):
    a, engineer = two_targets["a"], personas["engineer"]
    with django_capture_on_commit_callbacks() as queued:
        response = client_for(engineer).post(reconcile_url(a), {"entity": "customer"})
    started = Reconciliation.objects.get(target=a, status=QUEUED)
    assert response.status_code == 302 and response["Location"] == started.get_absolute_url()
    assert started.entity == "customer" and started.requested_by == engineer
    assert len(queued) == 1  # the worker's task, sent once the row is committed
    entry = LogEntry.objects.get(additional_data__action="reconcile")
    assert entry.action == LogEntry.Action.ACCESS and entry.actor == engineer and entry.object_pk == str(a.pk)
    assert entry.additional_data == {
        "action": "reconcile",
        "entity": "customer",
        "reconciliation": started.pk,
        "via": "page",
    }


def test_a_second_one_while_one_is_queued_is_refused_with_the_reason(client_for, personas, two_targets):
    a, client = two_targets["a"], client_for(personas["engineer"])
    first = client.post(reconcile_url(a), {"entity": "customer"}, follow=True)
    started = Reconciliation.objects.get(status=QUEUED)
    assert messages_of(first) == [
        f"Reconciliation #{started.pk} of “Warehouse DB” (customer) queued: a worker compares them next."
    ]
    response = client.post(reconcile_url(a), {"entity": "customer"}, follow=True)
    assert response.redirect_chain[-1][0] == a.get_absolute_url()
    assert messages_of(response) == ["A reconciliation of Warehouse DB for customer is already queued."]
    assert Reconciliation.objects.filter(target=a, status=QUEUED).count() == 1
    assert LogEntry.objects.filter(additional_data__action="reconcile").count() == 1


def test_unsupported_disabled_and_unknown_entities_are_refused(client_for, personas, two_targets):
    engineer = personas["engineer"]
    client = client_for(engineer)
    rest = rest_connector("ERP REST", owner=engineer)
    response = client.post(reconcile_url(rest), {"entity": "customer"}, follow=True)
    assert messages_of(response) == ["The REST/JSON API adapter cannot list what ERP REST holds."]
    response = client.post(reconcile_url(two_targets["a"]), {"entity": "spaceship"}, follow=True)
    assert messages_of(response) == ["'spaceship' is not an entity Junction delivers."]
    two_targets["a"].enabled = False
    two_targets["a"].save()
    response = client.post(reconcile_url(two_targets["a"]), {"entity": "customer"}, follow=True)
    assert messages_of(response) == ["Warehouse DB is disabled."]
    assert Reconciliation.objects.count() == 2  # the fixture's two
    assert not LogEntry.objects.filter(additional_data__action="reconcile").exists()


def test_people_who_may_not_change_the_connector_cannot_start_one(client_for, personas, two_targets):
    for name, connector in (("viewer", "a"), ("auditor", "a"), ("steward", "a"), ("engineer", "b")):
        response = client_for(personas[name]).post(reconcile_url(two_targets[connector]), {"entity": "customer"})
        assert response.status_code == 404, name
    # Change on the connector without the role's add_reconciliation: refused by the service.
    assign_perm("change_connector", personas["steward"], two_targets["a"])
    response = client_for(personas["steward"]).post(reconcile_url(two_targets["a"]), {"entity": "customer"})
    assert response.status_code == 403
    assert Reconciliation.objects.count() == 2
    assert client_for(personas["engineer"]).get(reconcile_url(two_targets["a"])).status_code == 405


# --- The connector page's card --------------------------------------------------------------


def test_the_card_shows_the_latest_per_entity_and_the_buttons(client_for, personas, two_targets):
    a, engineer = two_targets["a"], personas["engineer"]
    make_flow("Products to the warehouse", targets=[a], entity="product")
    deliver(a, "O-1", entity="sales_order")
    latest = stored(a, status=RUNNING, requested_by=engineer)
    response = client_for(engineer).get(a.get_absolute_url())
    card = response.context["reconciliation"]
    assert [(r["entity"], r["latest"]) for r in card["rows"]] == [
        ("customer", latest),
        ("product", None),
        ("sales_order", None),
    ]
    html = response.content.decode()
    assert 'data-testid="reconciliation-card"' in html and "Not reconciled yet" in html
    assert html.count('data-testid="reconcile-now"') == 3
    assert 'disabled title="One is running"' in html  # the customers' one is still running


def test_viewers_see_the_card_without_buttons(client_for, personas, two_targets):
    html = client_for(personas["viewer"]).get(two_targets["a"].get_absolute_url()).content.decode()
    assert 'data-testid="reconciliation-card"' in html and "1 gone" in html
    assert 'data-testid="reconcile-now"' not in html


def test_no_card_where_the_adapter_cannot_list_its_keys(client_for, personas):
    rest = rest_connector("ERP REST", owner=personas["engineer"])
    response = client_for(personas["engineer"]).get(rest.get_absolute_url())
    assert response.context["reconciliation"] is None
    assert 'data-testid="reconciliation-card"' not in response.content.decode()


def test_a_target_with_nothing_delivered_says_so(client_for, personas, tmp_path):
    empty = sql_target(tmp_path, "Empty DB", owner=personas["engineer"], keys=())
    html = client_for(personas["engineer"]).get(empty.get_absolute_url()).content.decode()
    assert 'data-testid="reconciliation-nothing"' in html and 'data-testid="reconcile-now"' not in html


# --- "Accept these deletions" ---------------------------------------------------------------


def delivered(connector, entity="customer") -> list[str]:
    return sorted(Delivery.objects.filter(target=connector, entity=entity).values_list("subject", flat=True))


def test_engineer_accepts_and_junction_forgets_exactly_the_listed_deliveries(client_for, personas, two_targets):
    a, b, ra, engineer = two_targets["a"], two_targets["b"], two_targets["ra"], personas["engineer"]
    deliver(a, "C-2", entity="sales_order")  # the same subject, another entity: not what was found gone
    response = client_for(engineer).post(accept_url(ra), follow=True)
    assert response.redirect_chain == [(ra.get_absolute_url(), 302)]
    assert messages_of(response) == [
        "Junction forgot 1 record it had delivered to “Warehouse DB”: later reconciliations no longer report "
        "it, and a record that changes at the source is sent again."
    ]
    assert delivered(a) == ["1:C-1"] and delivered(a, "sales_order") == ["1:C-2"]
    assert delivered(b) == ["1:C-1", "1:C-2"]  # another target's delivery of the same subject stays
    ra.refresh_from_db()
    assert ra.accepted_by == engineer and ra.accepted_at is not None
    entry = LogEntry.objects.get(additional_data__action="accept_deletions")
    assert entry.action == LogEntry.Action.ACCESS and entry.actor == engineer and entry.object_pk == str(a.pk)
    assert entry.additional_data == {
        "action": "accept_deletions",
        "reconciliation": ra.pk,
        "entity": "customer",
        "records": 1,
        "via": "page",
    }


def test_accepting_more_than_is_listed_says_a_new_reconciliation_looks_for_the_rest(
    client_for, personas, two_targets, django_capture_on_commit_callbacks
):
    Reconciliation.objects.filter(pk=two_targets["ra"].pk).update(missing_count=3)
    with django_capture_on_commit_callbacks() as queued:
        response = client_for(personas["engineer"]).post(accept_url(two_targets["ra"]), follow=True)
    assert "a new reconciliation is queued to find them" in messages_of(response)[0]
    assert len(queued) == 1 and Reconciliation.objects.filter(status=QUEUED).count() == 1


def test_people_who_may_not_reconcile_the_target_cannot_accept(client_for, personas, two_targets):
    ra, rb = two_targets["ra"], two_targets["rb"]
    rb_gone = stored(two_targets["b"], **gone("C-1"))
    for name, reconciliation, status in (
        ("viewer", ra, 403),  # may see it, may not change the connector
        ("auditor", ra, 403),
        ("steward", ra, 404),  # may not see reconciliations at all
        ("nobody", ra, 404),
        ("engineer", rb_gone, 404),  # not the engineer's connector
    ):
        assert client_for(personas[name]).post(accept_url(reconciliation)).status_code == status, name
    # Viewing the connector is not enough; changing it without the role's add_reconciliation neither.
    assign_perm("view_connector", personas["engineer"], two_targets["b"])
    assert client_for(personas["engineer"]).post(accept_url(rb_gone)).status_code == 403
    assign_perm("view_connector", personas["steward"], two_targets["a"])
    assign_perm("change_connector", personas["steward"], two_targets["a"])
    assert client_for(personas["steward"]).post(accept_url(ra)).status_code == 404  # no view_reconciliation
    assert delivered(two_targets["a"]) == delivered(two_targets["b"]) == ["1:C-1", "1:C-2"]
    assert not Reconciliation.objects.filter(accepted_at__isnull=False).exists()
    assert not LogEntry.objects.filter(additional_data__action="accept_deletions").exists()
    assert client_for(personas["engineer"]).get(accept_url(ra)).status_code == 405
    assert rb.accepted_at is None


def test_a_second_accept_is_refused_with_who_accepted(client_for, personas, two_targets):
    ra, client = two_targets["ra"], client_for(personas["engineer"])
    client.post(accept_url(ra), follow=True)
    deliver(two_targets["a"], "C-2", into_table=False)  # sent again after a change at the source
    response = client.post(accept_url(ra), follow=True)
    assert response.redirect_chain == [(ra.get_absolute_url(), 302)]
    assert messages_of(response) == ["engineer already accepted these deletions."]
    assert delivered(two_targets["a"]) == ["1:C-1", "1:C-2"]
    assert LogEntry.objects.filter(additional_data__action="accept_deletions").count() == 1


def test_an_older_reconciliation_cannot_be_accepted_once_a_later_one_is_done(client_for, personas, two_targets):
    ra, client = two_targets["ra"], client_for(personas["engineer"])
    later = stored(two_targets["a"], **gone("C-2"), delivered=2, present=1)
    assert 'data-testid="accept-deletions"' not in client.get(ra.get_absolute_url()).content.decode()
    assert 'data-testid="accept-deletions"' in client.get(later.get_absolute_url()).content.decode()
    response = client.post(accept_url(ra), follow=True)
    assert messages_of(response) == [
        "A later reconciliation of this target exists: accept the deletions it found instead."
    ]
    assert delivered(two_targets["a"]) == ["1:C-1", "1:C-2"]
    assert not LogEntry.objects.filter(additional_data__action="accept_deletions").exists()


def test_the_button_shows_only_where_accepting_applies(client_for, personas, two_targets):
    a, ra = two_targets["a"], two_targets["ra"]

    def offered(reconciliation, as_="engineer") -> bool:
        html = client_for(personas[as_]).get(reconciliation.get_absolute_url()).content.decode()
        assert html.count('data-testid="accept-deletions"') == html.count('id="accept-dialog"')  # with its dialog
        return 'data-testid="accept-deletions"' in html

    running = stored(a, status=RUNNING)
    assert offered(ra)  # a running one is not a later result yet
    assert not offered(running)
    assert not offered(stored(a, entity="sales_order", status=FAILED, error="no table"))
    assert not offered(stored(a, entity="product", delivered=2, present=2))  # nothing gone
    assert not offered(ra, "viewer")
    html = client_for(personas["engineer"]).get(ra.get_absolute_url()).content.decode()
    assert f'action="{accept_url(ra)}"' in html and "Accept these deletions?" in html
    assert "Accepted by" not in html


def test_accepted_by_and_when_replaces_the_button(client_for, personas, two_targets):
    ra = two_targets["ra"]
    client_for(personas["engineer"]).post(accept_url(ra))
    ra.refresh_from_db()
    when = ra.accepted_at.strftime("%Y-%m-%d %H:%M")
    for name in ("engineer", "viewer"):
        html = client_for(personas[name]).get(ra.get_absolute_url()).content.decode()
        assert 'data-testid="reconciliation-accepted"' in html, name
        assert f"Accepted by engineer {when}" in html, name
        assert 'data-testid="accept-deletions"' not in html and 'id="accept-dialog"' not in html, name
        assert "Junction forgot it delivered these records" in html, name


def test_the_polled_piece_brings_the_button_when_the_reconciliation_finishes(client_for, personas, two_targets):
    reconciliation = stored(two_targets["a"], status=RUNNING)
    client = client_for(personas["engineer"])
    assert 'data-testid="accept-deletions"' not in client.get(reconciliation.get_absolute_url()).content.decode()
    Reconciliation.objects.filter(pk=reconciliation.pk).update(status=DONE, **gone("C-2"), delivered=2, present=1)
    partial = client.get(progress_url(reconciliation), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial
    assert 'data-testid="accept-deletions"' in partial and 'id="accept-dialog"' in partial
    assert f'action="{accept_url(reconciliation)}"' in partial
