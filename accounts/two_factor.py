"""Two-factor authentication with TOTP and recovery codes (django-otp).

One confirmed ``TOTPDevice`` per person (an authenticator app) and one
``StaticDevice`` holding their recovery codes (each usable once). Administrators
must have TOTP (``JUNCTION_REQUIRE_ADMIN_2FA``, on by default); everyone else
may. Every change is an access event in the audit trail; codes and secrets
never are.
"""

from base64 import b32encode

import segno
from django.conf import settings
from django.db import transaction
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.events import record_event

from .roles import Role

RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "Recovery codes"
TOTP_DEVICE_NAME = "Authenticator app"
# Cached in the session at login: "verify" (has TOTP, must enter a code), "setup" (must create one) or "".
STEP_SESSION_KEY = "junction_2fa_step"


def requires_two_factor(user) -> bool:
    """Administrators (and superusers) must use 2FA unless JUNCTION_REQUIRE_ADMIN_2FA is off."""
    if not getattr(settings, "JUNCTION_REQUIRE_ADMIN_2FA", True):
        return False
    return user.is_superuser or user.groups.filter(name=Role.ADMINISTRATOR).exists()


def totp_device(user, confirmed=True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("pk").first()


def has_two_factor(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_step(user) -> str:
    """What a freshly signed-in ``user`` must do before anything else: "verify", "setup" or ""."""
    if has_two_factor(user):
        return "verify"
    return "setup" if requires_two_factor(user) else ""


def remember_step(request, user) -> None:
    request.session[STEP_SESSION_KEY] = pending_step(user)


def start_setup(user) -> TOTPDevice:
    """An unconfirmed TOTP device with a fresh secret; it counts only once a code from it is entered."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)


def secret_base32(device: TOTPDevice) -> str:
    """The secret as authenticator apps want it typed (base32, no padding)."""
    return b32encode(device.bin_key).decode().rstrip("=")


def qr_svg(device: TOTPDevice) -> str:
    """The device's ``otpauth://`` URI as an inline SVG QR code (no script, no external image)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, border=2, dark="#212529")


@transaction.atomic
def confirm_setup(request, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm ``device`` with a code from the app; return new recovery codes, or None if the code is wrong.

    Any earlier TOTP device is replaced; the session counts as verified by the new one.
    """
    if not device.verify_token(code):
        return None
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(device.user)
    otp_login(request, device)
    request.session[STEP_SESSION_KEY] = ""
    record_event("2fa.enabled", actor=device.user, target=device.user, request=request)
    return codes


def verify(request, code: str) -> str | None:
    """Check a TOTP or recovery code for the signed-in user; on success mark the session verified.

    Returns "totp" or "recovery_code", or None. Both devices are throttled by django-otp
    (each failure doubles the wait), so codes cannot be guessed quickly.
    """
    user = request.user
    code = "".join(code.split()).lower()
    device, method = totp_device(user), "totp"
    if not (device and code.isdigit() and device.verify_token(code)):
        device, method = StaticDevice.objects.filter(user=user, name=RECOVERY_DEVICE_NAME).first(), "recovery_code"
        if not (device and device.verify_token(code)):
            return None
    otp_login(request, device)
    request.session[STEP_SESSION_KEY] = ""
    return method


def regenerate_recovery_codes(request) -> list[str]:
    """Replace the signed-in user's recovery codes with ten new ones (the old ones stop working)."""
    codes = _new_recovery_codes(request.user)
    record_event("2fa.recovery_codes_regenerated", actor=request.user, target=request.user, request=request)
    return codes


def remaining_recovery_codes(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY_DEVICE_NAME).count()


@transaction.atomic
def disable(request) -> None:
    """Remove the signed-in user's TOTP device and recovery codes (not allowed where 2FA is required)."""
    _delete_devices(request.user)
    request.session[STEP_SESSION_KEY] = pending_step(request.user)
    record_event("2fa.disabled", actor=request.user, target=request.user, request=request)


@transaction.atomic
def reset(user, *, actor=None, request=None) -> bool:
    """An administrator removes ``user``'s 2FA (lost phone and codes); returns whether there was any.

    The person sets TOTP up again at their next sign-in if their role requires it.
    """
    had = _delete_devices(user)
    record_event("2fa.reset", actor=actor, target=user, request=request, had_two_factor=had)
    return had


def _delete_devices(user) -> bool:
    deleted, _ = TOTPDevice.objects.filter(user=user).delete()
    deleted_static, _ = StaticDevice.objects.filter(user=user).delete()
    return bool(deleted or deleted_static)


def _new_recovery_codes(user) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes
