"""Permission grants and group membership in the audit trail.

Object permission rows (guardian's direct foreign-key models) are audited by
auditlog like any model; a person joining or leaving a group is audited as an
m2m change of the user (``User.groups``) and, from the group's side, too.
"""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from guardian.shortcuts import assign_perm, remove_perm

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from integrations.models import ConnectorGroupObjectPermission, ConnectorUserObjectPermission
from integrations.tests.pages import rest_connector

pytestmark = pytest.mark.django_db


def entries_for(model):
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model)).order_by("pk")


def test_object_permission_rows_are_audited_when_created_and_deleted():
    connector = rest_connector()
    user, group = UserFactory(username="alice"), Group.objects.get(name=Role.VIEWER)
    assign_perm("view_connector", user, connector)
    assign_perm("change_connector", group, connector)
    remove_perm("view_connector", user, connector)
    remove_perm("change_connector", group, connector)

    user_rows = entries_for(ConnectorUserObjectPermission)
    assert [e.action for e in user_rows] == [LogEntry.Action.CREATE, LogEntry.Action.DELETE]
    created = user_rows[0].changes
    assert created["user"][1] == str(user.pk) and created["content_object"][1] == str(connector.pk)
    group_rows = entries_for(ConnectorGroupObjectPermission)
    assert [e.action for e in group_rows] == [LogEntry.Action.CREATE, LogEntry.Action.DELETE]


def test_joining_and_leaving_a_group_is_audited_from_either_side():
    user = UserFactory(username="bob")
    auditors, viewers = Group.objects.get(name=Role.AUDITOR), Group.objects.get(name=Role.VIEWER)
    before = LogEntry.objects.count()
    user.groups.add(auditors)
    user.groups.remove(auditors)
    viewers.user_set.add(user)

    entries = list(LogEntry.objects.order_by("pk")[before:])
    m2m = [e for e in entries if "groups" in (e.changes or {}) or "user_set" in (e.changes or {})]
    assert len(m2m) == 3, [e.changes for e in entries]
    added, removed, reverse = (e.changes.get("groups") or e.changes.get("user_set") for e in m2m)
    assert added["operation"] == "add" and added["objects"] == [str(auditors)]
    assert removed["operation"] == "delete" and removed["objects"] == [str(auditors)]
    assert reverse["operation"] == "add"
