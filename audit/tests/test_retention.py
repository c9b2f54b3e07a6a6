"""Retention: purge only outside the window, in chain order, leaving a chain that still verifies."""

import datetime as dt
from io import StringIO

import pytest
from auditlog.models import LogEntry
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from audit import chain
from audit.choices import AuditEvent
from audit.models import AuditAnchor, AuditSeal
from audit.retention import PurgeRefused, purge
from audit.verify import verify
from integrations.tests.factories import SystemFactory

pytestmark = pytest.mark.django_db

YEARS_AGO = timezone.now() - dt.timedelta(days=3000)


@pytest.fixture
def old_and_new(db):
    """Entries from eight years ago (before the default 7-year window) and from today, sealed."""
    LogEntry.objects.all().delete()  # the personas' fixtures are not part of this story
    old = [SystemFactory(name=f"Old {i}") for i in range(5)]
    LogEntry.objects.all().update(timestamp=YEARS_AGO)  # backdated before sealing, as if written then
    new = [SystemFactory(name=f"New {i}") for i in range(3)]
    chain.seal_pending()
    return old, new


def purge_command(*args) -> str:
    out = StringIO()
    call_command("purge_audit_trail", *args, stdout=out)
    return out.getvalue()


def test_purge_inside_the_retention_window_is_refused(old_and_new, settings):
    settings.JUNCTION_AUDIT_RETENTION_DAYS = 2555
    recent = (timezone.now() - dt.timedelta(days=30)).date().isoformat()
    with pytest.raises(CommandError, match="inside the retention window of 2555 days"):
        purge_command("--before", recent)
    assert LogEntry.objects.count() == 8


def test_purge_deletes_old_entries_keeps_new_ones_and_the_chain_verifies(old_and_new):
    before = (YEARS_AGO + dt.timedelta(days=1)).date().isoformat()
    output = purge_command("--before", before)
    assert "Purged 5 audit entries" in output

    names = set(LogEntry.objects.exclude(action=LogEntry.Action.ACCESS).values_list("object_repr", flat=True))
    assert names == {"New 0", "New 1", "New 2"}
    anchor = AuditAnchor.objects.get()
    assert anchor.seq == 5 and anchor.entries == 5
    assert not AuditSeal.objects.filter(seq__lte=5).exists()
    event = LogEntry.objects.get(additional_data__event=AuditEvent.PURGED)
    assert event.additional_data["anchor_seq"] == 5 and event.additional_data["entries"] == 5
    assert AuditSeal.objects.filter(entry_id=event.pk).exists()  # the purge itself is in the chain
    report = verify()
    assert report.ok, report.first_break
    assert report.anchor_seq == 5 and report.checked == 4  # three new entries and the purge event


def test_a_second_purge_moves_the_anchor_on(old_and_new, settings):
    purge(YEARS_AGO + dt.timedelta(days=1))
    settings.JUNCTION_AUDIT_RETENTION_DAYS = 0
    purge(timezone.now())
    assert AuditAnchor.objects.count() == 2
    assert verify().ok


def test_purge_refuses_a_broken_chain(old_and_new):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE auditlog_logentry SET object_repr = 'Forged' WHERE object_repr = 'Old 2'")
    with pytest.raises(PurgeRefused, match="does not verify"):
        purge(YEARS_AGO + dt.timedelta(days=1))
    assert LogEntry.objects.filter(object_repr="Forged").exists()  # the evidence stays


def test_an_anchor_no_purge_recorded_is_rejected(old_and_new):
    # Someone deletes the oldest seals and entries and plants an anchor to hide it.
    seal = AuditSeal.objects.get(seq=3)
    AuditAnchor.objects.create(seq=seal.seq, hash=seal.hash, purged_before=timezone.now())
    AuditSeal.objects.filter(seq__lte=3).delete()
    report = verify()
    assert report.first_break.kind == "anchor"


def test_nothing_to_purge_says_so(old_and_new):
    assert "Nothing to purge" in purge_command("--before", (YEARS_AGO - dt.timedelta(days=10)).date().isoformat())
    assert not AuditAnchor.objects.exists()


def test_a_bad_date_is_a_clear_error(old_and_new):
    with pytest.raises(CommandError, match="not a date like 2019-01-31"):
        purge_command("--before", "last year")
