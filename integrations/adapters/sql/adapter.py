"""The SQL adapter: keyset reads, bulk upserts, and "Test connection"."""

from __future__ import annotations

import binascii
import socket
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
from .dialects import DIALECTS
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

    One engine per adapter instance (pool_pre_ping), disposed in close(). Every
    page read and every batch written is its own short transaction.
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
        self._tables: dict[str, sa.Table] = {}

    @cached_property
    def engine(self) -> sa.Engine:
        engine = sa.create_engine(
            self.dialect.url(self.settings, self.credentials.get("password", "")),
            connect_args=self.dialect.connect_args(self.settings),
            pool_pre_ping=True,
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
        host = self.settings["host"]
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

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
            del self.__dict__["engine"]
        self._tables.clear()

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
        PermanentError in its WriteResult while the others are written.
        """
        spec = self._entity(entity)
        if not records:
            return []
        table, keys = self._write_table(spec)
        results: list[WriteResult | None] = [None] * len(records)
        ready = []
        for index, record in enumerate(records):
            try:
                ready.append((index, self._prepare(table, spec, record)))
            except PermanentError as exc:
                results[index] = WriteResult(record.key, target_id=record.target_id, error=exc)
        for group in _statement_groups(ready, keys, self.dialect.max_params):
            self._write_group(table, keys, records, group, results)
        return results  # type: ignore[return-value]

    def _write_table(self, spec: dict) -> tuple[sa.Table, list[str]]:
        """The reflected write table, checked to have a unique key on exactly the key columns."""
        if "write_table" not in spec:
            raise PermanentError("This entity has no write_table.")
        name, keys = spec["write_table"], list(spec["key_columns"])
        if name not in self._tables:
            schema, _, table_name = name.rpartition(".")
            try:
                with self.engine.connect() as conn:
                    table = sa.Table(table_name, sa.MetaData(), schema=schema or None, autoload_with=conn)
                    unique = _unique_keys(sa.inspect(conn), table_name, schema or None)
            except sa.exc.SQLAlchemyError as exc:
                raise self._error(exc) from exc
            if missing := [k for k in keys if k not in table.c]:
                raise PermanentError(f"Table {name} has no column {', '.join(missing)}.")
            if set(keys) not in unique:
                raise PermanentError(
                    f"Table {name} has no primary key or unique index on exactly ({', '.join(keys)}); "
                    "an upsert needs one."
                )
            self._tables[name] = table
        return self._tables[name], keys

    def _prepare(self, table: sa.Table, spec: dict, record: OutRecord) -> dict:
        """The record as a row of typed values; PermanentError for what the table cannot take."""
        payload = dict(record.payload)
        keys = spec["key_columns"]
        if record.target_id and not all(k in payload for k in keys):
            payload.update(zip(keys, decode_position(record.target_id), strict=False))
        if "columns" in spec:
            payload = {k: v for k, v in payload.items() if k in spec["columns"] or k in keys}
        if unknown := [k for k in payload if k not in table.c]:
            raise PermanentError(f"Table {table.fullname} has no column {', '.join(map(repr, unknown))}.")
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

    def _write_group(self, table, keys, records, group, results) -> None:
        rows = [row for _, row in group]
        try:
            with self.engine.begin() as conn:
                actions = self.dialect.upsert(conn, table, rows, keys)
        except sa.exc.DBAPIError as exc:
            if exc.orig is None or not self.dialect.is_row_error(exc.orig):
                raise self._error(exc) from exc
            if len(group) > 1:  # find the bad row: the others still land
                for item in group:
                    self._write_group(table, keys, records, [item], results)
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
        """Connect, then check every entity's read source and write table; never raises for peer problems."""
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
