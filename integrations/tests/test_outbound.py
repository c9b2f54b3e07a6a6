"""The outbound destination policy (integrations/outbound.py): at save time on the form and the API,
at request time in every adapter that opens a connection, and in the engine (quarantine, no retry).

Peers are real local servers: an HTTP server and a bare TCP listener on 127.0.0.1 in this process,
PostgreSQL and MariaDB from the machine's services. 127.0.0.1 is private, so it is allowed by default;
the allowlist tests set JUNCTION_OUTBOUND_ALLOWLIST to another network to see it refused. Addresses
that must be refused (169.254.169.254) are never actually reached: a broken guard would show as a
connection attempt, so those adapters get a short connect timeout.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from conftest import api_as
from integrations import outbound
from integrations.adapters.errors import DestinationRefused
from integrations.adapters.files import FilesAdapter
from integrations.adapters.rest import RestAdapter
from integrations.adapters.sql import SqlAdapter
from integrations.adapters.tryton.adapter import TrytonAdapter
from integrations.choices import OutcomeStatus, RunStatus
from integrations.engine import actions, pipeline
from integrations.models import Connector, Flow, InboundEvent, RecordOutcome, Run
from integrations.tests.adapters.sql_peers import MARIADB, MARIADB_PASSWORD, POSTGRES, server_available
from integrations.tests.engine_world import customer_flow, webhook_connector
from integrations.tests.factories import SystemFactory

LINK_LOCAL = "169.254.169.254 is a link-local address; connectors may not reach it."
NOT_ALLOWED = "Host 127.0.0.1 is not in the outbound allowlist (JUNCTION_OUTBOUND_ALLOWLIST)."
ELSEWHERE = ["10.0.0.0/8"]  # an allowlist that leaves out the loopback peers


# --- Real local peers ---------------------------------------------------------------------------


class Recorder(BaseHTTPRequestHandler):
    """Answers JSON; /redirect?to=URL answers 302 to URL. Every request is recorded."""

    def _answer(self, status: int, body: object, headers: dict | None = None) -> None:
        self.server.seen.append(f"{self.command} {self.path}")
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/redirect?to="):
            return self._answer(302, {}, {"Location": self.path.split("=", 1)[1]})
        return self._answer(200, [{"id": 1, "name": "Ada"}])

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        return self._answer(201, {"id": 7})

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def http_peer():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def tcp_peer():
    listener = socket.create_server(("127.0.0.1", 0))
    yield listener
    listener.close()


def accepted(listener: socket.socket) -> bool:
    """Whether a connection reached the listener (without waiting for one)."""
    listener.settimeout(0)
    try:
        conn, _ = listener.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


@pytest.fixture
def fake_dns(monkeypatch):
    """Names in ``answers`` resolve to what the test says; every other name resolves as usual.

    socket.getaddrinfo is patched only inside the tests that use this fixture: there is no DNS
    server here to serve a name that changes its answer (DNS rebinding), and no hosts file entry
    should be needed for a test. Each name's answers are used in order, the last one repeating.
    """
    real = socket.getaddrinfo
    answers: dict[str, list[str]] = {}

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if isinstance(host, str) and host in answers and not flags & socket.AI_NUMERICHOST:
            queue = answers[host]
            address = queue.pop(0) if len(queue) > 1 else queue[0]
            return real(address, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        return real(host, port, family, type, proto, flags)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def rest_settings(base_url: str, **extra) -> dict:
    return {"base_url": base_url, "paths": {"customer": "/customers"}, "connect_timeout": 2, **extra}


# --- The policy ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("169.254.169.254", LINK_LOCAL),
        ("2852039166", "2852039166 is 169.254.169.254, a link-local address"),  # decimal
        ("0251.0376.0251.0376", "0251.0376.0251.0376 is 169.254.169.254, a link-local address"),  # octal
        ("0xa9fea9fe", "is 169.254.169.254, a link-local address"),  # hex
        ("169.254.43518", "is 169.254.169.254, a link-local address"),  # short form
        ("::ffff:169.254.169.254", "is 169.254.169.254, a link-local address"),  # IPv4-mapped IPv6
        ("[::ffff:a9fe:a9fe]", "is 169.254.169.254, a link-local address"),
        ("64:ff9b::a9fe:a9fe", "is 169.254.169.254, a link-local address"),  # NAT64
        ("2002:a9fe:a9fe::1", "is 169.254.169.254, a link-local address"),  # 6to4
        ("fe80::1", "fe80::1 is a link-local address"),
        ("fd00:ec2::254", "a cloud metadata service address"),
        ("0.0.0.0", "0/8"),  # noqa: S104 (a destination under test, not a bind address)
        ("0", "is 0.0.0.0, a “this network” address"),
        ("224.0.0.251", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("255.255.255.255", "a reserved address"),
    ],
)
def test_never_legitimate_destinations_are_refused_in_every_spelling(host, message):
    problem = outbound.save_time_problem(host)
    assert problem is not None and message in problem and problem.endswith("connectors may not reach it.")


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "10.1.2.3", "192.168.0.10", "172.16.5.4", "fd12::1"])
def test_private_networks_are_allowed_by_default(host):
    assert outbound.save_time_problem(host) is None


def test_the_allowlist_takes_hosts_wildcards_and_networks(settings):
    settings.JUNCTION_OUTBOUND_ALLOWLIST = ["erp.example.com", "*.corp.example", "10.0.0.0/8", "[fd12::]/16"]
    allowed = ["erp.example.com", "ERP.example.com.", "a.corp.example", "b.a.corp.example", "10.9.8.7", "fd12::5"]
    refused = ["corp.example", "shop.example.com", "127.0.0.1", "11.0.0.1", "localhost", "nowhere.invalid"]
    assert [host for host in allowed if outbound.save_time_problem(host)] == []
    assert [outbound.save_time_problem(host) for host in refused] == [
        f"Host {host} is not in the outbound allowlist (JUNCTION_OUTBOUND_ALLOWLIST)." for host in refused
    ]
    # Never-legitimate addresses stay refused, even when the allowlist names them.
    settings.JUNCTION_OUTBOUND_ALLOWLIST = ["169.254.0.0/16"]
    assert outbound.save_time_problem("169.254.169.254") == LINK_LOCAL


def test_an_unreadable_allowlist_entry_stops_startup(settings):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.JUNCTION_OUTBOUND_ALLOWLIST = ["10.0.0.0/8", "http://erp/"]
    with pytest.raises(ImproperlyConfigured, match="'http://erp/' is not a host name"):
        outbound.allowlist()
    with pytest.raises(SystemCheckError, match=r"integrations\.E001"):
        call_command("check")


def test_every_adapter_connects_through_the_policy():
    """A new adapter cannot quietly open its own connections: httpx clients and sockets come
    from integrations/outbound.py (SQLAlchemy engines are checked in the SQL adapter's do_connect)."""
    adapters = Path(__file__).resolve().parents[1] / "adapters"
    own = re.compile(r"httpx\.(Client|AsyncClient|HTTPTransport)\(|socket\.(create_connection|socket)\(")
    offenders = {
        path.relative_to(adapters).as_posix()
        for path in adapters.rglob("*.py")
        if any(own.search(line) for line in path.read_text().splitlines())
    }
    # The Tryton client stays free of Django (the demo uses it); the adapter hands it the policy's transport.
    assert offenders == {"tryton/client.py"}
    assert "transport=transport," in (adapters / "tryton" / "client.py").read_text()
    assert "transport=http_transport()" in (adapters / "tryton" / "adapter.py").read_text()
    assert (
        'sa.event.listen(engine, "do_connect", self._connect_checked)' in (adapters / "sql" / "adapter.py").read_text()
    )


# --- At save time: the form and the API ---------------------------------------------------------


@pytest.mark.django_db
def test_the_api_refuses_a_link_local_base_url_on_the_field(personas):
    body = {
        "name": "Metadata",
        "system": SystemFactory().pk,
        "adapter": "rest",
        "settings": rest_settings("http://169.254.169.254/latest"),
    }
    response = api_as(personas["engineer"]).post("/api/v1/connectors/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"settings": {"base_url": [LINK_LOCAL]}}
    assert not Connector.objects.exists()


@pytest.mark.django_db
def test_the_api_refuses_hosts_of_sql_sftp_and_tryton_connectors(personas, settings):
    settings.JUNCTION_OUTBOUND_ALLOWLIST = ELSEWHERE
    client, system = api_as(personas["engineer"]), SystemFactory()
    sql = {"dialect": "postgresql", "host": "127.0.0.1", "database": "erp", "username": "junction"}
    sql["entities"] = {"customer": {"write_table": "customers", "id_column": "id"}}
    sftp = {"location": "sftp", "host": "0xa9fea9fe", "username": "u", "host_key_fingerprint": "SHA256:" + "A" * 43}
    sftp["entities"] = {"customer": {"outbound_folder": "/out"}}
    tryton = {"url": "http://127.0.0.1:8000", "database": "erp"}
    cases = [("sql", sql, "host", NOT_ALLOWED), ("files", sftp, "host", "0xa9fea9fe is 169.254.169.254, a link-local")]
    cases.append(("tryton", tryton, "url", NOT_ALLOWED))
    for adapter, connector_settings, field, message in cases:
        body = {"name": adapter, "system": system.pk, "adapter": adapter, "settings": connector_settings}
        response = client.post("/api/v1/connectors/", body, format="json")
        assert response.status_code == 400, adapter
        assert message in response.json()["settings"][field][0], (adapter, response.json())


@pytest.mark.django_db
def test_the_form_shows_the_refusal_on_the_url_field(client_for, personas, settings):
    client = client_for(personas["engineer"])
    form = {
        "name": "ERP",
        "system": SystemFactory().pk,
        "adapter": "rest",
        "enabled": "on",
        "setting__base_url": "http://[::ffff:169.254.169.254]/api",
        "setting__paths": '{"customer": "/customers"}',
    }
    response = client.post(reverse("integrations:connector_add"), form)
    assert response.status_code == 200 and not Connector.objects.exists()
    errors = response.context["form"].errors
    assert errors["setting__base_url"] == [
        "::ffff:169.254.169.254 is 169.254.169.254, a link-local address; connectors may not reach it."
    ]

    settings.JUNCTION_OUTBOUND_ALLOWLIST = ELSEWHERE
    response = client.post(reverse("integrations:connector_add"), {**form, "setting__base_url": "http://127.0.0.1/"})
    assert response.context["form"].errors["setting__base_url"] == [NOT_ALLOWED]
    assert NOT_ALLOWED.encode() in response.content  # shown beside the field
    settings.JUNCTION_OUTBOUND_ALLOWLIST = ["127.0.0.0/8"]
    response = client.post(reverse("integrations:connector_add"), {**form, "setting__base_url": "http://127.0.0.1/"})
    assert response.status_code == 302 and Connector.objects.count() == 1


# --- At request time: every adapter that opens a connection -------------------------------------


def test_rest_reaches_a_private_peer_by_default(http_peer):
    with RestAdapter(rest_settings(http_peer.url)) as adapter:
        assert all(check.ok for check in adapter.test_connection())
    assert "GET /customers" in http_peer.seen


def test_rest_refuses_a_peer_outside_the_allowlist_before_sending_anything(http_peer, settings):
    settings.JUNCTION_OUTBOUND_ALLOWLIST = ELSEWHERE
    with RestAdapter(rest_settings(http_peer.url)) as adapter:
        checks = adapter.test_connection()
        with pytest.raises(DestinationRefused, match=re.escape(NOT_ALLOWED)):
            next(adapter.read("customer"))
    assert [(c.ok, c.detail) for c in checks] == [(False, NOT_ALLOWED)]
    assert http_peer.seen == []


def test_rest_refuses_link_local_at_request_time():
    # Saved before the rule, or typed into the database: the adapter is built without the save-time check.
    with RestAdapter(rest_settings("http://169.254.169.254/latest")) as adapter:
        assert adapter.test_connection()[0].detail == LINK_LOCAL
        results = adapter.write("customer", [_out("a"), _out("b")])
    assert [type(r.error) for r in results] == [DestinationRefused, DestinationRefused]
    assert results[1].error.message == f"Not attempted: {LINK_LOCAL}"


def test_redirects_are_checked_like_the_first_request(http_peer):
    target = "http://2852039166/latest/meta-data/"  # 169.254.169.254, spelled as one number
    refused = pytest.raises(DestinationRefused, match=re.escape("2852039166 is 169.254.169.254, a link-local address"))
    with outbound.http_client(follow_redirects=True, timeout=2) as client, refused:
        client.get(f"{http_peer.url}/redirect?to={target}")
    assert http_peer.seen == [f"GET /redirect?to={target}"]


@pytest.mark.django_db
def test_a_name_that_resolves_to_link_local_is_caught_after_resolution(http_peer, fake_dns, personas):
    """DNS rebinding: rebind.test answers 127.0.0.1 when the connector is saved, then 169.254.169.254."""
    port = http_peer.server_address[1]
    fake_dns["rebind.test"] = ["127.0.0.1", "169.254.169.254"]
    body = {
        "name": "Rebinding",
        "system": SystemFactory().pk,
        "adapter": "rest",
        "settings": rest_settings(f"http://rebind.test:{port}"),
    }
    assert api_as(personas["engineer"]).post("/api/v1/connectors/", body, format="json").status_code == 201
    checks = actions.test_connection(Connector.objects.get())
    assert checks[0].ok is False
    assert (
        checks[0].detail
        == "rebind.test resolves to 169.254.169.254, a link-local address; connectors may not reach it."
    )
    assert http_peer.seen == []


def test_tryton_refuses_before_any_call(http_peer, settings):
    credentials = {"login": "admin", "password": "secret"}
    with TrytonAdapter({"url": "http://169.254.169.254:8000", "database": "erp", "timeout": 2}, credentials) as adapter:
        assert [(c.ok, c.detail) for c in adapter.test_connection()] == [
            (False, "169.254.169.254 is a link-local address; connectors may not reach it.")
        ]
    settings.JUNCTION_OUTBOUND_ALLOWLIST = ELSEWHERE
    with TrytonAdapter({"url": http_peer.url, "database": "erp"}, credentials) as adapter:
        assert [(c.ok, c.detail) for c in adapter.test_connection()] == [(False, NOT_ALLOWED)]
    assert http_peer.seen == []


def sftp_settings(host: str, port: int) -> dict:
    fingerprint = "SHA256:" + "A" * 43
    entity = {"outbound_folder": "/out"}
    return {
        "location": "sftp",
        "host": host,
        "port": port,
        "username": "u",
        "host_key_fingerprint": fingerprint,
        "timeout": 2,
        "entities": {"customer": entity},
    }


def test_sftp_connects_only_through_the_policy(tcp_peer, settings):
    port = tcp_peer.getsockname()[1]
    sock = outbound.connect_tcp("127.0.0.1", port, timeout=2)  # what SftpLocation.connect uses
    sock.close()
    assert accepted(tcp_peer)

    settings.JUNCTION_OUTBOUND_ALLOWLIST = ELSEWHERE
    with FilesAdapter(sftp_settings("127.0.0.1", port), {"password": "pw"}) as adapter:
        checks = adapter.test_connection()
    assert (checks[0].ok, checks[0].detail) == (False, NOT_ALLOWED)
    assert not accepted(tcp_peer)
    settings.JUNCTION_OUTBOUND_ALLOWLIST = []
    with FilesAdapter(sftp_settings("169.254.169.254", 22), {"password": "pw"}) as adapter:
        assert adapter.test_connection()[0].detail == LINK_LOCAL


def sql_settings(dialect: str, host: str) -> dict:
    server = POSTGRES if dialect == "postgresql" else MARIADB
    database = "postgres" if dialect == "postgresql" else "test"
    entities = {
        "customer": {"table": "information_schema.tables", "id_column": "table_name", "watermark_column": "table_name"}
    }
    return {
        "dialect": dialect,
        "host": host,
        "port": server["port"],
        "username": server["username"],
        "database": database,
        "options": {"connect_timeout": 2},
        "entities": entities,
    }


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_sql_checks_the_host_before_the_driver_connects(dialect, settings, fake_dns):
    ok, reason = server_available(dialect)
    if not ok:
        pytest.skip(reason)
    credentials = {"password": MARIADB_PASSWORD} if dialect == "mysql" else {}
    # A name only the policy's resolver knows: libpq and PyMySQL connect to the address it checked.
    fake_dns["db.internal.test"] = ["127.0.0.1"]
    with SqlAdapter(sql_settings(dialect, "db.internal.test"), credentials) as adapter:
        connected = adapter.test_connection()[0]
    assert connected.ok, connected.detail

    with SqlAdapter(sql_settings(dialect, "169.254.169.254"), credentials) as adapter:
        assert adapter.test_connection()[0].detail == LINK_LOCAL
        with pytest.raises(DestinationRefused, match=re.escape(LINK_LOCAL)):
            next(adapter.read("customer"))
    settings.JUNCTION_OUTBOUND_ALLOWLIST = ELSEWHERE
    with SqlAdapter(sql_settings(dialect, "127.0.0.1"), credentials) as adapter:
        assert adapter.test_connection()[0].detail == NOT_ALLOWED


def test_a_forbidden_peer_address_is_refused_after_connecting():
    with pytest.raises(
        DestinationRefused, match=re.escape("Connected to 169.254.169.254 for erp, but: erp resolves to")
    ):
        outbound.check_peer("erp", "169.254.169.254")


# --- In the engine: a refusal quarantines, it is not retried ------------------------------------

ADA = {"id": "C-1", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "country": "GB"}


def _out(key: str):
    from integrations.adapters.base import OutRecord

    return OutRecord(key=key, payload={"id": key})


def run_once(flow) -> Run:
    InboundEvent.objects.create(connector=flow.source, event_id="e-1", records=[ADA])
    run = actions.start_run(flow)
    pipeline.extract(pipeline.take_extraction(run.pk))
    for target in flow.targets.all():
        pipeline.load(run.pk, target.pk)
    pipeline.finish_if_done(run.pk)
    return Run.objects.get(pk=run.pk)


@pytest.mark.django_db
def test_a_refused_target_quarantines_its_records_with_the_reason(http_peer, settings):
    rest = Connector.objects.create(
        system=SystemFactory(), name="ERP", adapter="rest", settings=rest_settings(http_peer.url)
    )
    settings.JUNCTION_OUTBOUND_ALLOWLIST = ELSEWHERE  # set after the connector was saved
    run = run_once(customer_flow(webhook_connector(), rest))
    outcome = RecordOutcome.objects.get(run=run)
    assert (outcome.status, outcome.error_class, outcome.error_message) == (
        OutcomeStatus.QUARANTINED,
        "DestinationRefused",
        NOT_ALLOWED,
    )
    assert outcome.next_attempt_at is None and run.status == RunStatus.PARTIAL and http_peer.seen == []


@pytest.mark.django_db
def test_a_whole_batch_refusal_is_not_turned_into_a_retry():
    # The SQL adapter fails a whole batch when it cannot connect; a refusal must still quarantine.
    sql = Connector.objects.create(
        system=SystemFactory(),
        name="Warehouse DB",
        adapter="sql",
        settings={
            **sql_settings("postgresql", "169.254.169.254"),
            "entities": {"customer": {"write_table": "customers", "id_column": "key"}},
        },
    )
    run = run_once(customer_flow(webhook_connector(), sql))
    outcome = RecordOutcome.objects.get(run=run)
    assert (outcome.status, outcome.error_message) == (OutcomeStatus.QUARANTINED, LINK_LOCAL)
    sql.refresh_from_db()
    assert sql.consecutive_failures == 0  # not counted against the circuit as an outage


@pytest.mark.django_db
def test_a_refused_source_fails_the_run_with_the_reason():
    from integrations.tasks import extract_run

    source = Connector.objects.create(
        system=SystemFactory(), name="Shop", adapter="rest", settings=rest_settings("http://0xa9fea9fe/")
    )
    target = Connector.objects.create(
        system=SystemFactory(), name="T", adapter="rest", settings=rest_settings("http://127.0.0.1:9/")
    )
    flow = Flow.objects.create(name="Shop customers", entity="customer", source=source, trigger="manual", stage="live")
    flow.targets.add(target)
    run = actions.start_run(flow)
    extract_run.apply(args=[run.pk])
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error == (
        "Reading the source failed: 0xa9fea9fe is 169.254.169.254, a link-local address; connectors may not reach it."
    )


def test_the_shared_client_ignores_proxy_variables(monkeypatch, http_peer):
    monkeypatch.setenv("HTTP_PROXY", "http://169.254.169.254:3128")
    with outbound.http_client(timeout=2) as client:  # through the proxy, this would time out
        assert client.get(f"{http_peer.url}/customers").status_code == 200
    assert http_peer.seen == ["GET /customers"]
