"""``manage.py reconcile_target <connector> <entity>``: what Junction delivered that the target no longer holds.

Runs one reconciliation here and now (stored like those of the schedule and
the pages, so it shows on the reconciliation pages and in alerts), lists the
records deleted at the target since Junction delivered them (the adapter lists
every key the target holds, archived ones included) and exits 1 when there are
any, so a scheduled job can alert on it. Changes nothing at the target.
"""

from django.core.management.base import BaseCommand, CommandError

from integrations.choices import ReconciliationStatus
from integrations.engine import reconcile
from integrations.models import Connector


class Command(BaseCommand):
    help = "Report records Junction delivered to a connector that are gone from it (deleted there)."

    def add_arguments(self, parser):
        parser.add_argument("connector", help="The target connector's name or id.")
        parser.add_argument("entity", help="customer, supplier, product, sales_order, …")

    def handle(self, *args, connector, entity, **options):
        lookup = {"pk": int(connector)} if connector.isdigit() else {"name": connector}
        target = Connector.objects.filter(**lookup).first()
        if target is None:
            raise CommandError(f"No connector {connector!r}.")
        try:
            stored = reconcile.perform(reconcile.start(target, entity, queue=False).pk)
        except reconcile.ReconcileError as exc:
            raise CommandError(str(exc)) from None
        if stored.status == ReconciliationStatus.FAILED:
            raise CommandError(stored.error)
        self.stdout.write(
            f"{target}, {entity}: {stored.delivered} delivered by Junction, "
            f"{stored.present} held by the target, {stored.missing_count} gone."
        )
        for gone in stored.missing:
            self.stdout.write(f"  gone: {gone['key']}  (Junction's {gone['subject']})")
        if stored.missing_count > len(stored.missing):
            self.stdout.write(f"  … and {stored.missing_count - len(stored.missing)} more")
        if stored.missing_count:
            raise SystemExit(1)
