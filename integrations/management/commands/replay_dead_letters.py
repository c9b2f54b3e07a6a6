"""``manage.py replay_dead_letters --flow <flow> [--status dead|quarantined] [--error-class X] [--dry-run]``:
send a flow's dead-lettered or quarantined records again, after the cause is fixed."""

from django.core.management.base import BaseCommand, CommandError

from integrations import services
from integrations.choices import OutcomeStatus
from integrations.models import Flow, RecordOutcome


class Command(BaseCommand):
    help = "Replay a flow's dead-lettered and/or quarantined records in a new run."

    def add_arguments(self, parser):
        parser.add_argument("--flow", required=True, help="The flow's name or id.")
        parser.add_argument("--status", choices=[OutcomeStatus.DEAD, OutcomeStatus.QUARANTINED], help="Only these.")
        parser.add_argument("--error-class", dest="error_class", help="Only records that failed with this error class.")
        parser.add_argument("--dry-run", action="store_true", help="Say how many would be replayed; change nothing.")

    def handle(self, *args, flow, status, error_class, dry_run, **options):
        try:
            target = services.flow_by_name_or_id(flow)
        except Flow.DoesNotExist as exc:
            raise CommandError(str(exc)) from None
        outcomes = RecordOutcome.objects.filter(
            flow=target, status__in=[status] if status else services.WAITING, dry_run=False
        )
        if error_class:
            outcomes = outcomes.filter(error_class=error_class)
        count = outcomes.count()
        what = f"{count} record{'' if count == 1 else 's'} of “{target}”"
        if dry_run:
            self.stdout.write(f"Would replay {what}.")
            return
        if not count:
            self.stdout.write(f"Nothing to replay: {what}.")
            return
        try:
            runs = services.replay_outcomes(outcomes, None, via="command")
        except services.ActionError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Replayed {what} in run {', '.join(str(r.pk) for r in runs)}.")
