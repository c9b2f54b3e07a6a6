"""A scratch Junction database for a benchmark: production-mode settings and a fresh, migrated database."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def production_env(database: str, var: str, **extra: str) -> dict:
    """The environment of a Junction process on ``database`` in production mode (DEBUG off: with it on,
    Django keeps and formats every statement), its files under ``bench/results/<var>``."""
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "DATABASE_URL": f"{PG}/{database}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "JUNCTION_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "JUNCTION_VAR_DIR": str(ROOT / "bench" / "results" / var),
        **extra,
    }


def create_database(env: dict, *, static: bool = False) -> None:
    """Drop and create the database ``env`` points at, then migrate it (and collect static files)."""
    import psycopg

    database = env["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {database}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    if static:
        (Path(env["JUNCTION_VAR_DIR"]) / "staticfiles").mkdir(parents=True, exist_ok=True)
        collect = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
        subprocess.run(collect, cwd=ROOT, env=env, check=True)
