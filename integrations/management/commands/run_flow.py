"""``manage.py run_flow <flow> [--wait]``: start a run from a shell, cron or CI.

With ``--wait`` it follows the run until it finishes, prints its counts and
exits 1 when the run failed or finished with problems (quarantined, failed or
dead-lettered records), so a script can stop on it.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from integrations import services
from integrations.choices import RunStatus
from integrations.models import COUNTERS, Flow, Run


def pause(seconds: float) -> None:
    """Between polls (tests replace it with a step of the pipeline)."""
    time.sleep(seconds)


class Command(BaseCommand):
    help = "Start a run of a flow (by name or id); with --wait, follow it and print its counts."

    def add_arguments(self, parser):
        parser.add_argument("flow", help="The flow's name or id.")
        parser.add_argument("--wait", action="store_true", help="Wait until the run has finished.")
        parser.add_argument("--timeout", type=float, default=3600, help="With --wait: give up after this many seconds.")
        parser.add_argument("--interval", type=float, default=2, help="With --wait: seconds between checks.")

    def handle(self, *args, flow, wait, timeout, interval, **options):
        try:
            target = services.flow_by_name_or_id(flow)
            run = services.run_flow(target, None, via="command")
        except Flow.DoesNotExist as exc:
            raise CommandError(str(exc)) from None
        except services.ActionError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Started run {run.pk} of “{target}” ({run.get_stage_display()} stage).")
        if not wait:
            return
        run = self.follow(run, timeout, interval)
        self.stdout.write(self.summary(run))
        if run.status != RunStatus.SUCCEEDED:
            problem = run.error or "some records were quarantined, failed or dead-lettered"
            raise CommandError(f"Run {run.pk} {run.get_status_display().lower()}: {problem}", returncode=1)

    def follow(self, run: Run, timeout: float, interval: float) -> Run:
        deadline = time.monotonic() + timeout
        while not run.finished:
            if time.monotonic() > deadline:
                raise CommandError(f"Run {run.pk} is still {run.get_status_display().lower()} after {timeout:g} s.")
            pause(interval)
            run.refresh_from_db()
        return run

    @staticmethod
    def summary(run: Run) -> str:
        counts = ", ".join(f"{name.replace('_', ' ')} {getattr(run, name)}" for name in COUNTERS)
        return f"Run {run.pk}: {run.get_status_display()}. {counts}."
