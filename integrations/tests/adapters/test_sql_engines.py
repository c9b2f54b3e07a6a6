"""The SQL adapter's engines and reflected write tables, shared per process (adapters/sql/engines.py).

Against the real databases of sql_peers.py, like test_sql.py. Reflections are
counted with SQLAlchemy's own ``column_reflect`` event and new database
connections with the pool's ``connect`` event; nothing of the adapter is mocked.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from integrations.adapters.errors import PermanentError
from integrations.adapters.sql import SqlAdapter, engines

from .test_sql import WRITE_ACCOUNTS, accounts, record

OTHER_OPTIONS = {"postgresql": {"application_name": "junction-other"}, "mysql": {"connect_timeout": 7}}
OTHER_OPTIONS["sqlite"] = {"timeout": 7}


@pytest.fixture
def reflections():
    """The name of every table SQLAlchemy reflects while the test runs, once per reflection."""
    seen: list[str] = []

    def on_column(inspector, table, column_info):
        if column_info["name"] == "id":  # every table here has one: one entry per table reflected
            seen.append(table.name)

    sa.event.listen(sa.Table, "column_reflect", on_column)
    yield seen
    sa.event.remove(sa.Table, "column_reflect", on_column)


def new_connections(*engines_: sa.Engine) -> list[int]:
    """A list that grows by one for every DBAPI connection these engines' pools open from now on."""
    opened: list[int] = []
    for engine in {id(e): e for e in engines_}.values():
        sa.event.listen(engine, "connect", lambda *args: opened.append(1))
    return opened


def column_values(peer, column: str) -> list:
    with peer.engine.connect() as conn:
        return list(conn.execute(sa.text(f"SELECT {column} FROM accounts ORDER BY id")).scalars())  # noqa: S608 (a test's own column name)


# --- One engine per connection ---------------------------------------------------------


def test_adapters_with_the_same_connection_share_one_engine_and_reflect_the_table_once(peer, reflections):
    accounts(peer)
    first, second = peer.adapter(account=WRITE_ACCOUNTS), peer.adapter(account=WRITE_ACCOUNTS)

    first.write("account", [record(1, id=1, name="Ada")])
    results = second.write("account", [record(2, id=2, name="Grace")])

    assert second.engine is first.engine
    assert reflections == ["accounts"]
    assert [(r.action, r.error) for r in results] == [("created", None)]


def test_other_credentials_or_options_get_another_engine(peer):
    accounts(peer)
    settings = peer.settings(account=WRITE_ACCOUNTS)
    engine = peer.adapter(settings).engine

    # Entities are not part of the connection: the same engine.
    assert peer.adapter(peer.settings(other={"write_table": "ledger", "id_column": "id"})).engine is engine
    assert peer.adapter(settings | {"options": OTHER_OPTIONS[peer.dialect]}).engine is not engine
    if peer.dialect != "sqlite":  # SQLite has no password
        assert peer.adapter(settings, {"password": "another"}).engine is not engine


@pytest.mark.parametrize("peer", ["sqlite"], indirect=True)
def test_threads_opening_adapters_at_once_get_one_engine(peer):
    settings = peer.settings(account=WRITE_ACCOUNTS)
    start, found = threading.Barrier(8), []

    def open_one():
        start.wait()
        found.append(peer.adapter(settings).engine)

    threads = [threading.Thread(target=open_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(found) == 8 and len({id(engine) for engine in found}) == 1


def test_close_leaves_the_pool_to_the_next_adapter(peer):
    accounts(peer)
    first, second, third = (peer.adapter(account=WRITE_ACCOUNTS) for _ in range(3))
    first.write("account", [record(1, id=1, name="Ada")])
    opened = new_connections(second.engine, third.engine)

    first.close()
    results = second.write("account", [record(2, id=2, name="Grace")])
    results += third.write("account", [record(3, id=3, name="Alan")])

    assert [(r.action, r.error) for r in results] == [("created", None), ("created", None)]
    assert opened == []  # both wrote on the connection the first one opened


# --- Schema changes at the target --------------------------------------------------------


def test_a_column_added_at_the_target_is_written_on_the_next_write(peer, reflections):
    accounts(peer)
    adapter = peer.adapter(account=WRITE_ACCOUNTS)
    adapter.write("account", [record(1, id=1, name="Ada")])
    with peer.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE accounts ADD COLUMN nickname VARCHAR(20)")

    later = peer.adapter(account=WRITE_ACCOUNTS)  # the next load task's adapter
    results = later.write("account", [record(1, id=1, name="Ada", nickname="Countess"), record(2, id=2, name="Grace")])
    results += adapter.write("account", [record(3, id=3, name="Alan", nickname="Prof")])

    assert [(r.action, r.error) for r in results] == [("updated", None), ("created", None), ("created", None)]
    assert column_values(peer, "nickname") == ["Countess", None, "Prof"]
    assert reflections == ["accounts", "accounts"]  # at the first write, and once more for the new column


def test_a_column_dropped_at_the_target_fails_only_the_records_that_have_it(peer, reflections):
    accounts(peer)
    adapter = peer.adapter(account=WRITE_ACCOUNTS)
    adapter.write("account", [record(1, id=1, name="Ada", balance="1.00")])
    with peer.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE accounts DROP COLUMN balance")

    results = adapter.write("account", [record(1, id=1, name="Ada", balance="2.00"), record(2, id=2, name="Grace")])

    assert isinstance(results[0].error, PermanentError)
    assert results[0].error.message == "Table accounts has no column 'balance'."
    assert (results[1].action, results[1].error) == ("created", None)
    assert column_values(peer, "name") == ["Ada", "Grace"]
    assert reflections == ["accounts", "accounts"]


def test_a_table_dropped_at_the_target_is_reported_as_missing(peer):
    table = accounts(peer)
    adapter = peer.adapter(account=WRITE_ACCOUNTS)
    adapter.write("account", [record(1, id=1, name="Ada")])
    table.drop(peer.engine)
    peer.metadata.remove(table)

    with pytest.raises(PermanentError, match=r"^Table accounts does not exist"):
        adapter.write("account", [record(2, id=2, name="Grace")])


def test_a_unique_index_added_after_a_refusal_is_used_by_the_next_write(peer):
    peer.table("ledger", sa.Column("id", sa.Integer), sa.Column("name", sa.String(50)))
    adapter = peer.adapter(entry={"write_table": "ledger", "id_column": "id"})
    with pytest.raises(PermanentError, match="no primary key or unique index"):
        adapter.write("entry", [record(1, id=1, name="x")])
    with peer.engine.begin() as conn:
        conn.exec_driver_sql("CREATE UNIQUE INDEX ledger_id ON ledger (id)")

    results = adapter.write("entry", [record(1, id=1, name="x")])

    assert [(r.action, r.error) for r in results] == [("created", None)]


def test_a_reflected_table_is_trusted_for_its_time_to_live_only(peer, reflections, monkeypatch):
    accounts(peer)
    adapter = peer.adapter(account=WRITE_ACCOUNTS)
    adapter.write("account", [record(1, id=1, name="Ada")])
    adapter.write("account", [record(2, id=2, name="Grace")])
    assert reflections == ["accounts"]

    monkeypatch.setattr(engines, "TABLE_TTL", 0.0)  # as if the time to live had passed
    adapter.write("account", [record(3, id=3, name="Alan", balance=Decimal("1.5"))])

    assert reflections == ["accounts", "accounts"]


# --- "Test connection" stays a real test ---------------------------------------------------


@pytest.mark.parametrize("peer", ["postgresql"], indirect=True)
def test_test_connection_opens_a_new_connection_even_while_pooled_ones_work(peer):
    accounts(peer)
    user = f"junction_{uuid.uuid4().hex[:8]}"
    peer.least_privileged_user(user, "s3cret-pw", read=[], write=["accounts"])
    settings = peer.settings(account=WRITE_ACCOUNTS) | {"username": user}
    adapter = peer.adapter(settings, {"password": "s3cret-pw"})
    adapter.write("account", [record(1, id=1, name="Ada")])  # a pooled connection of this login
    with peer.engine.begin() as conn:
        conn.exec_driver_sql(f"ALTER ROLE {user} NOLOGIN")

    for tester in (adapter, peer.adapter(settings, {"password": "s3cret-pw"})):
        checks = tester.test_connection()
        assert [(c.name, c.ok) for c in checks] == [("Connect", False)]
        assert "not permitted to log in" in checks[0].detail


def test_test_connection_reflects_the_write_table_now(peer):
    table = accounts(peer)
    adapter = peer.adapter(account=WRITE_ACCOUNTS)
    adapter.write("account", [record(1, id=1, name="Ada")])  # reflected and kept
    table.drop(peer.engine)
    peer.metadata.remove(table)

    checks = adapter.test_connection()

    assert [c.ok for c in checks] == [True, False]
    assert "accounts" in checks[1].detail


# --- Fork ----------------------------------------------------------------------------------


def backend_pid(adapter: SqlAdapter) -> int:
    with adapter.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()


def in_the_child(adapter: SqlAdapter) -> dict:
    """What a forked child sees: the engine a new adapter gets, the connections both use, a write."""
    try:
        later = SqlAdapter(adapter.settings, adapter.credentials)
        return {
            "same_engine": later.engine is adapter.engine,
            "pids": [backend_pid(adapter), backend_pid(later)],
            "action": later.write("account", [record(2, id=2, name="Grace")])[0].action,
        }
    except BaseException as exc:
        return {"error": repr(exc)}


@pytest.mark.parametrize("peer", ["postgresql"], indirect=True)
def test_a_forked_child_opens_its_own_connections_and_leaves_the_parents_alone(peer):
    """As in Celery's prefork pool: the child must not talk on the parent's pooled connections."""
    accounts(peer)
    adapter = peer.adapter(account=WRITE_ACCOUNTS)
    adapter.write("account", [record(1, id=1, name="Ada")])
    parent = backend_pid(adapter)
    reader, writer = os.pipe()

    child = os.fork()
    if child == 0:  # the child answers through the pipe and never returns into pytest
        try:
            os.write(writer, json.dumps(in_the_child(adapter)).encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        answer = json.loads(pipe.read())
    os.waitpid(child, 0)

    assert "error" not in answer, answer
    assert answer["same_engine"] and answer["action"] == "created"
    assert parent not in answer["pids"]  # the child's own connections
    assert backend_pid(adapter) == parent  # the parent's connection is still open, and still its own
    assert adapter.write("account", [record(3, id=3, name="Alan")])[0].action == "created"
