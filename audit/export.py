"""The audit trail as CSV or JSON Lines, streamed row by row.

Rows are read with ``.values().iterator(chunk_size=…)``: a server-side cursor
on PostgreSQL, so a million entries pass through in constant memory
(bench/audit_export.py measures it). CSV cells that a spreadsheet would run
as a formula get a leading apostrophe.
"""

import csv
import json

from django.contrib.contenttypes.models import ContentType
from django.db.models import TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce

CHUNK_SIZE = 2000
ROWS_PER_WRITE = 500  # rows joined into one chunk of the response, so the socket sees few large writes
COLUMNS = (
    "id",
    "timestamp",
    "actor",
    "actor_email",
    "action",
    "event",
    "object_type",
    "object_pk",
    "object_repr",
    "changes",
    "additional_data",
    "remote_addr",
    "cid",
)
ACTION_NAMES = {0: "create", 1: "update", 2: "delete", 3: "access"}
# What spreadsheet programs read as the start of a formula (OWASP's CSV injection list).
FORMULA_CHARS = frozenset("=+-@\t\r")
JSON_COLUMNS = ("changes", "additional_data")
SELECTED = (
    "id",
    "timestamp",
    "actor__username",
    "actor_email",
    "action",
    "event_",
    "content_type_id",
    "object_pk",
    "object_repr",
    "changes_text_",
    "additional_text_",
    "remote_addr",
    "cid",
)


def records(queryset):
    """Each entry of ``queryset`` as a flat dict of COLUMNS, oldest first.

    JSON columns come back from the database as text and stay text: parsing a
    million diffs only to print them again would double the export's time.
    """
    rows = (
        queryset.order_by("timestamp", "pk")
        .annotate(
            changes_text_=Cast("changes", TextField()),
            additional_text_=Cast("additional_data", TextField()),
            event_=Coalesce(*(KeyTextTransform(key, "additional_data") for key in ("event", "action"))),
        )
        .values_list(*SELECTED)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for pk, at, username, email, action, event, type_id, object_pk, label, changes, extra, addr, cid in rows:
        content_type = ContentType.objects.get_for_id(type_id)  # cached per process
        yield {
            "id": pk,
            "timestamp": at.isoformat(),
            "actor": username or "",
            "actor_email": email or "",
            "action": ACTION_NAMES.get(action, str(action)),
            "event": event or "",
            "object_type": f"{content_type.app_label}.{content_type.model}",
            "object_pk": object_pk,
            "object_repr": label,
            "changes": changes,
            "additional_data": extra,
            "remote_addr": addr or "",
            "cid": cid or "",
        }


def safe_cell(value) -> str:
    """A CSV cell no spreadsheet will evaluate: text starting like a formula gets a leading ``'``."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_CHARS and text else text


class _Line:
    """A file-like object whose ``write`` hands the text back, for csv.writer."""

    def write(self, text):
        return text


def csv_chunks(queryset):
    """The header, then the entries, as CSV text in chunks of ROWS_PER_WRITE rows."""
    writer = csv.writer(_Line())
    yield writer.writerow(COLUMNS)
    batch = []
    for record in records(queryset):
        batch.append(writer.writerow([safe_cell(record[column]) for column in COLUMNS]))
        if len(batch) >= ROWS_PER_WRITE:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def jsonl_chunks(queryset):
    """One JSON object per entry and line, in chunks of ROWS_PER_WRITE lines."""
    batch = []
    for record in records(queryset):
        batch.append(json_line(record))
        if len(batch) >= ROWS_PER_WRITE:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def json_line(record: dict) -> str:
    """The record as one line of JSON, its JSON columns spliced in as the database wrote them."""
    scalars = {key: value for key, value in record.items() if key not in JSON_COLUMNS}
    nested = "".join(f', "{key}": {record[key] or "null"}' for key in JSON_COLUMNS)
    return json.dumps(scalars, ensure_ascii=False)[:-1] + nested + "}\n"


FORMATS = {
    "csv": (csv_chunks, "text/csv; charset=utf-8"),
    "jsonl": (jsonl_chunks, "application/x-ndjson; charset=utf-8"),
}
