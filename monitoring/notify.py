"""Telling people that an alert opened or resolved: e-mail and a chat webhook.

``announce`` runs after the evaluation's commit and queues one task per alert,
event and channel, so a chat server that is down delays its own message
(retried with backoff) and never the e-mail, nor the next evaluation. The
channels are the operator's settings (``JUNCTION_ALERT_EMAILS``,
``JUNCTION_ALERT_WEBHOOK_URL``, docs/operations.md "Alerts"); with neither set,
alerts are only shown in the portal.

The webhook body is JSON with a ``text`` field (what Slack, Mattermost and
Microsoft Teams incoming webhooks show) and the alert's fields for other
receivers. The URL is the operator's own setting, not a connector's: it is not
subject to the connectors' outbound allowlist.
"""

from __future__ import annotations

import logging

import httpx
from django.conf import settings
from django.core.mail import send_mail
from kombu.exceptions import OperationalError

from .models import Alert

log = logging.getLogger(__name__)

OPENED, RESOLVED = "opened", "resolved"
WEBHOOK_TIMEOUT = httpx.Timeout(10.0)


def announce(opened: list[Alert], resolved: list[Alert]) -> None:
    from . import tasks

    channels = [
        task
        for task, wanted in (
            (tasks.notify_email, settings.JUNCTION_ALERT_EMAILS),
            (tasks.notify_webhook, settings.JUNCTION_ALERT_WEBHOOK_URL),
        )
        if wanted
    ]
    events = [(alert.pk, OPENED) for alert in opened] + [(alert.pk, RESOLVED) for alert in resolved]
    for alert_id, event in events:
        for task in channels:
            try:
                task.delay(alert_id, event)
            except OperationalError:  # the broker is down: the alert is in the portal, say it loudly here
                log.exception("Alert %s: could not queue %s (%s)", alert_id, task.name, event)


def headline(alert: Alert, event: str) -> str:
    if event == RESOLVED:
        return f"Resolved: {alert.title}"
    return f"{alert.get_severity_display()}: {alert.title}"


def link(alert: Alert) -> str:
    return settings.JUNCTION_BASE_URL + alert.get_absolute_url()


def send_email(alert: Alert, event: str) -> None:
    lines = [headline(alert, event), ""]
    if event == OPENED:
        lines += [alert.detail, ""]
    lines += [f"Opened: {alert.opened_at:%Y-%m-%d %H:%M} UTC"]
    if alert.resolved_at:
        lines += [f"Resolved: {alert.resolved_at:%Y-%m-%d %H:%M} UTC"]
    lines += ["", link(alert)]
    send_mail(
        f"[Junction] {headline(alert, event)}",
        "\n".join(lines),
        settings.DEFAULT_FROM_EMAIL,
        settings.JUNCTION_ALERT_EMAILS,
    )


def post_webhook(alert: Alert, event: str) -> None:
    """POST the message; an error status raises ``httpx.HTTPStatusError`` (the task retries)."""
    text = f"{headline(alert, event)}\n{alert.detail}\n{link(alert)}" if event == OPENED else headline(alert, event)
    body = {
        "text": text,
        "event": event,
        "alert": {
            "id": alert.pk,
            "kind": alert.kind,
            "severity": alert.severity,
            "title": alert.title,
            "detail": alert.detail,
            "status": alert.status,
            "opened_at": alert.opened_at.isoformat(),
            "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
            "url": link(alert),
        },
    }
    with httpx.Client(timeout=WEBHOOK_TIMEOUT) as client:
        client.post(settings.JUNCTION_ALERT_WEBHOOK_URL, json=body).raise_for_status()
