"""Connector credentials: encrypted at rest, never in the audit trail, rotated to a new key with
``rotate_keys``, and replaced only after a recent sign-in (accounts/reauth.py)."""

import json
import time
from io import StringIO

import pytest
from auditlog.models import LogEntry
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import reauth
from integrations import crypto
from integrations.models import Connector
from integrations.tests.factories import SystemFactory
from integrations.tests.pages import WEBHOOK_SECRET, webhook_connector

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-value-that-must-not-leak"


def make_connector():
    connector = Connector(system=SystemFactory(), name="ERP API", adapter="webhook", settings={})
    connector.set_credentials({"secret": SECRET, "unused": ""})
    connector.save()
    return connector


def test_credentials_are_encrypted_at_rest_and_decrypt_for_the_adapter():
    connector = make_connector()
    stored = Connector.objects.values_list("credentials", flat=True).get()
    assert SECRET not in stored and stored.startswith("gAAAA")  # a Fernet token
    assert connector.open_adapter().credentials == {"secret": SECRET}  # blanks are not stored
    assert connector.has_credentials and connector.credentials_changed is not None


def test_credentials_never_enter_the_audit_trail():
    connector = make_connector()
    connector.set_credentials({"secret": SECRET + "-2"})
    connector.save()
    entries = LogEntry.objects.get_for_object(connector)
    assert entries.count() == 2
    for entry in entries:
        assert "credentials" not in entry.changes_dict
        assert SECRET not in str(entry.changes) and "gAAAA" not in str(entry.changes)
    assert "credentials_changed" in entries.first().changes_dict  # the change itself is visible


def test_rotation_re_encrypts_under_the_newest_key(settings):
    old = settings.JUNCTION_ENCRYPTION_KEYS[0]
    connector = make_connector()
    before = Connector.objects.get(pk=connector.pk).credentials
    new = Fernet.generate_key().decode()
    settings.JUNCTION_ENCRYPTION_KEYS = [new, old]

    call_command("rotate_keys", stdout=StringIO())

    after = Connector.objects.get(pk=connector.pk)
    assert after.credentials != before
    settings.JUNCTION_ENCRYPTION_KEYS = [new]  # the old key is retired
    assert after.open_adapter().credentials == {"secret": SECRET}


def test_a_missing_key_is_a_clear_configuration_error(settings):
    connector = make_connector()
    settings.JUNCTION_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="rotate_keys"):
        connector.open_adapter()


def test_a_malformed_key_is_named(settings):
    settings.JUNCTION_ENCRYPTION_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        make_connector()


def test_rotate_keys_check_says_when_the_old_key_may_go(settings):
    old = settings.JUNCTION_ENCRYPTION_KEYS[0]
    make_connector()
    settings.JUNCTION_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old]
    with pytest.raises(CommandError, match="1 secret\\(s\\) are not under the newest key"):
        call_command("rotate_keys", "--check", stdout=StringIO())
    out = StringIO()
    call_command("rotate_keys", stdout=out)
    assert "Re-encrypted 1 secret(s)" in out.getvalue()
    out = StringIO()
    call_command("rotate_keys", "--check", stdout=out)
    assert "Every stored secret is under the newest key." in out.getvalue()
    event = LogEntry.objects.get(additional_data__event="encryption_keys.rotated")
    assert event.additional_data == {"event": "encryption_keys.rotated", "secrets": 1} and event.actor is None


def test_rotation_is_all_or_nothing_when_a_secret_cannot_be_read(settings):
    first = make_connector()
    orphan = Connector(system=first.system, name="Orphan", adapter="webhook", settings={})
    settings.JUNCTION_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # a key nobody else has
    orphan.set_credentials({"secret": SECRET})
    orphan.save()
    settings.JUNCTION_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # and both old keys are gone
    before = dict(Connector.objects.values_list("pk", "credentials"))
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted with any key"):
        call_command("rotate_keys", stdout=StringIO())
    assert dict(Connector.objects.values_list("pk", "credentials")) == before


# --- Replacing credentials asks for a recent sign-in -------------------------------------------


def stale(client) -> None:
    """Make the client's last authentication older than JUNCTION_REAUTH_SECONDS."""
    session = client.session
    session[reauth.SESSION_KEY] = int(time.time()) - reauth.reauth_seconds() - 60
    session.save()


def test_the_edit_page_asks_for_the_password_again_after_a_few_minutes(client_for, personas):
    connector = webhook_connector(owner=personas["engineer"])
    client = client_for(personas["engineer"])
    edit = reverse("integrations:connector_edit", args=[connector.pk])
    assert client.get(edit).status_code == 200  # just signed in
    stale(client)
    response = client.get(edit)
    assert response.status_code == 302 and response["Location"].startswith(reverse("reauth"))
    form = {
        "name": connector.name,
        "system": connector.system_id,
        "adapter": "webhook",
        "enabled": "on",
        "setting__id_field": "id",
        "setting__tolerance_seconds": "300",
        "setting__max_body_bytes": "1048576",
        "credential__secret": "a-new-secret-of-enough-length-000",
    }
    assert client.post(edit, form).status_code == 302  # to the re-auth page, nothing saved
    connector.refresh_from_db()
    assert crypto.decrypt(connector.credentials) == {"secret": WEBHOOK_SECRET}
    assert not LogEntry.objects.filter(additional_data__event="credentials.replaced").exists()


def test_the_api_asks_a_stale_session_to_sign_in_again_before_replacing_credentials(personas):
    connector = webhook_connector(owner=personas["engineer"])
    client = APIClient()
    client.force_login(personas["engineer"])
    url = f"/api/v1/connectors/{connector.pk}/"
    new = {"credentials": {"secret": "a-new-secret-of-enough-length-000"}}
    stale(client)
    response = client.patch(url, new, format="json")
    assert response.status_code == 403 and "/accounts/reauth/" in response.json()["detail"]
    assert client.patch(url, {"enabled": False}, format="json").status_code == 200  # other changes need no re-auth
    connector.refresh_from_db()
    assert crypto.decrypt(connector.credentials) == {"secret": WEBHOOK_SECRET}

    fresh = APIClient()
    fresh.force_login(personas["engineer"])
    assert fresh.patch(url, new, format="json").status_code == 200
    event = LogEntry.objects.get(additional_data__event="credentials.replaced")
    assert (event.actor, event.additional_data["fields"], event.object_pk) == (
        personas["engineer"],
        ["secret"],
        str(connector.pk),
    )
    assert "a-new-secret" not in json.dumps([event.changes, event.additional_data, event.serialized_data])
