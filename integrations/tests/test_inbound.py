"""POST /api/v1/inbound/<connector>/: signatures, limits and clear 4xx answers; each event stored once."""

import json
import time

import pytest
from django.urls import reverse

from integrations.models import InboundEvent
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
