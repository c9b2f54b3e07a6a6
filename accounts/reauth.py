"""Re-authentication ("sudo mode") before sensitive actions.

Viewing or replacing credentials, granting permissions, creating API tokens:
a session left open on an unattended desk must not be enough for those. A
person whose last authentication (the login, the second factor, or a re-auth)
is older than ``JUNCTION_REAUTH_SECONDS`` is asked for their password or a TOTP
code again at ``/accounts/reauth/``, then sent back.

Three ways to require it, one per kind of view:

- ``@recent_auth_required`` on a function view,
- ``RecentAuthRequiredMixin`` on a class-based view (put it first, before
  ``LoginRequiredMixin`` or any mixin that decides permissions),
- ``RecentAuthRequired`` in a DRF view's ``permission_classes``: session-
  authenticated API requests get a 403 naming the re-auth page; token-
  authenticated ones pass (the token is presented with every request and can
  only be created after a recent authentication).

The time lives in the session (``SESSION_KEY``, seconds since the epoch);
``mark_authenticated`` sets it and is called on every login (signal) and
after a successful second factor or re-auth.
"""

import time
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from rest_framework.permissions import BasePermission

SESSION_KEY = "junction_auth_at"


def reauth_seconds() -> int:
    return getattr(settings, "JUNCTION_REAUTH_SECONDS", 300)


def mark_authenticated(request) -> None:
    """Record that the person proved who they are just now (login, second factor, re-auth)."""
    request.session[SESSION_KEY] = int(time.time())


def has_recent_auth(request) -> bool:
    """True when the session's last authentication is within ``JUNCTION_REAUTH_SECONDS``."""
    session = getattr(request, "session", None)
    authenticated_at = session.get(SESSION_KEY) if session is not None else None
    if authenticated_at is None:
        return False
    return time.time() - authenticated_at <= reauth_seconds()


def reauth_url(next_url: str) -> str:
    return f"{reverse('reauth')}?{urlencode({'next': next_url})}"


def reauth_response(request) -> HttpResponse:
    """Send the person to the re-auth page and back to where they were afterwards.

    htmx requests get an ``HX-Redirect`` so the whole page moves, not a fragment.
    """
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    # After re-auth a GET of the same address shows the form again; a POST's body is not replayed.
    back_to = request.get_full_path()
    if getattr(request, "htmx", False):
        back_to = request.htmx.current_url_abs_path or back_to
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reauth_url(back_to)
        return response
    return redirect(reauth_url(back_to))


def recent_auth_required(view):
    """Decorator for function views: re-authenticate if the last authentication is too old."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated and has_recent_auth(request):
            return view(request, *args, **kwargs)
        return reauth_response(request)

    return wrapper


class RecentAuthRequiredMixin:
    """Mixin for class-based views; list it first so it runs before any other ``dispatch``."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and has_recent_auth(request):
            return super().dispatch(request, *args, **kwargs)
        return reauth_response(request)


class RecentAuthRequired(BasePermission):
    """DRF permission: session-authenticated requests need a recent authentication; token ones pass."""

    message = (
        "This action needs a recent authentication: sign in again at /accounts/reauth/ "
        "(password or authenticator code), then retry within a few minutes."
    )

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        # SessionAuthentication leaves request.auth None; token authentication sets it to the token.
        if request.auth is not None:
            return True
        return has_recent_auth(request._request)
