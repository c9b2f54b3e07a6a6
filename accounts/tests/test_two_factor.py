"""Two-factor authentication: required for Administrators, optional for others, recovery codes, resets."""

import re

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.tests.factories import PASSWORD
from accounts.tests.otp import code_for, fresh_code, give_totp

pytestmark = pytest.mark.django_db
LOGIN, VERIFY, SETUP, SECURITY = (reverse(n) for n in ("login", "two_factor_verify", "two_factor_setup", "security"))


def sign_in(client, username):
    return client.post(LOGIN, {"username": username, "password": PASSWORD, "next": "/integrations/systems/"})


def events(name):
    return LogEntry.objects.filter(additional_data__event=name)


def test_a_person_with_totp_enters_a_code_before_any_page(client, personas):
    response = sign_in(client, "admin")
    assert response.status_code == 302
    page = client.get("/integrations/systems/")
    assert page.status_code == 302 and page["Location"].startswith(VERIFY)
    assert client.get("/api/v1/systems/").status_code == 403  # the API on this session refuses too
    assert client.get("/admin/").status_code == 302

    wrong = client.post(VERIFY, {"code": "000000", "next": "/integrations/systems/"})
    assert "That code is not valid" in wrong.content.decode()
    assert events("2fa.failed").get().actor == personas["admin"]

    ok = client.post(VERIFY, {"code": fresh_code(personas["admin"]), "next": "/integrations/systems/"})
    assert ok["Location"] == "/integrations/systems/"
    assert client.get("/integrations/systems/").status_code == 200
    assert client.get("/api/v1/systems/").status_code == 200
    assert events("2fa.verified").get().additional_data["method"] == "totp"


def test_an_administrator_without_totp_must_set_it_up_first(client, personas):
    TOTPDevice.objects.filter(user=personas["admin"]).delete()
    sign_in(client, "admin")
    page = client.get("/integrations/systems/")
    assert page.status_code == 302 and page["Location"].startswith(SETUP)
    assert client.get(SECURITY)["Location"].startswith(SETUP)
    assert client.get("/api/v1/systems/").status_code == 403

    setup = client.get(SETUP)
    assert setup.status_code == 200 and b"<svg" in setup.content
    assert not re.search(rb"<script(?![^>]*\bsrc=)", setup.content), "no inline script (strict CSP)"
    device = TOTPDevice.objects.get(user=personas["admin"], confirmed=False)
    assert setup.context["secret"] == two_factor.secret_base32(device)

    assert b"does not match" in client.post(SETUP, {"code": "123456"}).content
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)  # a person would wait a moment
    done = client.post(SETUP, {"code": code_for(device), "next": "/integrations/systems/"})
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/integrations/systems/").status_code == 200
    assert events("2fa.enabled").get().actor == personas["admin"]
    assert not any(code in str(e.additional_data) for e in LogEntry.objects.all() for code in codes)


def test_others_may_sign_in_without_2fa(client, personas):
    sign_in(client, "viewer")
    assert client.get("/integrations/systems/").status_code == 200


def test_the_requirement_is_a_setting(client, personas, settings):
    settings.JUNCTION_REQUIRE_ADMIN_2FA = False
    TOTPDevice.objects.filter(user=personas["admin"]).delete()
    sign_in(client, "admin")
    assert client.get("/integrations/systems/").status_code == 200


def test_someone_owing_a_code_cannot_replace_the_device(client, personas):
    sign_in(client, "admin")
    assert client.get(SETUP)["Location"].startswith(VERIFY)
    assert client.post(SETUP, {"code": "123456"})["Location"].startswith(VERIFY)


def test_recovery_codes_work_once_each(client, client_for, personas):
    device = give_totp(personas["steward"])
    codes = two_factor._new_recovery_codes(personas["steward"])
    assert device.confirmed

    sign_in(client, "steward")
    assert client.post(VERIFY, {"code": codes[0].upper(), "next": "/"})["Location"] == "/"
    assert events("2fa.verified").get().additional_data["method"] == "recovery_code"
    assert two_factor.remaining_recovery_codes(personas["steward"]) == 9

    client.post(reverse("logout"))
    sign_in(client, "steward")
    assert client.post(VERIFY, {"code": codes[0], "next": "/"}).status_code == 200  # used up
    # A wrong code pauses the device a moment (django-otp's throttling); a person would wait.
    StaticDevice.objects.filter(user=personas["steward"]).update(throttling_failure_count=0)
    assert client.post(VERIFY, {"code": codes[1], "next": "/"}).status_code == 302


def test_optional_2fa_from_the_security_page_and_turning_it_off(client_for, personas):
    client = client_for(personas["viewer"])
    assert b"Set up two-factor authentication" in client.get(SECURITY).content
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=personas["viewer"])
    client.post(SETUP, {"code": code_for(device)})
    page = client.get(SECURITY).content.decode()
    assert "10 recovery codes left" in page and "Turn off" in page

    regenerated = client.post(reverse("recovery_codes")).context["codes"]
    assert len(regenerated) == 10 and events("2fa.recovery_codes_regenerated").exists()

    client.post(reverse("two_factor_disable"))
    assert not two_factor.has_two_factor(personas["viewer"])
    assert two_factor.remaining_recovery_codes(personas["viewer"]) == 0
    assert events("2fa.disabled").get().actor == personas["viewer"]


def test_administrators_cannot_turn_it_off(client_for, personas):
    client = client_for(personas["admin"])
    response = client.post(reverse("two_factor_disable"), follow=True)
    assert b"you can replace it, not turn it off" in response.content
    assert two_factor.has_two_factor(personas["admin"])


def test_reset_2fa_command_and_admin_action_are_audited(client_for, personas):
    give_totp(personas["steward"])
    call_command("reset_2fa", "steward")
    assert not two_factor.has_two_factor(personas["steward"])
    assert events("2fa.reset").get().additional_data["had_two_factor"] is True

    give_totp(personas["engineer"])
    client = client_for(personas["admin"])
    changelist = reverse("admin:auth_user_changelist")
    client.post(changelist, {"action": "reset_two_factor", "_selected_action": [personas["engineer"].pk]})
    assert not two_factor.has_two_factor(personas["engineer"])
    entry = events("2fa.reset").order_by("-pk").first()
    assert entry.actor == personas["admin"] and entry.object_pk == str(personas["engineer"].pk)
