"""Shared fixtures: personas per role, real-service gates, collected static files.

Service gates: a test marked ``postgres``, ``redis`` or ``browser`` is skipped
with the reason when that service is missing here, and *fails* instead when
JUNCTION_REQUIRE_SERVICES=1 (what .ci/run sets), so CI can never pass by
skipping them.
"""

import os
import shutil
from urllib.parse import urlparse

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from accounts.tests.otp import verify_session
from tests import parallel  # noqa: F401 (on import: an xdist worker's own var folder and Redis database)

CHROMIUM = "/usr/bin/chromium"
REQUIRE_SERVICES = os.environ.get("JUNCTION_REQUIRE_SERVICES") == "1"


def redis_available() -> tuple[bool, str]:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        return False, "REDIS_URL is not set"
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return False, f"Redis at {urlparse(url).netloc} is not reachable: {exc}"
    return True, ""


def postgres_available() -> tuple[bool, str]:
    from django.db import connection

    if connection.vendor != "postgresql":
        return False, "DATABASE_URL does not point at PostgreSQL"
    return True, ""


def browser_available() -> tuple[bool, str]:
    if not shutil.which(CHROMIUM):
        return False, f"{CHROMIUM} is missing (apt-get install chromium)"
    return True, ""


GATES = {"postgres": postgres_available, "redis": redis_available, "browser": browser_available}


def pytest_runtest_setup(item):
    for marker, probe in GATES.items():
        if marker in item.keywords:
            ok, reason = probe()
            if not ok:
                if REQUIRE_SERVICES:
                    pytest.fail(f"{marker} is required here (JUNCTION_REQUIRE_SERVICES=1): {reason}")
                pytest.skip(f"needs {marker}: {reason}")


@pytest.fixture(scope="session", autouse=True)
def collected_static():
    """Production-mode storage needs the manifest: collect once, as a deploy would."""
    call_command("collectstatic", "--noinput", verbosity=0)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2's deliberate slowness costs seconds per persona; tests don't need it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def personas(db):
    """One user per role, plus ``nobody`` (signed in, no role): ``personas["auditor"]``."""
    users = {
        "admin": UserFactory(username="admin", role=Role.ADMINISTRATOR),
        "engineer": UserFactory(username="engineer", role=Role.INTEGRATION_ENGINEER),
        "steward": UserFactory(username="steward", role=Role.DATA_STEWARD),
        "auditor": UserFactory(username="auditor", role=Role.AUDITOR),
        "viewer": UserFactory(username="viewer", role=Role.VIEWER),
        "nobody": UserFactory(username="nobody"),
    }
    return users


@pytest.fixture
def client_for(client):
    """``client_for(user)``: the test client, signed in as ``user``."""

    def sign_in(user):
        client.force_login(user)
        # As the second sign-in step would for people with TOTP (Administrators must have it).
        verify_session(client, user)
        return client

    return sign_in


def api_as(user) -> APIClient:
    """A fresh API client authenticated as ``user``; each call gives its own, so two
    personas can hold one apiece. Imported (``from conftest import api_as``) like ``wait_for``."""
    client = APIClient()
    client.force_authenticate(user)
    return client


def database_url(settings_dict) -> str:
    """A DATABASE_URL for the *test* database, so a worker process shares it."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host, port = settings_dict.get("HOST") or "", settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


@pytest.fixture
def start_worker(transactional_db):
    """``start_worker(queue)`` runs a real ``celery worker`` process on the test
    database and the configured broker; killed afterwards (the test is over: a warm
    shutdown would only wait, seconds per worker, for the broker's next poll)."""
    import subprocess
    import sys
    import uuid

    from django.conf import settings
    from django.db import connection

    started = []

    def start(queue: str | None = None, pool: str = "solo"):
        queue = queue or f"test-{uuid.uuid4().hex[:8]}"
        name = f"{queue}@%h"
        env = {**os.environ, "DATABASE_URL": database_url(connection.settings_dict)}
        cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", pool, "-Q", queue, "-n", name]
        cmd += ["-l", "info", "--without-mingle", "--without-gossip", "--concurrency", "1"]
        log = open(settings.VAR_DIR / f"worker-{queue}.log", "w")  # noqa: SIM115 (closed at teardown)
        proc = subprocess.Popen(cmd, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
        proc.queue, proc.log_path, proc.log_file = queue, log.name, log
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.log_file.close()


def wait_for(predicate, timeout: float = 30, interval: float = 0.2, message: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {message}")


def planned_rows(table: str) -> float:
    """How many rows PostgreSQL's planner believes ``table`` holds (-1: never analyzed; 0: analyzed empty)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()[0]
