"""POST /api/v1/inbound/<connector>/: signatures, limits and clear 4xx answers; each event stored once."""

import json
import time
from io import StringIO

import pytest
from django.urls import reverse

from integrations.models import Connector, InboundEvent
from integrations.tests.engine_world import signed_headers, webhook_connector

pytestmark = pytest.mark.django_db


@pytest.fixture
def connector():
    return webhook_connector()


def post(client, connector, body: bytes, headers: dict):
    url = reverse("api:inbound", args=[connector.pk])
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return client.post(url, data=body, content_type="application/json", **extra)


def test_a_signed_event_is_stored_and_acknowledged_with_a_receipt(client, connector):
    body = json.dumps([{"id": "C-1", "name": "Ada"}, {"id": "C-2", "name": "Bob"}]).encode()
    response = post(client, connector, body, signed_headers(body, event_id="evt-1"))
    assert response.status_code == 202
    event = InboundEvent.objects.get()
    assert response.json() == {"receipt": str(event.receipt), "records": 2, "duplicate": False}
    assert (event.event_id, event.records[1]["name"], event.run) == ("evt-1", "Bob", None)


def test_one_object_is_one_record(client, connector):
    body = b'{"id": "C-1"}'
    assert post(client, connector, body, signed_headers(body)).json()["records"] == 1


def test_the_same_event_twice_is_stored_once_with_the_same_receipt(client, connector):
    body = b'{"id": "C-1"}'
    headers = signed_headers(body, event_id="evt-7")
    first, second = post(client, connector, body, headers), post(client, connector, body, headers)
    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json()["duplicate"] is True and second.json()["receipt"] == first.json()["receipt"]
    assert InboundEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda h, b: ({**h, "webhook-signature": "v1,AAAA"}, b), "signature does not match"),
        (lambda h, b: (h, b + b" "), "signature does not match"),  # the body changed after signing
        (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-id"}, b), "Missing webhook-id"),
        (lambda h, b: ({**h, "webhook-timestamp": "yesterday"}, b), "Unix seconds"),
    ],
)
def test_bad_signatures_are_refused_and_nothing_is_stored(client, connector, tamper, message):
    body = b'{"id": "C-1"}'
    headers, body = tamper(signed_headers(body), body)
    response = post(client, connector, body, headers)
    assert response.status_code == 401
    assert message in response.json()["detail"]
    assert not InboundEvent.objects.exists()


def test_a_stale_timestamp_is_refused(client, connector):
    body = b'{"id": "C-1"}'
    response = post(client, connector, body, signed_headers(body, timestamp=int(time.time()) - 3600))
    assert response.status_code == 401 and "too old" in response.json()["detail"]


def test_a_wrong_secret_is_refused(client, connector):
    body = b'{"id": "C-1"}'
    response = post(client, connector, body, signed_headers(body, secret="another-secret-that-is-long-enough"))
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"{not json", "not valid JSON"), (b"[]", "non-empty array"), (b"[1, 2]", "array of objects"), (b'"x"', "object")],
)
def test_malformed_bodies_get_a_400_that_says_why(client, connector, body, message):
    response = post(client, connector, body, signed_headers(body))
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_a_body_over_the_limit_is_413(client, connector):
    connector.settings = {**connector.settings, "max_body_bytes": 1024}
    connector.save()
    body = json.dumps({"id": "C-1", "blob": "x" * 2000}).encode()
    response = post(client, connector, body, signed_headers(body))
    assert response.status_code == 413
    assert not InboundEvent.objects.exists()


def test_unknown_or_disabled_connectors_are_404(client, connector):
    body = b'{"id": "C-1"}'
    connector.enabled = False
    connector.save()
    assert post(client, connector, body, signed_headers(body)).status_code == 404


def test_the_endpoint_is_in_the_openapi_schema(client, personas, client_for):
    schema = client_for(personas["viewer"]).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/inbound/{id}/"]["post"]
    assert {p["name"] for p in operation["parameters"]} >= {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert set(operation["responses"]) >= {"202", "400", "401", "404", "413"}


def test_a_whsec_secret_must_be_base64():
    from integrations.adapters.webhook import WebhookCredentials

    bad = WebhookCredentials(data={"secret": "whsec_" + "!" * 30})
    assert not bad.is_valid() and "base64" in str(bad.errors["secret"])
    assert WebhookCredentials(data={"secret": "whsec_" + "QUJD" * 8}).is_valid()


# --- The adapter kept in memory per connector must never outlive what is stored -----------------

NEW_SECRET = "whsec_" + "bmV3LXNpZ25pbmcta2V5LWFmdGVyLXJvdGF0aW9u"  # base64 of a second test-only key


def accepted(client, connector, secret=None) -> int:
    body = b'{"id": "C-1"}'
    headers = signed_headers(body, secret=secret) if secret else signed_headers(body)
    return post(client, connector, body, headers).status_code


def test_a_replaced_secret_takes_effect_on_the_next_request(client, connector, personas):
    from integrations import services

    assert accepted(client, connector) == 202  # the old secret's adapter is now cached
    services.save_connector(connector, personas["admin"], credentials={"secret": NEW_SECRET})
    assert accepted(client, connector) == 401
    assert accepted(client, connector, secret=NEW_SECRET) == 202


def test_a_secret_written_without_save_still_takes_effect(client, connector):
    assert accepted(client, connector) == 202
    connector.set_credentials({"secret": NEW_SECRET})
    Connector.objects.filter(pk=connector.pk).update(credentials=connector.credentials)  # `updated` unchanged
    assert accepted(client, connector) == 401
    assert accepted(client, connector, secret=NEW_SECRET) == 202


def test_key_rotation_keeps_the_secret_and_the_old_key_can_go(client, connector, settings):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    from integrations.api import inbound

    assert accepted(client, connector) == 202
    old, new = settings.JUNCTION_ENCRYPTION_KEYS[0], Fernet.generate_key().decode()
    settings.JUNCTION_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_keys", stdout=StringIO())
    settings.JUNCTION_ENCRYPTION_KEYS = [new]  # the old key is retired
    assert accepted(client, connector) == 202
    stored = Connector.objects.values_list("credentials", flat=True).get(pk=connector.pk)
    assert inbound._adapters[connector.pk][1] == stored  # rebuilt from the re-encrypted token


def test_changed_settings_and_disabling_take_effect_without_save(client, connector):
    assert accepted(client, connector) == 202
    Connector.objects.filter(pk=connector.pk).update(settings={**connector.settings, "max_body_bytes": 1024})
    body = json.dumps({"id": "C-1", "blob": "x" * 2000}).encode()
    assert post(client, connector, body, signed_headers(body)).status_code == 413
    Connector.objects.filter(pk=connector.pk).update(enabled=False)
    assert accepted(client, connector) == 404


def test_settings_made_invalid_are_named_not_a_500(client, connector):
    Connector.objects.filter(pk=connector.pk).update(settings={"tolerance_seconds": 1})
    response = post(client, connector, b'{"id": "C-1"}', signed_headers(b'{"id": "C-1"}'))
    assert response.status_code == 400 and "tolerance_seconds" in response.json()


# --- The kept adapter only ever answers 202: anything else is decided on the connector read afresh ---


def statements_of(queries) -> list[str]:
    """The SQL a request ran, without the savepoints the test's transaction adds around it."""
    return [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]


def test_with_its_adapter_kept_an_event_is_one_insert_and_a_repeat_two_statements(client, connector):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert accepted(client, connector) == 202  # reads the connector and keeps its adapter
    body = b'{"id": "C-2"}'
    headers = signed_headers(body, event_id="evt-kept")
    with CaptureQueriesContext(connection) as new:
        first = post(client, connector, body, headers)
    with CaptureQueriesContext(connection) as repeat:
        again = post(client, connector, body, headers)
    assert (first.status_code, first.json()["duplicate"], again.json()["duplicate"]) == (202, False, True)
    assert [sql.split()[0] for sql in statements_of(new)] == ["INSERT"]
    assert [sql.split()[0] for sql in statements_of(repeat)] == ["INSERT", "SELECT"]
    assert again.json()["receipt"] == first.json()["receipt"]


def test_a_new_secret_is_accepted_while_the_old_ones_adapter_is_kept(client, connector):
    assert accepted(client, connector) == 202  # the old secret's adapter is kept
    connector.set_credentials({"secret": NEW_SECRET})
    Connector.objects.filter(pk=connector.pk).update(credentials=connector.credentials)
    assert accepted(client, connector, secret=NEW_SECRET) == 202  # the kept adapter's 401 was not the answer


def test_a_disabled_connector_stores_nothing_though_its_adapter_is_kept(client, connector):
    assert accepted(client, connector) == 202
    Connector.objects.filter(pk=connector.pk).update(enabled=False)
    body = b'{"id": "C-9"}'
    assert post(client, connector, body, signed_headers(body, event_id="after-disabling")).status_code == 404
    assert not InboundEvent.objects.filter(event_id="after-disabling").exists()


def test_a_lowered_body_limit_stores_nothing_though_the_kept_adapter_allowed_more(client, connector):
    assert accepted(client, connector) == 202
    Connector.objects.filter(pk=connector.pk).update(settings={**connector.settings, "max_body_bytes": 1024})
    body = json.dumps({"id": "C-1", "blob": "x" * 2000}).encode()
    assert post(client, connector, body, signed_headers(body, event_id="too-big")).status_code == 413
    assert not InboundEvent.objects.filter(event_id="too-big").exists()


def test_a_repeat_signed_with_a_new_secret_gets_the_first_receipt(client, connector):
    body = b'{"id": "C-1"}'
    first = post(client, connector, body, signed_headers(body, event_id="evt-r")).json()
    connector.set_credentials({"secret": NEW_SECRET})
    Connector.objects.filter(pk=connector.pk).update(credentials=connector.credentials)
    again = post(client, connector, body, signed_headers(body, event_id="evt-r", secret=NEW_SECRET)).json()
    assert again == {**first, "duplicate": True}


# --- What the endpoint keeps of the middleware it skips, and bodies the database cannot hold ----


def test_answers_carry_the_security_headers_and_hosts_are_checked(client, connector):
    body = b'{"id": "C-1"}'
    response = post(client, connector, body, signed_headers(body))
    assert response["X-Frame-Options"] == "DENY" and "default-src 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware still runs first
    assert response.content.startswith(b'{"receipt":"')  # compact JSON, as DRF wrote it
    assert response["Content-Length"] == str(len(response.content))  # not chunked
    url = reverse("api:inbound", args=[connector.pk])
    assert client.post(url, body, "application/json", HTTP_HOST="evil.example").status_code == 400
    assert client.get(url).status_code == 405  # other methods take the whole stack, as before
    assert not InboundEvent.objects.filter(event_id="").exists()


@pytest.mark.parametrize("body", [b'{"id": NaN}', b'{"id": "C-1", "n": Infinity}'])
def test_nan_and_infinity_are_not_json(client, connector, body):
    response = post(client, connector, body, signed_headers(body))
    assert response.status_code == 400 and "not a JSON value" in response.json()["detail"]


def test_a_nul_character_is_a_400_where_the_database_refuses_it(client, connector):
    from django.db import connection

    body = b'{"id": "C-1", "name": "A\\u0000da"}'
    response = post(client, connector, body, signed_headers(body))
    assert response.status_code == (400 if connection.vendor == "postgresql" else 202)
    assert InboundEvent.objects.count() == (0 if connection.vendor == "postgresql" else 1)


def test_a_repeat_answers_with_the_first_deliverys_count(client, connector):
    first = json.dumps([{"id": "C-1"}, {"id": "C-2"}]).encode()
    post(client, connector, first, signed_headers(first, event_id="evt-9"))
    again = b'{"id": "C-1"}'
    response = post(client, connector, again, signed_headers(again, event_id="evt-9")).json()
    assert (response["records"], response["duplicate"]) == (2, True)
