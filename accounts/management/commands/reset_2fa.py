"""Reset a person's two-factor authentication (lost phone and recovery codes)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts import two_factor
from audit.context import acting_as


class Command(BaseCommand):
    help = (
        "Remove a person's authenticator app and recovery codes, recorded in the audit trail. "
        "Administrators set TOTP up again at their next sign-in."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        with acting_as(None):  # an operator at a shell: no person to name as the actor
            had = two_factor.reset(user)
        if had:
            self.stdout.write(f"Two-factor authentication of {username} is reset.")
        else:
            self.stdout.write(f"{username} had no two-factor authentication; nothing to reset (recorded all the same).")
        if two_factor.requires_two_factor(user):
            self.stdout.write("Their role requires it: they will be asked to set it up at their next sign-in.")
