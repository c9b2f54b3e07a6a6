"""FilesAdapter: reads and writes CSV, JSON Lines and XLSX files in a local folder or on SFTP.

The conventions (file order, watermark, archiving, the ``__error__`` records)
are in the package docstring, ``integrations/adapters/files/__init__.py``.
"""

from __future__ import annotations

import logging
import posixpath
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, suppress
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

from rest_framework import serializers

from ..base import Adapter, Check, OutRecord, Page, SourceRecord, WriteResult, validate
from ..errors import AdapterError, PermanentError
from ..registry import register
from .formats import FormatOptions, Row, UnreadableFile, needs_seek, read_rows, write_rows
from .locations import FileInfo, Location, guard, open_location
from .schema import FilesCredentialsSerializer, FilesSettingsSerializer, LocationType
from .watermark import Finished, Watermark

logger = logging.getLogger(__name__)

ERROR_KEY = "__error__"  # a record carrying it is quarantined by the engine, not imported
EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "xlsx": "xlsx"}


@register
class FilesAdapter(Adapter):
    """CSV, JSON Lines and XLSX files in a local folder (below JUNCTION_FILES_ROOT) or on an SFTP server.

    Reads stream one row at a time; fully read files are moved to the archive
    folder by :meth:`archive`, unreadable ones to the error folder. Each write
    is one new file, written under a temporary name and renamed.
    """

    key = "files"
    label = "Files (CSV, JSON Lines, XLSX)"
    settings_schema = FilesSettingsSerializer
    credentials_schema = FilesCredentialsSerializer

    def __init__(self, settings: dict[str, Any], credentials: dict[str, Any] | None = None):
        super().__init__(settings, credentials)
        try:
            self.config = validate(FilesSettingsSerializer, settings)
        except serializers.ValidationError as exc:
            raise PermanentError(f"The connector's settings are invalid: {describe(exc.detail)}") from None
        # {run} in written file names. One adapter instance serves one run; the
        # engine may set it to the run's id.
        self.run_id = uuid.uuid4().hex[:8]
        self._batches = 0
        self._archived: set[FileInfo] = set()
        self._location: Location | None = None

    @classmethod
    def check_credentials(cls, settings: dict[str, Any], credentials: dict[str, Any] | None) -> dict[str, list[str]]:
        """Field errors when SFTP settings come without a password or a private key (local needs none)."""
        credentials = credentials or {}
        if (
            settings.get("location") != LocationType.SFTP
            or credentials.get("password")
            or credentials.get("private_key")
        ):
            return {}
        message = "SFTP needs a password or a private key."
        return {"password": [message], "private_key": [message]}

    @property
    def location(self) -> Location:
        if self._location is None:
            self._location = open_location(self.config, self.credentials)
        return self._location

    def close(self) -> None:
        if self._location is not None:
            self._location.close()

    def entity(self, name: str, folder_field: str = "", purpose: str = "") -> dict[str, Any]:
        """One entity's settings; PermanentError when it is missing or lacks ``folder_field``."""
        entities = self.config["entities"]
        if name not in entities:
            raise PermanentError(f"This connector has no settings for {name!r} (it has {', '.join(sorted(entities))}).")
        if folder_field and not entities[name][folder_field]:
            label = folder_field.replace("_", " ")
            raise PermanentError(f"{name!r} has no {label} in the connector's settings, so it cannot be {purpose}.")
        return entities[name]

    # --- Reading ---------------------------------------------------------------------------------

    def read(self, entity: str, *, watermark: str | None = None, page_size: int = 500) -> Iterator[Page]:
        """Pages of the inbound files' records, file by file in name order, resuming after ``watermark``.

        A page never spans two files; the last page of each file (possibly
        empty) has ``"complete": true`` in its watermark. Reading moves no
        file: :meth:`archive` does, once a page is committed.
        """
        settings = self.entity(entity, "inbound_folder", "read")
        mark = Watermark.parse(watermark)
        if mark and mark.entity != entity:
            raise PermanentError(f"The stored watermark belongs to {mark.entity!r}, not {entity!r}; clear it.")
        return self._pages(entity, settings, mark, max(1, page_size))

    def _pages(self, entity: str, settings: dict, mark: Watermark | None, page_size: int) -> Iterator[Page]:
        files = sorted(self._inbound(settings), key=lambda info: info.name)
        finished = {item.info for item in mark.finished()} if mark else set()
        if finished & set(files):
            # Committed but not yet moved (the engine stopped before archive()): skip them, and
            # hand the committed watermark out again so the engine archives them this time.
            yield Page([], mark.dump())
        done: list[Finished] = []
        for info, start in self._queue([info for info in files if info not in finished], mark):
            position, failure = start, []
            for chunk, last in chunks(self._records(settings, info, start, failure), page_size):
                position += len(chunk)
                pending = [item for item in done if item.info not in self._archived]
                error = failure[0] if last and failure else ""
                yield Page(chunk, Watermark(entity, info, position, last, error, pending).dump())
            done.append(Finished(info, failure[0] if failure else ""))

    def _queue(self, files: list[FileInfo], mark: Watermark | None) -> list[tuple[FileInfo, int]]:
        """The files to read with the number of records to skip in each: a half-read file first."""
        resume = mark.file if mark and not mark.complete else None
        # A file whose name, size and mtime changed is a new upload: read it from the start.
        return [(info, mark.row) for info in files if info == resume] + [(info, 0) for info in files if info != resume]

    def _inbound(self, settings: dict) -> list[FileInfo]:
        """Files in the inbound folder that match the pattern and are old enough to be complete."""
        folder, pattern = settings["inbound_folder"], settings["pattern"]
        with guard(f"Listing the inbound folder {folder!r}"):
            files = self.location.list_files(self.location.path(folder))
        min_age = settings["min_age_seconds"]
        settled_before = time.time() - min_age
        return [
            info for info in files if fnmatchcase(info.name, pattern) and (not min_age or info.mtime <= settled_before)
        ]

    def _records(self, settings: dict, info: FileInfo, start: int, failure: list[str]) -> Iterator[SourceRecord]:
        """The file's records after the first ``start``; an unreadable file ends with one error record
        and its reason appended to ``failure``."""
        options = FormatOptions.from_settings(settings)
        path = self.location.path(settings["inbound_folder"], info.name)
        open_file = self.location.open_seekable if needs_seek(options) else self.location.open_read
        try:
            # closing(): the row reader lets go of the stream before the stream is closed.
            with guard(f"Reading {info.name}"), open_file(path) as stream, closing(read_rows(stream, options)) as rows:
                for index, row in enumerate(rows, 1):
                    if index > start:
                        yield to_record(info.name, row, settings)
        except UnreadableFile as exc:
            failure.append(exc.reason)
            message = f"{info.name}: {exc.reason} (the file goes to the error folder)"
            yield SourceRecord(info.name, {ERROR_KEY: message, "__raw__": "", "__source__": info.name})

    # --- Archiving -------------------------------------------------------------------------------

    def committed(self, entity: str, watermark: str | None) -> None:
        self.archive(watermark)

    def archive(self, watermark: str | None) -> list[str]:
        """Move the files ``watermark`` says were read to the end out of the inbound folder.

        Read files go to the archive folder, unreadable ones to the error folder
        with ``<name>.reason.txt`` beside them. The engine calls this after
        committing, in a live run, the page that carries ``watermark``;
        :meth:`read` itself moves nothing, so pilot and dry runs leave the
        folders alone. Returns the names of the files moved; a file already
        gone (or replaced by a new upload) is left alone.
        """
        mark = Watermark.parse(watermark)
        if mark is None:
            return []
        settings = self.entity(mark.entity, "inbound_folder", "read")
        pending = [item for item in mark.finished() if item.info not in self._archived]
        if not pending:
            return []
        inbound = settings["inbound_folder"]
        with guard(f"Listing the inbound folder {inbound!r}"):
            present = set(self.location.list_files(self.location.path(inbound)))
        moved = []
        for item in pending:
            if item.info in present:
                move = self._reject if item.error else self._archive
                move(settings, item)
                moved.append(item.info.name)
            self._archived.add(item.info)
        return moved

    def _archive(self, settings: dict, item: Finished) -> None:
        name, folder = item.info.name, settings["archive_folder"]
        with guard(f"Moving {name} to the archive folder {folder!r}"):
            target = self._free_name(folder, name)
            self.location.move(self.location.path(settings["inbound_folder"], name), self.location.path(folder, target))

    def _reject(self, settings: dict, item: Finished) -> None:
        """Move an unreadable file to the error folder with ``<name>.reason.txt`` beside it."""
        name, folder = item.info.name, settings["error_folder"]
        with guard(f"Moving {name} to the error folder {folder!r}"):
            target = self._free_name(folder, name, ".reason.txt")
            self.location.move(self.location.path(settings["inbound_folder"], name), self.location.path(folder, target))
            note = f"file: {name}\nmoved: {datetime.now(UTC).isoformat()}\nreason: {item.error}\n"
            with self.location.open_write(self.location.path(folder, f"{target}.reason.txt")) as stream:
                stream.write(note.encode())
        logger.warning("Files adapter: moved %s to the error folder as %s: %s", name, target, item.error)

    def _free_name(self, folder: str, name: str, *companions: str) -> str:
        """``name``, or ``name`` with a UTC timestamp added, so nothing in ``folder`` is overwritten."""
        root, ext = posixpath.splitext(name)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        candidate, attempt = name, 1
        while any(self.location.exists(self.location.path(folder, candidate + s)) for s in ("", *companions)):
            candidate = f"{root}-{stamp}{ext}" if attempt == 1 else f"{root}-{stamp}-{attempt}{ext}"
            attempt += 1
        return candidate

    # --- Writing ---------------------------------------------------------------------------------

    def write(self, entity: str, records: list[OutRecord]) -> list[WriteResult]:
        """Write ``records`` as one new file in the outbound folder; target ids are ``"<file name>#<row>"``."""
        settings = self.entity(entity, "outbound_folder", "written")
        if not records:
            return []
        options = FormatOptions.from_settings(settings)
        self._batches += 1
        name = self.file_name(entity, settings)
        rows = [out_row(record, settings["key_field"]) for record in records]
        with guard(f"Writing {name} to the outbound folder {settings['outbound_folder']!r}"):
            failed = self._write_file(settings["outbound_folder"], name, rows, options)
        results, row = [], 0
        for index, record in enumerate(records):
            if index in failed:
                results.append(WriteResult(key=record.key, error=PermanentError(failed[index])))
            else:
                row += 1
                results.append(WriteResult(key=record.key, action="created", target_id=f"{name}#{row}"))
        return results

    def file_name(self, entity: str, settings: dict) -> str:
        name = settings["file_name_template"].format(
            entity=entity,
            run=self.run_id,
            batch=self._batches,
            timestamp=datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ"),
            ext=EXTENSIONS[settings["format"]],
        )
        if "/" in name or name.startswith("."):
            raise PermanentError(f"The file name template gave {name!r}, which is not a plain file name.")
        return name

    def _write_file(self, folder: str, name: str, rows: list[dict], options: FormatOptions) -> dict[int, str]:
        """Write to a hidden temporary name, then rename: readers never see half a file."""
        final = self.location.path(folder, name)
        temp = self.location.path(folder, f".{name}.{uuid.uuid4().hex[:8]}.part")
        try:
            with self.location.open_write(temp) as stream:
                failed = write_rows(stream, rows, options)
            if len(failed) == len(rows):
                self.location.remove(temp)
                return failed
            if self.location.exists(final):
                raise PermanentError(f"{name} already exists in the outbound folder and was not overwritten.")
            self.location.move(temp, final)
        except BaseException:
            with suppress(Exception):
                self.location.remove(temp)
            raise
        return failed

    # --- Test connection -------------------------------------------------------------------------

    def test_connection(self) -> list[Check]:
        """Connect (checking the SFTP host key), then per entity: inbound readable, other folders writable."""
        location = self.location
        try:
            checks = [Check(location.check_name, True, location.connect())]
        except AdapterError as exc:
            return [Check(location.check_name, False, exc.message)]
        for name, settings in sorted(self.config["entities"].items()):
            checks += self._entity_checks(name, settings)
        return checks

    def _entity_checks(self, name: str, settings: dict) -> list[Check]:
        checks = []
        inbound = settings["inbound_folder"]
        if inbound:
            checks.append(self._check_inbound(name, settings))
            checks.append(self._check_folder(f"{name}: archive folder writable", settings["archive_folder"], inbound))
            checks.append(self._check_folder(f"{name}: error folder writable", settings["error_folder"], inbound))
        if settings["outbound_folder"]:
            checks.append(self._check_folder(f"{name}: outbound folder writable", settings["outbound_folder"]))
        return checks

    def _check_inbound(self, name: str, settings: dict) -> Check:
        try:
            files = self._inbound(settings)
        except AdapterError as exc:
            return Check(f"{name}: inbound folder readable", False, exc.message)
        shown = ", ".join(info.name for info in sorted(files, key=lambda info: info.name)[:5])
        detail = f"{settings['inbound_folder']}: {len(files)} match {settings['pattern']!r}" + (
            f" ({shown}{', …' if len(files) > 5 else ''})" if files else ""
        )
        return Check(f"{name}: inbound folder readable ({len(files)} files match)", True, detail)

    def _check_folder(self, label: str, folder: str, source: str = "") -> Check:
        """Create a hidden probe file (in ``source`` first and move it, as archiving does) and remove it."""
        probe = f".junction-probe-{uuid.uuid4().hex[:12]}"
        path = self.location.path(source or folder, probe)
        try:
            with guard(f"Creating a test file in {source or folder!r}"):
                self.location.open_write(path).close()
            try:
                if source:
                    with guard(f"Moving a test file from {source!r} to {folder!r}"):
                        self.location.move(path, self.location.path(folder, probe))
                    path = self.location.path(folder, probe)
            finally:
                with suppress(Exception):
                    self.location.remove(path)
        except AdapterError as exc:
            return Check(label, False, exc.message)
        how = (
            f"a test file was moved there from {source} and removed"
            if source
            else "a test file was written and removed"
        )
        return Check(label, True, f"{folder}: {how}")


def chunks(items: Iterator, size: int) -> Iterator[tuple[list, bool]]:
    """Lists of at most ``size`` items, flagged True on the last (empty only when there were none).

    A full list is handed out only once the next item exists, so the flag is exact.
    """
    chunk: list = []
    for item in items:
        if len(chunk) == size:
            yield chunk, False
            chunk = []
        chunk.append(item)
    yield chunk, True


def out_row(record: OutRecord, key_field: str) -> dict[str, Any]:
    """The payload, led by the record's idempotency key when a key column is set (the key wins a clash)."""
    if not key_field:
        return record.payload
    row = {key_field: record.key}
    row.update(record.payload)
    row[key_field] = record.key
    return row


def to_record(file: str, row: Row, settings: dict) -> SourceRecord:
    """A row as a record, or as an ``__error__`` record the engine quarantines."""
    if row.error:
        return error_record(file, row, row.error)
    id_field = settings["id_field"]
    external_id = scalar_text(lookup(row.data, id_field))
    if not external_id:
        return error_record(file, row, f"{row.where}: no value in id column {id_field!r}")
    version = scalar_text(lookup(row.data, settings["version_field"])) if settings["version_field"] else ""
    return SourceRecord(external_id=external_id, payload=row.data, version=version or None)


def error_record(file: str, row: Row, reason: str) -> SourceRecord:
    payload = {ERROR_KEY: f"{file} {reason}", "__raw__": row.raw, "__source__": f"{file} {row.where}"}
    return SourceRecord(external_id=f"{file}#{row.number}", payload=payload)


def lookup(data: dict, field: str) -> Any:
    """``data[field]``, or a nested value for a dotted ``field`` ("customer.no") in JSON records."""
    if field in data:
        return data[field]
    value: Any = data
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def scalar_text(value: Any) -> str:
    """An id or version as text: "" for nothing, 1001 for the 1001.0 a spreadsheet may hold."""
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def describe(detail: Any, prefix: str = "") -> str:
    """DRF error detail as one readable line: ``entities.customer.id_field: Required to read files.``"""
    if isinstance(detail, dict):
        return "; ".join(describe(value, f"{prefix}{key}.") for key, value in detail.items())
    if isinstance(detail, list):
        return "; ".join(describe(value, prefix) for value in detail)
    return f"{prefix.rstrip('.')}: {detail}" if prefix else str(detail)
