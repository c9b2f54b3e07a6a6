"""The pinned stack works together: Django 5.2 LTS with guardian and auditlog,
on SQLite locally and on PostgreSQL in CI."""

import django
import pytest
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.conf import settings
from django.db import connection
from guardian.shortcuts import assign_perm, get_perms

from integrations.tests.factories import SystemFactory

OWN_APPS = ("accounts", "integrations", "masterdata", "monitoring", "audit")


def test_django_is_the_52_lts():
    assert django.VERSION[:2] == (5, 2)


@pytest.mark.django_db
def test_guardian_and_auditlog_work_on_this_database(personas):
    system = SystemFactory()
    assign_perm("change_system", personas["nobody"], system)
    assert get_perms(personas["nobody"], system) == ["change_system"]
    assert personas["nobody"].has_perm("integrations.change_system", system)
    # The grant itself is audited (permission changes belong in the trail).
    grant_type = "systemuserobjectpermission"
    assert LogEntry.objects.filter(content_type__model=grant_type, action=LogEntry.Action.CREATE).exists()
    assert LogEntry.objects.get_for_object(system).filter(action=LogEntry.Action.CREATE).exists()


def test_every_project_model_is_audited():
    excluded = {m.lower() for m in settings.AUDITLOG_EXCLUDE_TRACKING_MODELS}
    for model in apps.get_models():
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        if model._meta.app_label in OWN_APPS and label not in excluded:
            assert auditlog.contains(model), f"{label} is not registered with auditlog"


def test_credentials_and_secrets_stay_out_of_the_trail():
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_static.models import StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import ApiToken

    # API token digests, TOTP keys and recovery codes: their changes are access events instead.
    for model in (ApiToken, TOTPDevice, StaticToken):
        assert not auditlog.contains(model), model
    fields = auditlog.get_model_fields(get_user_model())
    assert "password" in fields["exclude_fields"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_is_used_through_psycopg3():
    import psycopg

    assert connection.vendor == "postgresql"
    assert connection.Database is psycopg
    assert connection.pg_version >= 150000


@pytest.mark.django_db
def test_guardian_creates_no_anonymous_user_row():
    """ANONYMOUS_USER_NAME = None: object permissions can never be granted to anonymous visitors."""
    from django.contrib.auth import get_user_model
    from guardian.conf import settings as guardian_settings

    assert guardian_settings.ANONYMOUS_USER_NAME is None
    assert not get_user_model().objects.filter(username__iexact="anonymoususer").exists()
