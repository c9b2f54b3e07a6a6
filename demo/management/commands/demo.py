"""``python manage.py demo setup|erp|traffic``: the demo landscape of ``make run``.

- ``setup`` creates the systems, connectors and flows (once; later runs keep people's changes);
- ``erp`` runs the local Tryton ERP in the foreground (its database is created on first start);
- ``traffic`` plays the shop, the tills, the CRM and the WMS until stopped.

Development only: refused without ``DJANGO_DEBUG=1`` or with ``JUNCTION_DEMO=0``.
"""

from __future__ import annotations

import contextlib
import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "The demo landscape around Junction: setup, erp, traffic (development only)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("setup", help="create the demo's systems, connectors and flows")
        sub.add_parser("erp", help="run the local Tryton ERP in the foreground")
        traffic = sub.add_parser("traffic", help="play the systems around the ERP until stopped")
        traffic.add_argument("--interval", type=float, default=5.0, help="seconds between two orders")
        traffic.add_argument("--ticks", type=int, default=None, help="stop after this many (default: never)")
        traffic.add_argument("--url", default="http://127.0.0.1:8000", help="where Junction answers")

    def handle(self, *args, action, **options):
        if not settings.DEBUG:
            raise CommandError("The demo is for local development only: it needs DJANGO_DEBUG=1.")
        if not settings.JUNCTION_DEMO:
            self.stdout.write("The demo is off (JUNCTION_DEMO=0): nothing to do.")
            return
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per webhook drowns the rest
        getattr(self, f"do_{action}")(**options)

    def do_setup(self, **options):
        from demo import erp, landscape

        flows = landscape.ensure(erp.address())
        self.stdout.write(f"Demo landscape: {len(flows)} flows between the ERP, CRM, shop, WMS, tills and reporting.")

    def do_erp(self, **options):
        from demo import erp

        erp.run_foreground(self.stdout)

    def do_traffic(self, *, url, interval, ticks, **options):
        from demo import traffic

        self.stdout.write(f"Demo traffic to {url}: an order every {interval:g} s (Ctrl-C stops it).")
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how it ends
            traffic.run_forever(url, interval, ticks)
