"""Sign-in steps after the password: the second factor, its setup, and re-authentication."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import FormView
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.events import record_event

from . import reauth, two_factor
from .auth_forms import OTPCodeForm, ReauthForm, TOTPSetupForm

SETUP_SESSION_KEY = "junction_totp_setup"


class NextUrlMixin:
    """Where to go afterwards: the ``next`` parameter when it stays on this site, else home."""

    def next_url(self) -> str:
        candidate = self.request.POST.get("next") or self.request.GET.get("next") or ""
        allowed = url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        )
        return candidate if allowed else "/"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"next": self.next_url()}


class ReauthView(LoginRequiredMixin, NextUrlMixin, FormView):
    """The password or an authenticator code again, before a sensitive action (``accounts/reauth.py``)."""

    template_name = "accounts/reauth.html"
    form_class = ReauthForm

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {"request": self.request}

    def form_valid(self, form):
        reauth.mark_authenticated(self.request)
        record_event("reauth.succeeded", request=self.request, target=self.request.user, method=form.method)
        return redirect(self.next_url())

    def form_invalid(self, form):
        record_event("reauth.failed", request=self.request, target=self.request.user)
        return super().form_invalid(form)


class TwoFactorVerifyView(LoginRequiredMixin, NextUrlMixin, FormView):
    """The second sign-in step: a TOTP code or a recovery code."""

    template_name = "accounts/two_factor_verify.html"
    form_class = OTPCodeForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.session.get(two_factor.STEP_SESSION_KEY) != "verify":
            return redirect(self.next_url())
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        method = two_factor.verify(self.request, form.cleaned_data["code"])
        if method is None:
            record_event("2fa.failed", request=self.request, target=self.request.user)
            form.add_error("code", "That code is not valid (or was already used). Try the next one from your app.")
            return self.form_invalid(form)
        reauth.mark_authenticated(self.request)
        record_event("2fa.verified", request=self.request, target=self.request.user, method=method)
        if method == "recovery_code":
            left = two_factor.remaining_recovery_codes(self.request.user)
            messages.warning(
                self.request, f"You used a recovery code; {left} left. Make new ones on the Security page."
            )
        return redirect(self.next_url())


class TwoFactorSetupView(LoginRequiredMixin, reauth.RecentAuthRequiredMixin, NextUrlMixin, FormView):
    """Set up (or replace) TOTP: QR code and key, then a code from the app; shows new recovery codes once."""

    template_name = "accounts/two_factor_setup.html"
    form_class = TOTPSetupForm

    def device(self) -> TOTPDevice:
        """The unconfirmed device of this setup, kept across the GET and the POST."""
        pk = self.request.session.get(SETUP_SESSION_KEY)
        device = TOTPDevice.objects.filter(pk=pk, user=self.request.user, confirmed=False).first() if pk else None
        if device is None:
            device = two_factor.start_setup(self.request.user)
            self.request.session[SETUP_SESSION_KEY] = device.pk
        return device

    def get_context_data(self, **kwargs):
        device = self.device()
        return super().get_context_data(**kwargs) | {
            "qr_svg": two_factor.qr_svg(device),
            "secret": two_factor.secret_base32(device),
            "required": two_factor.requires_two_factor(self.request.user),
            "replacing": two_factor.has_two_factor(self.request.user),
        }

    def form_valid(self, form):
        codes = two_factor.confirm_setup(self.request, self.device(), form.cleaned_data["code"])
        if codes is None:
            form.add_error("code", "That code does not match. Check the app shows Junction's new key and try again.")
            return self.form_invalid(form)
        self.request.session.pop(SETUP_SESSION_KEY, None)
        reauth.mark_authenticated(self.request)
        return render(self.request, "accounts/recovery_codes.html", {"codes": codes, "next": self.next_url()})
