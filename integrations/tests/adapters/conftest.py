"""Adapter tests: the ``jsonserver`` and ``tryton`` markers and the real peers from peers.py,
sql_peers.py and tryton_peer.py."""

from .peers import json_server, json_server_process, node_available, skip_or_fail
from .sql_peers import mysql_server, peer, postgresql_server
from .tryton_peer import tryton

__all__ = ["json_server", "json_server_process", "mysql_server", "peer", "postgresql_server", "tryton"]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "jsonserver: needs node and npm to run json-server; skipped without them, an error in CI"
    )
    config.addinivalue_line(
        "markers", "tryton: needs the Tryton ERP in .venv-tryton (make peers); skipped without it, an error in CI"
    )


def pytest_collection_modifyitems(items):
    # A test that uses the peer is marked for it, so `-m jsonserver` selects exactly those.
    for item in items:
        if "json_server" in getattr(item, "fixturenames", ()):
            item.add_marker("jsonserver")
        if "tryton" in getattr(item, "fixturenames", ()):
            item.add_marker("tryton")


def pytest_runtest_setup(item):
    if "jsonserver" in item.keywords:
        ok, reason = node_available()
        if not ok:
            skip_or_fail(reason)
