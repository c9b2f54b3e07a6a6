"""Objects for the reconciliation page, API and browser tests: an SQL target (an SQLite file) that
Junction delivered customers to, and stored reconciliations in a line."""

import itertools
import sqlite3
from pathlib import Path

from django.utils import timezone

from integrations import services
from integrations.choices import ReconciliationStatus
from integrations.models import Connector, Delivery, Reconciliation
from integrations.tests.engine_world import make_target_db, sql_connector

_serial = itertools.count(1)


def sql_target(directory: Path, name: str = "Reporting DB", owner=None, keys=("C-1", "C-2")) -> Connector:
    """An SQL connector whose SQLite ``customers`` table holds ``keys``, each delivered there by Junction."""
    path = make_target_db(directory / f"target-{next(_serial)}.sqlite3")
    connector = sql_connector(path, name=name)
    connector.path = path
    for key in keys:
        deliver(connector, key)
    if owner is not None:
        services.grant_creator(connector, owner)
    return connector


def deliver(connector: Connector, key: str, *, entity: str = "customer", into_table: bool = True) -> Delivery:
    """A Delivery as the engine leaves it (and, for customers, the row it wrote into the target table)."""
    payload = {"key": key, "last_name": f"Person {key}", "email": "", "country": "DE"}
    delivery = Delivery.objects.create(
        target=connector, entity=entity, subject=f"1:{key}", remote_id=key, last_key="k", payload=payload
    )
    if into_table and entity == "customer":
        with sqlite3.connect(connector.path) as db:
            db.execute("INSERT INTO customers (key, last_name, country) VALUES (?, ?, ?)", (key, key, "DE"))
    return delivery


def delete_at_target(connector: Connector, key: str) -> None:
    """What someone at the target does behind Junction's back."""
    with sqlite3.connect(connector.path) as db:
        db.execute("DELETE FROM customers WHERE key = ?", (key,))


def stored(target: Connector, entity: str = "customer", status=ReconciliationStatus.DONE, **fields) -> Reconciliation:
    """A reconciliation row as a worker leaves it (finished ones get their times)."""
    if status in (ReconciliationStatus.DONE, ReconciliationStatus.FAILED):
        fields.setdefault("started_at", timezone.now())
        fields.setdefault("finished_at", timezone.now())
    elif status == ReconciliationStatus.RUNNING:
        fields.setdefault("started_at", timezone.now())
    return Reconciliation.objects.create(target=target, entity=entity, status=status, **fields)


def gone(*keys: str) -> dict:
    """The fields of a done reconciliation that found ``keys`` missing."""
    return {"missing": [{"key": k, "subject": f"1:{k}"} for k in keys], "missing_count": len(keys)}
