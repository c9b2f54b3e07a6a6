"""CSV, JSON Lines and XLSX: rows in, rows out, one row at a time.

Readers are generators over a binary stream and never hold more than the
current row (XLSX uses openpyxl's read-only mode, which parses the sheet's XML
as it goes). A row that cannot be made into a record comes out as a
:class:`Row` with ``error`` set; a file that cannot be read at all raises
:class:`UnreadableFile`. Writers return, per row index, the rows they could not
write (a character the encoding lacks), and write every other row.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import itertools
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils.exceptions import InvalidFileException

from ..base import loads_json

SNIFF_BYTES = 64 * 1024
SNIFF_DELIMITERS = ",;\t|"
XLSX_SHEET_TITLE = "records"


class UnreadableFile(Exception):
    """The whole file cannot be read (wrong encoding, not a workbook, no usable header)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Row:
    """One row of a file. ``where`` ("line 17", "row 4") is for people; ``error`` is set when it is unusable."""

    number: int
    where: str
    data: dict[str, Any] | None
    raw: str
    error: str = ""


@dataclass(frozen=True)
class FormatOptions:
    format: str = "csv"
    delimiter: str = ","
    quotechar: str = '"'
    encoding: str = "utf-8-sig"
    header_row: int = 1
    columns: tuple[str, ...] = field(default_factory=tuple)
    sheet: str = ""
    id_column: str = ""  # a header without it makes the file unreadable (CSV, XLSX)

    @classmethod
    def from_settings(cls, entity: dict[str, Any]) -> FormatOptions:
        return cls(
            format=entity["format"],
            delimiter=entity["delimiter"],
            quotechar=entity["quotechar"],
            encoding=entity["encoding"],
            header_row=entity["header_row"],
            columns=tuple(entity["columns"]),
            sheet=entity["sheet"],
            id_column=entity["id_field"],
        )


# --- Reading -------------------------------------------------------------------------------------


def read_rows(stream: BinaryIO, options: FormatOptions) -> Iterator[Row]:
    """The rows of ``stream``, in file order, skipping blank lines."""
    return READERS[options.format](stream, options)


def needs_seek(options: FormatOptions) -> bool:
    return options.format == "xlsx"


class LineRecorder:
    """Hands lines to csv.reader and keeps those of the current record, so its raw text can be quarantined."""

    def __init__(self, lines):
        self._lines = iter(lines)
        self._seen: list[str] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._seen.append(line)
        return line

    def take(self) -> str:
        raw = "".join(self._seen)
        self._seen.clear()
        return raw


def read_csv(stream: BinaryIO, options: FormatOptions) -> Iterator[Row]:
    text = io.TextIOWrapper(stream, encoding=options.encoding, newline="")
    last_line = 0
    try:
        head, delimiter = sniff(text, options.header_row) if options.delimiter == "auto" else ([], options.delimiter)
        lines = LineRecorder(itertools.chain(head, text))
        reader = csv.reader(lines, delimiter=delimiter, quotechar=options.quotechar)
        columns = csv_header(reader, lines, options)
        last_line = reader.line_num
        for values in reader:
            first, last_line = last_line + 1, reader.line_num
            raw = lines.take()
            if any(value.strip() for value in values):
                yield row_from_values(first, f"line {first}", values, columns, raw, missing="")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"not valid {options.encoding} text near line {last_line + 1} ({exc.reason}); check the encoding setting"
        ) from None
    except csv.Error as exc:
        raise UnreadableFile(f"line {last_line + 1}: {exc}") from None
    finally:
        text.detach()


def sniff(text, header_row: int) -> tuple[list[str], str]:
    """Read whole lines (up to about 64 KB) and guess the delimiter from them.

    The header line decides when one candidate clearly occurs most in it
    (column names rarely hold delimiters); otherwise csv.Sniffer looks at all lines.
    """
    head, size = [], 0
    for line in text:
        head.append(line)
        size += len(line)
        if size >= SNIFF_BYTES:
            break
    probe = head[max(header_row, 1) - 1] if len(head) >= max(header_row, 1) else ""
    counts = sorted(((probe.count(d), d) for d in SNIFF_DELIMITERS), reverse=True)
    if counts[0][0] > counts[1][0]:
        return head, counts[0][1]
    try:
        dialect = csv.Sniffer().sniff("".join(head), delimiters=SNIFF_DELIMITERS)
    except csv.Error:
        raise UnreadableFile("could not detect the delimiter; set it in the connector's settings") from None
    return head, dialect.delimiter


def csv_header(reader, lines: LineRecorder, options: FormatOptions) -> list[str]:
    if options.header_row == 0:
        return list(options.columns)
    for _ in range(options.header_row - 1):
        next(reader, None)
    values = next(reader, None)
    lines.take()
    return [] if values is None else column_names(values, f"line {reader.line_num}", options)


def column_names(values: list[Any], where: str, options: FormatOptions) -> list[str]:
    """Header cells as column names: trailing blanks dropped, other blanks named by position."""
    names = ["" if value is None else str(value).strip() for value in values]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise UnreadableFile(f"{where} should hold the column names but is empty (see the header row setting)")
    names = [name or f"column_{index}" for index, name in enumerate(names, 1)]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise UnreadableFile(f"the header ({where}) names {', '.join(duplicates)} more than once")
    if options.id_column and options.id_column not in names:
        shown = ", ".join(names[:20]) + (", …" if len(names) > 20 else "")
        raise UnreadableFile(f"the header ({where}) has no id column {options.id_column!r}; its columns: {shown}")
    return names


def row_from_values(number: int, where: str, values: list, columns: list[str], raw: str, missing: Any) -> Row:
    extra = values[len(columns) :]
    if any(value not in ("", None) for value in extra):
        reason = f"{where}: {len(values)} values but the header has {len(columns)} columns"
        return Row(number, where, None, raw, reason)
    padded = list(values[: len(columns)]) + [missing] * (len(columns) - len(values))
    return Row(number, where, dict(zip(columns, padded, strict=True)), raw)


def read_jsonl(stream: BinaryIO, options: FormatOptions) -> Iterator[Row]:
    strip_bom = codecs.lookup(options.encoding).name in ("utf-8", "utf-8-sig")
    for number, line in enumerate(stream, 1):
        if number == 1 and strip_bom:
            line = line.removeprefix(codecs.BOM_UTF8)
        where = f"line {number}"
        try:
            text = line.decode(options.encoding).rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raw = line.decode(options.encoding, "backslashreplace").rstrip("\r\n")
            yield Row(number, where, None, raw, f"{where}: not valid {options.encoding} text ({exc.reason})")
            continue
        if text.strip():
            yield json_row(number, where, text)


def json_row(number: int, where: str, text: str) -> Row:
    try:
        data = loads_json(text)
    except json.JSONDecodeError as exc:
        return Row(number, where, None, text, f"{where}: not valid JSON ({exc.msg} at column {exc.colno})")
    except ValueError as exc:  # NaN or Infinity
        return Row(number, where, None, text, f"{where}: not valid JSON ({exc})")
    if not isinstance(data, dict):
        return Row(number, where, None, text, f"{where}: expected a JSON object, found {type(data).__name__}")
    return Row(number, where, data, text)


def read_xlsx(stream: BinaryIO, options: FormatOptions) -> Iterator[Row]:
    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise UnreadableFile(f"not a readable XLSX workbook ({exc})") from None
    try:
        yield from sheet_rows(pick_sheet(workbook, options.sheet), options)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise UnreadableFile(f"the workbook is damaged ({exc})") from None
    finally:
        workbook.close()


def pick_sheet(workbook, name: str):
    if not name:
        return workbook.worksheets[0]
    if name not in workbook.sheetnames:
        raise UnreadableFile(f"no sheet named {name!r} (sheets: {', '.join(workbook.sheetnames)})")
    return workbook[name]


def sheet_rows(sheet, options: FormatOptions) -> Iterator[Row]:
    columns = list(options.columns) if options.header_row == 0 else None
    for number, cells in enumerate(sheet.iter_rows(values_only=True), 1):
        if number < options.header_row:
            continue
        if number == options.header_row:
            columns = column_names(list(cells), f"row {number}", options)
            continue
        values = [cell_value(cell) for cell in cells]
        if any(value not in ("", None) for value in values):
            raw = json.dumps(values, ensure_ascii=False, default=str)
            yield row_from_values(number, f"row {number}", values, columns or [], raw, missing=None)


def cell_value(value: Any) -> Any:
    """A cell as a JSON value: dates and times in ISO 8601."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return str(value)
    return value


READERS: dict[str, Callable[[BinaryIO, FormatOptions], Iterator[Row]]] = {
    "csv": read_csv,
    "jsonl": read_jsonl,
    "xlsx": read_xlsx,
}


# --- Writing -------------------------------------------------------------------------------------


def write_rows(stream: BinaryIO, rows: list[dict[str, Any]], options: FormatOptions) -> dict[int, str]:
    """Write ``rows``; the rows left out, by index, with the reason."""
    return WRITERS[options.format](stream, rows, options)


def columns_for(rows: list[dict[str, Any]], options: FormatOptions) -> list[str]:
    """The configured columns, or every key of every row in first-seen order."""
    if options.columns:
        return list(options.columns)
    return list(dict.fromkeys(key for row in rows for key in row))


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def write_csv(stream: BinaryIO, rows: list[dict[str, Any]], options: FormatOptions) -> dict[int, str]:
    columns = columns_for(rows, options)
    delimiter = "," if options.delimiter == "auto" else options.delimiter
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quotechar=options.quotechar, lineterminator="\r\n")
    encoder = codecs.getincrementalencoder(options.encoding)()

    def line(values: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    if options.header_row:
        stream.write(encoder.encode(line(columns)))
    return write_encoded(stream, encoder, [line([as_text(row.get(c)) for c in columns]) for row in rows], options)


def write_encoded(stream: BinaryIO, encoder, lines: list[str], options: FormatOptions) -> dict[int, str]:
    failed = {}
    for index, text in enumerate(lines):
        try:
            data = encoder.encode(text)
        except UnicodeEncodeError as exc:
            failed[index] = f"{exc.object[exc.start : exc.end]!r} cannot be written in {options.encoding}"
            continue
        stream.write(data)
    return failed


def write_jsonl(stream: BinaryIO, rows: list[dict[str, Any]], options: FormatOptions) -> dict[int, str]:
    # JSON Lines readers do not expect a byte order mark, so the default "utf-8-sig" writes plain UTF-8.
    encoding = "utf-8" if options.encoding == "utf-8-sig" else options.encoding
    encoder = codecs.getincrementalencoder(encoding)()
    lines = [json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows]
    return write_encoded(stream, encoder, lines, options)


def write_xlsx(stream: BinaryIO, rows: list[dict[str, Any]], options: FormatOptions) -> dict[int, str]:
    columns = columns_for(rows, options)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title=options.sheet or XLSX_SHEET_TITLE)
    if options.header_row:
        sheet.append(columns)
    for row in rows:
        sheet.append([xlsx_value(row.get(column)) for column in columns])
    workbook.save(stream)
    return {}


def xlsx_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, str):
        # Control characters are not allowed in the sheet's XML.
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


WRITERS: dict[str, Callable[[BinaryIO, list[dict[str, Any]], FormatOptions], dict[int, str]]] = {
    "csv": write_csv,
    "jsonl": write_jsonl,
    "xlsx": write_xlsx,
}
