"""The audit trail's client address: the socket's, or our proxy's last hop, never a forged header."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from integrations.models import System

pytestmark = pytest.mark.django_db


def create_system(client, name, **headers):
    data = {"name": name, "kind": "erp", "environment": "sandbox"}
    assert client.post(reverse("integrations:system_add"), data, headers=headers).status_code == 302
    return LogEntry.objects.get_for_object(System.objects.get(name=name)).get()


def test_forged_forwarded_for_is_ignored_without_a_proxy(client_for, personas, settings):
    settings.BEHIND_PROXY = False
    entry = create_system(client_for(personas["engineer"]), "ERP", **{"X-Forwarded-For": "6.6.6.6"})
    assert entry.remote_addr == "127.0.0.1"
    assert entry.actor == personas["engineer"]


def test_behind_our_proxy_the_last_hop_counts(client_for, personas, settings):
    settings.BEHIND_PROXY = True
    # The client forged the first entry; our proxy appended the address it saw.
    entry = create_system(client_for(personas["engineer"]), "CRM", **{"X-Forwarded-For": "6.6.6.6, 203.0.113.7"})
    assert entry.remote_addr == "203.0.113.7"
