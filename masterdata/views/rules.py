"""Survivorship rules per entity: the rule in force for each field, changing one, and applying
the rules to the golden records already stored (a worker does it; the page follows its progress
as the import page does, htmx polling a partial until it is finished).

Rules are per entity, not per object: the role's model permissions decide (view to read,
``change_survivorshiprule`` to change, ``add_ruleapplication`` to apply), 403 without.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView, FormView, TemplateView

from integrations.models import System

from ..entities import SCHEMAS, Entity
from ..forms import INHERIT, SurvivorshipRuleForm
from ..models import RuleApplication, SurvivorshipRule
from ..services.apply_rules import active_count, start_apply
from ..services.rules import clear_rule, rules_in_force, set_rule

DEFAULT = "default"  # the URL's name for the entity's default rule (no field is called so)
RECENT = 5


def entity_or_404(entity: str) -> str:
    if entity not in Entity.values:
        raise Http404
    return entity


def rules_url(entity: str) -> str:
    return reverse("masterdata:survivorship_rules", args=[entity])


class SurvivorshipRulesView(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    permission_required = "masterdata.view_survivorshiprule"
    template_name = "masterdata/survivorship_rules.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        entity, user = entity_or_404(self.kwargs["entity"]), self.request.user
        applications = RuleApplication.objects.restrict(user, "view").filter(entity=entity)
        applications = list(applications.select_related("requested_by")[:RECENT])
        context.update(
            entity=entity,
            entity_label=Entity(entity).label,
            entities=Entity.choices,
            rows=rules_in_force(entity),
            can_change=user.has_perm("masterdata.change_survivorshiprule"),
            can_apply=user.has_perm("masterdata.add_ruleapplication"),
            active_records=active_count(entity),
            application=applications[0] if applications else None,
            earlier=applications[1:],
            default_slug=DEFAULT,
        )
        context["finished"] = context["application"] is None or context["application"].is_finished
        return context


class SurvivorshipRuleEditView(LoginRequiredMixin, PermissionRequiredMixin, FormView):
    """One field's rule (or the entity's default): strategy, and systems in order of trust."""

    permission_required = "masterdata.change_survivorshiprule"
    form_class = SurvivorshipRuleForm
    template_name = "masterdata/survivorship_rule_form.html"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.entity = entity_or_404(kwargs["entity"])
        field = kwargs["field"]
        self.field = "" if field == DEFAULT else field
        if self.field and self.field not in SCHEMAS[self.entity].field_names:
            raise Http404
        self.rule = SurvivorshipRule.objects.filter(entity=self.entity, field=self.field).first()

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        systems = System.objects.restrict(self.request.user, "view").order_by("name")
        kwargs.update(entity=self.entity, field=self.field, systems=systems)
        return kwargs

    def get_initial(self):
        if self.rule is None:
            return {"strategy": INHERIT if self.field else "most_recent", "trusted_systems": []}
        return {"strategy": self.rule.strategy, "trusted_systems": self.rule.trusted_systems}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = rules_in_force(self.entity)
        row = next(r for r in rows if r.field == self.field)
        context.update(entity=self.entity, entity_label=Entity(self.entity).label, row=row, default=rows[0])
        return context

    def form_valid(self, form):
        data, label = form.cleaned_data, self.field or "the default"
        if data["strategy"] == INHERIT:
            clear_rule(self.entity, self.field)
            messages.success(self.request, f"“{label}” follows the entity's default rule again.")
        else:
            try:
                set_rule(self.entity, self.field, data["strategy"], data["trusted_systems"])
            except ValidationError as exc:  # a system deleted meanwhile, say
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
                return self.form_invalid(form)
            messages.success(self.request, f"Saved the rule for {label}.")
        messages.info(
            self.request,
            "Golden records already stored keep their values until you apply the rules to them (below).",
        )
        return redirect(rules_url(self.entity))


class RuleApplicationStartView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """POST: apply the current rules to the entity's golden records, on a worker."""

    permission_required = "masterdata.add_ruleapplication"
    http_method_names = ["post"]

    def post(self, request, entity):
        entity = entity_or_404(entity)
        try:
            application, created = start_apply(entity, user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(rules_url(entity))
        if created:
            messages.success(request, f"Applying the rules to {application.total} golden records: a worker is on it.")
        else:
            messages.warning(request, "The earlier application had stopped moving; it was queued again.")
        return redirect(rules_url(entity))


class RuleApplicationProgressView(LoginRequiredMixin, DetailView):
    """The htmx poll: an application's progress card, until it is finished; then the page reloads
    once (``HX-Refresh``), so its result and the apply button come back, and stops polling."""

    template_name = "masterdata/includes/ruleapplication_progress.html"
    context_object_name = "application"

    def get_queryset(self):
        return RuleApplication.objects.restrict(self.request.user, "view").select_related("requested_by")

    def render_to_response(self, context, **kwargs):
        if self.object.is_finished and self.request.htmx:
            return HttpResponse(headers={"HX-Refresh": "true"})
        return super().render_to_response(context, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["finished"] = self.object.is_finished
        return context
