"""The main menu: each entry names the permission it needs, so every role sees only what it may use.

An entry with ``children`` is a dropdown section: shown when at least one of
its children is, and holding only those.
"""

from dataclasses import dataclass

from django.apps import apps
from django.db.models import CharField, Q, Value
from django.urls import reverse
from django.utils.module_loading import import_string

from accounts.access import grant_models


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str | None
    icon: str
    # None: every signed-in user; a tuple: any one of them suffices.
    permission: str | tuple[str, ...] | None = None
    staff_only: bool = False
    # Also shown to people granted the (first) permission on single objects (guardian).
    object_level: bool = False
    # Dotted path to ``f(user) -> int | None``: a number shown beside the label (None: no badge).
    badge: str | None = None
    children: tuple["MenuItem", ...] = ()
    # View names (prefixes) that mark this entry as the current one; default: its own page.
    # Where several entries match, the longest prefix wins (see ``current_entry``).
    matches: tuple[str, ...] = ()

    @property
    def permissions(self) -> tuple[str, ...]:
        if self.permission is None:
            return ()
        return (self.permission,) if isinstance(self.permission, str) else self.permission

    def by_role(self, user) -> bool:
        return not self.permissions or any(user.has_perm(p) for p in self.permissions)

    def visible_to(self, user, granted: frozenset[str] = frozenset()) -> bool:
        """``granted``: the permissions ``user`` holds on single objects (see ``object_grants``)."""
        if self.staff_only and not user.is_staff:
            return False
        if self.children:
            return any(child.visible_to(user, granted) for child in self.children)
        return self.by_role(user) or (self.object_level and self.permissions[0] in granted)

    def closeness(self, view_name: str) -> int:
        """How closely ``view_name`` belongs to this (leaf) entry: 0 not at all, else the length
        of what matched; its own page beats any prefix."""
        if view_name == self.url_name:
            return len(view_name) + 1
        return max((len(prefix) for prefix in self.matches if view_name.startswith(prefix)), default=0)

    def is_current(self, current: "MenuItem | None") -> bool:
        """``current``: the leaf entry of the page shown (``current_entry``); a section holds it."""
        if self.children:
            return current in self.children
        return self == current


INTEGRATIONS = (
    MenuItem(
        "Systems",
        "integrations:system_list",
        "hdd-network",
        "integrations.view_system",
        object_level=True,
        matches=("integrations:system_",),
    ),
    # Engineers hold only "add" on connectors and flows: the entry leads them to create their first.
    MenuItem(
        "Connectors",
        "integrations:connector_list",
        "plug",
        ("integrations.view_connector", "integrations.add_connector"),
        object_level=True,
        matches=("integrations:connector_",),
    ),
    MenuItem(
        "Flows",
        "integrations:flow_list",
        "shuffle",
        ("integrations.view_flow", "integrations.add_flow"),
        object_level=True,
        matches=("integrations:flow_",),
    ),
    MenuItem(
        "Runs",
        "integrations:run_list",
        "activity",
        "integrations.view_run",
        matches=("integrations:run_", "integrations:outcome_"),
    ),
    MenuItem(
        "Dead-letter queue",
        "integrations:deadletter_list",
        "inbox",
        "integrations.view_recordoutcome",
        matches=("integrations:deadletter_",),
    ),
    MenuItem(
        "Reconciliations",
        "integrations:reconciliation_list",
        "clipboard-check",
        "integrations.view_reconciliation",
        matches=("integrations:reconciliation_",),
    ),
)

MENU = (
    MenuItem("Dashboard", "home", "speedometer2"),
    MenuItem(
        "Alerts",
        "alert_list",
        "bell",
        "monitoring.view_alert",
        badge="monitoring.views_alerts.open_count",
        matches=("alert_",),
    ),
    MenuItem("Integrations", None, "diagram-2", children=INTEGRATIONS),
    MenuItem(
        "Master data",
        "masterdata:goldenrecord_list",
        "people",
        "masterdata.view_goldenrecord",
        matches=("masterdata:",),
    ),
    MenuItem(
        "Review queue",
        "masterdata:candidate_list",
        "intersect",
        "masterdata.view_duplicatecandidate",
        badge="masterdata.views.open_count",
        matches=("masterdata:candidate_",),
    ),
    MenuItem("Audit trail", "audit:logentry_list", "journal-text", "auditlog.view_logentry", matches=("audit:",)),
    MenuItem("API", "swagger-ui", "braces"),
    MenuItem("Admin", "admin:index", "gear", staff_only=True),
)


def object_grants(user, perms) -> frozenset[str]:
    """Which of ``perms`` (``"app_label.codename"``) ``user`` holds on at least one object, granted
    to them or to one of their groups: one query for all of them, as the menu is on every page."""
    parts = []
    for perm in sorted(perms):
        app_label, codename = perm.split(".", 1)
        user_grants, group_grants = grant_models(apps.get_model(app_label, codename.split("_", 1)[1]))
        for grants, holder in ((user_grants, Q(user=user)), (group_grants, Q(group__user=user))):
            rows = grants.objects.filter(holder, permission__codename=codename)
            rows = rows.filter(permission__content_type__app_label=app_label)
            parts.append(rows.annotate(granted=Value(perm, output_field=CharField())).values_list("granted", flat=True))
    if not parts:
        return frozenset()
    return frozenset(parts[0].union(*parts[1:]))


def leaves(items) -> list[MenuItem]:
    return [leaf for item in items for leaf in (leaves(item.children) if item.children else [item])]


def current_entry(view_name: str | None) -> MenuItem | None:
    """The leaf entry whose page ``view_name`` is: the closest match, so ``masterdata:candidate_…``
    belongs to "Review queue" although "Master data" claims all of ``masterdata:``."""
    if not view_name:
        return None
    closeness, leaf = max(((leaf.closeness(view_name), leaf) for leaf in leaves(MENU)), key=lambda pair: pair[0])
    return leaf if closeness else None


def object_level_items(items) -> list[MenuItem]:
    found = []
    for item in items:
        found += object_level_items(item.children) if item.children else [item] if item.object_level else []
    return found


def entry(item: MenuItem, user, current: MenuItem | None, granted: frozenset[str]) -> dict:
    return {
        "label": item.label,
        "url": reverse(item.url_name) if item.url_name else None,
        "icon": item.icon,
        "url_name": item.url_name,
        "badge": import_string(item.badge)(user) if item.badge else None,
        "active": item.is_current(current),
        "children": [entry(c, user, current, granted) for c in item.children if c.visible_to(user, granted)],
    }


def menu_for(user, view_name: str | None = None) -> list[dict]:
    """The menu entries ``user`` may use, with resolved URLs; ``view_name`` marks the current one."""
    if not user.is_authenticated:
        return []
    # Object grants matter only where the role does not already show the entry.
    wanted = {item.permissions[0] for item in object_level_items(MENU) if not item.by_role(user)}
    granted = object_grants(user, wanted) if wanted else frozenset()
    current = current_entry(view_name)
    return [entry(item, user, current, granted) for item in MENU if item.visible_to(user, granted)]


def menu_labels(user) -> list[str]:
    """Every label ``user`` sees, sections' children after their section: ``["Integrations", "Systems", …]``."""
    return [label for item in menu_for(user) for label in (item["label"], *(c["label"] for c in item["children"]))]


def navigation(request):
    """Template context processor: ``nav_items`` for the base layout, worked out once per request
    (tables and partials render with the request's context too)."""
    if not hasattr(request, "_junction_menu"):
        match = getattr(request, "resolver_match", None)
        request._junction_menu = menu_for(request.user, match.view_name if match else None)
    return {"nav_items": request._junction_menu}
