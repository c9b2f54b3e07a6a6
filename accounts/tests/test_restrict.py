"""restrict(): the one place that decides which objects a user may see or touch."""

import pytest
from django.contrib.auth.models import AnonymousUser
from guardian.shortcuts import assign_perm

from integrations.models import System, SystemUserObjectPermission
from integrations.tests.factories import SystemFactory

pytestmark = pytest.mark.django_db


def test_role_permission_sees_every_object(personas):
    systems = SystemFactory.create_batch(3)
    assert set(System.objects.restrict(personas["viewer"])) == set(systems)


def test_no_role_sees_nothing(personas):
    SystemFactory.create_batch(2)
    assert not System.objects.restrict(personas["nobody"]).exists()


def test_object_grant_shows_only_that_object(personas):
    granted, _other = SystemFactory.create_batch(2)
    assign_perm("view_system", personas["nobody"], granted)
    assert list(System.objects.restrict(personas["nobody"])) == [granted]
    # The grant is stored as a direct foreign-key row, deleted with the object.
    assert SystemUserObjectPermission.objects.filter(content_object=granted).count() == 1
    granted.delete()
    assert not SystemUserObjectPermission.objects.exists()


def test_action_is_checked_separately(personas):
    system = SystemFactory()
    assign_perm("view_system", personas["nobody"], system)
    assert not System.objects.restrict(personas["nobody"], "change").exists()
    assert not System.objects.restrict(personas["viewer"], "change").exists()
    assert System.objects.restrict(personas["engineer"], "change").get() == system


def test_anonymous_and_inactive_users_see_nothing(personas):
    SystemFactory()
    assert not System.objects.restrict(AnonymousUser()).exists()
    assert not System.objects.restrict(None).exists()
    viewer = personas["viewer"]
    viewer.is_active = False
    viewer.save()
    assert not System.objects.restrict(viewer).exists()
