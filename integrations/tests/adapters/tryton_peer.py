"""A real Tryton ERP for the Tryton adapter's tests (demo/tryton_server.py does the work).

``tryton`` (session scope) is a ``TrytonServer`` on a free loopback port,
serving a copy of the cached template database: the first run on a machine
builds the template (about 45 s, progress on the terminal), later ones start
in about 3 s. Without ``.venv-tryton`` (``make peers``) the tests are skipped,
or fail when JUNCTION_REQUIRE_SERVICES=1 (see conftest.py beside this file).
"""

from __future__ import annotations

import os

import pytest

from demo import tryton_server

REQUIRE_SERVICES = os.environ.get("JUNCTION_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str):
    if REQUIRE_SERVICES:
        pytest.fail(f"tryton is required here (JUNCTION_REQUIRE_SERVICES=1): {reason}")
    pytest.skip(f"needs tryton: {reason}")


@pytest.fixture(scope="session")
def tryton(tmp_path_factory, pytestconfig) -> tryton_server.TrytonServer:
    ok, reason = tryton_server.available()
    if not ok:
        skip_or_fail(reason)
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    log = (lambda line: reporter.write_line(line)) if reporter else (lambda line: None)
    server = tryton_server.TrytonServer(tmp_path_factory.mktemp("tryton"), database="junction_test", log=log)
    try:
        server.start()
    except RuntimeError as exc:
        pytest.fail(f"Tryton did not start: {exc}")
    yield server
    server.stop()
