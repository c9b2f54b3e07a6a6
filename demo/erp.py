"""The demo's ERP: a real Tryton server in the data folder, on a fixed loopback port.

Its database is copied from the cached template on first use (built once, about
45 s, with progress lines), so the connector's address and admin password are
known before the server runs: ``demo setup`` and ``demo erp`` may start in any order.
"""

from __future__ import annotations

import signal

from django.conf import settings

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
