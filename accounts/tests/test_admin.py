"""Administrators manage people through roles and cannot escalate anyone past them."""

import pytest
from django.contrib.auth.models import Group

from accounts.roles import Role

pytestmark = pytest.mark.django_db


def test_administrator_cannot_grant_superuser_or_loose_permissions(client_for, personas):
    target = personas["viewer"]
    url = f"/admin/auth/user/{target.pk}/change/"
    client = client_for(personas["admin"])
    page = client.get(url).content.decode()
    assert 'name="is_superuser"' not in page and 'name="user_permissions"' not in page
    data = {
        "username": target.username,
        "email": target.email,
        "is_active": "on",
        "is_staff": "",
        "is_superuser": "on",
        "groups": [Group.objects.get(name=Role.AUDITOR).pk],
        "user_permissions": [1],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    target.refresh_from_db()
    assert not target.is_superuser
    assert not target.user_permissions.exists()
    assert list(target.groups.values_list("name", flat=True)) == [Role.AUDITOR.value]  # roles do change


def test_other_roles_cannot_open_user_admin(client_for, personas):
    for name in ("engineer", "auditor", "viewer"):
        response = client_for(personas[name]).get("/admin/auth/user/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
