"""The SQL adapter: keyset reads, bulk upserts, and "Test connection"."""

from __future__ import annotations

import binascii
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from rest_framework import serializers

from integrations import outbound

from ..base import Adapter, Check, OutRecord, Page, SourceRecord, WriteResult, validate
from ..errors import AdapterError, PermanentError, TransientError
from ..registry import register
from . import engines
from .dialects import DIALECTS, SqlDialect
from .settings import SqlCredentialsSerializer, SqlSettingsSerializer
from .values import as_text, decode_position, encode_position, json_safe, row_key, to_db


@dataclass
class _Position:
    """Where a read stands: after (watermark, id), or from watermark inclusive when id is None."""

    watermark: Any = None
    id: Any = None

    @classmethod
    def parse(cls, text: str | None, initial: str | None) -> _Position:
        if not text:
            return cls(initial)
        parts = decode_position(text)
        return cls(parts[0], parts[1] if len(parts) > 1 else None)


@register
class SqlAdapter(Adapter):
    """Reads tables or SELECTs by keyset over (watermark, id); writes by bulk upsert.

    Adapters with the same connection share one engine and its reflected write
    tables per process (engines.py); close() leaves them to the next adapter.
    "Test connection" uses an engine of its own. Every page read and every
    batch written is its own short transaction.
    """

    key = "sql"
    label = "SQL database"
    settings_schema = SqlSettingsSerializer
    credentials_schema = SqlCredentialsSerializer

    def __init__(self, settings, credentials=None):
        # Validated again: identifiers from settings end up in SQL text.
        try:
            settings = validate(SqlSettingsSerializer, settings)
        except serializers.ValidationError as exc:
            raise PermanentError("The SQL connector's settings are invalid.", detail=str(exc.detail)) from exc
        super().__init__(settings, credentials)
        self.dialect = DIALECTS[settings["dialect"]]
        self._own: engines.SharedEngine | None = None  # "Test connection"'s engine, while it runs

    @cached_property
    def _shared(self) -> engines.SharedEngine:
        url, connect_args = self._connection()
        builder = _EngineBuilder(self.dialect, self.settings.get("host"))
        engine_key = engines.key(self.dialect.key, url, connect_args)
        return engines.shared(engine_key, lambda: builder.create(url, connect_args))

    def _connection(self) -> tuple[sa.URL, dict]:
        """What defines the engine: the URL (with the password) and the driver's connect_args."""
        url = self.dialect.url(self.settings, self.credentials.get("password", ""))
        return url, self.dialect.connect_args(self.settings)

    @property
    def _current(self) -> engines.SharedEngine:
        return self._own or self._shared

    @property
    def engine(self) -> sa.Engine:
        return self._current.engine

    def close(self) -> None:
        """Let go of the shared engine; its pooled connections stay for the next adapter."""
        self.__dict__.pop("_shared", None)

    # -- errors

    def _error(self, exc: Exception) -> AdapterError:
        """A SQLAlchemy/driver error as TransientError or PermanentError with the database's message."""
        if isinstance(exc, AdapterError):
            return exc
        if isinstance(exc, sa.exc.TimeoutError):
            return TransientError(f"No free connection to {self.dialect.label}: {exc}")
        if isinstance(exc, sa.exc.NoSuchTableError):
            return PermanentError(f"Table {exc} does not exist or {self._who} may not see it.")
        orig = getattr(exc, "orig", None)
        if not isinstance(exc, sa.exc.DBAPIError) or orig is None:
            return PermanentError(f"{self.dialect.label}: {exc}")
        message, detail = self.dialect.describe(orig)
        if exc.connection_invalidated or self.dialect.is_transient(orig):
            return TransientError(f"{self.dialect.label} is unavailable: {message}", detail=detail)
        return PermanentError(f"{self.dialect.label}: {message}", detail=detail)

    @property
    def _who(self) -> str:
        return f"user {self.settings['username']}" if self.settings.get("username") else "Junction"

    def _entity(self, entity: str) -> dict:
        try:
            return self.settings["entities"][entity]
        except KeyError:
            raise PermanentError(f"The SQL connector has no entity {entity!r}.") from None

    def _quote(self, name: str) -> str:
        preparer = self.engine.dialect.identifier_preparer
        return ".".join(preparer.quote(part) for part in name.split("."))

    # -- reading

    def read(self, entity: str, *, watermark: str | None = None, page_size: int = 500) -> Iterator[Page]:
        """Pages ordered by (watermark column, id column), each from its own keyset query.

        Page.watermark is ``"<watermark>|<id>"`` of the page's last row (ISO 8601
        for timestamps; ``%`` and ``|`` %-escaped); a bare ``"<watermark>"``
        means "from this value on, inclusive".
        """
        spec = self._entity(entity)
        if "table" not in spec and "query" not in spec:
            raise PermanentError(f"Entity {entity!r} has no table or query to read.")
        position = _Position.parse(watermark, spec.get("initial_watermark"))
        while True:
            try:
                _, rows = self._select(spec, position, page_size)
            except sa.exc.SQLAlchemyError as exc:
                raise self._error(exc) from exc
            if not rows:
                return
            # Within a run the last row's own values are bound, so the driver keeps their types.
            position = _Position(rows[-1]["junction_wm"], rows[-1]["junction_id"])
            yield Page([self._record(row) for row in rows], encode_position(position.watermark, position.id))
            if len(rows) < page_size:
                return

    def _select(self, spec: dict, position: _Position, limit: int) -> tuple[list[str], list[dict]]:
        """Run one page's query; the column names and the rows (with junction_wm and junction_id added)."""
        wm, ident = (f"junction_src.{self._quote(spec[c])}" for c in ("watermark_column", "id_column"))
        source = f"({spec['query'].strip().removesuffix(';')})" if "query" in spec else self._quote(spec["table"])
        columns = ", ".join(f"junction_src.{self._quote(c)}" for c in spec.get("columns", [])) or "junction_src.*"
        where = [f"{wm} IS NOT NULL", f"{ident} IS NOT NULL"]
        params = {"watermark": position.watermark} if "query" in spec else {}
        if position.watermark is not None:
            where.append(f"{wm} >= :junction_wm")
            params["junction_wm"] = position.watermark
        if position.id is not None:
            # A row comparison, not "wm > x OR id > y": the index on (watermark, id) then starts each
            # page at the last row read. With the OR, rows sharing one watermark value (a bulk load
            # stamps thousands alike) were scanned again on every page, quadratic in their number.
            where.append(f"({wm}, {ident}) > (:junction_wm, :junction_id)")
            params["junction_id"] = position.id
        sql = (
            f"SELECT {columns}, {wm} AS junction_wm, {ident} AS junction_id FROM {source} junction_src"  # noqa: S608 (identifiers validated and quoted; values bound)
            f" WHERE {' AND '.join(where)} ORDER BY {wm}, {ident} LIMIT {int(limit)}"
        )
        with self.engine.connect() as conn, self.dialect.read_only(conn) as reader:
            streaming = reader.execution_options(stream_results=True, yield_per=max(1, min(limit, 1000)))
            result = streaming.execute(sa.text(sql), params)
            names = list(result.keys())  # ends with junction_wm, junction_id
            return names[:-2], [dict(zip(names, row, strict=True)) for row in result]

    def _record(self, row: dict) -> SourceRecord:
        wm, ident = row.pop("junction_wm"), row.pop("junction_id")
        return SourceRecord(as_text(ident), {k: json_safe(v) for k, v in row.items()}, version=as_text(wm))

    # -- writing

    def write(self, entity: str, records: list[OutRecord]) -> list[WriteResult]:
        """Upsert ``records`` by the key columns, one statement per batch (see docs/connectors/sql.md).

        Raises TransientError when the database is unavailable and PermanentError
        when the table itself is wrong; a record the database refuses gets a
        PermanentError in its WriteResult while the others are written. A write
        table reflected before this call that turns out to have changed (a column
        the records have and it lacks, or the database naming a column or table it
        does not have) is reflected again, once, and the records not yet written
        are written against that.
        """
        spec = self._entity(entity)
        if not records:
            return []
        results: list[WriteResult | None] = [None] * len(records)
        try:
            self._write_pending(spec, records, results, again=False)
        except _SchemaChanged:
            self._write_pending(spec, records, results, again=True)
        return results  # type: ignore[return-value]

    def _write_pending(self, spec: dict, records: list[OutRecord], results: list, *, again: bool) -> None:
        """Write the records that have no result yet; _SchemaChanged if a table reflected earlier has changed."""
        started = time.monotonic()
        reflected, keys = self._write_target(spec, again=again)
        table, stale = reflected.table, reflected.at < started  # stale: reflected by an earlier call
        ready, refused, unknown = [], {}, {}
        for index, record in enumerate(records):
            if results[index] is None:
                try:
                    ready.append((index, self._prepare(table, spec, record)))
                except _UnknownColumns as exc:
                    unknown[index] = PermanentError(str(exc))
                except PermanentError as exc:
                    refused[index] = exc
        if stale and unknown:
            raise _SchemaChanged
        refused |= unknown
        for group in _statement_groups(ready, keys, self.dialect.max_params):
            self._write_group(table, keys, records, group, results, stale=stale)
        for index, exc in refused.items():
            results[index] = WriteResult(records[index].key, target_id=records[index].target_id, error=exc)

    def _write_table(self, spec: dict) -> tuple[sa.Table, list[str]]:
        """The reflected write table, checked to have a unique key on exactly the key columns."""
        reflected, keys = self._write_target(spec, again=False)
        return reflected.table, keys

    def _write_target(self, spec: dict, *, again: bool) -> tuple[engines.Reflected, list[str]]:
        if "write_table" not in spec:
            raise PermanentError("This entity has no write_table.")
        name, keys = spec["write_table"], list(spec["key_columns"])
        reflected = self._reflected(name, again=again)
        problem = None
        if missing := [k for k in keys if k not in reflected.table.c]:
            problem = f"Table {name} has no column {', '.join(missing)}."
        elif set(keys) not in reflected.unique:
            problem = (
                f"Table {name} has no primary key or unique index on exactly ({', '.join(keys)}); an upsert needs one."
            )
        if problem:
            self._current.tables.pop(name, None)  # not kept: the next call sees the table once it is fixed
            raise PermanentError(problem)
        return reflected, keys

    def _reflected(self, name: str, *, again: bool) -> engines.Reflected:
        """The table as reflected within engines.TABLE_TTL, or now (always with ``again``)."""
        tables = self._current.tables
        found = tables.get(name)
        if found is not None and found.fresh and not again:
            return found
        tables.pop(name, None)  # a table that has gone must not stay cached
        schema, _, table_name = name.rpartition(".")
        try:
            with self.engine.connect() as conn:
                table = sa.Table(table_name, sa.MetaData(), schema=schema or None, autoload_with=conn)
                unique = _unique_keys(sa.inspect(conn), table_name, schema or None)
        except sa.exc.SQLAlchemyError as exc:
            raise self._error(exc) from exc
        tables[name] = found = engines.Reflected(table, unique)
        return found

    def _prepare(self, table: sa.Table, spec: dict, record: OutRecord) -> dict:
        """The record as a row of typed values; PermanentError (or _UnknownColumns) for what the table cannot take."""
        payload = dict(record.payload)
        keys = spec["key_columns"]
        if record.target_id and not all(k in payload for k in keys):
            payload.update(zip(keys, decode_position(record.target_id), strict=False))
        if "columns" in spec:
            payload = {k: v for k, v in payload.items() if k in spec["columns"] or k in keys}
        if unknown := [k for k in payload if k not in table.c]:
            raise _UnknownColumns(f"Table {table.fullname} has no column {', '.join(map(repr, unknown))}.")
        if missing := [k for k in keys if payload.get(k) is None]:
            raise PermanentError(f"The record has no value for key column {', '.join(missing)}.")
        row = {}
        for column, value in payload.items():
            try:
                row[column] = to_db(value, table.c[column].type)
            except (ValueError, TypeError, ArithmeticError, binascii.Error) as exc:
                raise PermanentError(f"Column {column}: {value!r} does not fit its type ({exc}).") from exc
            if self.dialect.naive_utc and isinstance(row[column], datetime) and row[column].tzinfo:
                row[column] = row[column].astimezone(UTC).replace(tzinfo=None)
        return row

    def _write_group(self, table, keys, records, group, results, *, stale: bool) -> None:
        rows = [row for _, row in group]
        try:
            with self.engine.begin() as conn:
                actions = self.dialect.upsert(conn, table, rows, keys)
        except sa.exc.DBAPIError as exc:
            if stale and exc.orig is not None and self.dialect.is_schema_error(exc.orig):
                raise _SchemaChanged from exc
            if exc.orig is None or not self.dialect.is_row_error(exc.orig):
                raise self._error(exc) from exc
            if len(group) > 1:  # find the bad row: the others still land
                for item in group:
                    self._write_group(table, keys, records, [item], results, stale=stale)
                return
            index, _ = group[0]
            results[index] = WriteResult(records[index].key, target_id=records[index].target_id, error=self._error(exc))
            return
        except sa.exc.SQLAlchemyError as exc:
            raise self._error(exc) from exc
        for (index, row), action in zip(group, actions, strict=True):
            results[index] = WriteResult(records[index].key, action, encode_position(*(row[k] for k in keys)))

    # -- reconciliation

    def reconcile_ids(self, entity: str) -> set[str]:
        """Every key in the entity's write table, in the form of the target ids writes return."""
        table, keys = self._write_table(self._entity(entity))
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(sa.select(*(table.c[k] for k in keys))).yield_per(10_000)
                return {encode_position(*row) for row in rows}
        except sa.exc.SQLAlchemyError as exc:
            raise self._error(exc) from exc

    def key_of(self, entity: str, payload: dict[str, Any]) -> str:
        """The key a record Junction wrote with ``payload`` has in the table (its values as the columns' types)."""
        table, keys = self._write_table(self._entity(entity))
        return encode_position(*(to_db(payload.get(k), table.c[k].type) for k in keys))

    # -- test connection

    def test_connection(self) -> list[Check]:
        """Connect, then check every entity's read source and write table; never raises for peer problems.

        Runs on an engine of its own, disposed afterwards: "Connect" opens a new connection through the
        outbound policy (a pooled one would pass after the password, the login or the allowlist
        changed), and the write tables are reflected now, not taken from the shared cache.
        """
        builder = _EngineBuilder(self.dialect, self.settings.get("host"))
        self._own = engines.SharedEngine(builder.create(*self._connection()))
        try:
            return self._checks()
        finally:
            self._own.engine.dispose()
            self._own = None

    def _checks(self) -> list[Check]:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
                version = ".".join(map(str, conn.dialect.server_version_info or ()))
                label = "MariaDB" if getattr(conn.dialect, "is_mariadb", False) else self.dialect.label
        except (sa.exc.SQLAlchemyError, AdapterError) as exc:
            return [Check("Connect", False, self._error(exc).message)]
        where = self.settings.get("path") or f"{self.settings['host']}/{self.settings['database']}"
        checks = [Check("Connect", True, f"{label} {version} at {where}")]
        for name, spec in self.settings["entities"].items():
            if "table" in spec or "query" in spec:
                checks.append(self._check_read(name, spec))
            if "write_table" in spec:
                checks.append(self._check_write(name, spec))
        return checks

    def _check_read(self, name: str, spec: dict) -> Check:
        source = spec.get("table") or "query"
        try:
            columns, _ = self._select(spec, _Position(spec.get("initial_watermark")), 0)
        except sa.exc.SQLAlchemyError as exc:
            return Check(f"Read {name} from {source}", False, self._error(exc).message)
        detail = f"id {spec['id_column']}, watermark {spec['watermark_column']}: {', '.join(columns)}"
        return Check(f"Read {name} from {source} ({len(columns)} columns)", True, detail)

    def _check_write(self, name: str, spec: dict) -> Check:
        check = f"Write {name}: table {spec['write_table']} exists with key columns ({', '.join(spec['key_columns'])})"
        try:
            table, keys = self._write_table(spec)
        except AdapterError as exc:
            return Check(check, False, exc.message)
        return Check(check, True, f"unique on ({', '.join(keys)}); {len(table.c)} columns")


class _UnknownColumns(Exception):
    """A record has keys the reflected write table has no columns for (a PermanentError once confirmed)."""


class _SchemaChanged(Exception):
    """The write table changed after it was reflected: reflect it again and write what is left."""


class _EngineBuilder:
    """Builds the adapter's engines. A shared engine outlives the adapter that made it, and its
    do_connect listener keeps this alive: only the dialect and the host, not the adapter's
    settings or password."""

    def __init__(self, dialect: SqlDialect, host: str | None):
        self.dialect = dialect
        self.host = host

    def create(self, url: sa.URL, connect_args: dict) -> sa.Engine:
        engine = sa.create_engine(
            url,
            connect_args=connect_args,
            pool_pre_ping=True,
            pool_recycle=engines.POOL_RECYCLE,
            pool_size=2,
            max_overflow=2,
            hide_parameters=True,  # record values stay out of error messages and logs
        )
        if self.dialect.networked:
            sa.event.listen(engine, "do_connect", self._connect_checked)
        return engine

    def _connect_checked(self, dialect, record, cargs, cparams):
        """Every new database connection through the outbound policy (integrations/outbound.py):
        the host's addresses are checked, the driver connects to those, and the address it
        reached is checked again before the connection is used."""
        host = self.host
        try:
            found = outbound.checked_addresses(host, cparams.get("port"))
        except socket.gaierror as exc:
            raise TransientError(f"{self.dialect.label}: host name {host} not found ({exc.strerror}).") from None
        self.dialect.pin(cparams, [str(address) for address, _ in found])
        connection = dialect.connect(*cargs, **cparams)
        try:
            if peer := self.dialect.peer(connection):
                outbound.check_peer(host, peer)
        except BaseException:
            connection.close()
            raise
        return connection


def _unique_keys(inspector, table: str, schema: str | None) -> list[set[str]]:
    """Column sets the table holds unique: its primary key, unique constraints and unique indexes."""
    sets = [set(inspector.get_pk_constraint(table, schema=schema)["constrained_columns"])]
    sets += [set(u["column_names"]) for u in inspector.get_unique_constraints(table, schema=schema)]
    sets += [set(i["column_names"]) for i in inspector.get_indexes(table, schema=schema) if i.get("unique")]
    return sets


def _statement_groups(ready: list[tuple[int, dict]], keys: list[str], max_params: int) -> Iterator[list]:
    """Split a batch into statements: same columns, each key once, within the driver's parameter limit.

    A normal batch (one record shape, no repeated key, small enough) is one group.
    A key repeated in the batch goes to a later group, so the last record wins.
    """
    pending = ready
    while pending:
        shapes: dict[tuple, list] = {}
        seen: set[tuple] = set()
        later = []
        for index, row in pending:
            key = row_key(row[k] for k in keys)
            if key in seen:
                later.append((index, row))
                continue
            seen.add(key)
            shapes.setdefault(tuple(sorted(row)), []).append((index, row))
        for shape, group in shapes.items():
            size = max(1, max_params // len(shape))
            yield from (group[i : i + size] for i in range(0, len(group), size))
        pending = later
