"""Create one demo user per role for local development.

Passwords are random, generated once, and kept in ``$JUNCTION_VAR_DIR/demo-credentials.txt``
(mode 0600, git-ignored); nothing is hard-coded. The command refuses to run
unless DJANGO_DEBUG is on, so a production database never gets demo accounts.

Administrators must use two-factor authentication, the demo's too: ``admin``
gets an authenticator-app key, also random and generated once, kept in
``$JUNCTION_VAR_DIR/demo-totp.txt``. Add it to an app, or print the current code
with ``make demo-code`` (``manage.py demo_totp``).
"""

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from accounts import two_factor
from accounts.roles import STAFF_ROLES, Role

DEMO_USERS = {
    "admin": Role.ADMINISTRATOR,
    "engineer": Role.INTEGRATION_ENGINEER,
    "steward": Role.DATA_STEWARD,
    "auditor": Role.AUDITOR,
    "viewer": Role.VIEWER,
}


def credentials_path():
    return settings.VAR_DIR / "demo-credentials.txt"


def totp_path():
    return settings.VAR_DIR / "demo-totp.txt"


def read_totp_keys(path) -> dict[str, str]:
    """``{username: hex key}`` of the demo's authenticator-app keys."""
    return read_credentials(path)


def ensure_totp(user, keys: dict[str, str]) -> None:
    """A confirmed TOTP device for ``user``, its key kept in demo-totp.txt.

    A device the person set up again on the Security page wins over the file.
    """
    device = two_factor.totp_device(user)
    if device is None:
        device = two_factor.start_setup(user)
        device.key = keys.get(user.username, device.key)
        device.confirmed = True
        device.save()
    keys[user.username] = device.key


def read_credentials(path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split(":", 1) for line in path.read_text().splitlines() if ":" in line)
    return {user.strip(): password.strip() for user, password in pairs}


def write_credentials(path, credentials: dict[str, str]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.writelines(f"{user}: {password}\n" for user, password in credentials.items())


class Command(BaseCommand):
    help = "Create a demo user for every role (development only) and print where the passwords are."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo users are for local development only: set DJANGO_DEBUG=1 to create them.")
        path = credentials_path()
        credentials = read_credentials(path)
        keys = read_totp_keys(totp_path())
        User = get_user_model()
        for username, role in DEMO_USERS.items():
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@example.com", "first_name": role.value}
            )
            if created or username not in credentials:
                credentials[username] = secrets.token_urlsafe(12)
                user.set_password(credentials[username])
            user.is_staff = role in STAFF_ROLES
            user.save()
            user.groups.set([Group.objects.get(name=role.value)])
            if two_factor.requires_two_factor(user):
                ensure_totp(user, keys)
        write_credentials(path, credentials)
        write_credentials(totp_path(), keys)
        self.stdout.write("Demo users (one per role):")
        for username, role in DEMO_USERS.items():
            self.stdout.write(f"  {username:<10} {role.value}")
        self.stdout.write(f"Their passwords are in {path} (generated once, readable only by you).")
        for username in keys:
            self.stdout.write(
                f"{username} also needs a code from an authenticator app (Administrators must use 2FA): "
                f"`make demo-code` prints the current one (key in {totp_path()})."
            )
