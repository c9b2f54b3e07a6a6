"""Browser fixtures: one headless Chromium for all browser tests, a fresh page per test.

Debian's ``/usr/bin/chromium`` is driven by Playwright for Python; ``playwright
install`` is never run (it downloads a browser, and this network is closed).
The switches below keep Chromium from calling home, which on a closed network
floods the log with refused connections (see shared/stack-notes.md).

While Playwright's sync API is started it leaves an asyncio loop marked as
running on the main thread, so Django's async-safety check would refuse every
ORM call made there (the ``personas`` fixture, assertions on saved rows, the
database flush after each test). Tests here are plain synchronous code that
merely shares the thread, so the check is switched off exactly while
Playwright runs. That is also why the browser lives per *package*, not per
session: it stops after the last browser test, before any other app's tests
run on the same thread.
"""

import os
import re
from pathlib import Path

import pytest

from accounts.tests.factories import PASSWORD
from conftest import CHROMIUM

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",  # runs as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}  # a common laptop
TABLET = {"width": 768, "height": 1024}
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def live_server(request, django_db_setup):
    """pytest-django's live server, but with static files served as in production.

    pytest-django wraps the server in Django's ``StaticFilesHandler``, which
    looks files up with the finders and so 404s on the hashed names that the
    manifest storage (DEBUG off) writes into pages. Without that wrapper,
    WhiteNoise serves them from the collected ``STATIC_ROOT``, as it does in
    production.
    """
    from pytest_django.live_server_helper import LiveServer

    addr = request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    server = LiveServer(addr, start=False)
    server.thread.static_handler = _no_static_handler
    server.start()
    yield server
    server.stop()


def _no_static_handler(app):
    return app


@pytest.fixture(scope="package")
def chromium(django_db_setup, live_server, tmp_path_factory):
    """Playwright's handle on Debian's Chromium, with a fresh empty profile, for all browser tests.

    Requests the test database and the live server first, so both are set up
    before Playwright's loop starts and torn down after it stops.
    """
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(profile),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport=DESKTOP,
            )
            yield context
            context.close()


@pytest.fixture
def page(chromium):
    """A new tab with no cookies, closed after the test."""
    chromium.clear_cookies()
    tab = chromium.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    tab.set_viewport_size(DESKTOP)
    yield tab
    tab.close()


@pytest.fixture
def console_errors(page):
    """Console errors (CSP violations included) and uncaught exceptions seen by ``page``."""
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def login(page, live_server, username, password=PASSWORD):
    """Sign in through the real login form and wait for the page it leads to."""
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if "/accounts/2fa/verify/" in page.url:  # people with TOTP (every Administrator) owe a code
        from django.contrib.auth import get_user_model

        from accounts.tests.otp import fresh_code

        page.get_by_label("Authentication code").fill(fresh_code(get_user_model().objects.get(username=username)))
        with page.expect_navigation():
            page.get_by_role("button", name="Verify").click()


def menu_labels(page) -> list[str]:
    """The labels of the main menu's entries, in order."""
    texts = page.get_by_test_id("main-nav").get_by_role("link").all_inner_texts()
    return [re.sub(r"\s+", " ", text).strip() for text in texts]


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG under ``tests/artifacts/`` (git-ignored) and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
