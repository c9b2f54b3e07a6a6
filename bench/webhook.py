"""Inbound webhook throughput and latency under 50 concurrent clients, beside trivial views served the same way.

    .venv/bin/python bench/webhook.py                     # 20,000 requests per scenario, shared cores
    .venv/bin/python bench/webhook.py --pin               # and again: server on CPU 0, load generator on CPU 1
    .venv/bin/python bench/webhook.py --server gunicorn   # the server of the figures before issue 4's fix
    .venv/bin/python bench/webhook.py --profile 2000      # also cProfile the endpoint in-process
    .venv/bin/python bench/webhook.py --profile 2000 --scenarios ""   # the profile only

Needs the local PostgreSQL and Redis (127.0.0.1; override with BENCH_PG and
BENCH_REDIS). Junction runs in production mode (DEBUG off, throwaway secret and
Fernet key) on the scratch database ``junction_bench_web``, Redis db 10 as cache
and broker, served with ``bench.webhook_settings`` (Junction's settings plus two
baseline views, bench/webhook_urls.py, never part of the app) by the production
command of docs/operations.md: granian, 2 worker processes of 4 threads.
``--server gunicorn`` serves with gunicorn's gthread workers (4 of 2 threads by default)
instead, as before the fix; it needs ``pip install gunicorn==27.0.1``.

The load generator is another process (this script, ``client`` mode): a
closed loop of 50 asyncio connections with keep-alive, writing pre-built,
pre-signed HTTP/1.1 requests (Standard Webhooks signatures, one event id each)
and timing each answer. A raw asyncio client costs the shared cores far less
than httpx would. Scenarios, each after its own warm-up:

- ``unique``: every request a new event id: stored, 202, ``duplicate: false``;
- ``duplicate``: the same event ids again, re-signed: the idempotent path;
- ``trivial``: a plain Django view, same request and middleware, answers 202;
- ``trivial-drf``: an empty DRF APIView configured like the inbound view.

With keep-alive a connection stays with the server process that accepted it, so
after each warm-up the client finds which process holds each connection (from
/proc) and reports latency per process: the spread of the 50 connections over
the processes is the first thing to look at when p90 and p99 are far above p50.

No Celery worker runs: the wake-up messages (at most one per second) wait in
Redis. CPU seconds of the server, PostgreSQL (this database's backends and the
background processes), Redis and the client are read from /proc every second
of each measured phase (so a database connection that ends meanwhile counts).
Each row carries the load average (1 min) before and after.
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import shlex
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
        conn[:] = await asyncio.open_connection("127.0.0.1", port)  # asyncio sets TCP_NODELAY
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
    queue, latencies, status, fresh = iter(requests), [[] for _ in conns], Counter(), 0
    reopened = 0

    async def loop(conn, mine):
        nonlocal fresh, reopened
        for request in queue:
            reopened += conn[0] is None
            t0 = time.perf_counter_ns()
            try:
                code, body = await exchange(conn, request, port)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                code, body, conn[:] = 0, b"", [None, None]  # 0: the connection failed
            mine.append(time.perf_counter_ns() - t0)
            status[code] += 1
            fresh += b'"duplicate":false' in body

    start = time.perf_counter()
    await asyncio.gather(*(loop(conn, mine) for conn, mine in zip(conns, latencies, strict=True)))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "latencies": latencies, "status": status, "fresh": fresh, "reopened": reopened}


def server_processes(server_pid: int) -> list[int]:
    """The server's master and its child processes (the workers)."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if server_pid in (int(pid), int(stat[stat.rindex(")") + 2 :].split()[1])):
            pids.append(int(pid))
    return pids


def connection_owners(conns: list, port: int, server_pid: int) -> list[int | None]:
    """Which server process holds the other end of each open connection (from /proc/net/tcp and fds).

    With keep-alive a connection stays with the process that accepted it, so this is how the
    50 clients are shared between the server's processes."""
    inode_of = {}  # client's port -> inode of the server's socket for that connection
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(a.split(":")[1], 16) for a in fields[1:3])
        if local == port:
            inode_of[remote] = fields[9]
    pid_of = {}
    for pid in server_processes(server_pid):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                pid_of[target[8:-1]] = pid
    owners = []
    for _reader, writer in conns:
        client_port = writer.get_extra_info("sockname")[1] if writer else None
        owners.append(pid_of.get(inode_of.get(client_port)))
    return owners


def cpu_by_process(server_pid: int) -> dict[int, tuple[str, float]]:
    """CPU seconds so far of each process of the server, PostgreSQL and Redis, from /proc.

    PostgreSQL: the backends of the benchmark's database and the server-wide background
    processes (WAL writer, checkpointer…), not other databases' backends: the machine is shared.
    """
    tick, found = os.sysconf("SC_CLK_TCK"), {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        comm, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        used = (int(rest[11]) + int(rest[12])) / tick
        if server_pid in (int(pid), int(rest[1])):
            found[int(pid)] = ("server", used)
        elif comm == "postgres" and (APP_DB in title or not re.search(r"\(\d+\)|\[local\]", title)):
            found[int(pid)] = ("postgres", used)
        elif comm.startswith("redis-server"):
            found[int(pid)] = ("redis", used)
    return found


def cpu_seconds(server_pid: int) -> dict[str, float]:
    totals = Counter()
    for kind, used in cpu_by_process(server_pid).values():
        totals[kind] += used
    return totals


class CpuMeter:
    """CPU seconds used during a phase, by kind, sampled every second so that a process that
    ends meanwhile (a database connection past CONN_MAX_AGE) keeps what it used until then."""

    def __init__(self, server_pid: int):
        self.server_pid, self.first, self.last = server_pid, cpu_by_process(server_pid), {}

    def sample(self) -> None:
        self.last.update(cpu_by_process(self.server_pid))

    async def run(self) -> None:
        while True:
            await asyncio.sleep(1)
            self.sample()

    def used(self) -> dict[str, float]:
        self.sample()
        totals = Counter({"server": 0.0, "postgres": 0.0, "redis": 0.0})
        for pid, (kind, used) in self.last.items():
            totals[kind] += used - self.first.get(pid, (kind, 0.0))[1]
        return totals


def nearest_rank(ordered: list[int], p: float) -> float:
    """The p-th percentile of sorted nanoseconds, in milliseconds."""
    return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)] / 1e6


async def client(spec: dict) -> dict:
    warm, n = spec["warmup"], spec["requests"]
    warmup, measured = build_requests(spec, range(warm)), build_requests(spec, range(warm, warm + n))
    conns = [[None, None] for _ in range(spec["clients"])]
    first = await phase(conns, warmup, spec["port"])
    owners = connection_owners(conns, spec["port"], spec["server_pid"])
    meter, own_before = CpuMeter(spec["server_pid"]), time.process_time()
    sampling = asyncio.create_task(meter.run())
    result = await phase(conns, measured, spec["port"])
    sampling.cancel()
    cpu = dict(meter.used())
    cpu["client"] = time.process_time() - own_before
    lat = sorted(ns for mine in result["latencies"] for ns in mine)
    # Latency by the server process that holds each connection: only meaningful when the
    # connections stayed open through the measured phase (keep-alive), not when reopened.
    by_process = {}
    if not result["reopened"]:
        for owner, mine in zip(owners, result["latencies"], strict=True):
            by_process.setdefault(str(owner), []).append(mine)
    processes = [
        {
            "connections": len(groups),
            "requests": len(mine := sorted(ns for group in groups for ns in group)),
            "p50": nearest_rank(mine, 50),
            "p99": nearest_rank(mine, 99),
        }
        for groups in by_process.values()
    ]
    return {
        "scenario": spec["scenario"],
        "requests": n,
        "rps": n / result["seconds"],
        **{f"p{p}": nearest_rank(lat, p) for p in (50, 90, 99)},
        "max": lat[-1] / 1e6,
        "errors": n - result["status"][202],
        "status": dict(result["status"]),
        "stored": first["fresh"] + result["fresh"],
        "reopened": result["reopened"],
        "processes": sorted(processes, key=lambda p: -p["connections"]),
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


def server_command(args, port: int) -> list[str]:
    """The production command of docs/operations.md ("Web server"), on a free local port.

    ``--server gunicorn`` is the server the figures before issue 4's fix were taken with,
    kept to reproduce them (``--workers 4 --threads 2``: gthread workers)."""
    if args.server == "granian":
        command = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--workers", str(args.workers), "--blocking-threads", str(args.threads)]
        command += ["--working-dir", str(ROOT), "--log-level", "warning", *shlex.split(args.server_args)]
        return [*command, "config.wsgi:application"]
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--chdir", str(ROOT), "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(args.workers), "--worker-class", "gthread", "--threads", str(args.threads)]
    return [*command, "--keep-alive", "5", "--log-level", "warning", *shlex.split(args.server_args)]


def start_server(args, env: dict, cpu: str | None) -> tuple[subprocess.Popen, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = server_command(args, port)
    env = {**env, "DJANGO_SETTINGS_MODULE": "bench.webhook_settings"}
    server = subprocess.Popen((["taskset", "-c", cpu] if cpu else []) + command, cwd=ROOT, env=env)
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/trivial/", timeout=2).read()
            wait_until_settled(server.pid)
            return server, port
        except OSError:
            time.sleep(0.25)
    server.terminate()
    raise SystemExit(f"{args.server} did not answer within 30 s")


def wait_until_settled(server_pid: int, timeout: float = 60) -> None:
    """Wait until the server's processes stop using CPU: every worker has loaded Junction.

    The first answer only proves that one worker is up. Connections opened while the others
    still import Django all go to the ready ones and stay there (keep-alive): one run had all
    50 on one of two workers."""
    deadline, before = time.monotonic() + timeout, cpu_seconds(server_pid)["server"]
    while time.monotonic() < deadline:
        time.sleep(1)
        now = cpu_seconds(server_pid)["server"]
        if now - before < 0.05:
            return
        before = now


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
            load_before = os.getloadavg()[0]
            result = run_client(spec, "1" if pinned else None)
            results.append({**result, "pinned": pinned, "load": (load_before, os.getloadavg()[0])})
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
        f"CPU ms/req: {cpu}  (cores busy {r['cpu_busy']:.2f}; load average {r['load'][0]:.1f} -> {r['load'][1]:.1f})",
        flush=True,
    )
    for p in r["processes"]:
        print(
            f"{'':19}server process with {p['connections']:2} connections: {p['requests']:6,} requests, "
            f"p50 {p['p50']:6.1f}  p99 {p['p99']:6.1f} ms"
        )
    if r["reopened"]:
        print(f"{'':19}{r['reopened']:,} connections (re)opened while measuring")


def print_table(results: list[dict]) -> None:
    columns = "cores | scenario | req/s | p50 ms | p90 ms | p99 ms | max ms | errors"
    print(f"\n| {columns} | CPU ms/req: server, PostgreSQL, Redis, client | connections per server process | load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        c, spread = r["cpu_ms"], ", ".join(str(p["connections"]) for p in r["processes"]) or "—"
        print(
            f"| {'server CPU 0, client CPU 1' if r['pinned'] else 'shared'} | {r['scenario']} | {r['rps']:,.0f} | "
            f"{r['p50']:.1f} | {r['p90']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | {r['errors']} | "
            f"{c['server']:.2f}, {c['postgres']:.2f}, {c['redis']:.2f}, {c['client']:.2f} | {spread} | "
            f"{r['load'][0]:.1f} → {r['load'][1]:.1f} |"
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
    parser.add_argument("--server", choices=["granian", "gunicorn"], default="granian", help="granian: production")
    parser.add_argument("--workers", type=int, help="worker processes (granian 2, gunicorn 4)")
    parser.add_argument("--threads", type=int, help="threads per worker (granian blocking threads 4, gunicorn 2)")
    parser.add_argument("--server-args", default="", help='more server options, e.g. "--backpressure 4"')
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

    args.workers = args.workers or {"granian": 2, "gunicorn": 4}[args.server]
    args.threads = args.threads or {"granian": 4, "gunicorn": 2}[args.server]
    env = bench_env()
    connector, secret = setup(env)
    print(f"{' '.join(server_command(args, 0)[2:])}  ({os.cpu_count()} CPUs)")
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
