"""Check the audit trail's hash chain; exit 1 at the first broken link (for cron and alerting)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from audit import chain
from audit.verify import verify


class Command(BaseCommand):
    help = "Seal pending audit entries, then verify the hash chain and report its first broken link."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-seal", action="store_true", help="Check the chain as it is, without sealing pending entries first."
        )
        parser.add_argument(
            "--stale-minutes",
            type=int,
            default=settings.JUNCTION_AUDIT_SEAL_GRACE_MINUTES,
            help="Report entries left unsealed longer than this (default: JUNCTION_AUDIT_SEAL_GRACE_MINUTES).",
        )

    def handle(self, *args, no_seal, stale_minutes, **options):
        if not no_seal:
            sealed = chain.seal_pending()
            if sealed:
                self.stdout.write(f"Sealed {sealed} pending entries.")
        report = verify(stale_minutes=stale_minutes)
        if report.ok:
            start = f" from purge anchor {report.anchor_seq}" if report.anchor_seq else ""
            self.stdout.write(
                self.style.SUCCESS(f"Audit trail intact: {report.checked} entries verified{start}.")
                + f" Last seal {report.head_seq}: {report.head_hash}"
            )
            return
        problem = report.first_break
        self.stderr.write(self.style.ERROR(f"Audit trail BROKEN ({problem.kind}): {problem.message}"))
        self.stderr.write(f"{report.checked} entries verified before the break.")
        raise SystemExit(1)
