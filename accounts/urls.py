from django.contrib.auth import views as auth_views
from django.urls import path

from . import auth_views as steps
from . import security_views as security

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("account/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # Sign-in steps after the password, and re-authentication before sensitive actions.
    path("accounts/2fa/verify/", steps.TwoFactorVerifyView.as_view(), name="two_factor_verify"),
    path("accounts/2fa/setup/", steps.TwoFactorSetupView.as_view(), name="two_factor_setup"),
    path("accounts/reauth/", steps.ReauthView.as_view(), name="reauth"),
    # The Security page: 2FA, recovery codes, API tokens.
    path("accounts/security/", security.SecurityView.as_view(), name="security"),
    path("accounts/security/recovery-codes/", security.RecoveryCodesView.as_view(), name="recovery_codes"),
    path("accounts/security/2fa/disable/", security.TwoFactorDisableView.as_view(), name="two_factor_disable"),
    path("accounts/security/tokens/new/", security.ApiTokenCreateView.as_view(), name="token_create"),
    path("accounts/security/tokens/<int:pk>/revoke/", security.ApiTokenRevokeView.as_view(), name="token_revoke"),
]
