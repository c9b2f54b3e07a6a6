"""Audit trail export: 1,000,000 entries streamed as CSV and JSON Lines, time and peak memory.

    .venv/bin/python bench/audit_export.py                  # 1,000,000 entries
    .venv/bin/python bench/audit_export.py --rows 200000 --keep

Needs the local PostgreSQL (127.0.0.1; override with BENCH_PG). Runs on its own
scratch database ``junction_bench_audit`` (BENCH_AUDIT_DB renames it), created
afresh unless --keep finds it filled. Entries are written with COPY (the
sealing queue's trigger fires as in production). Each export then runs in a
fresh process, through the real view (filters, the recorded export event, the
server-side cursor), its body read to the end and thrown away, as a client
download would: the figures are the wall time, the bytes, and the process's
peak resident memory (ru_maxrss) beside its resident memory just before.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("BENCH_AUDIT_DB", "junction_bench_audit")
ENV = {
    "DATABASE_URL": f"{PG}/{DB}",
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DJANGO_DEBUG": "0",  # as in production: DEBUG keeps every query's SQL in memory
    "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
    "JUNCTION_ENCRYPTION_KEYS": "46A2ucuEw8B34q5nHFBnPChaBlpy6dAmb5I2z5l23f4=",  # bench-only
    "JUNCTION_VAR_DIR": str(ROOT / "bench" / "results" / "var-audit-export"),
}


def setup_django():
    os.environ.update(ENV)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def prepare(rows: int, keep: bool) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB]).fetchone()
        if exists and keep:
            with psycopg.connect(f"{PG}/{DB}") as app:
                have = app.execute("SELECT count(*) FROM auditlog_logentry").fetchone()[0]
            if have >= rows:
                print(f"Reusing {DB} with {have:,} entries")
                return
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    fill(rows)


def fill(rows: int) -> None:
    """``rows`` entries over the last year: creates, updates with before/after, some access events."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from accounts.roles import Role
    from accounts.tests.factories import UserFactory

    actors = [UserFactory(username=f"user{i}", role=Role.INTEGRATION_ENGINEER).pk for i in range(20)]
    UserFactory(username="bench-auditor", role=Role.AUDITOR)
    types = list(ContentType.objects.filter(app_label__in=["integrations", "masterdata"]).values_list("pk", flat=True))
    rng = random.Random(7)
    start = datetime.now(UTC) - timedelta(days=365)
    columns = "content_type_id, object_pk, object_id, object_repr, action, changes, changes_text, actor_id, "
    columns += "cid, remote_addr, timestamp, additional_data"
    began = time.perf_counter()
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(f"COPY auditlog_logentry ({columns}) FROM STDIN") as copy,
    ):
        for i in range(rows):
            pk = rng.randrange(1, 50_000)
            action = rng.choices([0, 1, 2, 3], weights=[30, 55, 5, 10])[0]
            changes = {"name": [f"Customer {pk}", f"=Customer {pk} (renamed)"], "email": ["None", f"c{pk}@example.com"]}
            extra = json.dumps({"event": "login.failed", "username": f"user{pk}"}) if action == 3 else None
            copy.write_row(
                (
                    rng.choice(types), str(pk), pk, f"Customer {pk}", action,
                    json.dumps({} if action == 3 else changes), "", rng.choice(actors),
                    f"{i // 5:032x}", f"10.0.{pk % 256}.{pk % 200}", start + timedelta(seconds=i * 31), extra,
                )
            )  # fmt: skip
    connection.commit() if not connection.get_autocommit() else None
    print(f"Inserted {rows:,} entries with COPY in {time.perf_counter() - began:.1f} s")


def export(fmt: str, query: str) -> dict:
    """One export through the view, in this (fresh) process; returns its figures."""
    setup_django()
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    from audit.views import LogEntryExportView

    user = get_user_model().objects.get(username="bench-auditor")
    request = RequestFactory().get(f"/audit/export.{fmt}?{query}")
    request.user = user
    view = LogEntryExportView.as_view()
    before = rss_kib()
    began = time.perf_counter()
    response = view(request, format=fmt)
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"format": fmt, "query": query, "seconds": seconds, "bytes": size, "lines": lines,
            "rss_before_mib": before / 1024, "rss_peak_mib": peak / 1024}  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="reuse the scratch database if it holds enough rows")
    parser.add_argument("--export", help=argparse.SUPPRESS)  # internal: run one export in this process
    parser.add_argument("--query", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export:
        print(json.dumps(export(args.export, args.query)))
        return
    prepare(args.rows, args.keep)
    runs = [("csv", ""), ("jsonl", ""), ("csv", "event=login&date_from=2000-01-01")]
    header = ("format", "filter", "rows", "MB", "seconds", "rows/s", "RSS before", "peak")
    print("{:7} {:34} {:>10} {:>8} {:>8} {:>9} {:>11} {:>8}".format(*header))
    for fmt, query in runs:
        out = subprocess.run(
            [sys.executable, __file__, "--export", fmt, "--query", query],
            check=True, capture_output=True, text=True, cwd=ROOT,
        ).stdout  # fmt: skip
        r = json.loads(out.strip().splitlines()[-1])
        rows = r["lines"] - (1 if fmt == "csv" else 0)
        print(
            f"{fmt:7} {query or '(none: everything)':34} {rows:>10,} {r['bytes'] / 1e6:>8.1f} {r['seconds']:>8.1f} "
            f"{rows / r['seconds']:>9,.0f} {r['rss_before_mib']:>7.0f} MiB {r['rss_peak_mib']:>4.0f} MiB"
        )


if __name__ == "__main__":
    main()
