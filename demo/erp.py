"""The demo's ERP: a real Tryton server in the data folder, on a fixed loopback port.

Its database is copied from the cached template on first use (built once, about
45 s, with progress lines), so the connector's address and admin password are
known before the server runs: ``demo setup`` and ``demo erp`` may start in any order.
"""

from __future__ import annotations

import signal
import time

from django.conf import settings

from integrations.adapters.errors import TransientError
from integrations.adapters.tryton.client import TrytonClient

from .data import WAREHOUSES
from .landscape import ErpAddress
from .tryton_server import TrytonServer

DATABASE = "junction_demo"


def server() -> TrytonServer:
    return TrytonServer(settings.VAR_DIR / "demo" / "erp", database=DATABASE, port=settings.JUNCTION_DEMO_ERP_PORT)


def address() -> ErpAddress:
    erp = server()
    erp.prepare()  # the database and its admin password, from the template
    return ErpAddress(url=erp.url, database=DATABASE, login=erp.login, password=erp.password)


def run_foreground(stdout) -> None:
    """Run until SIGINT or SIGTERM (what honcho sends on Ctrl-C), then stop Tryton with us."""
    erp = server()

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        erp.start()
        stdout.write(f"Tryton ERP on {erp.url} (database {DATABASE}, log {erp.log_path})")
        stdout.flush()
        erp.process.wait()
        stdout.write(f"Tryton stopped by itself (exit {erp.process.returncode}); see {erp.log_path}")
    except KeyboardInterrupt:
        pass
    finally:
        erp.stop()


def ensure_stock_locations(timeout: float = 180) -> None:
    """The WMS's warehouses as storage locations inside Tryton's warehouse, as an ERP admin would set
    them up, so the WMS's counts have somewhere to go. Waits for the ERP to answer."""
    erp = address()
    client = TrytonClient(erp.url, erp.database, erp.login, erp.password)
    deadline = time.monotonic() + timeout
    while True:
        try:
            storage = client.model("stock.location", "search", [("code", "=", "STO")], 0, 1, None)
            break
        except TransientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)
    existing = {
        row["code"]
        for row in client.model(
            "stock.location", "search_read", [("code", "in", list(WAREHOUSES))], 0, None, None, ["code"]
        )
    }
    missing = [
        {"name": name, "code": code, "type": "storage", "parent": storage[0]}
        for code, name in WAREHOUSES.items()
        if code not in existing
    ]
    if missing:
        client.model("stock.location", "create", missing)
