"""Re-encrypt every connector's credentials under the newest key in JUNCTION_ENCRYPTION_KEYS."""

from django.core.management.base import BaseCommand
from django.db import transaction

from integrations import crypto
from integrations.models import Connector


class Command(BaseCommand):
    help = (
        "Re-encrypt stored connector credentials with the first key of JUNCTION_ENCRYPTION_KEYS. "
        "Rotation: prepend a new key, restart, run this, then remove the old key (docs/operations.md)."
    )

    def handle(self, *args, **options):
        rotated = 0
        with transaction.atomic():
            for connector in Connector.objects.select_for_update().exclude(credentials=""):
                # Update without save(): the credentials did not change, only their encryption.
                Connector.objects.filter(pk=connector.pk).update(credentials=crypto.rotate(connector.credentials))
                rotated += 1
        self.stdout.write(
            self.style.SUCCESS(f"Re-encrypted the credentials of {rotated} connector(s) under the newest key.")
        )
