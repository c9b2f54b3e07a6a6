"""config.rowsjson.dumps: the document json.dumps(rows, cls=DjangoJSONEncoder) wrote, as PostgreSQL reads it."""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils.translation import gettext_lazy

from config import rowsjson

ROWS = [
    {
        "id": 7,
        "name": 'Zoë "Quote" O\'Brien \\ back\nline \u2028',
        "payload": {"nested": [1, 2.5, 1e-05, 1e16, -0.0, True, None], 3: "int key", "": "empty key"},
        "score": 0.1 + 0.2,
        "when": datetime(2026, 11, 28, 1, 2, 3, 456789, tzinfo=UTC),
        "naive": datetime(2026, 11, 28, 1, 2, 3, 456789),
        "day": date(2026, 2, 28),
        "at": time(23, 59, 1, 123456),
        "amount": Decimal("12.3400"),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "lazy": gettext_lazy("Customer"),
        "emoji": "📦",
    },
    {"id": 8, "name": None, "payload": [], "score": 0, "when": None},
]


def test_the_document_means_what_the_standard_librarys_meant():
    assert json.loads(rowsjson.dumps(ROWS)) == json.loads(json.dumps(ROWS, cls=DjangoJSONEncoder))


def test_values_only_the_standard_library_writes_fall_back_to_it():
    rows = [{"big": 2**70, "name": "a"}]
    assert rowsjson.dumps(rows) == json.dumps(rows, cls=DjangoJSONEncoder)


def test_values_neither_writes_fail_as_before():
    @dataclass
    class Point:
        x: int

    with pytest.raises(TypeError):
        json.dumps([{"p": Point(1)}], cls=DjangoJSONEncoder)
    with pytest.raises(TypeError):
        rowsjson.dumps([{"p": Point(1)}])
    with pytest.raises(TypeError):
        rowsjson.dumps([{"p": object()}])


def test_not_a_number_becomes_null():
    assert json.loads(rowsjson.dumps([{"x": float("nan"), "y": float("inf")}])) == [{"x": None, "y": None}]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="jsonb_to_recordset is PostgreSQL's")
@pytest.mark.django_db
def test_postgresql_unpacks_the_same_rows():
    shape = 'id bigint, name text, payload jsonb, score double precision, "when" timestamptz, amount numeric'
    sql = f"SELECT to_jsonb(r) FROM jsonb_to_recordset(%s::jsonb) AS r({shape}) ORDER BY id"  # noqa: S608 - fixed text

    def unpacked(text: str) -> list:
        with connection.cursor() as cursor:
            cursor.execute(sql, [text])
            return [row[0] for row in cursor.fetchall()]

    assert unpacked(rowsjson.dumps(ROWS)) == unpacked(json.dumps(ROWS, cls=DjangoJSONEncoder))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="server-side binding is PostgreSQL's")
@pytest.mark.django_db
def test_the_cursor_sends_the_document_apart_from_the_statement_and_django_still_sees_it():
    import psycopg
    from django.db import DataError
    from django.test.utils import CaptureQueriesContext

    sql = "SELECT r.n FROM jsonb_to_recordset(%s::jsonb) AS r(n text)"
    with CaptureQueriesContext(connection) as queries, rowsjson.cursor() as cursor:
        cursor.execute(sql, [rowsjson.dumps([{"n": "it's %s"}])])
        assert cursor.fetchall() == [("it's %s",)]
        assert isinstance(cursor.cursor, psycopg.Cursor)
        assert not isinstance(cursor.cursor, psycopg.ClientCursor)  # Django's own bind on the client
    assert len(queries) == 1  # in Django's query log, as any statement
    with pytest.raises(DataError), rowsjson.cursor() as cursor:  # Django's error, not psycopg's
        cursor.execute(sql, ["not json"])


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(json.loads(json.dumps(ROWS, cls=DjangoJSONEncoder))),
        '{"a": 1, "b": [1.5, -0.0, 1e16, null, true], "c": "Zo\\u00eb \\ud83d\\udce6"}',
        '{"big": 1180591620717411303424, "nan": NaN, "inf": -Infinity}',  # only the standard library reads these
    ],
)
def test_loads_reads_what_the_standard_library_reads(text):
    assert rowsjson.loads(text) == json.loads(text)
    assert type(rowsjson.loads(text)) is type(json.loads(text))


def test_loads_refuses_what_is_not_json():
    with pytest.raises(ValueError):
        rowsjson.loads("{not json")
