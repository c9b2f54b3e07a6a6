"""Production-safe defaults: checked in fresh interpreters, since settings are read once."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({k: getattr(s, k) for k in "
    "['DEBUG','SESSION_COOKIE_SECURE','CSRF_COOKIE_SECURE','SECURE_HSTS_SECONDS','X_FRAME_OPTIONS',"
    "'SECURE_CONTENT_TYPE_NOSNIFF','SESSION_COOKIE_HTTPONLY']} | "
    "{'db': s.DATABASES['default']['ENGINE'], 'broker': s.CELERY_BROKER_URL, "
    "'static': s.STORAGES['staticfiles']['BACKEND']}))"
)


# The secrets production mode requires (throwaway values).
PRODUCTION = {"DJANGO_SECRET_KEY": "x" * 50, "JUNCTION_ENCRYPTION_KEYS": "46A2ucuEw8B34q5nHFBnPChaBlpy6dAmb5I2z5l23f4="}


def settings_with(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JUNCTION_", "DATABASE_", "REDIS_"))}
    clean |= {"DJANGO_SETTINGS_MODULE": "config.settings", "JUNCTION_VAR_DIR": str(tmp_path)} | env
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True)


def test_production_mode_requires_a_secret_key(tmp_path):
    result = settings_with(tmp_path)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_mode_requires_an_encryption_key_for_credentials(tmp_path):
    result = settings_with(tmp_path, DJANGO_SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "JUNCTION_ENCRYPTION_KEYS must be set" in result.stderr


def test_production_defaults_are_safe(tmp_path):
    result = settings_with(tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"] and values["SESSION_COOKIE_HTTPONLY"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["X_FRAME_OPTIONS"] == "DENY" and values["SECURE_CONTENT_TYPE_NOSNIFF"]
    assert values["static"].startswith("whitenoise.")


def test_embedded_defaults_need_no_server(tmp_path):
    result = settings_with(tmp_path, DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["db"] == "django.db.backends.sqlite3"
    assert values["broker"] == "filesystem://"
    assert (tmp_path / "broker" / "control").is_dir()
    # The development key is random, private and stable across restarts.
    key_file = tmp_path / "dev-secret-key"
    assert oct(key_file.stat().st_mode)[-3:] == "600"
    assert settings_with(tmp_path, DJANGO_DEBUG="1").returncode == 0
    assert len(key_file.read_text()) >= 50


def test_embedded_sqlite_runs_in_wal_mode(tmp_path):
    probe = (
        "import django; django.setup(); from django.db import connection; "
        "c = connection.cursor(); c.execute('PRAGMA journal_mode'); print(c.fetchone()[0]); "
        "c.execute('PRAGMA busy_timeout'); print(c.fetchone()[0])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env |= {"DJANGO_DEBUG": "1", "JUNCTION_VAR_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "5000"]


def test_servers_from_the_environment(tmp_path):
    result = settings_with(
        tmp_path,
        **PRODUCTION,
        DATABASE_URL="postgres://junction@db.internal:5432/junction",
        REDIS_URL="redis://cache.internal:6379/0",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["db"] == "django.db.backends.postgresql"
    assert values["broker"] == "redis://cache.internal:6379/0"


@pytest.mark.django_db
def test_security_headers_on_pages(client):
    response = client.get("/login/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_whitenoise_serves_hashed_static_files_in_production_mode(client):
    from django.templatetags.static import static

    url = static("css/junction.css")
    assert url != "/static/css/junction.css", "expected a content-hashed name from the manifest"
    response = client.get(url)
    assert response.status_code == 200
    assert "max-age=315360000" in response["Cache-Control"]  # hashed files are cached forever


@pytest.mark.django_db
def test_favicon_redirects_to_the_hashed_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert client.get(response["Location"]).status_code == 200
