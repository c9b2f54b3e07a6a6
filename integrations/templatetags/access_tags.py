"""The Overview / Access tabs of system, connector and flow pages.

A template tag rather than view context, so every detail page shows the tabs
the same way without each view having to remember them. People who may not see
who holds access (``accounts.access.may_see``) get no tabs at all.
"""

from django import template
from django.urls import reverse

from accounts import access

register = template.Library()


@register.inclusion_tag("integrations/includes/object_tabs.html", takes_context=True)
def object_tabs(context, obj, active: str = "overview"):
    user = context["request"].user
    shown = access.may_see(user, obj)
    return {
        "shown": shown,
        "active": active,
        "overview_url": obj.get_absolute_url(),
        "access_url": reverse(f"integrations:{obj._meta.model_name}_access", args=[obj.pk]) if shown else "",
    }
