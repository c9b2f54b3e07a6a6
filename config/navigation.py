"""The main menu: each entry names the permission it needs, so every role sees only what it may use."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.module_loading import import_string
from guardian.shortcuts import get_objects_for_user


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    icon: str
    permission: str | None = None  # None: every signed-in user
    staff_only: bool = False
    # Also shown to people granted the permission on single objects (guardian).
    object_level: bool = False
    # Dotted path to ``f(user) -> int | None``: a number shown beside the label (None: no badge).
    badge: str | None = None

    def visible_to(self, user) -> bool:
        if self.staff_only and not user.is_staff:
            return False
        if self.permission is None or user.has_perm(self.permission):
            return True
        return self.object_level and get_objects_for_user(user, self.permission, accept_global_perms=False).exists()


MENU = (
    MenuItem("Dashboard", "home", "speedometer2"),
    MenuItem("Systems", "integrations:system_list", "hdd-network", "integrations.view_system", object_level=True),
    MenuItem("Master data", "masterdata:goldenrecord_list", "people", "masterdata.view_goldenrecord"),
    MenuItem(
        "Review queue",
        "masterdata:candidate_list",
        "intersect",
        "masterdata.view_duplicatecandidate",
        badge="masterdata.views.open_count",
    ),
    MenuItem("Audit trail", "audit:logentry_list", "journal-text", "auditlog.view_logentry"),
    MenuItem("API", "swagger-ui", "braces"),
    MenuItem("Admin", "admin:index", "gear", staff_only=True),
)


def menu_for(user) -> list[dict]:
    """The menu entries ``user`` may use, with resolved URLs."""
    if not user.is_authenticated:
        return []
    return [
        {
            "label": item.label,
            "url": reverse(item.url_name),
            "icon": item.icon,
            "url_name": item.url_name,
            "badge": import_string(item.badge)(user) if item.badge else None,
        }
        for item in MENU
        if item.visible_to(user)
    ]


def navigation(request):
    """Template context processor: ``nav_items`` for the base layout."""
    return {"nav_items": menu_for(request.user)}
