"""Signing in, in a real browser: an Administrator made to set up TOTP, recovery codes, and a lockout.

Codes are computed from the key the page shows, as an authenticator app would.
Screenshots land in ``tests/artifacts/`` (git-ignored).
"""

import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def app_code(secret_b32: str) -> str:
    """What an authenticator app shows for the key typed from the setup page."""
    padded = secret_b32 + "=" * (-len(secret_b32) % 8)
    totp = TOTP(b32decode(padded))
    totp.time = time.time()
    return f"{totp.token():06d}"


def submit_password(page, live_server, username, password=PASSWORD):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def test_administrator_sets_up_totp_then_signs_in_with_a_recovery_code(page, live_server, personas, console_errors):
    TOTPDevice.objects.filter(user=personas["admin"]).delete()  # a new Administrator, no app yet

    submit_password(page, live_server, "admin")
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/setup/?next=%2F")
    expect(page.get_by_test_id("two-factor-required")).to_be_visible()
    expect(page.locator(".jn-qr svg")).to_be_visible()
    # Other pages stay closed until it is done.
    page.goto(f"{live_server.url}/integrations/systems/")
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/setup/?next=%2Fintegrations%2Fsystems%2F")
    screenshot(page, "sign-in-totp-setup")

    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    page.get_by_label("Code from the app").fill(app_code(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.get_by_test_id("recovery-codes").get_by_role("listitem").all_inner_texts()
    assert len(codes) == 10
    screenshot(page, "sign-in-recovery-codes")
    page.get_by_role("link", name="I have saved them, continue").click()
    expect(page).to_have_url(f"{live_server.url}/integrations/systems/")

    page.get_by_test_id("whoami").click()
    page.get_by_test_id("account-menu").get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live_server.url}/login/")

    # Phone lost: the password, then a recovery code.
    submit_password(page, live_server, "admin")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    screenshot(page, "sign-in-verify")
    page.get_by_label("Authentication code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("alert").filter(has_text="You used a recovery code; 9 left")).to_be_visible()

    page.get_by_test_id("whoami").click()
    page.get_by_test_id("account-menu").get_by_role("link", name="Security").click()
    expect(page.get_by_test_id("two-factor-card")).to_contain_text("9 recovery codes left")
    screenshot(page, "security-page")
    assert console_errors == []


def test_repeated_failures_lock_the_username_out_from_this_address(page, live_server, personas, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        submit_password(page, live_server, "viewer", "not-the-password")
        expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username and password")
    submit_password(page, live_server, "viewer", "not-the-password")
    expect(page.get_by_test_id("locked-out")).to_contain_text("Sign-in paused")
    screenshot(page, "sign-in-locked-out")
    # The right password is refused too until the pause ends or an administrator unlocks.
    submit_password(page, live_server, "viewer")
    expect(page.get_by_test_id("locked-out")).to_be_visible()
