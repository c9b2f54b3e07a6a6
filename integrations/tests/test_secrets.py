"""A planted secret never leaves Junction: not in a page, an API response, the admin, the audit
trail (pages, exports, the LogEntry table) or the logs, whatever the connector goes through.

Two connectors carry a unique secret each: a REST target with the API key in the query string
(the hardest case: it travels in every URL) and a SQL connector whose password MariaDB refuses
(so its error messages are exercised). Every page, response and log line the scenario produces
is collected, then searched for each secret, its base64 forms and the stored Fernet tokens.
Peers are real: an HTTP server in this process that answers 503 (the run fails on the
connector) and the machine's MariaDB.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from rest_framework.test import APIClient

from integrations import services
from integrations.engine import actions, pipeline
from integrations.models import Connector, InboundEvent, RecordOutcome, Run
from integrations.tests.adapters.sql_peers import MARIADB, server_available
from integrations.tests.engine_world import customer_flow, webhook_connector
from integrations.tests.factories import SystemFactory

pytestmark = pytest.mark.django_db

API_KEY = f"planted-api-key-{uuid.uuid4().hex}"
DB_PASSWORD = f"planted-db-password-{uuid.uuid4().hex}"
ADA = {"id": "C-1", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "country": "GB"}


class Unavailable(BaseHTTPRequestHandler):
    """Reads answer one record; writes answer 503, so the run fails on this connector."""

    def do_GET(self):
        self._answer(200, b'[{"id": 1}]')

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(503, b'{"message": "maintenance"}')

    def _answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def peer():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Unavailable)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def everything_logged(caplog):
    """Every logger at DEBUG, Junction's and the libraries' (httpx, httpcore, SQLAlchemy, Django, Celery)."""
    names = ["", "httpx", "httpcore", "sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "django", "celery"]
    names += ["integrations", "audit", "accounts", "auditlog", "pymysql", "paramiko"]
    for name in names:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def forms_of(secret: str) -> list[str]:
    """The secret as is, and as base64 would carry it (alone, and after "user:" as HTTP Basic does)."""
    encoded = [base64.b64encode(value.encode()).decode() for value in (secret, f"junction:{secret}")]
    return [secret, *(e.rstrip("=") for e in encoded), base64.urlsafe_b64encode(secret.encode()).decode().rstrip("=")]


def body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_a_planted_secret_appears_in_no_response_log_or_audit_entry(
    peer, everything_logged, personas, client_for, settings
):
    ok, reason = server_available("mysql")
    if not ok:
        pytest.skip(reason)
    engineer, admin = personas["engineer"], personas["admin"]
    responses: list[tuple[str, str]] = []

    def seen(label, response, status=200):
        assert response.status_code == status, (label, response.status_code)
        responses.append((label, body(response)))
        return response

    # Created through the API, as a person would: the credentials go in once and never come back.
    api = APIClient()
    api.force_login(engineer)  # a fresh session: recent enough to set credentials
    rest_body = {
        "name": "ERP REST",
        "system": SystemFactory().pk,
        "adapter": "rest",
        "settings": {
            "base_url": peer,
            "paths": {"customer": "/customers"},
            "auth_type": "api_key_query",
            "api_key_param": "key",
        },
        "credentials": {"api_key": API_KEY},
    }
    seen("API create REST", api.post("/api/v1/connectors/", rest_body, format="json"), 201)
    sql_body = {
        "name": "Warehouse DB",
        "system": SystemFactory().pk,
        "adapter": "sql",
        "settings": {
            "dialect": "mysql",
            "host": MARIADB["host"],
            "port": MARIADB["port"],
            "username": "junction_no_such_user",
            "database": "test",
            "entities": {"customer": {"write_table": "customers", "id_column": "id"}},
        },
        "credentials": {"password": DB_PASSWORD},
    }
    seen("API create SQL", api.post("/api/v1/connectors/", sql_body, format="json"), 201)
    rest, sql = Connector.objects.get(name="ERP REST"), Connector.objects.get(name="Warehouse DB")
    tokens = [rest.credentials, sql.credentials]

    # Pages: detail, edit form, adapter fields, Test connection, an edit that keeps the credentials.
    client = client_for(engineer)
    for connector in (rest, sql):
        seen(f"detail {connector}", client.get(connector.get_absolute_url()))
        seen(f"edit {connector}", client.get(reverse("integrations:connector_edit", args=[connector.pk])))
        seen(
            f"fields {connector}",
            client.get(
                reverse("integrations:connector_adapter_fields"),
                {"adapter": connector.adapter, "connector": connector.pk},
            ),
        )
        seen(f"test {connector}", client.post(reverse("integrations:connector_test", args=[connector.pk])))
    seen("list", client.get(reverse("integrations:connector_list")))
    form = {
        "name": "ERP REST",
        "system": rest.system_id,
        "adapter": "rest",
        "enabled": "on",
        "setting__base_url": peer,
        "setting__paths": '{"customer": "/customers"}',
        "setting__auth_type": "api_key_query",
        "setting__api_key_param": "key",
        "credential__api_key": "",
    }
    seen("edit POST", client.post(reverse("integrations:connector_edit", args=[rest.pk]), form), 302)

    # API: list, detail, OPTIONS, the schema, Test connection.
    for label, response in [
        ("API list", api.get("/api/v1/connectors/")),
        ("API detail", api.get(f"/api/v1/connectors/{rest.pk}/")),
        ("API detail SQL", api.get(f"/api/v1/connectors/{sql.pk}/")),
        ("API options", api.options("/api/v1/connectors/")),
        ("API schema", api.get("/api/schema/")),
        ("API test", api.post(f"/api/v1/connectors/{rest.pk}/test/")),
        ("API test SQL", api.post(f"/api/v1/connectors/{sql.pk}/test/")),
    ]:
        seen(label, response)

    # A run that fails on the REST connector: the peer answers 503 to every write.
    flow = customer_flow(webhook_connector(), rest)
    services.grant_creator(flow, engineer)
    InboundEvent.objects.create(connector=flow.source, event_id="e-1", records=[ADA])
    run = actions.start_run(flow)
    pipeline.extract(pipeline.take_extraction(run.pk))
    pipeline.load(run.pk, rest.pk)
    outcome = RecordOutcome.objects.get(run=run)
    assert outcome.error_message.startswith("HTTP 503 from POST /customers: maintenance")
    services.check_connection(sql, engineer)  # MariaDB refuses the login: an error with a message
    seen("run page", client.get(reverse("integrations:run_detail", args=[run.pk])))
    seen("outcome page", client.get(reverse("integrations:outcome_detail", args=[outcome.pk])))
    seen("API runs", api.get(f"/api/v1/runs/{run.pk}/"))
    seen("API outcomes", api.get("/api/v1/outcomes/"))

    # The audit trail as an auditor and an administrator see it, and the Django admin.
    auditor = client_for(personas["auditor"])
    seen("audit list", auditor.get(reverse("audit:logentry_list")))
    for entry in LogEntry.objects.all():
        seen(f"audit entry {entry.pk}", auditor.get(reverse("audit:logentry_detail", args=[entry.pk])))
    for fmt in ("csv", "jsonl"):
        seen(f"audit export {fmt}", auditor.get(reverse("audit:logentry_export", args=[fmt])))
    boss = client_for(admin)
    for url in (
        "/admin/",
        "/admin/integrations/connector/",
        f"/admin/integrations/connector/{rest.pk}/change/",
        f"/admin/integrations/connector/{sql.pk}/change/",
    ):
        seen(url, boss.get(url))
    if boss.get("/admin/auditlog/logentry/").status_code == 200:
        seen("admin trail", boss.get("/admin/auditlog/logentry/"))

    # The trail's rows themselves, serialized_data included, and everything logged.
    trail = json.dumps(
        list(LogEntry.objects.values("object_repr", "changes", "changes_text", "additional_data", "serialized_data")),
        default=str,
    )
    logged = "\n".join(
        f"{record.name} {record.getMessage()} {record.exc_text or ''}" for record in everything_logged.records
    )
    assert len(responses) > 30 and "HTTP Request: POST" in logged  # the scenario ran, and was logged
    assert "credentials.replaced" in trail

    places = [*responses, ("audit trail rows", trail), ("logs", logged)]
    for secret in (API_KEY, DB_PASSWORD):
        for form_of in forms_of(secret):
            leaks = [label for label, text in places if form_of in text]
            lines = [line[:300] for line in logged.splitlines() if form_of in line][:5]
            assert leaks == [], f"{form_of[:20]}… leaked into {leaks}: {lines}"
    for token in tokens:
        assert [label for label, text in places if token in text] == [], "a stored Fernet token leaked"
    assert Run.objects.filter(pk=run.pk).exists()
