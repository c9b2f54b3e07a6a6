"""Create one demo user per role for local development.

Passwords are random, generated once, and kept in ``$JUNCTION_VAR_DIR/demo-credentials.txt``
(mode 0600, git-ignored); nothing is hard-coded. The command refuses to run
unless DJANGO_DEBUG is on, so a production database never gets demo accounts.
"""

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

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
        write_credentials(path, credentials)
        self.stdout.write("Demo users (one per role):")
        for username, role in DEMO_USERS.items():
            self.stdout.write(f"  {username:<10} {role.value}")
        self.stdout.write(f"Their passwords are in {path} (generated once, readable only by you).")
