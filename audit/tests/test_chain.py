"""The hash chain: every entry sealed, and any edit, deletion or gap found by verify_audit_trail."""

import datetime as dt
import itertools
import json

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from audit import chain
from audit.models import AuditPending, AuditSeal, ChainCheck
from audit.verify import verify
from integrations.models import System
from integrations.tests.factories import SystemFactory

pytestmark = pytest.mark.django_db


def raw(sql, params=()):
    """Tamper the way someone with database access would: SQL straight past Django's models."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def sealed_trail(db):
    """Three systems created and renamed: a few entries, all sealed."""
    for name in ("ERP", "CRM", "Shop"):
        system = SystemFactory(name=name)
        system.name = f"{name} (prod)"
        system.save()
    chain.seal_pending()
    return list(LogEntry.objects.order_by("pk"))


def run_verify(*args) -> tuple[int, str]:
    """``verify_audit_trail``'s exit status and what it printed."""
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit_trail", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


def test_every_entry_is_queued_and_sealed_in_id_order(sealed_trail):
    seals = list(AuditSeal.objects.order_by("seq"))
    assert [s.entry_id for s in seals] == [e.pk for e in sealed_trail]
    assert [s.seq for s in seals] == list(range(1, len(seals) + 1))
    assert seals[0].prev_hash == chain.GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(seals))
    assert not AuditPending.objects.exists()
    assert chain.seal_pending() == 0  # idempotent


def test_entries_written_by_bulk_create_are_sealed_too(sealed_trail):
    # bulk_create fires no signal: the database trigger queues the rows anyway.
    template = sealed_trail[0]
    LogEntry.objects.bulk_create(
        [
            LogEntry(content_type=template.content_type, object_pk="1", object_repr=f"bulk {i}", action=0)
            for i in range(3)
        ]
    )
    assert AuditPending.objects.count() == 3
    assert chain.seal_pending() == 3
    assert verify().ok


def test_intact_trail_verifies_and_the_command_exits_zero(sealed_trail):
    code, output = run_verify()
    assert code == 0, output
    assert f"{len(sealed_trail)} entries verified" in output
    check = ChainCheck.objects.first()
    assert check.ok and check.head_seq == len(sealed_trail)


def test_changed_entry_is_found_with_its_seal(sealed_trail):
    victim = sealed_trail[2]
    raw("UPDATE auditlog_logentry SET object_repr = %s WHERE id = %s", ["Forged", victim.pk])

    report = verify()
    assert not report.ok
    assert report.first_break.kind == "entry_changed"
    assert report.first_break.entry_id == victim.pk
    assert report.checked == 2  # the links before it were fine
    code, output = run_verify()
    assert code == 1
    assert f"Entry {victim.pk} (seal 3) was changed" in output
    assert not ChainCheck.objects.first().ok


def entries_by(user):
    from audit.context import acting_as

    with acting_as(user):
        system = SystemFactory(name="Made by a leaver")
        system.name = "Renamed by a leaver"
        system.save()
    chain.seal_pending()
    return list(LogEntry.objects.filter(actor=user))


def test_deleting_a_user_blanks_their_entries_actor_and_the_chain_still_verifies(sealed_trail):
    from accounts.tests.factories import UserFactory

    leaver = UserFactory()
    made = entries_by(leaver)
    assert len(made) == 2
    leaver.delete()  # auditlog's actor is SET NULL; the deletion itself is an entry
    chain.seal_pending()

    assert LogEntry.objects.filter(pk__in=[e.pk for e in made], actor__isnull=True).count() == 2
    assert verify().ok


def test_blanking_the_actor_of_a_user_who_still_exists_is_found(sealed_trail):
    from accounts.tests.factories import UserFactory

    stayer = UserFactory()
    victim = entries_by(stayer)[0]
    raw("UPDATE auditlog_logentry SET actor_id = NULL WHERE id = %s", [victim.pk])

    report = verify()
    assert (report.first_break.kind, report.first_break.entry_id) == ("entry_changed", victim.pk)


def test_deleted_entry_is_found(sealed_trail):
    victim = sealed_trail[1]
    raw("DELETE FROM auditlog_logentry WHERE id = %s", [victim.pk])

    report = verify()
    assert report.first_break.kind == "entry_deleted"
    assert report.first_break.entry_id == victim.pk
    assert run_verify()[0] == 1


def test_first_of_several_breaks_is_reported(sealed_trail):
    raw("UPDATE auditlog_logentry SET actor_email = 'x@example.com' WHERE id = %s", [sealed_trail[4].pk])
    raw("UPDATE auditlog_logentry SET action = 2 WHERE id = %s", [sealed_trail[1].pk])
    assert verify().first_break.entry_id == sealed_trail[1].pk


def test_edited_seal_is_found(sealed_trail):
    # Rewriting an entry *and* its seal's hash still breaks the next link.
    victim = sealed_trail[1]
    raw("UPDATE auditlog_logentry SET object_repr = 'Forged' WHERE id = %s", [victim.pk])
    seal = AuditSeal.objects.get(entry_id=victim.pk)
    forged = chain.digest(seal.seq, seal.prev_hash, chain.entry_rows([victim.pk])[victim.pk])
    raw("UPDATE audit_auditseal SET hash = %s WHERE seq = %s", [forged, seal.seq])

    report = verify()
    assert report.first_break.kind == "link_broken"
    assert report.first_break.seq == seal.seq + 1


def test_deleted_seal_and_entry_leave_a_gap(sealed_trail):
    victim = sealed_trail[2]
    raw("DELETE FROM audit_auditseal WHERE entry_id = %s", [victim.pk])
    raw("DELETE FROM auditlog_logentry WHERE id = %s", [victim.pk])
    assert verify().first_break.kind == "seal_missing"


def test_cut_off_tail_is_found_against_the_last_verification(sealed_trail):
    assert verify().ok
    last = sealed_trail[-1]
    raw("DELETE FROM audit_auditseal WHERE entry_id = %s", [last.pk])
    raw("DELETE FROM auditlog_logentry WHERE id = %s", [last.pk])
    report = verify()
    assert report.first_break.kind == "truncated"


def test_entry_never_sealed_is_found_once_older_than_the_grace(sealed_trail):
    entry = LogEntry.objects.create(content_type=sealed_trail[0].content_type, object_pk="9", object_repr="x", action=0)
    AuditPending.objects.filter(entry_id=entry.pk).delete()  # as if the queue trigger had been bypassed
    assert verify().ok  # just written: the sealer has minutes to catch up
    LogEntry.objects.filter(pk=entry.pk).update(timestamp=timezone.now() - dt.timedelta(hours=1))
    report = verify(stale_minutes=10)
    assert report.first_break.kind == "never_sealed" and report.first_break.entry_id == entry.pk
    code, output = run_verify("--no-seal", "--stale-minutes", "10")
    assert code == 1 and "never sealed" in output


def test_verify_seals_pending_entries_first_unless_told_not_to(sealed_trail):
    SystemFactory(name="Late")
    pending = AuditPending.objects.count()
    assert pending
    assert run_verify("--no-seal")[0] == 0
    assert AuditPending.objects.count() == pending
    code, output = run_verify()
    assert code == 0 and f"Sealed {pending} pending entries" in output
    assert not AuditPending.objects.exists()


def test_hash_covers_every_column_of_the_entry(sealed_trail):
    fields = {f.column for f in LogEntry._meta.concrete_fields}
    assert fields == set(chain.SEALED_FIELDS)


@pytest.mark.postgres
def test_raw_sql_tampering_is_found_on_postgresql(sealed_trail):
    """The same tampering with PostgreSQL's own tools: jsonb surgery on the stored diff, then a DELETE."""
    assert connection.vendor == "postgresql"
    renamed = next(e for e in sealed_trail if e.action == LogEntry.Action.UPDATE and e.object_repr == "ERP (prod)")
    raw(
        "UPDATE auditlog_logentry SET changes = jsonb_set(changes::jsonb, '{name,1}', %s::jsonb) WHERE id = %s",
        [json.dumps("Quietly renamed"), renamed.pk],
    )
    assert LogEntry.objects.get(pk=renamed.pk).changes["name"][1] == "Quietly renamed"
    report = verify()
    assert (report.first_break.kind, report.first_break.entry_id) == ("entry_changed", renamed.pk)

    raw("UPDATE auditlog_logentry SET changes = %s::jsonb WHERE id = %s", [json.dumps(renamed.changes), renamed.pk])
    assert verify().ok  # restored byte for byte: the chain holds again
    raw("DELETE FROM auditlog_logentry WHERE object_repr = 'CRM (prod)'")
    report = verify()
    assert report.first_break.kind == "entry_deleted"
    assert System.objects.filter(name="CRM (prod)").exists()  # only the trail was touched
