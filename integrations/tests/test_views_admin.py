"""The integration admin: it opens for administrators, honours restrict(), and never shows credentials."""

import pytest

from integrations.tests.pages import API_TOKEN, make_flow, make_outcomes, make_run

pytestmark = pytest.mark.django_db


def test_admin_pages_open_and_hide_credentials(client_for, personas):
    flow = make_flow(stage="live")
    connector = flow.targets.get()
    connector.set_credentials({"token": API_TOKEN})
    connector.save()
    make_outcomes(make_run(flow), 3)
    client = client_for(personas["admin"])
    for url in [
        "/admin/integrations/connector/",
        f"/admin/integrations/connector/{connector.pk}/change/",
        "/admin/integrations/flow/",
        f"/admin/integrations/flow/{flow.pk}/change/",
        "/admin/integrations/run/",
        "/admin/integrations/recordoutcome/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert API_TOKEN not in response.content.decode(), url


def test_run_log_is_read_only_in_the_admin(client_for, personas):
    run = make_run(make_flow(stage="live"))
    client = client_for(personas["admin"])
    assert client.get("/admin/integrations/run/add/").status_code == 403
    assert client.post(f"/admin/integrations/run/{run.pk}/delete/", {"post": "yes"}).status_code == 403


def test_alerts_and_reconciliations_are_read_only_in_the_admin(client_for, personas):
    from integrations.models import Reconciliation
    from monitoring.models import Alert

    flow = make_flow(stage="live")
    target = flow.targets.get()
    reconciliation = Reconciliation.objects.create(target=target, entity="customer", status="done", missing_count=2)
    key = f"circuit_open:connector:{target.pk}"
    alert = Alert.objects.create(key=key, kind="circuit_open", severity="critical", title="Paused", connector=target)
    client = client_for(personas["admin"])

    for model, obj in (("integrations/reconciliation", reconciliation), ("monitoring/alert", alert)):
        listed = client.get(f"/admin/{model}/")
        assert listed.status_code == 200 and list(listed.context["cl"].result_list) == [obj], model
        assert client.get(f"/admin/{model}/add/").status_code == 403, model
        assert client.post(f"/admin/{model}/{obj.pk}/delete/", {"post": "yes"}).status_code == 403, model
    assert Reconciliation.objects.exists() and Alert.objects.exists()
