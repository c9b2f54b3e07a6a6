"""Reading records from a CSV file for matching, and writing the pairs found (the find_duplicates command).

A file's columns are ``id`` plus the entity's fields (``masterdata.entities``),
in any order; every value goes through ``masterdata.cleansing.cleanse`` first.
A row whose cleansing reports errors is kept: the failed fields are left
empty and the row is matched on the others, with the problem reported.
Nothing here touches the database.
"""

import csv
import math
import multiprocessing
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from masterdata.entities import SCHEMAS
from masterdata.matching.types import ScoredPair

OUTPUT_HEADER = ("left_id", "right_id", "score", "decision")
# Below this many rows, starting worker processes costs more than it saves.
PARALLEL_FROM = 5_000


class CsvError(Exception):
    """A file that cannot be read as records of the entity (missing, empty, wrong header, bad ids)."""


@dataclass(frozen=True)
class Problem:
    """A value cleansing rejected: the row's id, the field and the reason."""

    record_id: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"record {self.record_id}: {self.field}: {self.reason}"


def columns(entity: str) -> list[str]:
    """The columns a CSV of ``entity`` has: ``id`` then the entity's fields."""
    if entity not in SCHEMAS:
        raise CsvError(f"unknown entity {entity!r}: expected one of {', '.join(SCHEMAS)}")
    return ["id", *SCHEMAS[entity].field_names]


def read_rows(entity: str, path: str | Path) -> list[dict]:
    """The rows of the CSV at ``path`` as dicts, after checking its header and ids."""
    expected = columns(entity)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames
            _check_header(entity, header, expected)
            rows = [{k: (v or "").strip() for k, v in row.items() if k in expected} for row in reader]
    except FileNotFoundError:
        raise CsvError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CsvError(f"{path}: is a directory, not a CSV file") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CsvError(f"{path}: not a readable UTF-8 CSV file ({exc})") from None
    _check_ids(rows)
    return rows


def _check_header(entity: str, header: Sequence[str] | None, expected: list[str]) -> None:
    if not header:
        raise CsvError(f"the file is empty: expected the header {','.join(expected)}")
    found = [h.strip() for h in header]
    missing = [c for c in expected if c not in found]
    unexpected = [c for c in found if c not in expected]
    if missing or unexpected:
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unexpected {', '.join(unexpected)}" if unexpected else "",
            )
            if part
        )
        raise CsvError(f"wrong header for {entity} ({detail}): expected {','.join(expected)}")


def _check_ids(rows: list[dict]) -> None:
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        record_id = row.get("id", "")
        if not record_id:
            raise CsvError(f"line {line}: the id is empty (every row needs a unique id)")
        if record_id in seen:
            raise CsvError(f"line {line}: the id {record_id!r} appears twice")
        seen.add(record_id)


def cleanse_rows(
    entity: str, rows: list[dict], locale: str | None = None, *, locales: Sequence[str | None] | None = None
) -> tuple[list[dict], list[Problem]]:
    """Cleanse every row: the cleaned values (each with its ``id``) and the problems found.

    ``locale`` applies to every row, or ``locales`` gives each row its own.
    Large files are cleansed by one worker process per core.
    """
    tasks = [(entity, row, locales[i] if locales else locale) for i, row in enumerate(rows)]
    workers = min(os.cpu_count() or 1, 4)
    if len(rows) >= PARALLEL_FROM and workers > 1:
        context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
        with context.Pool(workers) as pool:
            results = pool.map(_cleanse_task, tasks, chunksize=2_000)
    else:
        results = [_cleanse_task(task) for task in tasks]
    records = [values for values, _ in results]
    problems = [problem for _, found in results for problem in found]
    return records, problems


def _cleanse_task(task: tuple[str, dict, str | None]) -> tuple[dict, list[Problem]]:
    return cleanse_row(*task)


def cleanse_row(entity: str, row: dict, locale: str | None = None) -> tuple[dict, list[Problem]]:
    """One row's cleaned values (with its ``id``; fields cleansing rejected are None) and its problems."""
    from masterdata.cleansing import cleanse

    raw = {k: v or None for k, v in row.items() if k != "id"}
    result = cleanse(entity, raw, locale=locale)
    values = dict(result.values)
    problems = []
    for field, reason in (result.errors or {}).items():
        values[field] = None  # matched on its other fields, never on a value cleansing rejected
        problems.append(Problem(row["id"], field, str(reason)))
    values["id"] = row["id"]
    return values, problems


def write_pairs(pairs: Iterable[ScoredPair], out) -> int:
    """Write ``left_id,right_id,score,decision`` rows to the text stream ``out``; the number of pairs."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OUTPUT_HEADER)
    count = 0
    for pair in pairs:
        # Rounded down, so a score printed as the link threshold really reached it.
        writer.writerow((pair.left_id, pair.right_id, f"{math.floor(pair.score * 10_000) / 10_000:.4f}", pair.decision))
        count += 1
    return count
