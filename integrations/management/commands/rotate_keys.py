"""Re-encrypt every secret stored under JUNCTION_ENCRYPTION_KEYS with the newest key."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from audit.context import acting_as
from audit.events import record_event
from integrations import crypto


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret (connector credentials) with the first key of JUNCTION_ENCRYPTION_KEYS. "
        "Rotation: prepend a new key, restart, run this, check with --check, then remove the old key "
        "(docs/operations.md). All or nothing: one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; exit 1 if any secret is not yet under the newest key (the old key is still needed).",
        )

    def handle(self, *args, check=False, **options):
        if check:
            return self.check()
        rotated = 0
        with transaction.atomic():
            for model, field in crypto.encrypted_fields():
                for pk, token in model.objects.select_for_update().exclude(**{field: ""}).values_list("pk", field):
                    # update(), not save(): the secret did not change, only its encryption.
                    model.objects.filter(pk=pk).update(**{field: crypto.rotate(token)})
                    rotated += 1
            with acting_as(None):  # run by an operator on the server, not by a signed-in person
                record_event("encryption_keys.rotated", repr_="JUNCTION_ENCRYPTION_KEYS", secrets=rotated)
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {rotated} secret(s) under the newest key."))

    def check(self):
        stale = [
            f"{model._meta.label} {pk}"
            for model, field in crypto.encrypted_fields()
            for pk, token in model.objects.exclude(**{field: ""}).values_list("pk", field)
            if not crypto.under_newest_key(token)
        ]
        if stale:
            raise CommandError(
                f"{len(stale)} secret(s) are not under the newest key ({', '.join(stale[:10])}): "
                "run `manage.py rotate_keys` before removing an old key."
            )
        self.stdout.write(self.style.SUCCESS("Every stored secret is under the newest key."))
