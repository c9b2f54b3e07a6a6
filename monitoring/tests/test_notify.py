"""People are told when an alert opens and when it resolves, once each, by e-mail through a real
SMTP server (aiosmtpd, started here) and by a JSON POST to a real HTTP server started here.

The notification tasks run in this process (Celery's eager mode) so the test can count what the
servers received; the tasks' retries are Celery's own. That a real worker runs the beat task is
shown in test_alerts.py.
"""

import email
import json
import socket
import threading
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from celery.exceptions import Retry

from config.celery import app
from integrations.choices import CircuitState
from integrations.tests.pages import rest_connector
from monitoring import tasks
from monitoring.alerts import evaluate
from monitoring.models import Alert

pytestmark = pytest.mark.django_db


class Inbox:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email_policy))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.JUNCTION_ALERT_EMAILS = ["ops@example.com", "oncall@example.com"]
    yield inbox
    controller.stop()


@pytest.fixture
def chat(settings):
    """A chat server's incoming webhook: answers each POST with the next status of ``chat.statuses``."""
    received, statuses = [], []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(statuses.pop(0) if statuses else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.JUNCTION_ALERT_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/hooks/junction"
    server.received, server.statuses = received, statuses
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def eager(settings):
    settings.JUNCTION_BASE_URL = "https://junction.example.com"
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = False, False


def open_circuit(name: str = "Warehouse API"):
    target = rest_connector(name)
    type(target).objects.filter(pk=target.pk).update(
        circuit=CircuitState.OPEN, last_error="HTTP 503 from POST /stock: maintenance"
    )
    return target


def close_circuit(target) -> None:
    type(target).objects.filter(pk=target.pk).update(circuit=CircuitState.CLOSED)


def test_opening_and_resolving_are_emailed_once_each(smtp, eager, django_capture_on_commit_callbacks):
    target = open_circuit()
    with django_capture_on_commit_callbacks(execute=True):
        [alert] = evaluate().opened
    with django_capture_on_commit_callbacks(execute=True):
        evaluate()  # still open: nothing new to say

    [opened] = smtp.messages
    assert smtp.recipients == [["ops@example.com", "oncall@example.com"]]
    assert (
        opened["Subject"] == "[Junction] Critical: Deliveries to Warehouse API are paused: its circuit breaker opened"
    )
    body = opened.get_content()
    assert "HTTP 503 from POST /stock: maintenance" in body
    assert f"https://junction.example.com/alerts/{alert.pk}/" in body

    close_circuit(target)
    with django_capture_on_commit_callbacks(execute=True):
        evaluate()

    assert len(smtp.messages) == 2
    assert smtp.messages[1]["Subject"] == (
        "[Junction] Resolved: Deliveries to Warehouse API are paused: its circuit breaker opened"
    )
    assert "Resolved: " in smtp.messages[1].get_content()


def test_the_chat_webhook_gets_the_text_and_the_alert(chat, eager, django_capture_on_commit_callbacks):
    target = open_circuit()
    with django_capture_on_commit_callbacks(execute=True):
        [alert] = evaluate().opened

    [body] = chat.received
    assert body["event"] == "opened"
    assert body["text"].startswith("Critical: Deliveries to Warehouse API are paused")
    assert body["alert"]["id"] == alert.pk and body["alert"]["kind"] == "circuit_open"
    assert body["alert"]["url"] == f"https://junction.example.com/alerts/{alert.pk}/"
    assert body["alert"]["resolved_at"] is None

    close_circuit(target)
    with django_capture_on_commit_callbacks(execute=True):
        evaluate()
    assert chat.received[1]["event"] == "resolved" and chat.received[1]["alert"]["status"] == "resolved"


def test_a_chat_server_that_fails_is_retried_without_resending_the_email(
    chat, smtp, eager, django_capture_on_commit_callbacks
):
    chat.statuses.extend([503, 502])  # down twice, then up
    open_circuit()
    with pytest.raises(Retry, match="503 Service Unavailable"), django_capture_on_commit_callbacks(execute=True):
        [alert] = evaluate().opened  # the webhook task asks Celery for a retry

    # A worker would run the retries after a backoff; here they run at once, same task and arguments.
    with pytest.raises(Retry, match="502 Bad Gateway"):
        tasks.notify_webhook.apply(args=(alert.pk, "opened"), throw=True)
    tasks.notify_webhook.apply(args=(alert.pk, "opened"), throw=True)

    assert len(chat.received) == 3 and chat.received[0] == chat.received[2]  # the same message until taken
    assert len(smtp.messages) == 1  # its own task: not sent again


def test_without_channels_alerts_are_only_in_the_portal(
    settings, smtp, chat, eager, django_capture_on_commit_callbacks
):
    settings.JUNCTION_ALERT_EMAILS, settings.JUNCTION_ALERT_WEBHOOK_URL = [], ""  # the servers run, unnamed
    open_circuit()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        evaluate()

    assert len(callbacks) == 1  # announce ran
    assert smtp.messages == [] and chat.received == []
    assert Alert.objects.unresolved().count() == 1
