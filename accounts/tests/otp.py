"""Test helpers for two-factor authentication: a known TOTP key, codes from it, verified sessions.

Administrators must use TOTP (JUNCTION_REQUIRE_ADMIN_2FA, on in tests as in
production), so ``UserFactory(role=Role.ADMINISTRATOR)`` gives them a confirmed
device with ``TEST_TOTP_KEY`` and ``client_for`` marks their session verified,
as the second sign-in step would.
"""

import time

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor

TEST_TOTP_KEY = "3132333435363738393031323334353637383930"  # test-only: RFC 6238's sample key, hex


def give_totp(user, key: str = TEST_TOTP_KEY) -> TOTPDevice:
    """A confirmed authenticator-app device for ``user``."""
    return TOTPDevice.objects.create(user=user, name=two_factor.TOTP_DEVICE_NAME, key=key, confirmed=True)


def code_for(device: TOTPDevice, at: float | None = None) -> str:
    """The code the app shows now (or at ``at``), six digits."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"


def fresh_code(user) -> str:
    """A code ``user``'s device will accept now, even if this time step's code was used already.

    django-otp refuses a code twice (replay protection) and, after a wrong code,
    any code for a growing pause (throttling); tests that sign in several times
    within 30 seconds, or right after a wrong code, forget both, nothing else.
    """
    device = two_factor.totp_device(user)
    TOTPDevice.objects.filter(pk=device.pk).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    return code_for(device)


def verify_session(client, user) -> None:
    """Mark ``client``'s session as having passed the second factor (after ``force_login``)."""
    device = two_factor.totp_device(user)
    if device is None:
        return
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[two_factor.STEP_SESSION_KEY] = ""
    session.save()
