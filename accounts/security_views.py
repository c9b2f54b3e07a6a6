"""The Security page: a person's two-factor authentication and API tokens."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views import View
from django.views.generic import TemplateView

from . import reauth, tokens, two_factor
from .auth_forms import ApiTokenForm

SECURITY_URL = reverse_lazy("security")


class SecurityView(LoginRequiredMixin, TemplateView):
    template_name = "accounts/security.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(**kwargs) | {
            "has_two_factor": two_factor.has_two_factor(user),
            "required": two_factor.requires_two_factor(user),
            "recovery_codes_left": two_factor.remaining_recovery_codes(user),
            "tokens": tokens.live_tokens(user),
            "token_form": kwargs.get("token_form") or ApiTokenForm(),
        }


class RecoveryCodesView(reauth.RecentAuthRequiredMixin, LoginRequiredMixin, View):
    """POST: ten new recovery codes, shown once; the old ones stop working."""

    def post(self, request):
        if not two_factor.has_two_factor(request.user):
            messages.error(request, "Set up an authenticator app first; recovery codes stand in for it.")
            return redirect(SECURITY_URL)
        codes = two_factor.regenerate_recovery_codes(request)
        return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": SECURITY_URL})


class TwoFactorDisableView(reauth.RecentAuthRequiredMixin, LoginRequiredMixin, View):
    def post(self, request):
        if two_factor.requires_two_factor(request.user):
            messages.error(
                request, "Your role requires two-factor authentication: you can replace it, not turn it off."
            )
        else:
            two_factor.disable(request)
            messages.success(request, "Two-factor authentication is off. Your recovery codes no longer work.")
        return redirect(SECURITY_URL)


class ApiTokenCreateView(reauth.RecentAuthRequiredMixin, LoginRequiredMixin, View):
    """POST: a new token for oneself; its secret is shown on the response page only."""

    def get(self, request):
        return redirect(SECURITY_URL)

    def post(self, request):
        form = ApiTokenForm(request.POST)
        if not form.is_valid():
            page = SecurityView(request=request, kwargs={})
            return render(request, page.template_name, page.get_context_data(token_form=form), status=400)
        token, secret = tokens.create_token(
            request.user, form.cleaned_data["name"], form.cleaned_data["expires_in_days"], request=request
        )
        return render(request, "accounts/token_created.html", {"token": token, "secret": secret})


class ApiTokenRevokeView(LoginRequiredMixin, View):
    """POST: revoke one's own token (Administrators: anyone's, also from the admin)."""

    def post(self, request, pk):
        token = get_object_or_404(tokens.tokens_revocable_by(request.user), pk=pk)
        tokens.revoke_token(token, request=request)
        messages.success(request, f"Token “{token.name}” is revoked.")
        return redirect(SECURITY_URL)
