"""Object access: who holds which permissions on one object, and granting and revoking them.

The "Access" tab of systems, connectors and flows and the API's ``…/access/``
endpoints both come here, so the rules live once:

- only people holding ``change`` on the object's permission models (the role
  matrix gives it to Administrators) may grant or revoke (``may_manage``);
- people holding ``view`` on them (Administrators, Auditors) may see who has
  access (``may_see``); everybody else is not shown the tab at all;
- a grant of ``change`` or ``delete`` needs ``view`` too (nobody changes what
  they cannot see), so ``grant`` refuses it rather than leave a useless row;
- each grant and revoke is one access event in the audit trail, beside the
  auditlog entries of the permission rows themselves.

Rows go into the object's direct foreign-key permission models
(``ConnectorUserObjectPermission`` …), which the database deletes with the
object: a new object can never inherit them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from audit.events import record_event

ACTIONS = ("view", "change", "delete")


class AccessError(ValueError):
    """A grant or revoke that cannot be done; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class Holder:
    """A user or group and the actions it holds on one object, in ``ACTIONS`` order."""

    principal: object  # a User or a Group
    actions: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "group" if isinstance(self.principal, Group) else "user"

    @property
    def key(self) -> str:
        """The form value naming this principal: ``user:<id>`` or ``group:<id>``."""
        return f"{self.kind}:{self.principal.pk}"

    @property
    def name(self) -> str:
        return self.principal.name if self.kind == "group" else self.principal.get_username()


def grant_models(model) -> tuple[type[UserObjectPermissionBase], type[GroupObjectPermissionBase]]:
    """The direct foreign-key user and group permission models of ``model`` (found without a query)."""
    direct = {rel.related_model for rel in model._meta.related_objects}
    user = next((m for m in direct if issubclass(m, UserObjectPermissionBase)), None)
    group = next((m for m in direct if issubclass(m, GroupObjectPermissionBase)), None)
    if user is None or group is None:
        raise LookupError(f"{model._meta.label} has no direct foreign-key object permission models.")
    return user, group


def _model_perm(user, model, action: str) -> bool:
    meta = model._meta
    return user.has_perm(f"{meta.app_label}.{action}_{meta.model_name}")


def may_see(user, obj) -> bool:
    """Whether ``user`` may see who holds access to ``obj`` (the Access tab, read-only)."""
    return all(_model_perm(user, m, "view") for m in grant_models(type(obj)))


def may_manage(user, obj) -> bool:
    """Whether ``user`` may grant and revoke access to ``obj``."""
    return all(_model_perm(user, m, "change") for m in grant_models(type(obj)))


def holders(obj) -> list[Holder]:
    """Users, then groups, holding object permissions on ``obj``, by name (two queries)."""
    user_model, group_model = grant_models(type(obj))
    found: dict[tuple[str, int], Holder] = {}
    rows = [
        *user_model.objects.filter(content_object=obj).select_related("user", "permission"),
        *group_model.objects.filter(content_object=obj).select_related("group", "permission"),
    ]
    for row in rows:
        principal = getattr(row, "user", None) or row.group
        holder = found.setdefault((type(principal).__name__, principal.pk), Holder(principal))
        action = row.permission.codename.split("_", 1)[0]
        if action not in holder.actions:
            holder.actions.append(action)
    for holder in found.values():
        holder.actions.sort(key=lambda a: ACTIONS.index(a) if a in ACTIONS else len(ACTIONS))
    return sorted(found.values(), key=lambda h: (h.kind != "user", h.name.lower()))


def principal_for(key: str):
    """The active user or the group named by ``user:<id>`` / ``group:<id>``; ``AccessError`` otherwise."""
    kind, _, pk = (key or "").partition(":")
    if kind not in ("user", "group") or not pk.isdigit():
        raise AccessError("Choose a user or a group.", "principal")
    if kind == "group":
        principal = Group.objects.filter(pk=pk).first()
    else:
        principal = get_user_model().objects.filter(pk=pk, is_active=True).first()
    if principal is None:
        raise AccessError("That user or group no longer exists (or the account is disabled).", "principal")
    return principal


def _clean_actions(actions) -> list[str]:
    unknown = sorted(set(actions) - set(ACTIONS))
    if unknown:
        raise AccessError(f"Unknown permission: {', '.join(unknown)}. Choose from view, change, delete.", "permissions")
    return [a for a in ACTIONS if a in actions]


def _rows(obj, principal):
    user_model, group_model = grant_models(type(obj))
    if isinstance(principal, Group):
        return group_model, {"group": principal, "content_object": obj}
    return user_model, {"user": principal, "content_object": obj}


def _permissions(obj, actions) -> dict[str, Permission]:
    meta = obj._meta
    codenames = [f"{a}_{meta.model_name}" for a in actions]
    perms = Permission.objects.filter(content_type__app_label=meta.app_label, codename__in=codenames)
    return {p.codename.split("_", 1)[0]: p for p in perms}


def _describe(principal) -> dict:
    if isinstance(principal, Group):
        return {"type": "group", "id": principal.pk, "name": principal.name}
    return {"type": "user", "id": principal.pk, "name": principal.get_username()}


@transaction.atomic
def grant(obj, principal, actions, *, request=None, actor=None) -> list[str]:
    """Give ``principal`` the ``actions`` on ``obj``; returns those it did not hold already.

    Raises ``AccessError`` when nothing is chosen, ``change``/``delete`` come
    without ``view`` (held or granted now), or everything chosen is already held.
    """
    actions = _clean_actions(actions)
    if not actions:
        raise AccessError("Choose at least one permission.", "permissions")
    model, lookup = _rows(obj, principal)
    held = {
        row.permission.codename.split("_", 1)[0] for row in model.objects.filter(**lookup).select_related("permission")
    }
    if "view" not in held and "view" not in actions:
        raise AccessError("Add view too: nobody can change or delete what they cannot see.", "permissions")
    new = [a for a in actions if a not in held]
    if not new:
        raise AccessError(f"{_describe(principal)['name']} already holds {', '.join(actions)}.", "permissions")
    perms = _permissions(obj, new)
    for action in new:
        model.objects.create(permission=perms[action], **lookup)  # one row each: auditlog sees every one
    record_event(
        "permission.granted", actor=actor, target=obj, request=request, principal=_describe(principal), permissions=new
    )
    return new


@transaction.atomic
def revoke(obj, principal, actions=None, *, request=None, actor=None) -> list[str]:
    """Take ``actions`` (all of them when None) on ``obj`` from ``principal``; returns those removed.

    Taking ``view`` takes ``change`` and ``delete`` with it, for the reason ``grant`` refuses them alone.
    """
    actions = list(ACTIONS) if not actions else _clean_actions(actions)
    if "view" in actions:
        actions = list(ACTIONS)
    model, lookup = _rows(obj, principal)
    rows = [
        row
        for row in model.objects.filter(**lookup).select_related("permission")
        if row.permission.codename.split("_", 1)[0] in actions
    ]
    if not rows:
        raise AccessError(f"{_describe(principal)['name']} holds none of these permissions.", "permissions")
    removed = [a for a in ACTIONS if a in {row.permission.codename.split("_", 1)[0] for row in rows}]
    for row in rows:
        row.delete()  # one by one, so auditlog records each row
    record_event(
        "permission.revoked",
        actor=actor,
        target=obj,
        request=request,
        principal=_describe(principal),
        permissions=removed,
    )
    return removed


def principal_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped choices for a picker: active users, then groups (``user:<id>`` / ``group:<id>``)."""
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    groups = Group.objects.order_by("name")
    return [
        (
            "Users",
            [
                (f"user:{u.pk}", f"{u.get_full_name()} ({u.username})" if u.get_full_name() else u.username)
                for u in users
            ],
        ),
        ("Groups", [(f"group:{g.pk}", g.name) for g in groups]),
    ]
