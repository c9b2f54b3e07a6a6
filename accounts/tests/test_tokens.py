"""Personal API tokens: shown once, stored hashed, expiring, revocable, audited; API throttling."""

import time
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from accounts import reauth
from accounts.models import ApiToken
from accounts.tokens import create_token
from integrations.api.inbound import InboundView

pytestmark = pytest.mark.django_db
TOKENS = "/api/v1/tokens/"


def token_client(secret) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_created_on_the_security_page_shown_once_and_stored_hashed(client_for, personas):
    client = client_for(personas["engineer"])
    response = client.post(reverse("token_create"), {"name": "nightly export", "expires_in_days": 30})
    secret = response.context["secret"]
    assert secret.startswith("jnc_") and secret in response.content.decode()

    token = ApiToken.objects.get(user=personas["engineer"])
    assert token.name == "nightly export" and secret not in (token.digest, token.token_key)
    assert timedelta(days=29) < token.expiry - timezone.now() <= timedelta(days=30)
    page = client.get(reverse("security")).content.decode()
    assert "nightly export" in page and secret not in page

    created = LogEntry.objects.get(additional_data__event="token.created")
    assert created.actor == personas["engineer"] and created.object_pk == str(token.pk)
    assert secret not in str(created.additional_data) and token.digest not in str(created.additional_data)

    api = token_client(secret)
    assert api.get("/api/v1/systems/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_creating_a_token_needs_a_recent_sign_in(client_for, personas):
    client = client_for(personas["engineer"])
    session = client.session
    session[reauth.SESSION_KEY] = int(time.time()) - 3600
    session.save()
    response = client.post(reverse("token_create"), {"name": "x", "expires_in_days": 30})
    assert response["Location"].startswith(reverse("reauth"))
    assert not ApiToken.objects.exists()


def test_expiry_is_capped_with_a_field_error(client_for, personas, settings):
    response = client_for(personas["engineer"]).post(reverse("token_create"), {"name": "x", "expires_in_days": 5000})
    assert response.status_code == 400
    assert "expires_in_days" in response.context["token_form"].errors
    assert not ApiToken.objects.exists()


def test_expired_and_revoked_tokens_are_refused(client_for, personas):
    token, secret = create_token(personas["viewer"], "old")
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert token_client(secret).get("/api/v1/systems/").status_code == 401

    token, secret = create_token(personas["viewer"], "current")
    client_for(personas["viewer"]).post(reverse("token_revoke", args=[token.pk]))
    assert token_client(secret).get("/api/v1/systems/").status_code == 401
    revoked = LogEntry.objects.get(additional_data__event="token.revoked")
    assert revoked.actor == personas["viewer"] and revoked.object_repr.startswith("current")


def test_only_administrators_revoke_other_peoples_tokens(client_for, personas):
    token, _ = create_token(personas["viewer"], "theirs")
    assert client_for(personas["engineer"]).post(reverse("token_revoke", args=[token.pk])).status_code == 404

    _mine, secret = create_token(personas["engineer"], "mine")
    listed = token_client(secret).get(TOKENS).json()["results"]
    assert [row["name"] for row in listed] == ["mine"] and "token" not in listed[0]
    assert token_client(secret).delete(f"{TOKENS}{token.pk}/").status_code == 404

    _admin_token, admin_secret = create_token(personas["admin"], "admin's")
    assert token_client(admin_secret).delete(f"{TOKENS}{token.pk}/").status_code == 204
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert LogEntry.objects.get(additional_data__event="token.revoked").actor == personas["admin"]


def test_api_creates_tokens_only_from_a_fresh_session(client_for, personas):
    client = client_for(personas["steward"])
    response = client.post(TOKENS, {"name": "etl", "expires_in_days": 7}, content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert body["token"].startswith("jnc_") and body["name"] == "etl" and body["owner"] == "steward"
    assert token_client(body["token"]).post(TOKENS, {"name": "more"}, format="json").status_code == 403

    session = client.session
    session[reauth.SESSION_KEY] = int(time.time()) - 3600
    session.save()
    stale = client.post(TOKENS, {"name": "late"}, content_type="application/json")
    assert stale.status_code == 403 and "/accounts/reauth/" in stale.json()["detail"]


def test_the_api_is_throttled_per_person(personas, monkeypatch):
    cache.clear()
    monkeypatch.setattr(UserRateThrottle, "rate", "3/minute", raising=False)
    _token, secret = create_token(personas["viewer"], "busy")
    client = token_client(secret)
    assert [client.get("/api/v1/systems/").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_the_signed_inbound_webhook_is_not_throttled():
    assert InboundView.throttle_classes == [] and InboundView.authentication_classes == []
