"""Connector credentials: encrypted at rest, never in the audit trail, rotated to a new key."""

from io import StringIO

import pytest
from auditlog.models import LogEntry
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from integrations.models import Connector
from integrations.tests.factories import SystemFactory

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-value-that-must-not-leak"


def make_connector():
    connector = Connector(system=SystemFactory(), name="ERP API", adapter="webhook", settings={})
    connector.set_credentials({"secret": SECRET, "unused": ""})
    connector.save()
    return connector


def test_credentials_are_encrypted_at_rest_and_decrypt_for_the_adapter():
    connector = make_connector()
    stored = Connector.objects.values_list("credentials", flat=True).get()
    assert SECRET not in stored and stored.startswith("gAAAA")  # a Fernet token
    assert connector.open_adapter().credentials == {"secret": SECRET}  # blanks are not stored
    assert connector.has_credentials and connector.credentials_changed is not None


def test_credentials_never_enter_the_audit_trail():
    connector = make_connector()
    connector.set_credentials({"secret": SECRET + "-2"})
    connector.save()
    entries = LogEntry.objects.get_for_object(connector)
    assert entries.count() == 2
    for entry in entries:
        assert "credentials" not in entry.changes_dict
        assert SECRET not in str(entry.changes) and "gAAAA" not in str(entry.changes)
    assert "credentials_changed" in entries.first().changes_dict  # the change itself is visible


def test_rotation_re_encrypts_under_the_newest_key(settings):
    old = settings.JUNCTION_ENCRYPTION_KEYS[0]
    connector = make_connector()
    before = Connector.objects.get(pk=connector.pk).credentials
    new = Fernet.generate_key().decode()
    settings.JUNCTION_ENCRYPTION_KEYS = [new, old]

    call_command("rotate_credentials", stdout=StringIO())

    after = Connector.objects.get(pk=connector.pk)
    assert after.credentials != before
    settings.JUNCTION_ENCRYPTION_KEYS = [new]  # the old key is retired
    assert after.open_adapter().credentials == {"secret": SECRET}


def test_a_missing_key_is_a_clear_configuration_error(settings):
    connector = make_connector()
    settings.JUNCTION_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="rotate_credentials"):
        connector.open_adapter()


def test_a_malformed_key_is_named(settings):
    settings.JUNCTION_ENCRYPTION_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        make_connector()
