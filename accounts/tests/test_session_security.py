"""Sessions, cookies, CSRF and security headers as production serves them."""

import time

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authentication import SessionAuthentication

from accounts.middleware import IdleTimeoutMiddleware
from accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def tls_settings(settings):
    """What JUNCTION_TLS (on by default when DEBUG is off) sets; tests/test_settings.py checks the defaults."""
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    return settings


def test_headers_and_cookie_flags_on_a_page(client, personas, tls_settings):
    page = client.get(reverse("login"), secure=True)
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert page["X-Frame-Options"] == "DENY"
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Referrer-Policy"] == "same-origin"
    assert page["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = dict(part.strip().split(" ", 1) for part in page["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and "unsafe-inline" not in policy["style-src-elem"]
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"

    signed_in = client.post(reverse("login"), {"username": "viewer", "password": PASSWORD}, secure=True)
    session = signed_in.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


def test_an_idle_session_is_signed_out(client_for, personas, settings):
    client = client_for(personas["viewer"])
    assert client.get("/integrations/systems/").status_code == 200
    session = client.session
    session[IdleTimeoutMiddleware.SESSION_KEY] = int(time.time()) - settings.JUNCTION_SESSION_IDLE_SECONDS - 1
    session.save()
    response = client.get("/integrations/systems/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.get("/integrations/systems/")["Location"].startswith(reverse("login"))


def test_background_polling_does_not_keep_a_session_alive(client_for, personas):
    client = client_for(personas["viewer"])
    client.get("/")
    session = client.session
    seen = int(time.time()) - 120
    session[IdleTimeoutMiddleware.SESSION_KEY] = seen
    session.save()
    client.get("/", headers={"X-Junction-Background": "1"})
    assert client.session[IdleTimeoutMiddleware.SESSION_KEY] == seen
    client.get("/")
    assert client.session[IdleTimeoutMiddleware.SESSION_KEY] > seen


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


# Signed with HMAC by the sending system; no cookie, so nothing for CSRF to protect.
CSRF_EXEMPT_ALLOWED = {"InboundView"}


def test_csrf_everywhere():
    """Every view checks CSRF: Django's middleware, or DRF's SessionAuthentication for API views
    (DRF marks its views exempt and enforces CSRF itself for session-authenticated requests)."""
    for route, callback in walk(get_resolver().url_patterns):
        if not getattr(callback, "csrf_exempt", False):
            continue
        view_class = getattr(callback, "cls", None)
        assert view_class is not None, f"{route} is csrf_exempt"
        if view_class.__name__ in CSRF_EXEMPT_ALLOWED:
            continue
        sessions = [a for a in view_class.authentication_classes if issubclass(a, SessionAuthentication)]
        assert sessions or not view_class.authentication_classes, f"{route}: session auth without CSRF"
        assert all(a.enforce_csrf is SessionAuthentication.enforce_csrf for a in sessions), route
