"""Sign-in middleware: the second factor before anything else, and the idle timeout."""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse

from . import two_factor

# Pages a person between password and second factor may still reach, per step owed. Someone
# who owes a code must not reach the setup page: it would replace their device without one.
OPEN_DURING_SIGN_IN = {
    "verify": {"login", "logout", "two_factor_verify"},
    "setup": {"login", "logout", "reauth", "two_factor_setup"},
}


def _api_request(request) -> bool:
    return request.path.startswith("/api/")


def _send_to(request, url: str) -> HttpResponse:
    """A redirect; for htmx, one that moves the whole page rather than a fragment."""
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


class TwoFactorMiddleware:
    """Sends a signed-in person who owes a second factor to it, before any other page.

    "verify": they have TOTP but this session has not entered a code yet;
    "setup": their role requires 2FA (Administrators) and they have none yet.
    API requests on such a session get a 403 instead. Token-authenticated API
    requests carry no session and are not affected. After django-otp's
    OTPMiddleware, which tells whether the session is verified.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        step = self._pending_step(request)
        if step and not self._open(request, step):
            return self._refuse(request, step)
        return self.get_response(request)

    @staticmethod
    def _pending_step(request) -> str:
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return ""
        step = request.session.get(two_factor.STEP_SESSION_KEY)
        if step is None:  # a session from before 2FA existed, or a test's force_login
            two_factor.remember_step(request, user)
            step = request.session[two_factor.STEP_SESSION_KEY]
        return step

    @staticmethod
    def _open(request, step) -> bool:
        if request.path.startswith(settings.STATIC_URL):
            return True
        try:
            return resolve(request.path_info).url_name in OPEN_DURING_SIGN_IN[step]
        except Resolver404:
            return False

    @staticmethod
    def _refuse(request, step):
        if _api_request(request):
            detail = (
                "Two-factor authentication is required: finish signing in with your authenticator code "
                "(or set it up) in the browser, or use an API token."
            )
            return JsonResponse({"detail": detail}, status=403)
        name = "two_factor_verify" if step == "verify" else "two_factor_setup"
        return _send_to(request, f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")


class IdleTimeoutMiddleware:
    """Signs a person out after JUNCTION_SESSION_IDLE_SECONDS without a request.

    The last-seen time is written at most once a minute, so a busy page costs
    no session write per request. Requests sent by the page on its own (htmx
    polling marks them with ``X-Junction-Background: 1``) do not count as
    activity, so a dashboard left open still times out.
    """

    SESSION_KEY = "junction_seen_at"
    RESOLUTION = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now, seen = int(time.time()), request.session.get(self.SESSION_KEY)
            if seen is not None and now - seen > settings.JUNCTION_SESSION_IDLE_SECONDS:
                logout(request)
                if _api_request(request):
                    return JsonResponse({"detail": "Your session expired after inactivity: sign in again."}, status=401)
                messages.info(request, "You were signed out after a period of inactivity.")
                return _send_to(request, f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}")
            background = request.headers.get("X-Junction-Background") == "1"
            if seen is None or (not background and now - seen >= self.RESOLUTION):
                request.session[self.SESSION_KEY] = now
        return self.get_response(request)


def client_address(request) -> str | None:
    """The client address django-axes locks out: the same one the audit trail records."""
    from audit.middleware import AuditMiddleware

    return AuditMiddleware._get_remote_addr(request)
