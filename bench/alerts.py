"""What one alert evaluation costs on a large installation (monitoring/alerts.py runs it every minute).

    .venv/bin/python bench/alerts.py                      # 2,000 flows, 1,000,000 record outcomes
    .venv/bin/python bench/alerts.py --flows 5000 --outcomes 3000000

Needs the local PostgreSQL (127.0.0.1; override with BENCH_PG). A scratch database
(``junction_bench_alerts``, or BENCH_DB) is created, migrated and filled with SQL
(``generate_series``): ``--flows`` live flows, half of them scheduled, each from its
own source connector to one of 50 targets (5 with an open circuit); 10 finished runs
per flow (the last one failed for 2 % of the flows, partial for 5 %, a stuck run for
1 %); ``--outcomes`` record outcomes spread over the runs, 2 % of them waiting in the
dead-letter queue; 20 worker heartbeats, 2 of them silent; one reconciliation per
target, 10 of them with records gone. Then ``ANALYZE``.

``evaluate()`` is timed in this process ``--repeat`` times (production mode): the
first run opens every alert, the later ones find the same conditions and only refresh
them, which is every minute of a steady state. Printed: wall milliseconds per
evaluation (median and worst of the later ones), SQL statements and the conditions
found; then the same for the menu badge's count of open alerts for an Administrator.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from scratch import create_database, production_env

ROOT = Path(__file__).resolve().parent.parent
APP_DB = os.environ.get("BENCH_DB", "junction_bench_alerts")
TARGETS = 50


def bench_env() -> dict:
    return production_env(APP_DB, "var-alerts")


FILL = """
INSERT INTO integrations_system (name, kind, environment, notes, locale, created, updated)
    VALUES ('Bench peers', 'other', 'production', '', '', now(), now());
INSERT INTO integrations_connector (system_id, name, adapter, settings, credentials, enabled, circuit,
        consecutive_failures, last_error, created, updated)
    SELECT (SELECT id FROM integrations_system), 'Connector ' || n, 'rest',
        '{"base_url": "https://peer.example.com", "paths": {"customer": "/c"}}', '', true,
        CASE WHEN n <= 5 THEN 'open' ELSE 'closed' END, 0,
        CASE WHEN n <= 5 THEN 'HTTP 503 from POST /c' ELSE '' END, now(), now()
    FROM generate_series(1, %(targets)s + %(flows)s) AS n;
INSERT INTO integrations_flow (name, entity, source_id, trigger, schedule_minutes, mapping, filters, pilot_filter,
        batch_size, max_attempts, retry_base_seconds, stage, watermark, created, updated)
    SELECT 'Flow ' || n, 'customer', (SELECT min(id) FROM integrations_connector) + %(targets)s + n - 1,
        CASE WHEN n %% 2 = 0 THEN 'schedule' ELSE 'manual' END, CASE WHEN n %% 2 = 0 THEN 15 END,
        '[]', '[]', '[]', 200, 5, 30, 'live', '', now() - interval '30 days', now() - interval '30 days'
    FROM generate_series(1, %(flows)s) AS n;
INSERT INTO integrations_flow_targets (flow_id, connector_id)
    SELECT f.id, (SELECT min(id) FROM integrations_connector) + (f.id %% %(targets)s) FROM integrations_flow f;
INSERT INTO integrations_run (flow_id, stage, trigger, status, read, filtered, created, updated, unchanged, planned,
        quarantined, failed, dead_lettered, watermark_start, watermark, extracted, error, queued_at,
        started_at, finished_at)
    SELECT f.id, 'live', 'schedule',
        CASE WHEN r < 10 THEN 'succeeded' WHEN f.id %% 50 = 0 THEN 'failed' WHEN f.id %% 20 = 0 THEN 'partial'
             ELSE 'succeeded' END,
        100, 0, 100, 0, 0, 0, CASE WHEN r = 10 AND f.id %% 20 = 0 THEN 3 ELSE 0 END, 0, 0, '', '', true,
        CASE WHEN r = 10 AND f.id %% 50 = 0 THEN 'Reading the source failed: HTTP 500' ELSE '' END,
        now() - (11 - r) * interval '10 minutes', now() - (11 - r) * interval '10 minutes', now()
    FROM integrations_flow f, generate_series(1, 10) AS r;
INSERT INTO integrations_run (flow_id, stage, trigger, status, read, filtered, created, updated, unchanged, planned,
        quarantined, failed, dead_lettered, watermark_start, watermark, extracted, error, queued_at)
    SELECT f.id, 'live', 'schedule', 'delivering', 0, 0, 0, 0, 0, 0, 0, 0, 0, '', '', false, '',
        now() - interval '3 hours'
    FROM integrations_flow f WHERE f.id %% 100 = 0;
INSERT INTO integrations_recordoutcome (run_id, flow_id, target_id, external_id, idempotency_key, subject, payload,
        payload_hash, status, action, attempts, remote_id, error_class, error_message, discard_reason, dry_run,
        created_at, updated_at)
    SELECT r.id, r.flow_id, t.connector_id, 'C-' || n, md5(n::text), '1:C-' || n, '{"id": 1}', md5(n::text),
        CASE WHEN n %% 50 = 0 THEN 'dead' ELSE 'delivered' END, 'created', 1, '', '', '', '', false, now(), now()
    FROM generate_series(1, %(outcomes)s) AS n
    JOIN integrations_run r ON r.id = (SELECT min(id) FROM integrations_run) + (n %% (%(flows)s * 10))
    JOIN integrations_flow_targets t ON t.flow_id = r.flow_id;
INSERT INTO monitoring_heartbeat (component, hostname, pid, started, last_seen)
    SELECT 'worker', 'sync' || n || '@host', n, now(),
        CASE WHEN n <= 2 THEN now() - interval '10 minutes' ELSE now() END
    FROM generate_series(1, 20) AS n;
INSERT INTO integrations_reconciliation (target_id, entity, status, delivered, present, missing_count, missing, error,
        queued_at, started_at, finished_at)
    SELECT c.id, 'customer', 'done', 1000, 1000 - CASE WHEN n <= 10 THEN 3 ELSE 0 END,
        CASE WHEN n <= 10 THEN 3 ELSE 0 END, '[]', '', now(), now(), now()
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM integrations_connector) c WHERE n <= %(targets)s;
"""


def fill(flows: int, outcomes: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in FILL.split(";\n"):
            if statement.strip():
                cursor.execute(statement, {"flows": flows, "outcomes": outcomes, "targets": TARGETS})
        cursor.execute("VACUUM ANALYZE")  # as autovacuum leaves a settled table: visibility map set


def timed(work, repeat: int) -> tuple[list[float], list[int], object]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries, result = [], [], None
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            result = work()
            times.append((time.perf_counter() - start) * 1000)
        queries.append(len(captured))
    return times, queries, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flows", type=int, default=2000)
    parser.add_argument("--outcomes", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=6)
    args = parser.parse_args()

    env = bench_env()
    os.environ.update(env)
    started = time.perf_counter()
    create_database(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    fill(args.flows, args.outcomes)
    print(f"filled in {time.perf_counter() - started:.0f} s: {args.flows:,} flows, {args.outcomes:,} outcomes")

    from accounts.roles import Role
    from accounts.tests.factories import UserFactory
    from monitoring.alerts import evaluate
    from monitoring.views_alerts import open_count

    first, _, opened = timed(evaluate, 1)
    later, queries, result = timed(evaluate, args.repeat)
    print(
        f"evaluate(): first {first[0]:,.0f} ms ({len(opened.opened):,} alerts opened), then median "
        f"{statistics.median(later):,.0f} ms, worst {max(later):,.0f} ms over {args.repeat}; "
        f"{queries[-1]} SQL statements; {result.still_open:,} conditions hold"
    )
    admin = UserFactory(username="bench-admin", role=Role.ADMINISTRATOR)
    times, queries, count = timed(lambda: open_count(admin), args.repeat)
    print(
        f"menu badge (Administrator): median {statistics.median(times):,.1f} ms, {queries[-1]} statement(s), {count:,}"
    )
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
