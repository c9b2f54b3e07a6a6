"""Deleting a system, connector or flow deletes its object permissions, so a new object
with the same primary key inherits nothing; guardian's generic tables stay empty."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import assign_perm
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

from accounts import access
from accounts.roles import Role
from accounts.tests.factories import UserFactory
from integrations.models import Connector, ConnectorGroupObjectPermission, ConnectorUserObjectPermission, Flow, System
from integrations.tests.factories import SystemFactory
from integrations.tests.pages import make_flow, rest_connector

pytestmark = pytest.mark.django_db


@pytest.mark.postgres
def test_a_new_connector_with_a_deleted_ones_primary_key_inherits_no_permission():
    engineer = UserFactory(username="eve", role=Role.INTEGRATION_ENGINEER)
    team = Group.objects.create(name="ERP team")
    engineer.groups.add(team)
    old = rest_connector("Old ERP")
    assign_perm("view_connector", engineer, old)
    assign_perm("change_connector", team, old)
    assert engineer.has_perm("view_connector", old)
    pk, system = old.pk, old.system

    old.delete()
    assert not ConnectorUserObjectPermission.objects.filter(content_object_id=pk).exists()
    assert not ConnectorGroupObjectPermission.objects.filter(content_object_id=pk).exists()
    # Make PostgreSQL hand out the same id again, as after a restore or a sequence reset.
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('integrations_connector', 'id'), %s, false)", [pk])
    new = Connector.objects.create(system=system, name="New ERP", adapter="rest", settings={})
    assert new.pk == pk

    engineer = type(engineer).objects.get(pk=engineer.pk)  # no cached permissions
    assert not engineer.has_perm("view_connector", new)
    assert not engineer.has_perm("change_connector", new)
    assert not Connector.objects.restrict(engineer, "view").exists()
    assert access.holders(new) == []


@pytest.mark.parametrize("make", [SystemFactory, rest_connector, make_flow])
def test_deleting_any_guarded_object_deletes_its_grants(make):
    obj = make()
    user, group = UserFactory(), Group.objects.get(name=Role.VIEWER)
    access.grant(obj, user, ["view", "change"])
    access.grant(obj, group, ["view"])
    user_model, group_model = access.grant_models(type(obj))
    obj.delete()  # a fresh connector or system is used by nothing (PROTECT would refuse otherwise)
    assert not user_model.objects.exists() and not group_model.objects.exists()


@pytest.mark.parametrize("model", [System, Connector, Flow])
def test_grants_use_direct_foreign_keys_never_the_generic_tables(model):
    assert get_user_obj_perms_model(model) is access.grant_models(model)[0]
    assert get_group_obj_perms_model(model) is access.grant_models(model)[1]
    obj = {System: SystemFactory, Connector: rest_connector, Flow: make_flow}[model]()
    assign_perm(f"view_{model._meta.model_name}", UserFactory(), obj)
    access.grant(obj, Group.objects.get(name=Role.AUDITOR), ["view"])
    assert not UserObjectPermission.objects.exists()
    assert not GroupObjectPermission.objects.exists()
