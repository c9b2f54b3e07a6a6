"""Forms of the sign-in steps, the re-auth page, the Security page and API tokens."""

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.validators import MaxValueValidator

from . import two_factor


class ReauthForm(forms.Form):
    """The password again, or a code from the authenticator app."""

    secret = forms.CharField(
        label="Password or authenticator code",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, request, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.method = None

    def clean_secret(self):
        secret, user = self.cleaned_data["secret"], self.request.user
        code = "".join(secret.split())
        # A 6-digit secret can only be a code: passwords must be 12+ characters and not all digits.
        device = two_factor.totp_device(user) if code.isdigit() and len(code) == 6 else None
        if device is not None:
            if device.verify_token(code):
                self.method = "totp"
                return secret
        else:
            # Through authenticate() so django-axes counts failures here as on the login page.
            self.request.junction_reauth = True
            checked = authenticate(self.request, username=user.get_username(), password=secret)
            if checked is not None and checked.pk == user.pk:
                self.method = "password"
                return secret
        raise forms.ValidationError("That is not your password or a current code.", code="invalid")


class OTPCodeForm(forms.Form):
    """The second sign-in step: a code from the authenticator app, or a recovery code."""

    code = forms.CharField(
        label="Authentication code",
        max_length=32,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "text"}),
    )


class TOTPSetupForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=8,
        help_text="Scan the QR code (or type the key) into your authenticator app, then enter the 6 digits it shows.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=64, help_text="What the token is for, e.g. “nightly BI export”. You will see it in the list."
    )
    expires_in_days = forms.IntegerField(
        label="Expires in (days)",
        min_value=1,
        initial=lambda: settings.JUNCTION_API_TOKEN_DAYS,
        help_text="",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["expires_in_days"]
        field.max_value = settings.JUNCTION_API_TOKEN_MAX_DAYS
        field.validators.append(MaxValueValidator(settings.JUNCTION_API_TOKEN_MAX_DAYS))
        field.widget.attrs["max"] = settings.JUNCTION_API_TOKEN_MAX_DAYS
        field.help_text = f"At most {settings.JUNCTION_API_TOKEN_MAX_DAYS} days; create a new token before it ends."
