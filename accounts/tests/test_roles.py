"""The role matrix is one truth in three places: code, database, docs/roles.md."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from accounts.roles import MATRIX, Role, permissions_for

ROLES_DOC = Path(__file__).resolve().parents[2] / "docs" / "roles.md"
OWN_APPS = ("accounts", "integrations", "masterdata", "monitoring", "audit")


def documented_matrix() -> dict[str, dict[str, set[str]]]:
    """Parse the model-permission table of docs/roles.md."""
    rows = {}
    header = None
    for line in ROLES_DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == "Object":
            header = cells[1:]
            continue
        if header and (m := re.fullmatch(r"`([\w.]+)`", cells[0])):
            rows[m.group(1)] = {
                role: set() if cell == "—" else {a.strip() for a in cell.split(",")}
                for role, cell in zip(header, cells[1:], strict=True)
            }
    return rows


def test_docs_table_matches_code():
    documented = documented_matrix()
    assert set(documented) == set(MATRIX)
    for label, grants in MATRIX.items():
        for role in Role:
            assert documented[label][role.value] == set(grants.get(role, ())), (label, role.value)


def test_every_model_of_our_apps_has_a_row():
    ours = {
        f"{model._meta.app_label}.{model._meta.model_name}"
        for model in apps.get_models()
        if model._meta.app_label in OWN_APPS
    }
    assert ours, "expected Junction models"
    assert ours <= set(MATRIX), f"models without a role row: {sorted(ours - set(MATRIX))}"


@pytest.mark.django_db
def test_database_groups_hold_exactly_the_matrix():
    for role in Role:
        group = Group.objects.get(name=role.value)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert held == permissions_for(role), role.value
        assert held, f"{role.value} holds no permission at all"


@pytest.mark.django_db
def test_nobody_may_change_the_audit_trail():
    for role in Role:
        perms = permissions_for(role)
        assert not perms & {"auditlog.change_logentry", "auditlog.delete_logentry", "auditlog.add_logentry"}


@pytest.mark.django_db
def test_role_drives_user_permissions(personas):
    assert personas["auditor"].has_perm("auditlog.view_logentry")
    assert not personas["auditor"].has_perm("integrations.change_system")
    assert personas["engineer"].has_perm("integrations.add_system")
    assert not personas["viewer"].has_perm("auditlog.view_logentry")
    assert not personas["nobody"].has_perm("integrations.view_system")
    assert personas["admin"].is_staff and not personas["admin"].is_superuser
