"""Real database peers for the SQL adapter's tests: PostgreSQL, MariaDB and SQLite.

Each server gets a scratch database of its own, created for the test session
and dropped afterwards, so the tests never touch Django's test database. A
server that is not reachable skips its tests with the reason, and fails them
when JUNCTION_REQUIRE_SERVICES=1 (as conftest.GATES does for Django's services).
The ``peer`` fixture (registered in conftest.py) hands a test one of them.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from integrations.adapters.sql import SqlAdapter, engines

REQUIRE_SERVICES = os.environ.get("JUNCTION_REQUIRE_SERVICES") == "1"
DIALECTS = ["postgresql", "mysql", "sqlite"]
SERVERS = ["postgresql", "mysql"]
POSTGRES = {
    "host": os.environ.get("JUNCTION_TEST_PG_HOST", "127.0.0.1"),
    "port": int(os.environ.get("JUNCTION_TEST_PG_PORT", "5432")),
    "username": os.environ.get("JUNCTION_TEST_PG_USER", "postgres"),
}
MARIADB = {
    "host": os.environ.get("JUNCTION_TEST_MARIADB_HOST", "127.0.0.1"),
    "port": int(os.environ.get("JUNCTION_TEST_MARIADB_PORT", "3306")),
    "username": os.environ.get("JUNCTION_TEST_MARIADB_USER", "root"),
}
MARIADB_PASSWORD = os.environ.get("JUNCTION_TEST_MARIADB_PASSWORD", "")


def skip_or_fail(service: str, reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{service} is required here (JUNCTION_REQUIRE_SERVICES=1): {reason}")
    pytest.skip(f"needs {service}: {reason}")


def _server_url(dialect: str, database: str) -> sa.URL:
    if dialect == "postgresql":
        return sa.URL.create("postgresql+psycopg", **_url_parts(POSTGRES), database=database)
    return sa.URL.create("mysql+pymysql", **_url_parts(MARIADB), password=MARIADB_PASSWORD or None, database=database)


def _url_parts(server: dict) -> dict:
    return {"host": server["host"], "port": server["port"], "username": server["username"]}


def server_available(dialect: str) -> tuple[bool, str]:
    """Whether the server answers a query, and why not."""
    engine = sa.create_engine(_server_url(dialect, "postgres" if dialect == "postgresql" else "test"))
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.SQLAlchemyError as exc:
        return False, f"{dialect} at {engine.url.host}:{engine.url.port} is not reachable: {exc.orig or exc}"
    finally:
        engine.dispose()
    return True, ""


class ScratchServer:
    """A database of our own on a running server, dropped at the end of the session."""

    def __init__(self, dialect: str):
        self.dialect = dialect
        self.database = f"junction_sql_adapter_{uuid.uuid4().hex[:8]}"
        admin_db = "postgres" if dialect == "postgresql" else "test"
        self.admin = sa.create_engine(_server_url(dialect, admin_db), isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {self.database}")
        self.engine = sa.create_engine(_server_url(dialect, self.database))

    def settings(self) -> dict[str, Any]:
        server = POSTGRES if self.dialect == "postgresql" else MARIADB
        return {"dialect": self.dialect, **server, "database": self.database}

    def credentials(self) -> dict[str, str]:
        return {"password": MARIADB_PASSWORD} if self.dialect == "mysql" else {}

    def drop(self) -> None:
        self.engine.dispose()
        force = " WITH (FORCE)" if self.dialect == "postgresql" else ""
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.database}{force}")
        self.admin.dispose()


class ScratchFile:
    """A SQLite database file in a temporary folder."""

    dialect = "sqlite"

    def __init__(self, folder: Path):
        self.path = folder / "peer.sqlite3"
        self.path.touch()  # an empty file is an empty database; the adapter never creates one
        self.engine = sa.create_engine(f"sqlite:///{self.path}")

    def settings(self) -> dict[str, Any]:
        return {"dialect": "sqlite", "path": str(self.path)}

    def credentials(self) -> dict[str, str]:
        return {}

    def drop(self) -> None:
        self.engine.dispose()


@dataclass
class Peer:
    """One test's view of a database: its tables, and adapters built on it."""

    server: ScratchServer | ScratchFile
    metadata: sa.MetaData = field(default_factory=sa.MetaData)
    adapters: list[SqlAdapter] = field(default_factory=list)
    users: list[str] = field(default_factory=list)

    @property
    def dialect(self) -> str:
        return self.server.dialect

    @property
    def engine(self) -> sa.Engine:
        return self.server.engine

    def table(self, name: str, *columns: sa.Column, **kwargs) -> sa.Table:
        table = sa.Table(name, self.metadata, *columns, **kwargs)
        table.create(self.engine)
        return table

    def insert(self, table: sa.Table, rows: list[dict]) -> None:
        if rows:
            with self.engine.begin() as conn:
                conn.execute(table.insert(), rows)

    def rows(self, table: sa.Table, order_by: str = "id") -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(table).order_by(table.c[order_by])).mappings()]

    def settings(self, **entities: dict) -> dict[str, Any]:
        return {**self.server.settings(), "entities": entities}

    def adapter(self, settings: dict | None = None, credentials: dict | None = None, **entities: dict) -> SqlAdapter:
        adapter = SqlAdapter(settings or self.settings(**entities), self.server.credentials() | (credentials or {}))
        self.adapters.append(adapter)
        return adapter

    def least_privileged_user(self, name: str, password: str, read: list[str], write: list[str]) -> None:
        """A login with the grants docs/connectors/sql.md asks for; dropped in cleanup()."""
        database = self.server.database
        if self.dialect == "postgresql":
            host = ""
            statements = [
                f"CREATE ROLE {name} LOGIN PASSWORD '{password}'",
                f"GRANT CONNECT ON DATABASE {database} TO {name}",
            ]
            statements += [f"GRANT USAGE ON SCHEMA public TO {name}"]
        else:
            host = "@'%%'"  # any host; %% because the driver formats with %
            statements = [f"CREATE USER '{name}'{host} IDENTIFIED BY '{password}'"]
            read, write = [f"{database}.{t}" for t in read], [f"{database}.{t}" for t in write]
        statements += [f"GRANT SELECT ON {table} TO {name}{host}" for table in read]
        statements += [f"GRANT SELECT, INSERT, UPDATE ON {table} TO {name}{host}" for table in write]
        with self.engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
        self.users.append(f"{name}{host}")

    def cleanup(self) -> None:
        for adapter in self.adapters:
            adapter.close()
        engines.clear()  # the next test starts without pooled connections or tables reflected by this one
        with self.engine.begin() as conn:
            for user in self.users:
                owned = f"DROP OWNED BY {user}; " if self.dialect == "postgresql" else ""
                conn.exec_driver_sql(f"{owned}DROP {'ROLE' if owned else 'USER'} {user}")
        self.metadata.drop_all(self.engine)


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server(dialect: str):
    ok, reason = server_available(dialect)
    if not ok:
        skip_or_fail({"postgresql": "PostgreSQL", "mysql": "MariaDB"}[dialect], reason)
    server = ScratchServer(dialect)
    yield server
    server.drop()


@pytest.fixture(scope="session")
def postgresql_server():
    yield from _server("postgresql")


@pytest.fixture(scope="session")
def mysql_server():
    yield from _server("mysql")


@pytest.fixture(params=DIALECTS)
def peer(request, tmp_path):
    """A scratch database of one dialect; its tables are dropped after the test."""
    sqlite = request.param == "sqlite"
    server = ScratchFile(tmp_path) if sqlite else request.getfixturevalue(f"{request.param}_server")
    peer = Peer(server)
    yield peer
    peer.cleanup()
    if sqlite:
        server.drop()
