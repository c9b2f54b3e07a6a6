"""The dead-letter queue: dead-lettered and quarantined records across the flows a person
may view, filtered, paged by id, and replayed or discarded (with a reason) in bulk or one by one.

Replaying or discarding needs ``change`` on each record's flow; a selection
holding a record the person may not change is a 404, and nothing is done.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import Http404
from django.shortcuts import redirect
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView

from .. import services
from ..filtersets import DeadLetterFilterSet
from ..forms import DiscardForm
from .common import is_filtered, keyset_page

PER_PAGE = 50
LIST = "integrations:deadletter_list"


class DeadLetterListView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    permission_required = "integrations.view_recordoutcome"
    template_name = "integrations/deadletter_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        waiting = services.visible_outcomes(user).filter(status__in=services.WAITING, dry_run=False)
        filterset = DeadLetterFilterSet(self.request.GET, queryset=waiting, request=self.request)
        rows = filterset.qs.select_related("flow", "target", "run").defer("payload", "mapped", "diff")
        page = keyset_page(rows, self.request.GET.get("after"), PER_PAGE, descending=True)
        changeable = set(
            services.visible_flows(user, "change")
            .filter(pk__in={row.flow_id for row in page.rows})
            .values_list("pk", flat=True)
        )
        context.update(
            filter=filterset,
            page=page,
            is_filtered=is_filtered(self.request),
            changeable_flows=changeable,
            may_act=bool(changeable),
            discard_form=DiscardForm(),
        )
        return context


class DeadLetterActionView(LoginRequiredMixin, View):
    """POST: the selected records (``outcome`` boxes) or one record (``only``)."""

    http_method_names = ["post"]

    def selected(self):
        only = [v for v in self.request.POST.getlist("only") if v]
        ids = services.iter_ids(only or self.request.POST.getlist("outcome"))
        if not ids:
            return None
        outcomes = services.changeable_outcomes(self.request.user).filter(pk__in=ids)
        if outcomes.count() != len(ids):
            raise Http404("No such records.")
        return outcomes

    def back(self):
        target = self.request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(target, {self.request.get_host()}, self.request.is_secure()):
            return redirect(target)
        return redirect(LIST)


class DeadLetterReplayView(DeadLetterActionView):
    def post(self, request):
        outcomes = self.selected()
        if outcomes is None:
            messages.warning(request, "Select the records to replay first.")
            return self.back()
        try:
            runs = services.replay_outcomes(outcomes, request.user)
        except services.ActionError as exc:
            messages.error(request, str(exc))
            return self.back()
        if not runs:
            messages.info(request, "These records were already replayed or discarded.")
            return self.back()
        links = format_html_join(
            ", ",
            '<a href="{}" class="alert-link">run #{}</a> of “{}”',
            ((r.get_absolute_url(), r.pk, r.flow) for r in runs),
        )
        count = sum(r.read for r in runs)
        noun = "record" if count == 1 else "records"
        messages.success(request, format_html("Replaying {} {} in {}.", count, noun, links))
        return self.back()


class DeadLetterDiscardView(DeadLetterActionView):
    def post(self, request):
        outcomes = self.selected()
        if outcomes is None:
            messages.warning(request, "Select the records to discard first.")
            return self.back()
        form = DiscardForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Say why these records are discarded: the reason is required.")
            return self.back()
        count = services.discard_outcomes(outcomes, form.cleaned_data["reason"], request.user)
        noun = "record" if count == 1 else "records"
        messages.success(request, f"Discarded {count} {noun}. The reason is kept with them and in the audit trail.")
        return self.back()


__all__ = ["DeadLetterDiscardView", "DeadLetterListView", "DeadLetterReplayView"]
