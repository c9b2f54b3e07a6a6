"""``manage.py apply_survivorship <entity>``: apply the current survivorship rules to the stored
golden records of an entity, here in the foreground (or, with ``--queue``, on a worker).

The same application as the page's and the API's (``masterdata/services/apply_rules.py``): one
per entity at a time, changed records audited (as the system) and updated at the targets.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from masterdata.entities import Entity
from masterdata.models import RuleApplication
from masterdata.services import apply_rules


class Command(BaseCommand):
    help = "Apply the current survivorship rules to an entity's stored golden records."

    def add_arguments(self, parser):
        parser.add_argument("entity", choices=Entity.values)
        parser.add_argument("--queue", action="store_true", help="Hand it to a worker instead of running it here.")

    def handle(self, *args, entity, queue, **options):
        try:
            application, created = apply_rules.start_apply(entity, user=None, queue=queue)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if queue:
            self.stdout.write(f"Queued: rule application {application.pk} ({application.total} golden records).")
            return
        if not created:
            self.stdout.write(f"Carrying on with rule application {application.pk}, which had stopped.")
        apply_rules.claim(application.pk)
        try:
            apply_rules.run(application.pk)
        except Exception as exc:
            apply_rules.fail(application.pk, f"{type(exc).__name__}: {exc}")
            raise
        done = RuleApplication.objects.get(pk=application.pk)
        self.stdout.write(f"{done.examined} golden records examined, {done.changed} changed.")
