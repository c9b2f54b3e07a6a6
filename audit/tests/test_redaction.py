"""Secrets and configured personal data never reach the audit trail, not even encrypted."""

import json

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from audit.redaction import REDACTED
from integrations.models import Connector
from integrations.tests.factories import SystemFactory
from masterdata.tests.factories import GoldenRecordFactory

pytestmark = pytest.mark.django_db

TOKEN = "tok-Planted-Secret-9d1e4b"
NEW_TOKEN = "tok-Second-Planted-Secret-5a7c"


def every_entry_as_text() -> str:
    """All of every entry, exactly as stored: each column of each row."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM auditlog_logentry")
        return "\n".join(repr(row) for row in cursor.fetchall())


def rest_form(system, token):
    return {
        "name": "ERP REST",
        "system": system.pk,
        "adapter": "rest",
        "enabled": "on",
        "setting__base_url": "https://erp.example.com/api",
        "setting__paths": '{"customer": "/customers"}',
        "setting__auth_type": "bearer",
        "credential__token": token,
    }


def test_connector_credentials_never_appear_in_any_entry_plain_or_encrypted(client_for, personas, settings):
    client = client_for(personas["admin"])
    system = SystemFactory()
    assert client.post(reverse("integrations:connector_add"), rest_form(system, TOKEN)).status_code == 302
    connector = Connector.objects.get()
    ciphertexts = [connector.credentials]
    edit = reverse("integrations:connector_edit", args=[connector.pk])
    assert client.post(edit, rest_form(system, NEW_TOKEN)).status_code == 302
    connector.refresh_from_db()
    ciphertexts.append(connector.credentials)
    call_command("rotate_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115 (re-encrypts: a third ciphertext)
    connector.refresh_from_db()
    ciphertexts.append(connector.credentials)
    assert len(set(ciphertexts)) == 3

    trail = every_entry_as_text()
    assert LogEntry.objects.get_for_object(connector).count() >= 2  # the changes themselves are recorded
    for secret in (TOKEN, NEW_TOKEN, *ciphertexts):
        assert secret not in trail
    assert ciphertexts[0][:20] not in trail  # not even a prefix of the token (auditlog's masking keeps half)


def test_credentials_are_redacted_even_if_auditlog_were_told_to_track_them(personas):
    # The second guard: an entry that names the credentials field keeps only the fact of a change.
    connector = Connector.objects.create(system=SystemFactory(), name="c", adapter="rest", settings={})
    entry = LogEntry.objects.log_create(
        connector, force_log=True, action=LogEntry.Action.UPDATE, changes={"credentials": ["gAAAAold", "gAAAAnew"]}
    )
    entry.refresh_from_db()
    assert entry.changes == {"credentials": [REDACTED, REDACTED]}


def test_configured_fields_and_json_keys_are_redacted(settings):
    settings.JUNCTION_AUDIT_REDACT_FIELDS = [
        "masterdata.goldenrecord.values.date_of_birth",
        "masterdata.goldenrecord.values.email",
        "integrations.system.notes",
    ]
    ada = {"first_name": "Ada", "email": "ada@example.com", "date_of_birth": "1815-12-10"}
    golden = GoldenRecordFactory(values=ada)
    system = SystemFactory(notes="Call Ada on +44 20 7946 0000")
    system.notes = "Call Grace instead"
    system.save()

    created = LogEntry.objects.get_for_object(golden).get()
    values = json.loads(created.changes["values"][1])
    assert values == {"first_name": "Ada", "email": REDACTED, "date_of_birth": REDACTED}
    updated = LogEntry.objects.get_for_object(system).get(action=LogEntry.Action.UPDATE)
    assert updated.changes["notes"] == [REDACTED, REDACTED]  # still says the notes changed
    trail = every_entry_as_text()
    assert "ada@example.com" not in trail and "1815-12-10" not in trail and "7946" not in trail


def test_without_configuration_personal_values_are_kept(settings):
    settings.JUNCTION_AUDIT_REDACT_FIELDS = []
    golden = GoldenRecordFactory(values={"first_name": "Ada", "email": "ada@example.com"})
    assert "ada@example.com" in LogEntry.objects.get_for_object(golden).get().changes["values"][1]


def test_a_malformed_setting_is_refused_with_its_value(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.JUNCTION_AUDIT_REDACT_FIELDS = ["masterdata.goldenrecord"]
    with pytest.raises(ImproperlyConfigured, match=r"'masterdata\.goldenrecord' is not app_label\.model\.field"):
        GoldenRecordFactory()


def test_a_malformed_setting_fails_the_system_check(settings):
    from audit.checks import redaction_setting

    settings.JUNCTION_AUDIT_REDACT_FIELDS = ["notes"]
    assert [error.id for error in redaction_setting(None)] == ["audit.E001"]
    settings.JUNCTION_AUDIT_REDACT_FIELDS = ["integrations.system.notes"]
    assert redaction_setting(None) == []
