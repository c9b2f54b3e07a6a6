"""Sudo mode: sensitive actions ask again for the password or a TOTP code after JUNCTION_REAUTH_SECONDS."""

import time

import pytest
from auditlog.models import LogEntry
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.views import View
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from accounts import reauth
from accounts.tests.factories import PASSWORD
from accounts.tests.otp import code_for, give_totp
from accounts.tokens import create_token

pytestmark = pytest.mark.django_db
REAUTH = reverse("reauth")


def events(name):
    return LogEntry.objects.filter(additional_data__event=name)


def make_stale(client):
    session = client.session
    session[reauth.SESSION_KEY] = int(time.time()) - 301
    session.save()


def request_for(user, authenticated_at=None):
    """A request with a session, as the middleware would hand it to a view."""
    from django.contrib.sessions.backends.db import SessionStore

    request = RequestFactory().get("/integrations/connectors/1/credentials/?tab=x")
    request.user, request.session = user, SessionStore()
    if authenticated_at is not None:
        request.session[reauth.SESSION_KEY] = authenticated_at
    return request


@reauth.recent_auth_required
def guarded(request):
    return HttpResponse("secret page")


class GuardedView(reauth.RecentAuthRequiredMixin, View):
    def get(self, request):
        return HttpResponse("secret page")


class GuardedAPI(APIView):
    permission_classes = [reauth.RecentAuthRequired]

    def get(self, request):
        return HttpResponse("secret data")


@pytest.mark.parametrize("view", [guarded, GuardedView.as_view()], ids=["decorator", "mixin"])
def test_pages_pass_with_a_recent_login_and_send_stale_sessions_to_reauth(personas, view):
    fresh = view(request_for(personas["engineer"], authenticated_at=int(time.time()) - 10))
    assert fresh.status_code == 200 and fresh.content == b"secret page"

    stale = view(request_for(personas["engineer"], authenticated_at=int(time.time()) - 301))
    assert stale.status_code == 302
    assert stale["Location"] == f"{REAUTH}?next=%2Fintegrations%2Fconnectors%2F1%2Fcredentials%2F%3Ftab%3Dx"

    never = view(request_for(personas["engineer"]))
    assert never.status_code == 302 and never["Location"].startswith(REAUTH)


def test_the_window_is_a_setting(personas, settings):
    settings.JUNCTION_REAUTH_SECONDS = 3600
    assert guarded(request_for(personas["engineer"], authenticated_at=int(time.time()) - 1800)).status_code == 200


def test_api_refuses_a_stale_session_with_a_clear_403_and_lets_tokens_through(personas):
    factory = APIRequestFactory()
    request = factory.get("/api/v1/x/")
    request.session = request_for(personas["engineer"], authenticated_at=int(time.time()) - 301).session
    force_authenticate(request, user=personas["engineer"])
    response = GuardedAPI.as_view()(request)
    assert response.status_code == 403
    assert "/accounts/reauth/" in response.data["detail"]

    token, _secret = create_token(personas["engineer"], "script")
    request = factory.get("/api/v1/x/")
    force_authenticate(request, user=personas["engineer"], token=token)
    assert GuardedAPI.as_view()(request).status_code == 200


def test_login_sets_the_authentication_time(client, personas):
    client.post(reverse("login"), {"username": "viewer", "password": PASSWORD})
    assert time.time() - client.session[reauth.SESSION_KEY] < 60


def test_reauth_with_the_password_sends_back_and_is_audited(client_for, personas):
    client = client_for(personas["engineer"])
    make_stale(client)
    page = client.get(f"{REAUTH}?next=/integrations/connectors/")
    assert page.status_code == 200 and b"Password or authenticator code" in page.content

    wrong = client.post(REAUTH, {"secret": "not-my-password", "next": "/integrations/connectors/"})
    assert wrong.status_code == 200
    assert wrong.context["form"].errors["secret"] == ["That is not your password or a current code."]
    assert events("reauth.failed").get().actor == personas["engineer"]
    assert not events("login.failed").exists(), "a re-auth failure is not a failed sign-in"

    ok = client.post(REAUTH, {"secret": PASSWORD, "next": "/integrations/connectors/"})
    assert ok.status_code == 302 and ok["Location"] == "/integrations/connectors/"
    assert reauth.has_recent_auth(type("R", (), {"session": client.session})())
    entry = events("reauth.succeeded").get()
    assert entry.actor == personas["engineer"] and entry.additional_data["method"] == "password"


def test_reauth_with_a_totp_code(client_for, personas):
    device = give_totp(personas["viewer"])
    client = client_for(personas["viewer"])
    make_stale(client)
    code = code_for(device)
    response = client.post(REAUTH, {"secret": code, "next": "/"})
    assert response.status_code == 302
    assert events("reauth.succeeded").get().additional_data["method"] == "totp"
    # The same code cannot be used twice (django-otp's replay protection). The very same string:
    # computing it again could land in the next 30-second step and give a new, valid code.
    make_stale(client)
    assert client.post(REAUTH, {"secret": code, "next": "/"}).status_code == 200


def test_reauth_never_redirects_off_site(client_for, personas):
    client = client_for(personas["engineer"])
    response = client.post(REAUTH, {"secret": PASSWORD, "next": "https://evil.example.com/"})
    assert response["Location"] == "/"


def test_anonymous_is_sent_to_login(client):
    assert client.get(REAUTH)["Location"].startswith(reverse("login"))
