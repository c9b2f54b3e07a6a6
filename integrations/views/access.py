"""The "Access" tab of systems, connectors and flows: who holds which permissions on the object,
and, for Administrators, granting and revoking them.

An object the person may not view is a 404, as everywhere. Seeing the tab needs
``view`` on the object's permission models (Administrators, Auditors: read-only
for the latter); granting and revoking need ``change`` on them (Administrators),
else 403. Granting and revoking ask for the password again when the last sign-in
is older than a few minutes (``accounts.reauth``). The rules themselves live in
``accounts.access``; these views only read the form and render the panel.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import TemplateView

from accounts import access
from accounts.access_forms import AccessGrantForm, AccessRevokeForm
from accounts.reauth import RecentAuthRequiredMixin

from ..models import Connector, Flow, System


class ObjectAccessView(LoginRequiredMixin, TemplateView):
    """GET: the tab. Subclasses name the ``model``."""

    model = None
    template_name = "integrations/object_access.html"
    panel_template_name = "integrations/includes/access_panel.html"

    def get_object(self):
        queryset = self.model.objects.restrict(self.request.user, "view")
        return get_object_or_404(queryset, pk=self.kwargs["pk"])

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not hasattr(self, "object"):
            self.object = self.get_object()
        if not access.may_see(request.user, self.object):
            raise PermissionDenied("Only administrators and auditors see who holds access.")
        return super().dispatch(request, *args, **kwargs)

    def get_template_names(self):
        return [self.panel_template_name if self.request.htmx else self.template_name]

    def get_context_data(self, grant_form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        obj, user = self.object, self.request.user
        may_manage = access.may_manage(user, obj)
        name = obj._meta.model_name
        context.update(
            object=obj,
            model_meta=obj._meta,
            holders=access.holders(obj),
            may_manage=may_manage,
            grant_form=(grant_form or AccessGrantForm()) if may_manage else None,
            grant_url=reverse(f"integrations:{name}_access_grant", args=[obj.pk]),
            revoke_url=reverse(f"integrations:{name}_access_revoke", args=[obj.pk]),
            access_url=reverse(f"integrations:{name}_access", args=[obj.pk]),
        )
        return context


class ObjectAccessChangeView(RecentAuthRequiredMixin, ObjectAccessView):
    """POST: grant or revoke, then the panel again (htmx) or the tab (a plain form post).

    Who may act is decided *before* the re-authentication prompt: nobody is asked
    for their password for something they may not do anyway. A GET (where the
    re-auth page sends a person back to after a plain form post) shows the tab.
    """

    http_method_names = ["get", "post"]

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.object = self.get_object()
            if not access.may_manage(request.user, self.object):
                raise PermissionDenied("Only administrators grant and revoke access.")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        return redirect(self.tab_url())

    def tab_url(self) -> str:
        return reverse(f"integrations:{self.object._meta.model_name}_access", args=[self.object.pk])

    def done(self, message: str):
        messages.success(self.request, message)
        if self.request.htmx:
            return self.render_to_response(self.get_context_data())
        return redirect(self.tab_url())


class ObjectAccessGrantView(ObjectAccessChangeView):
    def post(self, request, *args, **kwargs):
        form = AccessGrantForm(request.POST)
        if form.is_valid():
            principal = form.cleaned_data["principal"]
            try:
                granted = access.grant(self.object, principal, form.cleaned_data["permissions"], request=request)
            except access.AccessError as exc:
                form.add_error(exc.field, str(exc))
            else:
                who = access.Holder(principal).name
                return self.done(f"Granted {', '.join(granted)} on “{self.object}” to {who}.")
        return self.render_to_response(self.get_context_data(grant_form=form))


class ObjectAccessRevokeView(ObjectAccessChangeView):
    def post(self, request, *args, **kwargs):
        form = AccessRevokeForm(request.POST)
        if form.is_valid():
            principal = form.cleaned_data["principal"]
            try:
                removed = access.revoke(self.object, principal, form.cleaned_data["permissions"], request=request)
            except access.AccessError as exc:
                messages.error(request, str(exc))
            else:
                who = access.Holder(principal).name
                return self.done(f"Revoked {', '.join(removed)} on “{self.object}” from {who}.")
        else:
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return self.render_to_response(self.get_context_data())


def access_views(model) -> tuple[type, type, type]:
    """The tab, grant and revoke views of ``model``."""
    attrs = {"model": model}
    return (
        type(f"{model.__name__}AccessView", (ObjectAccessView,), attrs),
        type(f"{model.__name__}AccessGrantView", (ObjectAccessGrantView,), attrs),
        type(f"{model.__name__}AccessRevokeView", (ObjectAccessRevokeView,), attrs),
    )


SystemAccessView, SystemAccessGrantView, SystemAccessRevokeView = access_views(System)
ConnectorAccessView, ConnectorAccessGrantView, ConnectorAccessRevokeView = access_views(Connector)
FlowAccessView, FlowAccessGrantView, FlowAccessRevokeView = access_views(Flow)

__all__ = [
    "ConnectorAccessGrantView",
    "ConnectorAccessRevokeView",
    "ConnectorAccessView",
    "FlowAccessGrantView",
    "FlowAccessRevokeView",
    "FlowAccessView",
    "SystemAccessGrantView",
    "SystemAccessRevokeView",
    "SystemAccessView",
]
