"""Print the demo Administrator's current two-factor code (development only).

Reads the key from ``$JUNCTION_VAR_DIR/demo-totp.txt``, which only
``seed_demo_users`` writes: it can make codes for the demo users and nobody else.
"""

import time
from base64 import b32encode
from binascii import unhexlify

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP

from accounts.management.commands.seed_demo_users import read_totp_keys, totp_path


class Command(BaseCommand):
    help = "Print the current authenticator code of the demo users that have one (development only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo codes are for local development only: set DJANGO_DEBUG=1.")
        keys = read_totp_keys(totp_path())
        if not keys:
            raise CommandError(f"No demo keys in {totp_path()}: run `manage.py seed_demo_users` (make run does).")
        for username, key in keys.items():
            totp = TOTP(unhexlify(key))
            totp.time = time.time()
            secret = b32encode(unhexlify(key)).decode().rstrip("=")
            valid_for = 30 - int(time.time()) % 30
            self.stdout.write(f"{username}: {totp.token():06d}  (valid {valid_for} s more; app key {secret})")
