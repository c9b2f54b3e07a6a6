"""The Files adapter against real peers: tmp folders, and Debian's OpenSSH server for SFTP.

The SFTP tests start ``/usr/sbin/sshd`` (sftp_peer.py). Without it they are
skipped with the reason, and fail instead when JUNCTION_REQUIRE_SERVICES=1
(the gate in /conftest.py, kept local to this module).
"""

from __future__ import annotations

import codecs
import csv
import datetime
import inspect
import json
import os
import re
import tracemalloc

import openpyxl
import pytest
from rest_framework import serializers

from integrations.adapters.base import OutRecord, validate
from integrations.adapters.errors import PermanentError, TransientError
from integrations.adapters.files import ERROR_KEY, FilesAdapter
from integrations.adapters.files.schema import FilesCredentialsSerializer, FilesSettingsSerializer

from .sftp_peer import free_port, keygen, sshd_available, start_sshd

REQUIRE_SERVICES = os.environ.get("JUNCTION_REQUIRE_SERVICES") == "1"
FOLDERS = ("in", "archive", "error", "out")


# --- Helpers and fixtures ---------------------------------------------------------------------------


@pytest.fixture
def root(settings, tmp_path):
    """JUNCTION_FILES_ROOT with the usual in / archive / error / out folders."""
    settings.JUNCTION_FILES_ROOT = str(tmp_path)
    for name in FOLDERS:
        (tmp_path / name).mkdir()
    return tmp_path


def entity_settings(**overrides) -> dict:
    return {
        "inbound_folder": "in",
        "archive_folder": "archive",
        "error_folder": "error",
        "outbound_folder": "out",
        "pattern": "*.csv",
        "id_field": "id",
        "min_age_seconds": 0,
        **overrides,
    }


def local_adapter(**overrides) -> FilesAdapter:
    return FilesAdapter({"location": "local", "entities": {"customer": entity_settings(**overrides)}})


def read_pages(adapter, watermark=None, page_size=500, entity="customer"):
    return list(adapter.read(entity, watermark=watermark, page_size=page_size))


def flat(pages) -> list:
    return [record for page in pages for record in page.records]


def write_csv(path, rows, delimiter=",", encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)


def write_xlsx(path, sheets: dict[str, list[list]]):
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)


# --- Reading: formats -------------------------------------------------------------------------------


def test_csv_with_semicolons_and_a_bom(root):
    (root / "in" / "customers.csv").write_bytes(
        codecs.BOM_UTF8 + "id;name;city\r\n1;Ana;Köln\r\n2;Bo;Graz\r\n".encode()
    )

    records = flat(read_pages(local_adapter(delimiter=";")))

    assert [(r.external_id, r.payload) for r in records] == [
        ("1", {"id": "1", "name": "Ana", "city": "Köln"}),
        ("2", {"id": "2", "name": "Bo", "city": "Graz"}),
    ]


def test_csv_in_cp1252_with_a_detected_delimiter_and_a_multi_line_field(root):
    write_csv(
        root / "in" / "kunden.csv",
        [["Kundennr", "Name", "Notiz"], ["K-1", "Müller", "Straße 1\n2. Stock"], ["K-2", "Señor €", "—"]],
        delimiter=";",
        encoding="cp1252",
    )

    records = flat(read_pages(local_adapter(delimiter="auto", encoding="cp1252", id_field="Kundennr")))

    assert [r.external_id for r in records] == ["K-1", "K-2"]
    assert records[0].payload["Notiz"] == "Straße 1\n2. Stock"
    assert records[1].payload["Name"] == "Señor €"


def test_csv_header_row_and_version_column(root):
    write_csv(root / "in" / "export.csv", [["Customer export"], ["no", "name", "rev"], ["7", "Cy", "r3"]])

    [record] = flat(read_pages(local_adapter(header_row=2, id_field="no", version_field="rev")))

    assert (record.external_id, record.version, record.payload) == ("7", "r3", {"no": "7", "name": "Cy", "rev": "r3"})


def test_csv_without_header_uses_the_configured_columns(root):
    write_csv(root / "in" / "raw.csv", [["1", "Ana"], ["2", "Bo"]])

    records = flat(read_pages(local_adapter(header_row=0, columns=["id", "name"])))

    assert [r.payload for r in records] == [{"id": "1", "name": "Ana"}, {"id": "2", "name": "Bo"}]


def test_a_row_without_an_id_is_yielded_as_an_error_record(root):
    write_csv(root / "in" / "c.csv", [["customer_no", "name"], ["1", "Ana"], ["", "Nobody"], ["3", "Cy", "extra"]])

    records = flat(read_pages(local_adapter(id_field="customer_no")))

    assert len(records) == 3
    missing, extra = records[1], records[2]
    assert missing.external_id == "c.csv#3"
    assert missing.payload[ERROR_KEY] == "c.csv line 3: no value in id column 'customer_no'"
    assert missing.payload["__raw__"] == ",Nobody\r\n"
    assert extra.payload[ERROR_KEY] == "c.csv line 4: 3 values but the header has 2 columns"


def test_jsonl_malformed_lines_are_quarantined_not_dropped(root):
    lines = [
        '{"id": 1, "name": "Ana", "address": {"city": "Köln"}}',
        '{"id": 2, "name": }',
        "",
        "[1, 2]",
        '{"name": "no id"}',
        '{"id": "4", "rev": 9}',
    ]
    (root / "in" / "c.jsonl").write_text("\n".join(lines) + "\n")

    records = flat(read_pages(local_adapter(format="jsonl", pattern="*.jsonl", version_field="rev")))

    assert [r.external_id for r in records] == ["1", "c.jsonl#2", "c.jsonl#4", "c.jsonl#5", "4"]
    assert records[0].payload == {"id": 1, "name": "Ana", "address": {"city": "Köln"}}
    bad = records[1].payload
    assert bad[ERROR_KEY].startswith("c.jsonl line 2: not valid JSON (Expecting value at column 19)")
    assert bad["__raw__"] == '{"id": 2, "name": }'
    assert bad["__source__"] == "c.jsonl line 2"
    assert records[2].payload[ERROR_KEY] == "c.jsonl line 4: expected a JSON object, found list"
    assert records[3].payload[ERROR_KEY] == "c.jsonl line 5: no value in id column 'id'"
    assert records[4].version == "9"


def test_jsonl_nan_and_infinity_are_quarantined_not_stored(root):
    # Python reads them, PostgreSQL's jsonb refuses them: stored, they would fail the whole page.
    (root / "in" / "c.jsonl").write_text('{"id": 1, "qty": NaN}\n{"id": 2, "qty": -Infinity}\n{"id": 3, "qty": 1.5}\n')

    records = flat(read_pages(local_adapter(format="jsonl", pattern="*.jsonl")))

    assert [r.external_id for r in records] == ["c.jsonl#1", "c.jsonl#2", "3"]
    assert records[0].payload[ERROR_KEY] == "c.jsonl line 1: not valid JSON (NaN is not a JSON value)"
    assert records[0].payload["__raw__"] == '{"id": 1, "qty": NaN}'
    assert records[1].payload[ERROR_KEY] == "c.jsonl line 2: not valid JSON (-Infinity is not a JSON value)"
    assert records[2].payload == {"id": 3, "qty": 1.5}


def test_jsonl_nested_id_field(root):
    (root / "in" / "n.jsonl").write_text('{"customer": {"no": "C-9"}}\n')

    [record] = flat(read_pages(local_adapter(format="jsonl", pattern="*.jsonl", id_field="customer.no")))

    assert record.external_id == "C-9"


def test_xlsx_first_sheet_and_a_named_sheet(root):
    rows = [["id", "name", "since", None], [1001, "Ana", datetime.datetime(2024, 5, 1, 9, 30), None], [None, None]]
    rows.append([1002.0, "Bo", datetime.date(2023, 1, 2)])
    write_xlsx(root / "in" / "book.xlsx", {"Customers": rows, "Other": [["id"], ["X-1"]]})

    first = flat(read_pages(local_adapter(format="xlsx", pattern="*.xlsx")))
    named = flat(read_pages(local_adapter(format="xlsx", pattern="*.xlsx", sheet="Other")))

    assert [r.external_id for r in first] == ["1001", "1002"]
    assert first[0].payload == {"id": 1001, "name": "Ana", "since": "2024-05-01T09:30:00"}
    assert first[1].payload["since"] == "2023-01-02T00:00:00"
    assert [r.payload for r in named] == [{"id": "X-1"}]


# --- Reading: order, watermark, archive ---------------------------------------------------------------


def test_files_are_read_in_name_order_one_file_per_page(root):
    for name in ("b.csv", "a.csv", "c.txt"):
        write_csv(root / "in" / name, [["id"], [name]])

    pages = read_pages(local_adapter())

    assert [[r.external_id for r in page.records] for page in pages] == [["a.csv"], ["b.csv"]]
    assert [json.loads(page.watermark)["file"] for page in pages] == ["a.csv", "b.csv"]


def test_resume_from_a_watermark_in_the_middle_of_a_file(root):
    write_csv(root / "in" / "a.csv", [["id"], *[[n] for n in range(1, 11)]])
    write_csv(root / "in" / "b.csv", [["id"], ["b1"]])

    first = next(local_adapter().read("customer", page_size=4))
    mark = json.loads(first.watermark)
    resumed = read_pages(local_adapter(), watermark=first.watermark, page_size=4)

    assert [r.external_id for r in first.records] == ["1", "2", "3", "4"]
    assert (mark["file"], mark["row"], mark["complete"]) == ("a.csv", 4, False)
    assert [[r.external_id for r in page.records] for page in resumed] == [["5", "6", "7", "8"], ["9", "10"], ["b1"]]
    assert [json.loads(page.watermark)["complete"] for page in resumed] == [False, True, True]


def test_a_page_that_ends_exactly_at_the_end_of_a_file_is_marked_complete(root):
    write_csv(root / "in" / "a.csv", [["id"], ["1"], ["2"]])

    pages = read_pages(local_adapter(), page_size=2)

    assert len(pages) == 1
    assert json.loads(pages[0].watermark)["complete"] is True


def test_archive_after_commit_moves_the_file_once(root):
    write_csv(root / "in" / "a.csv", [["id"], ["1"], ["2"], ["3"]])
    adapter = local_adapter()

    pages = adapter.read("customer", page_size=2)
    first = next(pages)
    assert adapter.archive(first.watermark) == []  # half read: stays
    last = next(pages)
    assert (root / "in" / "a.csv").exists()

    assert adapter.archive(last.watermark) == ["a.csv"]
    assert not (root / "in" / "a.csv").exists()
    assert (root / "archive" / "a.csv").read_bytes() == b"id\r\n1\r\n2\r\n3\r\n"
    assert adapter.archive(last.watermark) == []
    assert read_pages(local_adapter(), watermark=last.watermark) == []


def test_a_crash_between_commit_and_archive_neither_repeats_nor_loses_a_file(root):
    write_csv(root / "in" / "a.csv", [["id"], ["1"]])
    committed = read_pages(local_adapter())[-1].watermark  # the engine stopped before calling archive()
    write_csv(root / "in" / "b.csv", [["id"], ["2"]])
    adapter = local_adapter()

    resumed = read_pages(adapter, watermark=committed)

    assert [(page.records, page.watermark) for page in resumed[:1]] == [([], committed)]
    assert [r.external_id for r in flat(resumed)] == ["2"]
    assert adapter.archive(resumed[0].watermark) == ["a.csv"]
    assert adapter.archive(resumed[1].watermark) == ["b.csv"]
    assert sorted(p.name for p in (root / "archive").iterdir()) == ["a.csv", "b.csv"]


def test_reading_moves_nothing_so_pilot_and_dry_runs_leave_the_folders_alone(root):
    write_csv(root / "in" / "a.csv", [["id"], ["1"]])
    (root / "in" / "b.csv").write_bytes(b"")

    read_pages(local_adapter())
    read_pages(local_adapter())

    assert sorted(p.name for p in root.rglob("*.csv")) == ["a.csv", "b.csv"]
    assert (root / "in" / "a.csv").exists() and (root / "in" / "b.csv").exists()


def test_a_new_upload_under_an_archived_name_is_read_and_archived_without_overwriting(root):
    write_csv(root / "in" / "daily.csv", [["id"], ["1"]])
    adapter = local_adapter()
    committed = read_pages(adapter)[-1].watermark
    adapter.archive(committed)
    write_csv(root / "in" / "daily.csv", [["id"], ["2"], ["3"]])

    pages = read_pages(local_adapter(), watermark=committed)
    local_adapter().archive(pages[-1].watermark)

    assert [r.external_id for r in flat(pages)] == ["2", "3"]
    [renamed] = [p for p in (root / "archive").iterdir() if p.name != "daily.csv"]
    assert renamed.name.startswith("daily-") and renamed.read_bytes() == b"id\r\n2\r\n3\r\n"
    assert (root / "archive" / "daily.csv").read_bytes() == b"id\r\n1\r\n"


def test_a_new_upload_of_the_same_name_and_size_within_the_same_second_is_read(root):
    path = root / "in" / "daily.csv"
    write_csv(path, [["id"], ["1"]])
    second = int(path.stat().st_mtime)
    os.utime(path, ns=(second * 10**9, second * 10**9 + 100))
    adapter = local_adapter()
    committed = read_pages(adapter)[-1].watermark
    adapter.archive(committed)
    write_csv(path, [["id"], ["2"]])  # another export, same size, in the same second
    os.utime(path, ns=(second * 10**9, second * 10**9 + 900_000_000))

    pages = read_pages(local_adapter(), watermark=committed)

    assert [r.external_id for r in flat(pages)] == ["2"]


def test_a_watermark_from_before_nanoseconds_still_resumes(root):
    write_csv(root / "in" / "a.csv", [["id"], ["1"]])
    committed = read_pages(local_adapter())[-1].watermark
    old = json.loads(committed)
    del old["mtime_ns"]  # as stored before mtime_ns existed
    # The file it names reads as another upload: read once more (its records come back unchanged), not lost.
    assert [r.external_id for r in flat(read_pages(local_adapter(), watermark=json.dumps(old)))] == ["1"]
    old["done"] = [["z.csv", 1, 2, ""]]  # four-item done entries parse too
    assert read_pages(local_adapter(), watermark=json.dumps(old))


def test_an_empty_file_gets_an_empty_complete_page_so_it_is_archived(root):
    (root / "in" / "empty.csv").write_text("")
    adapter = local_adapter()

    [page] = read_pages(adapter)

    assert page.records == []
    assert adapter.archive(page.watermark) == ["empty.csv"]


def test_files_still_being_written_are_left_for_later(root):
    write_csv(root / "in" / "a.csv", [["id"], ["1"]])

    assert read_pages(local_adapter(min_age_seconds=3600)) == []


# --- Reading: unreadable files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "options", "reason"),
    [
        (
            "bad.xlsx",
            b"PK\x03\x04 this is not a workbook",
            {"format": "xlsx", "pattern": "*.xlsx"},
            "not a readable XLSX",
        ),
        ("latin.csv", "id,name\n1,Müller\n".encode("cp1252"), {"encoding": "utf-8"}, "not valid utf-8 text near line"),
        (
            "noid.csv",
            b"number,name\n1,Ana\n",
            {},
            "the header (line 1) has no id column 'id'; its columns: number, name",
        ),
    ],
)
def test_an_unparseable_file_goes_to_the_error_folder_with_a_reason(root, name, content, options, reason):
    (root / "in" / name).write_bytes(content)

    adapter = local_adapter(**options)
    [page] = read_pages(adapter)
    [record] = page.records

    assert record.external_id == name
    assert reason in record.payload[ERROR_KEY]
    assert (root / "in" / name).exists()  # until the page is committed
    assert adapter.archive(page.watermark) == [name]
    assert not (root / "in" / name).exists()
    assert (root / "error" / name).read_bytes() == content
    assert reason in (root / "error" / f"{name}.reason.txt").read_text()


def test_a_file_that_fails_half_way_keeps_the_rows_before_and_counts_the_failure(root):
    rows = "".join(f"{n},Name {n}\n" for n in range(1, 3001))
    (root / "in" / "big.csv").write_bytes(b"id,name\n" + rows.encode() + "3001,Müller\n".encode("cp1252"))

    adapter = local_adapter(encoding="utf-8")
    pages = read_pages(adapter, page_size=1000)
    records = flat(pages)
    for page in pages:
        adapter.archive(page.watermark)

    assert len(records) > 1000
    assert records[0].external_id == "1"
    assert records[-1].external_id == "big.csv" and "not valid utf-8" in records[-1].payload[ERROR_KEY]
    assert (root / "error" / "big.csv").exists()


# --- Reading: streaming -----------------------------------------------------------------------------------


def test_a_100k_row_csv_is_streamed_not_loaded(root):
    path = root / "in" / "big.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "email", "city", "notes"])
        for n in range(100_000):
            writer.writerow([n, f"Customer {n}", f"customer{n}@example.com", "Springfield", "x" * 40])
    size = path.stat().st_size
    adapter = local_adapter()

    pages = adapter.read("customer", page_size=500)
    assert inspect.isgenerator(pages)
    tracemalloc.start()
    try:
        count = last_id = 0
        for page in pages:
            count += len(page.records)
            last_id = page.records[-1].external_id if page.records else last_id
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert (count, last_id) == (100_000, "99999")
    # The file is ~10 MB and its rows as dicts several times that; one page and some buffers are far less.
    assert size > 9_000_000
    assert peak < size / 4, f"peak {peak} bytes while reading a {size}-byte file"


# --- Writing ------------------------------------------------------------------------------------------------


OUT = [
    OutRecord(key="k1", payload={"id": "1", "name": "Ana", "city": "Köln"}),
    OutRecord(key="k2", payload={"id": "2", "name": "Bo", "tags": ["a", "b"]}),
    OutRecord(key="k3", payload={"id": "3", "name": "Cy", "active": True}),
]


@pytest.mark.parametrize("file_format", ["csv", "jsonl", "xlsx"])
def test_write_one_file_per_batch_atomically_and_read_it_back(root, file_format):
    writer = local_adapter(format=file_format, file_name_template="customers-{run}-{timestamp}.{ext}")

    results = writer.write("customer", OUT)

    [written] = list((root / "out").iterdir())
    assert written.name.startswith(f"customers-{writer.run_id}-") and written.suffix == f".{file_format}"
    assert [(r.key, r.action, r.target_id, r.error) for r in results] == [
        (f"k{n}", "created", f"{written.name}#{n}", None) for n in (1, 2, 3)
    ]
    reader = local_adapter(format=file_format, inbound_folder="out", pattern=f"*.{file_format}")
    back = flat(read_pages(reader))
    assert [r.external_id for r in back] == ["1", "2", "3"]
    if file_format == "jsonl":
        assert [r.payload for r in back] == [r.payload for r in OUT]
    elif file_format == "csv":
        assert back[0].payload == {"id": "1", "name": "Ana", "city": "Köln", "tags": "", "active": ""}
        assert (back[1].payload["tags"], back[2].payload["active"]) == ('["a", "b"]', "true")
    else:
        assert back[0].payload == {"id": "1", "name": "Ana", "city": "Köln", "tags": None, "active": None}
        assert (back[1].payload["tags"], back[2].payload["active"]) == ('["a", "b"]', True)
    assert not list((root / "out").glob(".*"))


def test_each_batch_gets_its_own_file_and_can_carry_the_key(root):
    adapter = local_adapter(file_name_template="{entity}-{run}-{batch:03d}.csv", key_field="junction_key")

    adapter.write("customer", OUT[:1])
    adapter.write("customer", OUT[1:])

    names = sorted(p.name for p in (root / "out").iterdir())
    assert names == [f"customer-{adapter.run_id}-001.csv", f"customer-{adapter.run_id}-002.csv"]
    assert (root / "out" / names[0]).read_bytes().decode(
        "utf-8-sig"
    ) == "junction_key,id,name,city\r\nk1,1,Ana,Köln\r\n"


def test_a_record_the_encoding_cannot_hold_fails_alone(root):
    adapter = local_adapter(encoding="cp1252")
    records = [OutRecord("k1", {"id": "1", "name": "Müller"}), OutRecord("k2", {"id": "2", "name": "東京"})]
    records.append(OutRecord("k3", {"id": "3", "name": "Señor"}))

    results = adapter.write("customer", records)

    assert [r.target_id for r in results] == [results[0].target_id, None, results[0].target_id[:-1] + "2"]
    assert isinstance(results[1].error, PermanentError) and "cp1252" in str(results[1].error)
    [written] = list((root / "out").iterdir())
    assert written.read_bytes().decode("cp1252") == "id,name\r\n1,Müller\r\n3,Señor\r\n"


def test_write_leaves_no_temporary_file_when_it_fails(root):
    adapter = local_adapter(outbound_folder="missing")

    with pytest.raises(PermanentError, match="no such file or folder"):
        adapter.write("customer", OUT)


# --- Settings ------------------------------------------------------------------------------------------------


def errors_of(schema, data) -> dict:
    with pytest.raises(serializers.ValidationError) as caught:
        validate(schema, data)
    return json.loads(json.dumps(caught.value.detail))


def test_settings_defaults_and_field_errors(root):
    valid = validate(FilesSettingsSerializer, {"entities": {"customer": entity_settings()}})
    assert valid["location"] == "local" and valid["entities"]["customer"]["encoding"] == "utf-8-sig"

    errors = errors_of(
        FilesSettingsSerializer,
        {"entities": {"customer": entity_settings(format="ods", delimiter=";;", encoding="klingon")}},
    )
    assert set(errors["entities"]["customer"]) == {"format", "delimiter", "encoding"}


def test_settings_cross_field_rules_are_keyed_by_field(root):
    errors = errors_of(FilesSettingsSerializer, {"location": "sftp", "entities": {"c": entity_settings()}})
    assert errors == {f: ["Required for SFTP."] for f in ("host", "username", "host_key_fingerprint")}

    errors = errors_of(
        FilesSettingsSerializer,
        {"entities": {"c": entity_settings(archive_folder="in/", error_folder="", id_field="", header_row=0)}},
    )
    assert set(errors["entities"]["c"]) == {"archive_folder", "error_folder", "id_field", "columns"}

    errors = errors_of(FilesSettingsSerializer, {"entities": {"c": entity_settings(inbound_folder="../../etc")}})
    assert "JUNCTION_FILES_ROOT" in errors["entities"]["c"]["inbound_folder"][0]

    errors = errors_of(FilesSettingsSerializer, {"entities": {"c": entity_settings(file_name_template="{entity}.csv")}})
    assert "{timestamp}" in errors["entities"]["c"]["file_name_template"][0]


def test_fingerprints_are_read_from_ssh_keygen_output(root, tmp_path):
    fingerprint = keygen(tmp_path / "k")
    pasted = f"256 {fingerprint} example.org (ED25519)\n"
    data = {"location": "sftp", "host": "h", "username": "u", "host_key_fingerprint": pasted, "entities": {}}
    data["entities"]["c"] = entity_settings(inbound_folder="/in", archive_folder="/a", error_folder="/e")

    assert validate(FilesSettingsSerializer, data)["host_key_fingerprint"] == fingerprint
    data["host_key_fingerprint"] = "MD5:aa:bb"
    assert "host_key_fingerprint" in errors_of(FilesSettingsSerializer, data)


def test_credentials_are_write_only_and_the_key_must_parse(tmp_path):
    assert all(field.write_only for field in FilesCredentialsSerializer().fields.values())
    keygen(tmp_path / "k")
    assert validate(FilesCredentialsSerializer, {"private_key": (tmp_path / "k").read_text()})
    assert "private_key" in errors_of(FilesCredentialsSerializer, {"private_key": "-----BEGIN nonsense"})


def test_check_credentials_asks_for_a_secret_only_for_sftp():
    assert FilesAdapter.check_credentials({"location": "local"}, {}) == {}
    assert set(FilesAdapter.check_credentials({"location": "sftp"}, {})) == {"password", "private_key"}
    assert FilesAdapter.check_credentials({"location": "sftp"}, {"password": "x"}) == {}


def test_invalid_settings_are_a_permanent_error(root):
    with pytest.raises(PermanentError, match=r"entities\.customer\.id_field: Required to read files"):
        local_adapter(id_field="")


def test_an_entity_that_is_not_set_up_is_a_permanent_error(root):
    with pytest.raises(PermanentError, match="no settings for 'product'"):
        local_adapter().read("product")
    with pytest.raises(PermanentError, match="no outbound folder"):
        local_adapter(outbound_folder="").write("customer", OUT)


def test_a_foreign_watermark_is_a_permanent_error(root):
    with pytest.raises(PermanentError, match="not written by the Files adapter"):
        list(local_adapter().read("customer", watermark="2024-01-01T00:00:00Z"))


def test_the_key_column_wins_over_a_payload_field_of_the_same_name(root):
    adapter = local_adapter(format="jsonl", key_field="key")

    adapter.write("customer", [OutRecord("k1", {"key": "mine", "id": "1"})])

    [written] = list((root / "out").iterdir())
    assert json.loads(written.read_text()) == {"key": "k1", "id": "1"}


# --- Test connection (local) ---------------------------------------------------------------------------------


def test_connection_checks_every_folder(root):
    write_csv(root / "in" / "a.csv", [["id"], ["1"]])

    checks = local_adapter().test_connection()

    assert [(c.name, c.ok) for c in checks] == [
        ("Connect (local folder)", True),
        ("customer: inbound folder readable (1 files match)", True),
        ("customer: archive folder writable", True),
        ("customer: error folder writable", True),
        ("customer: outbound folder writable", True),
    ]
    assert sorted(p.name for p in root.rglob("*")) == ["a.csv", "archive", "error", "in", "out"]


def test_connection_reports_a_missing_folder(root):
    checks = {c.name: c for c in local_adapter(archive_folder="nowhere").test_connection()}

    assert not checks["customer: archive folder writable"].ok
    assert "no such file or folder" in checks["customer: archive folder writable"].detail


# --- SFTP against a real OpenSSH server ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    ok, reason = sshd_available()
    if not ok:
        if REQUIRE_SERVICES:
            pytest.fail(f"sshd is required here (JUNCTION_REQUIRE_SERVICES=1): {reason}")
        pytest.skip(f"needs sshd: {reason}")
    peer = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield peer
    peer.stop()


@pytest.fixture
def remote(tmp_path):
    """Folders on the SFTP server (the same machine, so the test can look at them directly)."""
    for name in FOLDERS:
        (tmp_path / name).mkdir()
    return tmp_path


def sftp_adapter(sshd, remote, credentials=None, port=None, fingerprint=None, **overrides) -> FilesAdapter:
    folders = {
        "inbound_folder": str(remote / "in"),
        "archive_folder": str(remote / "archive"),
        "error_folder": str(remote / "error"),
        "outbound_folder": str(remote / "out"),
    }
    settings = {
        "location": "sftp",
        "host": sshd.host,
        "port": port or sshd.port,
        "username": sshd.username,
        "host_key_fingerprint": fingerprint or sshd.host_key_fingerprint,
        "timeout": 10,
        "entities": {"customer": entity_settings(**{**folders, **overrides})},
    }
    return FilesAdapter(settings, credentials if credentials is not None else {"private_key": sshd.client_key_pem})


def test_sftp_read_archive_and_write(sshd, remote):
    write_csv(remote / "in" / "a.csv", [["id", "name"], *[[n, f"N{n}"] for n in range(1, 6)]])
    (remote / "in" / "b.csv").write_bytes(b"\xff\xfe not text")

    with sftp_adapter(sshd, remote, encoding="utf-8") as adapter:
        pages = list(adapter.read("customer", page_size=3))
        moved = [name for page in pages for name in adapter.archive(page.watermark)]
        results = adapter.write("customer", OUT)

    assert [[r.external_id for r in page.records] for page in pages] == [["1", "2", "3"], ["4", "5"], ["b.csv"]]
    assert moved == ["a.csv", "b.csv"]
    assert sorted(p.name for p in (remote / "archive").iterdir()) == ["a.csv"]
    assert sorted(p.name for p in (remote / "error").iterdir()) == ["b.csv", "b.csv.reason.txt"]
    assert list((remote / "in").iterdir()) == []
    [written] = list((remote / "out").iterdir())
    assert results[2].target_id == f"{written.name}#3"
    assert written.read_bytes().decode().startswith("id,name,city,tags,active\r\n1,Ana,Köln,,\r\n")


def test_sftp_xlsx_and_resume(sshd, remote):
    write_xlsx(remote / "in" / "c.xlsx", {"S": [["id"], *[[n] for n in range(1, 8)]]})
    options = {"format": "xlsx", "pattern": "*.xlsx"}

    with sftp_adapter(sshd, remote, **options) as adapter:
        first = next(adapter.read("customer", page_size=4))
    with sftp_adapter(sshd, remote, **options) as adapter:
        rest = list(adapter.read("customer", watermark=first.watermark, page_size=4))
        adapter.archive(rest[-1].watermark)
        written = adapter.write("customer", OUT)

    assert [r.external_id for r in first.records] == ["1", "2", "3", "4"]
    assert [r.external_id for r in flat(rest)] == ["5", "6", "7"]
    assert (remote / "archive" / "c.xlsx").exists()
    name = written[0].target_id.split("#")[0]
    sheet = openpyxl.load_workbook(remote / "out" / name, read_only=True).worksheets[0]
    assert [row[0] for row in sheet.iter_rows(values_only=True)] == ["id", "1", "2", "3"]


def test_sftp_jsonl_lines_one_by_one(sshd, remote):
    (remote / "in" / "c.jsonl").write_bytes(b'{"id": 1}\r\n{"id": \n\n{"id": "\xc3\xa9"}\n')

    with sftp_adapter(sshd, remote, format="jsonl", pattern="*.jsonl") as adapter:
        records = flat(adapter.read("customer"))

    assert [r.external_id for r in records] == ["1", "c.jsonl#2", "é"]
    assert records[1].payload["__raw__"] == '{"id": '


def test_sftp_test_connection(sshd, remote):
    write_csv(remote / "in" / "a.csv", [["id"], ["1"]])

    with sftp_adapter(sshd, remote) as adapter:
        checks = adapter.test_connection()

    assert all(c.ok for c in checks), checks
    assert checks[0].name == "Connect (SFTP host key matches)"
    assert sshd.host_key_fingerprint in checks[0].detail
    assert checks[1].name == "customer: inbound folder readable (1 files match)"


def test_sftp_refuses_an_unknown_host_key(sshd, remote, tmp_path):
    other = keygen(tmp_path / "other")
    adapter = sftp_adapter(sshd, remote, fingerprint=other)

    with pytest.raises(
        PermanentError, match=re.escape(f"presented the ssh-ed25519 host key {sshd.host_key_fingerprint}")
    ):
        list(adapter.read("customer"))
    [check] = adapter.test_connection()
    assert not check.ok and "Nothing was sent" in check.detail


def test_sftp_wrong_password_is_permanent(sshd, remote):
    adapter = sftp_adapter(sshd, remote, credentials={"password": "not-the-password"})

    with pytest.raises(PermanentError, match="refused the login"):
        list(adapter.read("customer"))
    [check] = adapter.test_connection()
    assert (check.name, check.ok) == ("Connect (SFTP host key matches)", False)


def test_sftp_without_credentials_is_permanent(sshd, remote):
    with pytest.raises(PermanentError, match="needs a password or a private key"):
        list(sftp_adapter(sshd, remote, credentials={}).read("customer"))


def test_sftp_server_down_is_transient(sshd, remote):
    adapter = sftp_adapter(sshd, remote, port=free_port())

    with pytest.raises(TransientError, match="connection refused"):
        list(adapter.read("customer"))
    assert not adapter.test_connection()[0].ok


def test_sftp_missing_folder_is_permanent(sshd, remote):
    with sftp_adapter(sshd, remote, inbound_folder=str(remote / "nowhere")) as adapter:
        with pytest.raises(PermanentError, match="no such file or folder"):
            list(adapter.read("customer"))
        checks = {c.name: c.ok for c in adapter.test_connection()}
    assert checks["Connect (SFTP host key matches)"] and not checks["customer: inbound folder readable"]


def test_sftp_streams_through_a_text_wrapper_without_prefetch(sshd, remote):
    payload = "".join(f"{n},é{n}\n" for n in range(20_000))
    (remote / "in" / "s.csv").write_text("id,name\n" + payload)

    with sftp_adapter(sshd, remote) as adapter:
        pages = adapter.read("customer", page_size=1000)
        first = next(pages)
        rest = sum(len(page.records) for page in pages)

    assert first.records[1].payload == {"id": "1", "name": "é1"}
    assert len(first.records) + rest == 20_000
