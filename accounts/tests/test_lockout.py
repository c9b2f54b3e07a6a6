"""Login throttling (django-axes): a username+address pair is paused after repeated failures, audited."""

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.urls import reverse

from accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = reverse("login")


def events(name):
    return LogEntry.objects.filter(additional_data__event=name)


def attempt(client, password, address="192.0.2.10", username="viewer"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_sign_ins_are_audited(client, personas):
    assert attempt(client, "wrong-password").status_code == 200
    failed = events("login.failed").get()
    assert failed.actor is None and failed.additional_data["username"] == "viewer"
    assert failed.object_pk == str(personas["viewer"].pk) and failed.remote_addr == "192.0.2.10"
    assert "wrong-password" not in str(failed.additional_data)

    assert attempt(client, PASSWORD).status_code == 302
    assert events("login.succeeded").get().actor == personas["viewer"]
    client.post(reverse("logout"))
    assert events("logout").get().actor == personas["viewer"]


def test_lockout_after_the_limit_for_that_username_from_that_address(client, personas, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "wrong-password").status_code == 200
    locked = attempt(client, "wrong-password")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Sign-in paused" in page and "30 minutes" in page
    # Even the right password is refused now, from this address...
    assert attempt(client, PASSWORD).status_code == 429
    assert events("login.locked_out").filter(additional_data__username="viewer").exists()
    assert events("login.locked_out").first().additional_data["ip"] == "192.0.2.10"
    # ...but not from another one (a colleague behind another address), nor for another username.
    assert attempt(client, PASSWORD, address="192.0.2.99").status_code == 302
    client.post(reverse("logout"))
    assert attempt(client, PASSWORD, username="auditor").status_code == 302


def test_an_administrator_unlocks_with_axes_commands(client, personas, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong-password")
    assert attempt(client, PASSWORD).status_code == 429
    call_command("axes_reset_username", "viewer")
    assert events("login.lockout_cleared").get().additional_data["username"] == "viewer"
    assert attempt(client, PASSWORD).status_code == 302


def test_unknown_usernames_are_recorded_too(client, db):
    attempt(client, "whatever", username="mallory")
    entry = events("login.failed").get()
    assert entry.object_repr == "mallory" and entry.object_pk == ""
