"""What differs between PostgreSQL, MySQL/MariaDB and SQLite: URL, read-only guard, upsert, error codes.

One class per database, looked up in DIALECTS by the ``dialect`` setting.
"""

from __future__ import annotations

import math
import re
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from .values import row_key


class SqlDialect:
    """What differs between databases: the URL, the read-only guard, the upsert, the error codes."""

    key: ClassVar[str]
    label: ClassVar[str]
    required: ClassVar[tuple[str, ...]] = ("host", "database", "username")
    options: ClassVar[dict[str, type]] = {}  # option a connector may set → its type
    defaults: ClassVar[dict[str, Any]] = {}
    max_params: ClassVar[int] = 30000  # bound values per statement
    naive_utc: ClassVar[bool] = False  # store aware datetimes as naive UTC
    networked: ClassVar[bool] = True  # connects to a host (the outbound policy applies)

    def url(self, settings: dict, password: str) -> sa.URL:
        raise NotImplementedError

    def pin(self, cparams: dict, addresses: list[str]) -> None:
        """Make the driver connect to ``addresses`` (checked by the outbound policy), not resolve the host again."""

    def peer(self, connection: Any) -> str | None:
        """The address the DBAPI connection actually reached."""
        return None

    def connect_args(self, settings: dict) -> dict:
        return {**self.defaults, **settings.get("options", {})}

    @contextmanager
    def read_only(self, conn: sa.Connection) -> Iterator[sa.Connection]:
        yield conn

    def upsert(self, conn: sa.Connection, table: sa.Table, rows: list[dict], keys: list[str]) -> list[str]:
        """Run one upsert statement for ``rows`` (unique keys); one action per row, in order."""
        raise NotImplementedError

    def is_transient(self, orig: Exception) -> bool:
        raise NotImplementedError

    def is_row_error(self, orig: Exception) -> bool:
        """The statement failed because of a value in some row (retry row by row to find it)."""
        raise NotImplementedError

    def is_schema_error(self, orig: Exception) -> bool:
        """The statement names a column or table the database does not have (reflect the table again)."""
        raise NotImplementedError

    def describe(self, orig: Exception) -> tuple[str, str]:
        lines = str(orig).strip().splitlines() or [type(orig).__name__]
        return lines[0], "\n".join(lines[1:])


def _others(rows: list[dict], keys: list[str]) -> list[str]:
    return [column for column in rows[0] if column not in keys]


def _key_filter(table: sa.Table, keys: list[str], rows: list[dict]) -> sa.ColumnElement:
    if len(keys) == 1:
        return table.c[keys[0]].in_([row[keys[0]] for row in rows])
    return sa.tuple_(*(table.c[k] for k in keys)).in_([tuple(row[k] for k in keys) for row in rows])


def _on_conflict(insert, table: sa.Table, rows: list[dict], keys: list[str]):
    """``INSERT … ON CONFLICT (keys) DO UPDATE`` the other columns, only where one of them differs.

    The statement carries no values: it is executed with the rows as parameters, so
    SQLAlchemy compiles it once per table and column set (its compiled cache) and
    batches the rows itself ("insertmanyvalues"), instead of compiling a new
    multi-row VALUES with a bind per value for every batch.
    """
    stmt = insert(table)
    others = _others(rows, keys)
    if not others:
        return stmt.on_conflict_do_nothing(index_elements=keys)
    changed = sa.or_(*(_comparable(table.c[c]).is_distinct_from(_comparable(stmt.excluded[c])) for c in others))
    return stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in others}, where=changed)


def _comparable(column: sa.ColumnElement) -> sa.ColumnElement:
    # PostgreSQL's json (unlike jsonb) has no equality operator; its text has.
    return sa.cast(column, sa.Text) if type(column.type) is postgresql.JSON else column


class PostgresDialect(SqlDialect):
    """``ON CONFLICT … DO UPDATE … WHERE IS DISTINCT FROM``; ``RETURNING (xmax = 0)`` tells insert from update."""

    key, label = "postgresql", "PostgreSQL"
    _compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # reflected Table -> statements
    options = {"connect_timeout": int, "sslmode": str, "application_name": str, "options": str}
    defaults = {"connect_timeout": 10, "application_name": "junction"}
    # Connection failures, serialization failure, deadlock, lock not available,
    # statement timeout, shutdown, too many connections.
    transient_states = ("08", "40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03", "53")

    def url(self, settings, password):
        return sa.URL.create(
            "postgresql+psycopg",
            username=settings["username"],
            password=password or None,
            host=settings["host"],
            port=settings.get("port") or 5432,
            database=settings["database"],
        )

    def pin(self, cparams, addresses):
        # libpq connects to hostaddr and keeps host for TLS verification; one host entry per address.
        cparams["host"] = ",".join([cparams["host"]] * len(addresses))
        cparams["hostaddr"] = ",".join(addresses)

    def peer(self, connection):
        return connection.info.hostaddr

    def connect_args(self, settings):
        args = super().connect_args(settings)
        # Timestamps in UTC whatever the server's default; a TimeZone in the user's options wins (it comes later).
        return {**args, "options": f"-c TimeZone=UTC {args.get('options', '')}".strip()}

    @contextmanager
    def read_only(self, conn):
        yield conn.execution_options(postgresql_readonly=True)

    def upsert(self, conn, table, rows, keys):
        """psycopg's own executemany: one short statement, prepared once and pipelined row by row.

        SQLAlchemy would send the batch as one multi-row VALUES whose text psycopg parses
        again for every batch (a fifth of a loader's time). Each row's statement returns
        a row when it inserted or updated, so the answers come back in order.
        """
        sql, processors = self._statement(conn, table, tuple(rows[0]), tuple(keys))
        params = [{c: (p(row[c]) if p else row[c]) for c, p in processors.items()} for row in rows]
        import psycopg

        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.executemany(sql, params, returning=True)
            flags = []
            while True:
                found = cursor.fetchone()
                flags.append(None if found is None else found[0])
                if not cursor.nextset():
                    break
        except psycopg.Error as exc:  # as SQLAlchemy would raise it, so errors are sorted the same way
            raise sa.exc.DBAPIError.instance(sql, None, exc, psycopg.Error) from exc
        finally:
            cursor.close()
        actions = {True: "created", False: "updated", None: "unchanged"}
        return [actions[flag] for flag in flags]

    def _statement(self, conn, table, columns: tuple, keys: tuple) -> tuple[str, dict]:
        """The upsert's SQL text and each column's bind processor, compiled once per table and columns."""
        cached = self._compiled.setdefault(table, {})
        if (columns, keys) not in cached:
            row = {c: sa.bindparam(c, type_=table.c[c].type) for c in columns}  # these columns only
            stmt = _on_conflict(lambda t: postgresql.insert(t).values(row), table, [row], list(keys))
            returning = stmt.returning(sa.literal_column("(xmax = 0)").label("junction_inserted"))
            compiled = returning.compile(dialect=conn.dialect)
            if set(compiled.binds) != set(columns):
                raise sa.exc.ArgumentError(f"Unexpected bind names for {table.fullname}: {sorted(compiled.binds)}")
            processors = {c: table.c[c].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for c in columns}
            cached[(columns, keys)] = (str(compiled), processors)
        return cached[(columns, keys)]

    def is_transient(self, orig):
        state = getattr(orig, "sqlstate", None)
        if state is None:  # failed before the server answered: refused, timeout, DNS
            return not re.search(r"authentication|does not exist|no pg_hba", str(orig))
        return state.startswith(self.transient_states)

    def is_row_error(self, orig):
        # data exceptions, integrity violations, and one key twice in a statement (citext, …)
        return (getattr(orig, "sqlstate", None) or "").startswith(("22", "23", "21000"))

    def is_schema_error(self, orig):
        return getattr(orig, "sqlstate", None) in {"42703", "42P01"}  # undefined column, undefined table

    def describe(self, orig):
        diag = getattr(orig, "diag", None)
        if diag is not None and diag.message_primary:
            return diag.message_primary, diag.message_detail or ""
        return super().describe(orig)


class MysqlDialect(SqlDialect):
    """``INSERT … ON DUPLICATE KEY UPDATE``; the action comes from the rows read just before it, in its transaction."""

    key, label = "mysql", "MySQL / MariaDB"
    naive_utc = True
    options = {
        "connect_timeout": int,
        "read_timeout": int,
        "write_timeout": int,
        "charset": str,
        "ssl_ca": str,
        "ssl_verify_cert": bool,
        "ssl_verify_identity": bool,
        "ssl_disabled": bool,
    }
    defaults = {"connect_timeout": 10, "charset": "utf8mb4"}
    # Lock wait timeout, deadlock, too many connections, network errors,
    # can't connect, server gone away, lost connection, query timeouts.
    transient_codes = frozenset(
        {1040, 1053, 1158, 1159, 1160, 1161, 1205, 1213, 1927, 1969, 2002, 2003, 2006, 2013, 2055, 3024, 4031}
    )
    # Value problems that PyMySQL reports as OperationalError.
    row_codes = frozenset({1048, 1062, 1264, 1265, 1292, 1364, 1366, 1406, 1451, 1452, 3819, 4025})

    def url(self, settings, password):
        return sa.URL.create(
            "mysql+pymysql",
            username=settings["username"],
            password=password or None,
            host=settings["host"],
            port=settings.get("port") or 3306,
            database=settings["database"],
        )

    def pin(self, cparams, addresses):
        # PyMySQL checks the certificate against the host it connects to: with
        # ssl_verify_identity the name stays, and only the peer check applies.
        if not cparams.get("ssl_verify_identity"):
            cparams["host"] = addresses[0]

    def peer(self, connection):
        return connection._sock.getpeername()[0]  # PyMySQL has no public accessor for it

    def connect_args(self, settings):
        args = super().connect_args(settings)
        # TIMESTAMP columns read and write as UTC, like naive datetimes we send.
        return {**args, "init_command": "SET time_zone = '+00:00'"}

    @contextmanager
    def read_only(self, conn):
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")  # applies to the next transaction only
        yield conn

    def upsert(self, conn, table, rows, keys):
        others = _others(rows, keys)
        select = sa.select(*(table.c[c] for c in keys + others)).where(_key_filter(table, keys, rows))
        existing = {row_key(r[: len(keys)]): r[len(keys) :] for r in conn.execute(select)}
        stmt = mysql.insert(table)
        # MySQL needs at least one assignment; setting a key to itself changes nothing.
        conn.execute(stmt.on_duplicate_key_update({c: stmt.inserted[c] for c in others or keys[:1]}), rows)
        actions = []
        for row in rows:
            before = existing.get(row_key(row[k] for k in keys))
            same = before is not None and all(_same(old, row[c]) for old, c in zip(before, others, strict=True))
            actions.append("created" if before is None else "unchanged" if same else "updated")
        return actions

    def is_transient(self, orig):
        return bool(orig.args) and orig.args[0] in self.transient_codes

    def is_row_error(self, orig):
        import pymysql

        code = orig.args[0] if orig.args else None
        return isinstance(orig, pymysql.IntegrityError | pymysql.DataError) or code in self.row_codes

    def is_schema_error(self, orig):
        return bool(orig.args) and orig.args[0] in {1054, 1146}  # unknown column, no such table

    def describe(self, orig):
        if len(orig.args) >= 2:
            return f"{orig.args[1]} (error {orig.args[0]})", ""
        return super().describe(orig)


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, datetime) and isinstance(new, datetime) and (old.tzinfo is None) != (new.tzinfo is None):
        return old.replace(tzinfo=None) == new.replace(tzinfo=None)
    if isinstance(old, float | Decimal) and isinstance(new, float | Decimal):
        return math.isclose(float(old), float(new), rel_tol=1e-9)
    return row_key([old]) == row_key([new])


class SqliteDialect(SqlDialect):
    """``ON CONFLICT … DO UPDATE … WHERE IS NOT``; keys read just before tell insert from update."""

    key, label = "sqlite", "SQLite"
    networked = False
    required = ("path",)
    options = {"timeout": float}  # seconds to wait for another writer's lock
    defaults = {"timeout": 5}
    max_params = 32000  # SQLite's default limit is 32766
    naive_utc = True

    def url(self, settings, password):
        # mode=rw: a missing file is an error, not a new empty database.
        return sa.URL.create("sqlite", database=f"file:{settings['path']}", query={"mode": "rw", "uri": "true"})

    @contextmanager
    def read_only(self, conn):
        conn.exec_driver_sql("PRAGMA query_only = ON")
        try:
            yield conn
        finally:
            conn.exec_driver_sql("PRAGMA query_only = OFF")

    def upsert(self, conn, table, rows, keys):
        key_columns = [table.c[k] for k in keys]
        existing = {row_key(r) for r in conn.execute(sa.select(*key_columns).where(_key_filter(table, keys, rows)))}
        stmt = _on_conflict(sqlite.insert, table, rows, keys)
        returned = {row_key(r) for r in conn.execute(stmt.returning(*key_columns), rows)}
        actions = []
        for row in rows:
            key = row_key(row[k] for k in keys)
            actions.append("created" if key not in existing else "updated" if key in returned else "unchanged")
        return actions

    def is_transient(self, orig):
        # SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR
        return (getattr(orig, "sqlite_errorcode", 0) & 0xFF) in {5, 6, 10}

    def is_row_error(self, orig):
        import sqlite3

        return isinstance(orig, sqlite3.IntegrityError | sqlite3.DataError)

    def is_schema_error(self, orig):
        # SQLite has no code for these (SQLITE_ERROR); its messages have been stable for years.
        return bool(re.match(r"no such (column|table)|table \S+ has no column named", str(orig)))


DIALECTS: dict[str, SqlDialect] = {d.key: d for d in (PostgresDialect(), MysqlDialect(), SqliteDialect())}
