"""The SQL adapter against real PostgreSQL, MariaDB and SQLite (sql_peers.py); no mocks.

Tests that hold for every database take the ``peer`` fixture (sql_peers.py), which
runs them once per dialect; the others pick dialects with ``indirect`` parametrization.
"""

from __future__ import annotations

import base64
import json
import random
import re
import sqlite3
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from rest_framework import serializers
from sqlalchemy.dialects import mysql

from integrations.adapters import registry
from integrations.adapters.base import OutRecord, validate
from integrations.adapters.errors import PermanentError, TransientError
from integrations.adapters.sql import SqlAdapter, SqlSettingsSerializer

from .sql_peers import SERVERS, Peer, closed_port

BASE = datetime(2024, 1, 2, 10, 0, 0)
# MySQL's DATETIME drops fractions of a second unless asked to keep them.
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")


def customers(peer: Peer, count: int = 25) -> tuple[sa.Table, list[int]]:
    """A customers table whose timestamps come in runs of five equal values; ids in read order."""
    table = peer.table(
        "customers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("updated_at", TIMESTAMP),
        sa.Column("balance", sa.Numeric(10, 2)),
        sa.Column("born", sa.Date),
        sa.Column("photo", sa.LargeBinary),
        sa.Column("active", sa.Boolean),
    )
    ids = random.Random(4).sample(  # noqa: S311 (a fixed, repeatable shuffle)
        range(1, 1000), count
    )
    rows = [
        {"id": i, "name": f"Customer {i}", "updated_at": BASE + timedelta(minutes=n // 5)} for n, i in enumerate(ids)
    ]
    peer.insert(table, rows)
    return table, [row["id"] for row in sorted(rows, key=lambda r: (r["updated_at"], r["id"]))]


def accounts(peer: Peer) -> sa.Table:
    return peer.table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("balance", sa.Numeric(10, 2)),
        sa.Column("updated_at", TIMESTAMP),
    )


READ_CUSTOMERS = {"table": "customers", "id_column": "id", "watermark_column": "updated_at"}
WRITE_ACCOUNTS = {"write_table": "accounts", "id_column": "id"}


def ids(pages) -> list[int]:
    return [int(record.external_id) for page in pages for record in page.records]


# --- Reading ------------------------------------------------------------------


def test_full_read_pages_across_equal_timestamps_without_loss_or_repeats(peer):
    _, expected = customers(peer)
    adapter = peer.adapter(customer=READ_CUSTOMERS)

    pages = []
    for page in adapter.read("customer", page_size=3):
        # Nothing is held open on the peer while the engine works on a page.
        assert adapter.engine.pool.checkedout() == 0
        pages.append(page)

    assert ids(pages) == expected
    assert [len(p.records) for p in pages] == [3] * 8 + [1]
    assert re.fullmatch(rf"2024-01-02[T ]10:04:00(\.0+)?\|{expected[-1]}", pages[-1].watermark)
    assert pages[0].records[0].version.startswith("2024-01-02")


def test_read_resumes_from_a_stored_watermark_inside_a_run_of_equal_timestamps(peer):
    _, expected = customers(peer)
    adapter = peer.adapter(customer=READ_CUSTOMERS)
    pages = list(adapter.read("customer", page_size=4))

    for k in (0, 1, 3):  # 4, 8 and 16 rows in: each inside a run of five equal timestamps
        resumed = adapter.read("customer", watermark=pages[k].watermark, page_size=4)
        assert ids(resumed) == expected[(k + 1) * 4 :]


@pytest.mark.parametrize("peer", ["postgresql"], indirect=True)
def test_a_page_inside_a_run_of_equal_timestamps_starts_at_the_last_row_read(peer):
    """With the index docs/connectors/sql.md asks for, a page reads its own rows only: the rows
    before it that share its timestamp are skipped by the index, not read again and filtered."""
    table = peer.table(
        "customers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("updated_at", TIMESTAMP),
        sa.Index("customers_sync", "updated_at", "id"),
    )
    peer.insert(table, [{"id": i, "name": f"Customer {i}", "updated_at": BASE} for i in range(1, 5001)])
    with peer.engine.begin() as conn:
        conn.execute(sa.text("ANALYZE customers"))
    adapter = peer.adapter(customer=READ_CUSTOMERS)
    first = next(iter(adapter.read("customer", page_size=4000)))
    statements = []
    sa.event.listen(adapter.engine, "before_cursor_execute", lambda *args: statements.append(args[2:4]))

    page = next(iter(adapter.read("customer", watermark=first.watermark, page_size=10)))

    assert ids([page]) == list(range(4001, 4011))
    sql, params = next((sql, params) for sql, params in statements if sql.lstrip().startswith("SELECT"))
    with peer.engine.connect() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params).scalar()[0]["Plan"]
    scanned = [node for node in _plan_nodes(plan) if node["Node Type"].startswith("Index")]
    assert scanned and scanned[0]["Actual Rows"] == 10
    assert scanned[0].get("Rows Removed by Filter", 0) == 0  # was 4,000 with "wm > x OR id > y"


def _plan_nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


def test_incremental_read_returns_only_rows_changed_after_the_watermark(peer):
    table, expected = customers(peer)
    adapter = peer.adapter(customer=READ_CUSTOMERS)
    watermark = list(adapter.read("customer", page_size=10))[-1].watermark
    assert list(adapter.read("customer", watermark=watermark)) == []

    later = BASE + timedelta(hours=1)
    with peer.engine.begin() as conn:
        conn.execute(table.update().where(table.c.id.in_(expected[:2])).values(updated_at=later, name="Changed"))
        conn.execute(table.insert().values(id=1000, name="New", updated_at=later))

    pages = list(adapter.read("customer", watermark=watermark, page_size=2))
    assert ids(pages) == [*sorted(expected[:2]), 1000]
    assert {r.payload["name"] for p in pages for r in p.records} == {"Changed", "New"}


def test_read_query_with_watermark_bind_pages_like_a_table(peer):
    _, expected = customers(peer)
    query = "SELECT id, name, updated_at FROM customers WHERE updated_at >= :watermark"
    entity = {"query": query, "id_column": "id", "watermark_column": "updated_at", "initial_watermark": "2000-01-01"}
    adapter = peer.adapter(customer=entity)

    pages = list(adapter.read("customer", page_size=3))

    assert ids(pages) == expected
    assert set(pages[0].records[0].payload) == {"id", "name", "updated_at"}
    assert ids(adapter.read("customer", watermark=pages[2].watermark, page_size=3)) == expected[9:]


def test_column_list_limits_the_payload(peer):
    customers(peer, count=3)
    adapter = peer.adapter(customer={**READ_CUSTOMERS, "columns": ["id", "name"]})

    (page,) = adapter.read("customer")

    assert [set(r.payload) for r in page.records] == [{"id", "name"}] * 3


def test_payload_values_are_json_safe(peer):
    table, _ = customers(peer, count=0)
    row = {
        "id": 1,
        "name": "Ada",
        "updated_at": BASE,
        "balance": Decimal("12.50"),
        "born": datetime(1990, 5, 17).date(),
    }
    peer.insert(table, [{**row, "photo": b"\x00\xffjunction", "active": True}])
    adapter = peer.adapter(customer=READ_CUSTOMERS)

    (page,) = adapter.read("customer")
    payload = page.records[0].payload

    assert json.loads(json.dumps(payload, allow_nan=False)) == payload
    assert payload["photo"] == base64.b64encode(b"\x00\xffjunction").decode()
    assert payload["born"] == "1990-05-17"
    assert payload["updated_at"] in {"2024-01-02T10:00:00", "2024-01-02 10:00:00.000000"}  # SQLite: text as stored
    assert payload["balance"] in {"12.50", 12.5}  # SQLite keeps NUMERIC as REAL
    assert page.records[0].external_id == "1"


@pytest.mark.parametrize("peer", ["postgresql"], indirect=True)
def test_postgres_types_become_json(peer):
    query = (
        "SELECT 1 AS id, TIMESTAMPTZ '2024-01-02 10:00:00+00' AS updated_at, UUID "
        "'6f1c1d8e-4a4b-4f43-9d0e-1b7f5c0f2a11' AS ref, JSONB '{\"a\": [1, 2.5]}' AS doc, "
        "INTERVAL '90 minutes' AS wait, CAST('NaN' AS float8) AS ratio, INET '10.0.0.1' AS ip, "
        "ARRAY[DATE '2024-01-01'] AS days WHERE TIMESTAMPTZ '2024-01-02 10:00:00+00' >= :watermark"
    )
    entity = {"query": query, "id_column": "id", "watermark_column": "updated_at", "initial_watermark": "-infinity"}

    (page,) = peer.adapter(thing=entity).read("thing")

    payload = page.records[0].payload
    assert json.loads(json.dumps(payload, allow_nan=False)) == payload
    assert payload["updated_at"].endswith("+00:00")
    assert payload["ref"] == "6f1c1d8e-4a4b-4f43-9d0e-1b7f5c0f2a11"
    assert payload["doc"] == {"a": [1, 2.5]}
    assert (payload["wait"], payload["ratio"], payload["ip"], payload["days"]) == (
        5400.0,
        "nan",
        "10.0.0.1",
        ["2024-01-01"],
    )
    assert page.watermark.startswith("2024-01-02T10:00:00+00:00|1")


@pytest.mark.parametrize("peer", ["postgresql"], indirect=True)
def test_read_query_runs_in_a_read_only_transaction(peer):
    customers(peer, count=2)
    with peer.engine.begin() as conn:
        conn.exec_driver_sql("CREATE SEQUENCE junction_probe")
    query = "SELECT id, updated_at, nextval('junction_probe') AS n FROM customers WHERE updated_at >= :watermark"
    entity = {"query": query, "id_column": "id", "watermark_column": "updated_at", "initial_watermark": "2000-01-01"}

    with pytest.raises(PermanentError, match="read-only transaction"):
        list(peer.adapter(customer=entity).read("customer"))


# --- Writing ------------------------------------------------------------------


def record(key, **payload) -> OutRecord:
    return OutRecord(key=f"k{key}", payload=payload)


def test_bulk_upsert_reports_created_updated_and_unchanged(peer):
    table = accounts(peer)
    adapter = peer.adapter(account=WRITE_ACCOUNTS)
    first = [
        record(1, id=1, name="Ada", balance="10.00", updated_at="2024-01-02T10:00:00"),
        record(2, id=2, name="Grace", balance=20, updated_at="2024-01-02T10:00:00"),
        record(3, id="3", name="Linus", balance=None, updated_at=None),
    ]

    results = adapter.write("account", first)

    assert [(r.key, r.action, r.target_id, r.error) for r in results] == [
        ("k1", "created", "1", None),
        ("k2", "created", "2", None),
        ("k3", "created", "3", None),
    ]
    second = [
        record(1, id=1, name="Ada Lovelace", balance="10.00", updated_at="2024-01-02T10:00:00"),
        record(2, id=2, name="Grace", balance="20.00", updated_at="2024-01-02T10:00:00"),
        record(4, id=4, name="Alan", balance="1.5", updated_at="2024-01-03T08:30:00Z"),
    ]

    results = adapter.write("account", second)

    assert [r.action for r in results] == ["updated", "unchanged", "created"]
    rows = peer.rows(table)
    assert [(r["id"], r["name"], r["balance"]) for r in rows] == [
        (1, "Ada Lovelace", Decimal("10.00")),
        (2, "Grace", Decimal("20.00")),
        (3, "Linus", None),
        (4, "Alan", Decimal("1.50")),
    ]
    assert rows[3]["updated_at"] == datetime(2024, 1, 3, 8, 30)


def test_upsert_on_composite_keys_reports_them_as_target_id(peer):
    table = peer.table(
        "prices",
        sa.Column("region", sa.String(8), primary_key=True),
        sa.Column("code", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("amount", sa.Numeric(10, 2)),
    )
    adapter = peer.adapter(price={"write_table": "prices", "id_column": "code", "key_columns": ["region", "code"]})

    created = adapter.write("price", [record(1, region="eu", code=7, amount="1.00"), record(2, region="us", code=7)])
    updated = adapter.write("price", [record(1, region="eu", code=7, amount="2.00")])

    assert [(r.action, r.target_id) for r in created + updated] == [
        ("created", "eu|7"),
        ("created", "us|7"),
        ("updated", "eu|7"),
    ]
    assert peer.rows(table, order_by="region")[0]["amount"] == Decimal("2.00")


def test_reconcile_lists_every_key_as_the_target_ids_writes_return(peer):
    table = peer.table(
        "prices",
        sa.Column("region", sa.String(8), primary_key=True),
        sa.Column("code", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("amount", sa.Numeric(10, 2)),
    )
    adapter = peer.adapter(price={"write_table": "prices", "id_column": "code", "key_columns": ["region", "code"]})
    sent = [record(1, region="eu", code=7, amount="1.00"), record(2, region="us|x", code="8")]
    written = adapter.write("price", sent)
    peer.insert(table, [{"region": "uk", "code": 9}])  # written by someone else: not Junction's business

    assert adapter.reconcile_ids("price") == {"eu|7", "us%7Cx|8", "uk|9"}
    # A payload as Junction sent it (the code as text, say) has the key the write returned.
    assert [adapter.key_of("price", r.payload) for r in sent] == [w.target_id for w in written]

    with peer.engine.begin() as conn:
        conn.execute(table.delete().where(table.c.region == "eu"))  # deleted at the target
    assert adapter.reconcile_ids("price") == {"us%7Cx|8", "uk|9"}


@pytest.mark.parametrize("peer", ["postgresql"], indirect=True)
def test_postgres_json_columns_are_compared_for_unchanged(peer):
    from sqlalchemy.dialects.postgresql import JSON, JSONB

    peer.table("docs", sa.Column("id", sa.Integer, primary_key=True), sa.Column("a", JSON), sa.Column("b", JSONB))
    adapter = peer.adapter(doc={"write_table": "docs", "id_column": "id"})
    batch = [record(1, id=1, a={"x": [1, 2]}, b={"y": "z"})]

    actions = [adapter.write("doc", batch)[0].action for _ in range(2)]

    assert actions == ["created", "unchanged"]


def test_a_row_the_database_refuses_is_isolated_and_the_others_land(peer):
    table = accounts(peer)
    adapter = peer.adapter(account=WRITE_ACCOUNTS)

    results = adapter.write(
        "account", [record(1, id=1, name="Ada"), record(2, id=2, name=None), record(3, id=3, name="Linus")]
    )

    assert [r.action for r in results if r.error is None] == ["created", "created"]
    error = results[1].error
    assert isinstance(error, PermanentError)
    assert re.search(r"null|NULL", error.message) and "name" in error.message
    assert [r["id"] for r in peer.rows(table)] == [1, 3]


@pytest.mark.parametrize("peer", SERVERS, indirect=True)
def test_a_value_too_long_for_its_column_is_isolated(peer):
    table = accounts(peer)

    results = peer.adapter(account=WRITE_ACCOUNTS).write(
        "account", [record(1, id=1, name="x" * 60), record(2, id=2, name="ok")]
    )

    assert isinstance(results[0].error, PermanentError)
    assert re.search(r"too long", results[0].error.message, re.IGNORECASE)
    assert results[1].action == "created"
    assert [r["id"] for r in peer.rows(table)] == [2]


def test_values_that_do_not_fit_the_column_type_or_table_fail_before_the_statement(peer):
    table = accounts(peer)
    adapter = peer.adapter(account=WRITE_ACCOUNTS)

    results = adapter.write(
        "account",
        [
            record(1, id=1, name="Ada", balance="lots"),
            record(2, id=2, name="Grace", nickname="G"),
            record(3, name="No id"),
        ],
    )

    assert [type(r.error) for r in results] == [PermanentError] * 3
    assert "balance" in results[0].error.message
    assert "'nickname'" in results[1].error.message
    assert "key column id" in results[2].error.message
    assert peer.rows(table) == []


def test_a_key_repeated_in_one_batch_is_written_in_order(peer):
    table = accounts(peer)

    results = peer.adapter(account=WRITE_ACCOUNTS).write(
        "account", [record(1, id=1, name="First"), record(2, id=1, name="Second")]
    )

    assert [r.action for r in results] == ["created", "updated"]
    assert [r["name"] for r in peer.rows(table)] == ["Second"]


def test_columns_missing_from_a_record_are_left_as_they_are(peer):
    table = accounts(peer)
    adapter = peer.adapter(account=WRITE_ACCOUNTS)
    adapter.write("account", [record(1, id=1, name="Ada", balance="5.00")])

    results = adapter.write("account", [record(1, id=1, name="Ada L."), record(2, id=2, name="Grace", balance=3)])

    assert [r.action for r in results] == ["updated", "created"]
    assert [(r["name"], r["balance"]) for r in peer.rows(table)] == [
        ("Ada L.", Decimal("5.00")),
        ("Grace", Decimal("3")),
    ]


def test_reads_leave_pooled_connections_writable(peer):
    customers(peer, count=3)
    accounts(peer)
    adapter = peer.adapter(customer=READ_CUSTOMERS, account=WRITE_ACCOUNTS)

    for _ in range(3):  # every pooled connection has served a read
        list(adapter.read("customer"))
    results = adapter.write("account", [record(1, id=1, name="Ada")])

    assert results[0].action == "created"


@pytest.mark.parametrize("peer", SERVERS, indirect=True)
def test_the_documented_least_privileged_user_is_enough(peer):
    customers(peer, count=3)
    accounts(peer)
    user = f"junction_{uuid.uuid4().hex[:8]}"
    peer.least_privileged_user(user, "s3cret-pw", read=["customers"], write=["accounts"])
    settings = peer.settings(
        customer=READ_CUSTOMERS, account=WRITE_ACCOUNTS, sneaky={"write_table": "customers", "id_column": "id"}
    )
    adapter = peer.adapter(settings | {"username": user}, {"password": "s3cret-pw"})

    assert [c.ok for c in adapter.test_connection()] == [True, True, True, True]
    assert len(ids(adapter.read("customer"))) == 3
    actions = [adapter.write("account", [record(1, id=1, name="Ada")])[0].action for _ in range(2)]
    assert actions == ["created", "unchanged"]
    with pytest.raises(PermanentError, match=r"(?i)denied"):
        adapter.write("sneaky", [record(1, id=1, name="Not allowed")])


def test_write_table_without_a_unique_key_on_the_key_columns_is_refused(peer):
    peer.table("ledger", sa.Column("id", sa.Integer), sa.Column("name", sa.String(50)))
    adapter = peer.adapter(entry={"write_table": "ledger", "id_column": "id"})

    with pytest.raises(PermanentError, match="no primary key or unique index"):
        adapter.write("entry", [record(1, id=1, name="x")])
    write_check = adapter.test_connection()[1]
    assert not write_check.ok
    assert "unique index on exactly (id)" in write_check.detail


# --- Errors and test connection -------------------------------------------------


def test_test_connection_reports_each_step(peer):
    customers(peer, count=2)
    accounts(peer)
    adapter = peer.adapter(customer=READ_CUSTOMERS, account=WRITE_ACCOUNTS)

    checks = adapter.test_connection()

    assert [(c.name, c.ok) for c in checks] == [
        ("Connect", True),
        ("Read customer from customers (7 columns)", True),
        ("Write account: table accounts exists with key columns (id)", True),
    ]
    assert checks[0].detail.startswith(("PostgreSQL 1", "MariaDB 10", "SQLite 3"))


def test_test_connection_fails_a_check_for_a_missing_table(peer):
    adapter = peer.adapter(customer=READ_CUSTOMERS, account=WRITE_ACCOUNTS)

    checks = adapter.test_connection()

    assert [c.ok for c in checks] == [True, False, False]
    assert "customers" in checks[1].detail and "accounts" in checks[2].detail


@pytest.mark.parametrize("peer", SERVERS, indirect=True)
def test_connection_refused_is_transient(peer):
    settings = peer.settings(customer=READ_CUSTOMERS, account=WRITE_ACCOUNTS) | {"port": closed_port()}
    adapter = peer.adapter(settings)

    with pytest.raises(TransientError, match="unavailable"):
        list(adapter.read("customer"))
    with pytest.raises(TransientError):
        adapter.write("account", [record(1, id=1, name="Ada")])
    (check,) = adapter.test_connection()
    assert (check.name, check.ok) == ("Connect", False)


@pytest.mark.parametrize("peer", ["sqlite"], indirect=True)
def test_sqlite_lock_held_by_another_writer_is_transient(peer, request):
    accounts(peer)
    adapter = peer.adapter(peer.settings(account=WRITE_ACCOUNTS) | {"options": {"timeout": 0.1}})
    other = sqlite3.connect(peer.server.path, isolation_level=None)
    request.addfinalizer(other.close)
    other.execute("BEGIN EXCLUSIVE")

    with pytest.raises(TransientError, match="locked"):
        adapter.write("account", [record(1, id=1, name="Ada")])


@pytest.mark.parametrize(
    ("peer", "change", "message"),
    [
        ("mysql", {"credentials": {"password": "wrong"}}, "Access denied"),
        ("postgresql", {"settings": {"username": "nobody_here"}}, 'role "nobody_here" does not exist'),
        ("postgresql", {"settings": {"database": "no_such_db"}}, 'database "no_such_db" does not exist'),
        ("postgresql", {"settings": {"host": "db.invalid"}}, "db.invalid"),
        ("mysql", {"settings": {"host": "db.invalid"}}, "db.invalid"),
        ("sqlite", {"settings": {"path": "/nonexistent/peer.sqlite3"}}, "unable to open database file"),
    ],
    indirect=["peer"],
)
def test_wrong_credentials_or_address_fail_the_connect_check(peer, change, message):
    settings = peer.settings(customer=READ_CUSTOMERS) | change.get("settings", {})
    adapter = peer.adapter(settings, change.get("credentials"))

    checks = adapter.test_connection()

    assert [(c.name, c.ok) for c in checks] == [("Connect", False)]
    assert message in checks[0].detail


def test_registered_under_sql():
    assert registry.get("sql") is SqlAdapter


# --- Settings -----------------------------------------------------------------


def settings_errors(**changes) -> dict:
    """The field errors for valid PostgreSQL settings with ``changes`` (None removes a setting)."""
    entity = {**READ_CUSTOMERS, **changes.pop("entity", {})}
    data = {"dialect": "postgresql", "host": "db.example.com", "database": "erp", "username": "junction", **changes}
    data = {k: v for k, v in data.items() if v is not None}
    data["entities"] = {"customer": {k: v for k, v in entity.items() if v is not None}}
    with pytest.raises(serializers.ValidationError) as caught:
        validate(SqlSettingsSerializer, data)
    return caught.value.detail


def entity_errors(**entity) -> dict:
    return settings_errors(entity=entity)["entities"]["customer"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("table", "customers; DROP TABLE customers"),
        ("table", 'customers" --'),
        ("table", "a.b.c"),
        ("id_column", 'id" OR 1=1'),
        ("watermark_column", "updated_at)"),
        ("write_table", "accounts WHERE 1=1"),
    ],
)
def test_identifier_injection_is_a_field_error(field, value):
    errors = entity_errors(**{field: value})

    assert list(errors) == [field]
    assert "plain" in str(errors[field][0])


def test_identifier_injection_in_column_lists_is_a_field_error():
    errors = entity_errors(columns=["id", "name; DROP"], key_columns=["id", "x y"])

    assert set(errors) == {"columns", "key_columns"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("DELETE FROM customers WHERE updated_at >= :watermark", "must start with SELECT"),
        ("SELECT * FROM customers WHERE updated_at >= :watermark; DROP TABLE customers", "Only one statement"),
        (
            "WITH gone AS (DELETE FROM customers RETURNING *) SELECT * FROM gone WHERE updated_at >= :watermark",
            "DELETE",
        ),
        ("SELECT * INTO backup FROM customers WHERE updated_at >= :watermark", "INTO"),
        ("SELECT * FROM customers WHERE updated_at >= :watermark FOR UPDATE", "UPDATE"),
        ("SELECT * FROM customers -- WHERE updated_at >= :watermark", "comments"),
        ("SELECT * FROM customers", ":watermark"),
        ("SELECT * FROM customers WHERE updated_at > :watermark", ">= :watermark"),
        ("SELECT * FROM customers WHERE updated_at >= :watermark AND id = :other", "other"),
        ("SELECT * FROM t WHERE x = 'a\\'' ; DELETE FROM t WHERE u >= :watermark -- '", "Only one statement"),
    ],
)
def test_read_query_must_be_a_single_select(query, message):
    errors = entity_errors(table=None, query=query, initial_watermark="0")

    assert message in " ".join(map(str, errors["query"]))


def test_a_select_with_literals_that_look_like_sql_is_accepted():
    query = "SELECT id, 'update; -- delete' AS note, \"into\" FROM customers WHERE updated_at >= :watermark;"
    entity = {"query": query, "id_column": "id", "watermark_column": "updated_at", "initial_watermark": "0"}
    data = {"dialect": "sqlite", "path": "/srv/peer.sqlite3", "entities": {"customer": entity}}

    settings = validate(SqlSettingsSerializer, data)

    assert settings["entities"]["customer"]["key_columns"] == ["id"]


def test_entity_needs_a_source_a_watermark_and_a_first_watermark_for_queries():
    assert "table" in entity_errors(table=None)
    assert "watermark_column" in entity_errors(watermark_column=None)
    errors = entity_errors(query="SELECT * FROM c WHERE u >= :watermark")
    assert set(errors) == {"query", "initial_watermark"}  # a table and a query; no first watermark


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"host": None}, "host"),
        ({"host": "db.example.com/evil?x="}, "host"),
        ({"dialect": "sqlite"}, "path"),
        ({"dialect": "sqlite", "path": "relative.sqlite3"}, "path"),
        ({"options": {"sslmode": "require", "local_infile": True}}, "options"),
        ({"options": {"connect_timeout": "soon"}}, "options"),
        ({"dialect": "sqlite", "path": "/x.sqlite3", "options": {"timeout": True}}, "options"),
        ({"dialect": "oracle"}, "dialect"),
        ({"port": 70000}, "port"),
    ],
)
def test_connection_settings_errors_are_field_level(changes, field):
    errors = settings_errors(**changes)

    assert field in errors


def test_invalid_settings_make_the_adapter_refuse_to_start():
    with pytest.raises(PermanentError, match="settings are invalid"):
        SqlAdapter({"dialect": "sqlite", "path": "/x.sqlite3", "entities": {"c": {"table": "x;y", "id_column": "id"}}})
