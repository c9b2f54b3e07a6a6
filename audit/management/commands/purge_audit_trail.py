"""Delete audit entries older than a date outside the retention window; the chain stays verifiable."""

import argparse
import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit.retention import PurgeRefused, earliest_allowed_cutoff, purge


def date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2019-01-31") from None


class Command(BaseCommand):
    help = (
        "Purge audit entries from before DATE (YYYY-MM-DD, midnight in TIME_ZONE). Refuses a date inside "
        "JUNCTION_AUDIT_RETENTION_DAYS and a chain that does not verify; the purge itself is recorded."
    )

    def add_arguments(self, parser):
        parser.add_argument("--before", type=date, required=True, help="Purge entries older than this date.")

    def handle(self, *args, before, **options):
        cutoff = timezone.make_aware(dt.datetime.combine(before, dt.time.min))
        try:
            result = purge(cutoff)
        except PurgeRefused as exc:
            raise CommandError(str(exc)) from None
        if result.anchor is None:
            self.stdout.write(f"Nothing to purge before {before}.")
            return
        days = settings.JUNCTION_AUDIT_RETENTION_DAYS
        self.stdout.write(
            self.style.SUCCESS(f"Purged {result.entries} audit entries from before {before}")
            + f" (retention {days} days; the earliest allowed date today is {earliest_allowed_cutoff():%Y-%m-%d})."
            + f" The chain now starts after seal {result.anchor.seq}: {result.anchor.hash}"
        )
