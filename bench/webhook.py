"""Inbound webhook throughput and latency under 50 concurrent clients, beside trivial views served the same way.

    .venv/bin/python bench/webhook.py                     # 20,000 requests per scenario, shared cores
    .venv/bin/python bench/webhook.py --pin               # and again: server on CPU 0, load generator on CPU 1
    .venv/bin/python bench/webhook.py --workers 4 --threads 4 --requests 5000
    .venv/bin/python bench/webhook.py --profile 2000      # also cProfile the endpoint in-process
    .venv/bin/python bench/webhook.py --profile 2000 --scenarios ""   # the profile only

Needs the local PostgreSQL and Redis (127.0.0.1; override with BENCH_PG and
BENCH_REDIS). Junction runs in production mode (DEBUG off, throwaway secret and
Fernet key) on the scratch database ``junction_bench_web``, Redis db 10 as cache
and broker, served by gunicorn with ``bench.webhook_settings``: Junction's
settings plus two baseline views (bench/webhook_urls.py), never part of the app.

The load generator is another process (this script, ``client`` mode): a
closed loop of 50 asyncio connections with keep-alive, writing pre-built,
pre-signed HTTP/1.1 requests (Standard Webhooks signatures, one event id each)
and timing each answer. A raw asyncio client costs the shared cores far less
than httpx would. Scenarios, each after its own warm-up:

- ``unique``: every request a new event id: stored, 202, ``duplicate: false``;
- ``duplicate``: the same event ids again, re-signed: the idempotent path;
- ``trivial``: a plain Django view, same request and middleware, answers 202;
- ``trivial-drf``: an empty DRF APIView configured like the inbound view.

No Celery worker runs: the wake-up messages (at most one per second) wait in
Redis. CPU seconds of gunicorn, PostgreSQL, Redis and the client are read from
/proc around each measured phase.
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import math
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/10")
APP_DB = "junction_bench_web"
SCENARIOS = {
    "unique": "POST /api/v1/inbound/{connector}/",
    "duplicate": "POST /api/v1/inbound/{connector}/",
    "trivial": "POST /bench/trivial/",
    "trivial-drf": "POST /bench/trivial-drf/",
}


# --- Load generator (its own process) -------------------------------------------


def sign(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks v1 signature, written from the spec rather than taken from the app."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{event_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def build_requests(spec: dict, ids: range) -> list[bytes]:
    path = SCENARIOS[spec["scenario"]].split(" ", 1)[1].format(connector=spec["connector"])
    stamp, requests = int(time.time()), []
    for i in ids:
        event_id = f"{spec['tag']}-{i}"
        record = {"id": f"C-{i:07d}", "email": f"c{i}@example.com", "name": "Ada Lovelace", "updated_at": stamp}
        body = json.dumps(record).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{spec['port']}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nwebhook-id: {event_id}\r\nwebhook-timestamp: {stamp}\r\n"
            f"webhook-signature: {sign(spec['secret'], event_id, stamp, body)}\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


async def exchange(conn: list, request: bytes, port: int) -> tuple[int, bytes]:
    """One request on a keep-alive connection (reopened when the server closes it)."""
    if conn[0] is None:
        conn[:] = await asyncio.open_connection("127.0.0.1", port)
    reader, writer = conn
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lower = head.lower()
    start = lower.index(b"content-length:") + 15
    body = await reader.readexactly(int(lower[start : lower.index(b"\r\n", start)]))
    if b"connection: close" in lower:
        writer.close()
        conn[:] = [None, None]
    return int(head[9:12]), body


async def phase(conns: list, requests: list[bytes], port: int) -> dict:
    """Send every request over the connections, each connection one request at a time."""
    queue, latencies, status, fresh = iter(requests), [], Counter(), 0

    async def loop(conn):
        nonlocal fresh
        for request in queue:
            t0 = time.perf_counter_ns()
            try:
                code, body = await exchange(conn, request, port)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                code, body, conn[:] = 0, b"", [None, None]  # 0: the connection failed
            latencies.append(time.perf_counter_ns() - t0)
            status[code] += 1
            fresh += b'"duplicate":false' in body

    start = time.perf_counter()
    await asyncio.gather(*(loop(conn) for conn in conns))
    return {"seconds": time.perf_counter() - start, "latencies": latencies, "status": status, "fresh": fresh}


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of the gunicorn master and workers, PostgreSQL and Redis, from /proc."""
    tick, totals = os.sysconf("SC_CLK_TCK"), Counter()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        comm, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        used = (int(rest[11]) + int(rest[12])) / tick
        if server_pid in (int(pid), int(rest[1])):
            totals["server"] += used
        elif comm == "postgres":
            totals["postgres"] += used
        elif comm.startswith("redis-server"):
            totals["redis"] += used
    return totals


async def client(spec: dict) -> dict:
    warm, n = spec["warmup"], spec["requests"]
    warmup, measured = build_requests(spec, range(warm)), build_requests(spec, range(warm, warm + n))
    conns = [[None, None] for _ in range(spec["clients"])]
    first = await phase(conns, warmup, spec["port"])
    cpu_before, own_before = cpu_seconds(spec["server_pid"]), time.process_time()
    result = await phase(conns, measured, spec["port"])
    cpu = {k: v - cpu_before[k] for k, v in cpu_seconds(spec["server_pid"]).items()}
    cpu["client"] = time.process_time() - own_before
    lat = sorted(result["latencies"])
    pick = lambda p: lat[min(len(lat) - 1, math.ceil(p / 100 * len(lat)) - 1)] / 1e6  # noqa: E731 - nearest rank
    return {
        "scenario": spec["scenario"],
        "requests": n,
        "rps": n / result["seconds"],
        **{f"p{p}": pick(p) for p in (50, 90, 99)},
        "max": lat[-1] / 1e6,
        "errors": n - result["status"][202],
        "status": dict(result["status"]),
        "stored": first["fresh"] + result["fresh"],
        "cpu_ms": {k: 1000 * v / n for k, v in cpu.items()},
        "cpu_busy": sum(cpu.values()) / result["seconds"],
    }


# --- Orchestration ---------------------------------------------------------------


def bench_env() -> dict:
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "DATABASE_URL": f"{PG}/{APP_DB}",
        "REDIS_URL": REDIS,
        "DJANGO_SETTINGS_MODULE": "config.settings",  # gunicorn gets bench.webhook_settings
        "DJANGO_DEBUG": "0",  # production mode: DEBUG changes what a request costs
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),  # throwaway, as is the Fernet key
        "JUNCTION_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "JUNCTION_TLS": "0",
        "JUNCTION_VAR_DIR": str(ROOT / "bench" / "results" / "var-web"),
    }


def setup(env: dict) -> tuple[int, str]:
    """A fresh database and Redis db with one webhook connector: its id and signing secret."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {APP_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {APP_DB}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(["redis-cli", "-u", REDIS, "flushdb"], check=True, capture_output=True)
    (Path(env["JUNCTION_VAR_DIR"]) / "staticfiles").mkdir(parents=True, exist_ok=True)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from integrations.models import Connector, System

    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    system = System.objects.create(name="Bench shop", kind="other")
    connector = Connector(system=system, name="Bench webhook", adapter="webhook", settings={"id_field": "id"})
    connector.set_credentials({"secret": secret})
    connector.save()
    return connector.pk, secret


def gunicorn_command(args, port: int) -> list[str]:
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--chdir", str(ROOT), "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(args.workers), "--worker-class", args.worker_class, "--threads", str(args.threads)]
    return [*command, "--keep-alive", "5", "--log-level", "warning"]


def start_server(args, env: dict, cpu: str | None) -> tuple[subprocess.Popen, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = gunicorn_command(args, port)
    env = {**env, "DJANGO_SETTINGS_MODULE": "bench.webhook_settings"}
    server = subprocess.Popen((["taskset", "-c", cpu] if cpu else []) + command, cwd=ROOT, env=env)
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/trivial/", timeout=2).read()
            return server, port
        except OSError:
            time.sleep(0.25)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 30 s")


def run_client(spec: dict, cpu: str | None) -> dict:
    command = [sys.executable, __file__, "client", json.dumps(spec)]
    out = subprocess.run((["taskset", "-c", cpu] if cpu else []) + command, check=True, capture_output=True)
    return json.loads(out.stdout)


def run_pass(args, env: dict, connector: int, secret: str, pinned: bool) -> list[dict]:
    server, port = start_server(args, env, "0" if pinned else None)
    tag, results = secrets.token_hex(3), []
    try:
        for scenario in args.scenarios:
            spec = {"scenario": scenario, "connector": connector, "secret": secret, "port": port}
            spec |= {"server_pid": server.pid, "clients": args.clients, "warmup": args.warmup}
            # duplicate re-sends the unique scenario's event ids
            spec |= {"requests": args.requests, "tag": f"{tag}-{'unique' if scenario == 'duplicate' else scenario}"}
            results.append({**run_client(spec, "1" if pinned else None), "pinned": pinned})
            print_row(results[-1])
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def print_row(r: dict) -> None:
    cpu = "  ".join(f"{k} {v:.2f}" for k, v in sorted(r["cpu_ms"].items()))
    print(
        f"{'pinned' if r['pinned'] else 'shared':6} {r['scenario']:11} {r['rps']:7,.0f} req/s  p50 {r['p50']:6.1f}  "
        f"p90 {r['p90']:6.1f}  p99 {r['p99']:6.1f}  max {r['max']:6.1f} ms  errors {r['errors']}  "
        f"CPU ms/req: {cpu}  (cores busy {r['cpu_busy']:.2f})",
        flush=True,
    )


def print_table(results: list[dict]) -> None:
    columns = "cores | scenario | req/s | p50 ms | p90 ms | p99 ms | max ms | errors"
    print(f"\n| {columns} | CPU ms/req: gunicorn, PostgreSQL, Redis, client |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        c = r["cpu_ms"]
        print(
            f"| {'server CPU 0, client CPU 1' if r['pinned'] else 'shared'} | {r['scenario']} | {r['rps']:,.0f} | "
            f"{r['p50']:.1f} | {r['p90']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | {r['errors']} | "
            f"{c['server']:.2f}, {c['postgres']:.2f}, {c['redis']:.2f}, {c['client']:.2f} |"
        )


def profile(connector: int, secret: str, n: int) -> None:
    """cProfile (CPU time) of n signed requests through Django's test client in this process, then the same
    n event ids again (the duplicate path), and the SQL of one request of each kind.

    CPU time, not wall time: under wall time the waits for PostgreSQL's answers hide what the
    process itself spends.
    """
    import cProfile
    import pstats

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    http, stamp, body = Client(SERVER_NAME="127.0.0.1"), int(time.time()), b'{"id": "C-1", "name": "Ada"}'

    def post(event_id: str):
        headers = {"webhook-id": event_id, "webhook-timestamp": str(stamp)}
        headers["webhook-signature"] = sign(secret, event_id, stamp, body)
        response = http.post(f"/api/v1/inbound/{connector}/", body, "application/json", headers=headers)
        assert response.status_code == 202, response.content

    post("profile-warm")
    for kind in ("accepted", "duplicate"):
        with CaptureQueriesContext(connection) as queries:
            post("profile-sql")
        print(f"\nSQL of one {kind} request ({len(queries)} statements):")
        for q in queries:
            print(f"  {q['sql'][:150]}")
    for kind in ("unique", "duplicate"):
        profiler, start, cpu = cProfile.Profile(time.process_time), time.perf_counter(), time.process_time()
        profiler.runcall(lambda: [post(f"profile-{i}") for i in range(n)])
        wall, cpu = (time.perf_counter() - start) / n, (time.process_time() - cpu) / n
        print(f"\n{kind}: {n} requests in-process under cProfile: {1000 * wall:.2f} ms each, {1000 * cpu:.2f} ms CPU")
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(20)


def main():
    if sys.argv[1:2] == ["client"]:
        print(json.dumps(asyncio.run(client(json.loads(sys.argv[2])))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="measured requests per scenario")
    parser.add_argument("--warmup", type=int, default=2_000, help="requests before measuring, per scenario")
    parser.add_argument("--clients", type=int, default=50, help="concurrent keep-alive connections")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class (sync, gthread)")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument(
        "--scenarios", type=lambda s: [x for x in s.split(",") if x], default=list(SCENARIOS), help="comma-separated"
    )
    parser.add_argument("--pin", action="store_true", help="a second pass: server on CPU 0, generator on CPU 1")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile N requests in-process")
    args = parser.parse_args()
    if set(args.scenarios) - set(SCENARIOS):
        parser.error(f"unknown scenario; choose from {', '.join(SCENARIOS)}")
    if "duplicate" in args.scenarios and "unique" not in args.scenarios[: args.scenarios.index("duplicate")]:
        parser.error("duplicate re-sends the unique scenario's event ids: list unique first")

    env = bench_env()
    connector, secret = setup(env)
    print(f"gunicorn: {' '.join(gunicorn_command(args, 0)[3:])}  ({os.cpu_count()} CPUs)")
    print(f"{args.clients} clients, {args.warmup:,} warm-up + {args.requests:,} measured requests per scenario\n")
    results = run_pass(args, env, connector, secret, pinned=False) if args.scenarios else []
    if args.pin and args.scenarios:
        results += run_pass(args, env, connector, secret, pinned=True)
    if results:
        print_table(results)

    from integrations.models import InboundEvent

    stored, accepted = InboundEvent.objects.count(), sum(r["stored"] for r in results)
    print(f"\nInboundEvent rows: {stored:,}; new events acknowledged (202, duplicate false): {accepted:,}")
    if args.profile:
        profile(connector, secret, args.profile)


if __name__ == "__main__":
    main()
