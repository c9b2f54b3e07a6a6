"""``manage.py reconcile_target <connector> <entity>``: what Junction delivered that the target no longer holds.

Lists the records deleted at the target since Junction delivered them (the
adapter lists every key the target holds, archived ones included) and exits 1
when there are any, so a scheduled job can alert on it. Changes nothing.
"""

from django.core.management.base import BaseCommand, CommandError

from integrations.engine.reconcile import ReconcileError, reconcile
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
            result = reconcile(target, entity)
        except ReconcileError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{result.target}, {entity}: {result.delivered} delivered by Junction, "
            f"{result.present} held by the target, {len(result.missing)} gone."
        )
        for key, subject in result.missing:
            self.stdout.write(f"  gone: {key}  (Junction's {subject})")
        if result.missing:
            raise SystemExit(1)
