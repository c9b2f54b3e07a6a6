"""Sync engine throughput: records per second end to end, beside a plain batched upsert.

    .venv/bin/python bench/sync.py                      # 100,000 inventory levels, 2 workers
    .venv/bin/python bench/sync.py --entity customer --rows 20000    # realistic customers (bench/synth.py)
    .venv/bin/python bench/sync.py --entity customer --customers common-name --rows 2000   # blocking stress case
    .venv/bin/python bench/sync.py --workers 1 --rows 10000
    .venv/bin/python bench/sync.py --entity customer --rows 2000 --ingest-only   # the master-data step alone
    .venv/bin/python bench/sync.py --entity customer --rows 10000 --then-change 10   # and a sync of 10 % changed

Needs the local PostgreSQL and Redis (127.0.0.1; override with BENCH_PG and
BENCH_REDIS). Junction runs on its own scratch database ``junction_bench``;
source and target tables live in ``junction_bench_peer`` (BENCH_APP_DB and
BENCH_PEER_DB rename them, so two people can run it at once). A flow reads the
source table through the SQL adapter and writes the target table through it,
with real Celery worker processes on Redis. The baseline writes the same rows
with psycopg's executemany of ``INSERT ... ON CONFLICT DO UPDATE`` in batches
of the same size, on the same machine: what a hand-written loader would do.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/9")
APP_DB = os.environ.get("BENCH_APP_DB", "junction_bench")
PEER_DB = os.environ.get("BENCH_PEER_DB", "junction_bench_peer")
ENV = {
    **os.environ,
    "DATABASE_URL": f"{PG}/{APP_DB}",
    "REDIS_URL": REDIS,
    "DJANGO_SETTINGS_MODULE": "config.settings",
    # Production mode, as real workers run: with DEBUG on, Django keeps every statement's SQL in
    # memory and formats it (parameters included), which costs more than some of the statements.
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
    "JUNCTION_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "JUNCTION_VAR_DIR": str(ROOT / "bench" / "results" / f"var-sync-{APP_DB}"),
    "JUNCTION_WORKER_HEARTBEAT_INTERVAL": "5",
}


def psql(database: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/{database}", autocommit=True) as conn:
        conn.execute(sql)


def server_settings() -> str:
    """The PostgreSQL settings the figures depend on. Autovacuum matters most: off (as on this
    kind of CI machine), a first load's tables are never analyzed nor vacuumed while it runs."""
    import psycopg

    names = ("autovacuum", "shared_buffers", "synchronous_commit")
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        return ", ".join(f"{name} {conn.execute(f'SHOW {name}').fetchone()[0]}" for name in names)


def recreate(database: str) -> None:
    psql("postgres", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    psql("postgres", f"CREATE DATABASE {database}")


CUSTOMER_FIELDS = [
    "first_name",
    "last_name",
    "company",
    "email",
    "phone",
    "street",
    "city",
    "postcode",
    "region",
    "country",
    "date_of_birth",
    "tax_id",
]


def source_rows(entity: str, n: int, customers: str = "synthetic"):
    """The source table's rows: (id, *fields, updated_at)."""
    if entity == "inventory_level":
        return [
            (f"S{i:07d}", f"SKU-{i % 5000}", f"WH{i % 9}", i % 997, f"2026-11-01T{i // 360000:02d}:00:00")
            for i in range(n)
        ]
    if customers == "synthetic":
        # The duplicate-detection benchmark's customers (synth.py): three countries, every field,
        # a third of the people sent again with typos, other formats and missing fields, households.
        from synth_render import build

        rows, _, _ = build(n)
        return [(row["id"], *(row[f] for f in CUSTOMER_FIELDS), "2026-11-01T00:00:00") for row in rows[:n]]
    # "common-name": a stress case for blocking. Ten first names and surnames Person<n> put
    # every tenth customer under one name key: each record meets the full candidate pool.
    first = ["Anna", "Ben", "Chloé", "David", "Emma", "Farid", "Greta", "Hugo", "Ines", "Jonas"]
    known = {"first_name", "last_name", "email", "country"}
    return [
        (
            f"C{i:07d}",
            *(
                {"first_name": first[i % 10], "last_name": f"Person{i}", "email": f"p{i}@example.com"}.get(
                    f, ["DE", "FR", "GB", "US"][i % 4] if f == "country" else ""
                )
                if f in known
                else ""
                for f in CUSTOMER_FIELDS
            ),
            "2026-11-01T00:00:00",
        )
        for i in range(n)
    ]


TABLES = {
    "inventory_level": (
        "id text primary key, sku text, location text, qty integer, updated_at text",
        "id text primary key, sku text, location text, qty integer",
        ["id", "sku", "location", "qty"],
    ),
    "customer": (
        f"id text primary key, {', '.join(f'{f} text' for f in CUSTOMER_FIELDS)}, updated_at text",
        "id text primary key, last_name text, email text, country text",
        ["id", "last_name", "email", "country"],
    ),
}


def setup_peer(entity: str, rows: list[tuple]) -> None:
    import psycopg

    source_cols, target_cols, _ = TABLES[entity]
    recreate(PEER_DB)
    with psycopg.connect(f"{PG}/{PEER_DB}", autocommit=True) as conn:
        conn.execute(f"CREATE TABLE source ({source_cols})")
        conn.execute(f"CREATE TABLE target ({target_cols})")
        conn.execute(f"CREATE TABLE baseline ({target_cols})")
        with conn.cursor().copy("COPY source FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        # As docs/connectors/sql.md asks of a source read by watermark: without it every page's
        # keyset query sorts the whole table (15 of 36 s of a 100,000-row extraction here).
        conn.execute("CREATE INDEX source_sync ON source (updated_at, id)")


def baseline(entity: str, rows: list[tuple], batch: int) -> float:
    """Seconds to upsert the rows the way a plain loader would."""
    import psycopg

    _, _, columns = TABLES[entity]
    if entity == "customer":
        at = [1 + CUSTOMER_FIELDS.index(c) for c in columns[1:]]
        rows = [(r[0], *(r[i] for i in at)) for r in rows]
    else:
        rows = [r[:4] for r in rows]
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns[1:])
    placeholders = ", ".join(["%s"] * len(columns))
    sql = (
        f"INSERT INTO baseline ({', '.join(columns)}) VALUES ({placeholders}) ON CONFLICT (id) DO UPDATE SET {updates}"
    )
    start = time.perf_counter()
    with psycopg.connect(f"{PG}/{PEER_DB}") as conn:
        for i in range(0, len(rows), batch):
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(sql, rows[i : i + batch])
    return time.perf_counter() - start


def cpu_seconds(workers: list[int]) -> dict:
    """CPU seconds so far of the worker processes (and their children), of PostgreSQL, and of the
    whole machine: on a shared machine, figures other people's load inflates far less than wall
    time. PostgreSQL's figure counts its live processes and, through the postmaster's children's
    times, the processes that ended meanwhile (closed connections, autovacuum workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    used, processes = {"workers": 0.0, "postgres": 0.0}, []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        times = [int(t) / tick for t in rest[11:15]]  # utime stime cutime cstime
        processes.append((int(pid), int(rest[1]), name, times))
    postgres = {pid for pid, _, name, _ in processes if name in ("postgres", "postmaster")}
    for pid, parent, _, (utime, stime, cutime, cstime) in processes:
        if pid in workers or parent in workers:
            used["workers"] += utime + stime
        elif pid in postgres:
            used["postgres"] += utime + stime
            if parent not in postgres:  # the postmaster: the times of its backends already gone too
                used["postgres"] += cutime + cstime
    user, nice, system, _idle, _iowait, irq, softirq = map(int, Path("/proc/stat").read_text().split()[1:8])
    used["machine"] = (user + nice + system + irq + softirq) / tick
    return used


def django_setup():
    os.environ.update(ENV)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def make_flow(entity: str, batch: int):
    from integrations.choices import Stage, Trigger
    from integrations.models import Connector, Flow, System

    _, _, columns = TABLES[entity]
    peer = {"dialect": "postgresql", "host": "127.0.0.1", "port": 5432, "database": PEER_DB, "username": "postgres"}
    read = {"table": "source", "id_column": "id", "watermark_column": "updated_at"}
    system = System.objects.create(name="Bench peer", kind="other")
    source = Connector.objects.create(
        system=system, name="Source", adapter="sql", settings={**peer, "entities": {entity: read}}
    )
    target = Connector.objects.create(
        system=system,
        name="Target",
        adapter="sql",
        settings={**peer, "entities": {entity: {"write_table": "target", "id_column": "id"}}},
    )
    source_field = {"id": "external_id"} if entity == "customer" else {}
    flow = Flow.objects.create(
        name="Bench",
        entity=entity,
        source=source,
        trigger=Trigger.MANUAL,
        stage=Stage.LIVE,
        batch_size=batch,
        mapping=[{"target": c, "op": "copy", "from": source_field.get(c, c)} for c in columns],
    )
    flow.targets.add(target)
    return flow


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entity", choices=list(TABLES), default="inventory_level")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--customers",
        choices=["synthetic", "common-name"],
        default="synthetic",
        help="customer data: the dedupe benchmark's generated customers, or one name key for every tenth record",
    )
    parser.add_argument(
        "--then-change",
        type=int,
        metavar="PERCENT",
        help="after the first load, change this share of the source rows and time the incremental run too",
    )
    parser.add_argument(
        "--ingest-only",
        action="store_true",
        help="customers only: time the master-data step in this process (one by one against ingest_many), no workers",
    )
    args = parser.parse_args()
    if args.ingest_only:
        ingest_only(args.rows, args.batch, args.customers)
        return

    rows = source_rows(args.entity, args.rows, args.customers)
    setup_peer(args.entity, rows)
    base = baseline(args.entity, rows, args.batch)
    recreate(APP_DB)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=ENV, check=True)
    subprocess.run(["redis-cli", "-u", REDIS, "flushdb"], check=True, capture_output=True)
    django_setup()
    flow = make_flow(args.entity, args.batch)

    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-P",
                "solo",
                "-Q",
                "sync,default",
                "-n",
                f"bench{i}@%h",
                "-l",
                "warning",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=ROOT,
            env=ENV,
        )
        for i in range(args.workers)
    ]
    pids = [worker.pid for worker in workers]
    try:
        time.sleep(4)  # workers up
        first = timed_run(flow, pids)
        again = None
        if args.then_change:
            changed = change_source(args.entity, rows, args.then_change)
            again = timed_run(flow, pids)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()  # still in a task after a warm shutdown's grace: don't leave it behind

    n = len(rows)
    data = f" ({args.customers})" if args.entity == "customer" else ""
    print(f"\n{args.entity}{data}: {n:,} records, {args.workers} worker(s), batch {args.batch}, PostgreSQL + Redis")
    print(f"  PostgreSQL: {server_settings()}")
    report(first, n)
    print(f"  plain batched upsert: {base:7.1f} s  {n / base:9,.0f} records/s")
    print(f"  Junction / plain: {base / first['elapsed']:.2f}x the plain loader's rate")
    if args.entity == "customer" and args.customers == "synthetic":
        match_quality(n)
    if again is not None:
        print(f"\nthen {changed:,} of them changed at the source ({args.then_change} %), an incremental run:")
        report(again, changed)


def match_quality(n: int) -> None:
    """How well the run's golden records follow the generator's truth: pairs of source records put
    in one golden record that are one person (precision) and people's pairs found (recall), by
    link or as an open review candidate. A faster match that finds fewer duplicates shows here."""
    from itertools import combinations

    from synth_render import build

    from masterdata.models import DuplicateCandidate, SourceRecord

    _, _, people = build(n)
    person = dict(zip((f"c{i + 1}" for i in range(n)), people[:n], strict=True))
    golden_of = dict(
        SourceRecord.objects.filter(golden__isnull=False).values_list("external_id", "golden_id").iterator()
    )

    def pairs(groups: dict) -> set:
        members: dict = {}
        for external_id, group in groups.items():
            members.setdefault(group, []).append(external_id)
        return {tuple(sorted(pair)) for ids in members.values() for pair in combinations(ids, 2)}

    true = pairs({e: person[e] for e in golden_of})
    linked = pairs(golden_of)
    review = set(DuplicateCandidate.objects.filter(status="open").values_list("left_id", "right_id").iterator())
    review |= {(b, a) for a, b in review}
    in_review = {p for p in true - linked if (golden_of[p[0]], golden_of[p[1]]) in review}
    hits = len(linked & true)
    precision, recall = hits / max(1, len(linked)), hits / max(1, len(true))
    print(
        f"  matching: {len(set(golden_of.values())):,} golden records for {len(golden_of):,} source records; "
        f"pairs linked {len(linked):,}, precision {precision:.3f}, recall {recall:.3f}; "
        f"with open review candidates {(hits + len(in_review)) / max(1, len(true)):.3f} of {len(true):,} true pairs"
    )


def timed_run(flow, pids: list[int]) -> dict:
    """Start a run of ``flow`` and wait for it to finish, playing beat's sweeper meanwhile."""
    from django.conf import settings
    from django.db import connection

    from integrations.engine import actions, sweeper
    from integrations.models import Run

    load_before = os.getloadavg()
    cpu_before = cpu_seconds(pids)
    start = time.perf_counter()
    run = actions.start_run(flow)
    extracted = swept = None
    while True:
        time.sleep(0.2)
        state = Run.objects.filter(pk=run.pk).values("extracted", "finished_at").get()
        if state["finished_at"]:
            break
        if extracted is None and state["extracted"]:
            extracted = time.perf_counter() - start
        if swept is None or time.perf_counter() - swept >= settings.JUNCTION_SWEEP_SECONDS:
            sweeper.sweep()  # beat's job, at beat's pace: nothing should be lost here
            swept = time.perf_counter()
        connection.close()
    elapsed = time.perf_counter() - start
    return {
        "run": Run.objects.get(pk=run.pk),
        "elapsed": elapsed,
        "extracted": extracted,
        "cpu": {name: used - cpu_before[name] for name, used in cpu_seconds(pids).items()},
        "load": (*load_before, *os.getloadavg()),
    }


def report(timed: dict, n: int) -> None:
    run, elapsed, cpu = timed["run"], timed["elapsed"], timed["cpu"]
    print(
        f"  run {run.pk}: status {run.status}; read {run.read:,}, created {run.created:,}, "
        f"updated {run.updated:,}, unchanged {run.unchanged:,}, quarantined {run.quarantined:,}"
    )
    print(f"  Junction end to end: {elapsed:7.1f} s  {n / elapsed:9,.0f} records/s")
    if timed["extracted"]:
        print(f"    extraction (read, cleanse and match, map, stage) done after {timed['extracted']:.1f} s")
    for name in ("workers", "postgres"):
        print(f"  CPU of {name + ':':<9} {cpu[name]:5.1f} s, {cpu[name] / n * 1000:.2f} ms per record")
    print(
        f"  CPU of the machine: {cpu['machine']:.1f} s, {cpu['machine'] / n * 1000:.2f} ms per record; "
        f"{cpu['machine'] / elapsed:.2f} of {os.cpu_count()} cores busy"
    )
    print(
        "  load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}, after: {:.2f} {:.2f} {:.2f}".format(*timed["load"])
    )


def change_source(entity: str, rows: list[tuple], percent: int) -> int:
    """Change every ``100 / percent``-th source row as a day's edits would (a stock count; a customer's
    street and email), with a later ``updated_at`` so the next run reads only those. Returns how many."""
    import psycopg

    step = max(1, round(100 / percent))
    ids = [row[0] for row in rows[::step]]
    # A customer's new address and, where there is one, new email (which the target receives).
    customer = "street = coalesce(street, '') || ' b', email = regexp_replace(email, '^(.)', 'new.\\1')"
    change = "qty = qty + 1" if entity == "inventory_level" else customer
    with psycopg.connect(f"{PG}/{PEER_DB}", autocommit=True) as conn:
        conn.execute(
            f"UPDATE source SET {change}, updated_at = '2026-11-02T00:00:00' WHERE id = ANY(%s)",
            [ids],
        )
    return len(ids)


def ingest_only(n: int, batch: int, customers: str) -> None:
    """Wall and CPU seconds of the master-data step: ``ingest`` one by one (on the first
    ``batch`` records, it is slow), then ``ingest_many`` per page on new, changed and unchanged records."""
    recreate(APP_DB)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=ENV, check=True)
    django_setup()
    from django.db import connection, transaction

    from integrations.models import System
    from masterdata.models import BlockingKey, DuplicateCandidate, GoldenRecord, SourceRecord
    from masterdata.services.ingest import ingest
    from masterdata.services.ingest_batch import ingest_many

    items = [
        (row[0], dict(zip(CUSTOMER_FIELDS, row[1:-1], strict=True))) for row in source_rows("customer", n, customers)
    ]
    n = len(items)
    one, many = (
        System.objects.create(name="One by one", kind="other"),
        System.objects.create(name="Pages", kind="other"),
    )

    def timed(label: str, count: int, work) -> None:
        load, wall, cpu = os.getloadavg()[0], time.perf_counter(), time.process_time()
        work()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"  {label:<34} {count:>7,} records {wall:7.1f} s {count / wall:7,.0f}/s  CPU {cpu:6.1f} s "
            f"{count / cpu:7,.0f}/s  (load {load:.1f})"
        )

    def pages(system, records):
        for start in range(0, len(records), batch):
            ingest_many(system, "customer", records[start : start + batch])

    def one_by_one():
        with transaction.atomic():
            for external_id, payload in items[:batch]:
                ingest(one, "customer", external_id, payload)

    print(f"\ncustomer master data ({customers}) in process, pages of {batch}, {APP_DB} on PostgreSQL")
    timed("ingest, one by one", batch, one_by_one)
    with connection.cursor() as cursor:  # the pages start from no master data, as the one-by-one run did
        tables = [m._meta.db_table for m in (DuplicateCandidate, BlockingKey, SourceRecord, GoldenRecord)]
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    changed = [(external_id, {**payload, "country": "AT"}) for external_id, payload in items]
    timed("ingest_many, new records", n, lambda: pages(many, items))
    timed("ingest_many, changed records", n, lambda: pages(many, changed))
    timed("ingest_many, unchanged re-send", n, lambda: pages(many, changed))
    assert SourceRecord.objects.filter(system=many).count() == n


if __name__ == "__main__":
    main()
