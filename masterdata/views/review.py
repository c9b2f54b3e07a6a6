"""The review queue, the side-by-side comparison and the steward's decisions on one pair.

Every object comes through ``restrict()``: a pair the person may not see (or,
for a decision, may not change) is a 404. Deciding also needs the role's
``masterdata.add_merge`` permission (403 without it, as for any action).
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.html import format_html
from django.views import View
from django.views.generic import TemplateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from ..choices import CandidateStatus
from ..filtersets import DuplicateCandidateFilterSet
from ..forms import MergeForm, same
from ..models import DuplicateCandidate, GoldenRecord, SourceRecord
from ..services.merge import mark_not_duplicate, merge
from ..tables import DuplicateCandidateTable

QUEUE = "masterdata:candidate_list"
BULK_DEFAULT_SCORE = "0.95"


def open_candidates(user):
    """The open pairs ``user`` may see: the queue, its count and the menu badge."""
    return DuplicateCandidate.objects.restrict(user, "view").filter(status=CandidateStatus.OPEN)


def open_count(user) -> int | None:
    """The menu badge: how many pairs wait for review (None hides the badge)."""
    return open_candidates(user).count() or None


def may_decide(user) -> bool:
    """Whether ``user``'s role lets them merge or reject pairs at all (object checks come on top)."""
    return user.has_perm("masterdata.add_merge") and user.has_perm("masterdata.change_duplicatecandidate")


def changeable_pair(user, pk) -> DuplicateCandidate:
    """The pair ``pk`` if ``user`` may change it and both its records, else a 404:
    a decision rewrites both records. Shared by the pages and the API."""
    queryset = DuplicateCandidate.objects.restrict(user, "change").select_related("left", "right")
    candidate = get_object_or_404(queryset, pk=pk)
    changeable = GoldenRecord.objects.restrict(user, "change")
    if changeable.filter(pk__in=[candidate.left_id, candidate.right_id]).count() != 2:
        raise Http404("No such pair.")
    return candidate


def is_filtered(request) -> bool:
    return any(v for k, v in request.GET.items() if k not in {"page", "sort"})


class DuplicateCandidateListView(LoginRequiredMixin, SingleTableMixin, FilterView):
    table_class = DuplicateCandidateTable
    filterset_class = DuplicateCandidateFilterSet
    template_name = "masterdata/candidate_list.html"

    def get_queryset(self):
        return open_candidates(self.request.user).select_related("left", "right")

    def get_table_kwargs(self):
        return {"selectable": may_decide(self.request.user)}

    def get_table_pagination(self, table):
        return {"per_page": settings.PAGINATE_BY}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["is_filtered"] = is_filtered(self.request)
        context["may_decide"] = may_decide(self.request.user)
        # Unfiltered total only when filtering; otherwise the table's own count is that number.
        context["open_total"] = (open_count(self.request.user) or 0) if context["is_filtered"] else None
        # "Merge every pair scoring at least X" applies to the pairs shown: it carries the other filters.
        context["carry_filters"] = [
            (name, value)
            for name, values in self.request.GET.lists()
            for value in values
            if value and name not in {"min_score", "page", "sort"}
        ]
        context["bulk_min_score"] = self.request.GET.get("min_score") or BULK_DEFAULT_SCORE
        return context


@dataclass
class FieldRow:
    """One line of the comparison: a field's two values and the matcher's view of them."""

    name: str
    title: str
    left: object
    right: object
    similarity: float | None
    choice: object = None  # the bound radio field when the values differ and may be chosen

    @property
    def differs(self) -> bool:
        return not same(self.left, self.right)

    @property
    def similarity_percent(self) -> int | None:
        return None if self.similarity is None else round(100 * self.similarity)


def similarity_of(explanation) -> float | None:
    """A field's similarity from ``candidate.fields``: a number, or a dict holding one."""
    if isinstance(explanation, dict):
        explanation = explanation.get("similarity", explanation.get("score"))
    return float(explanation) if isinstance(explanation, int | float) else None


def comparison_rows(candidate, form: MergeForm | None) -> list[FieldRow]:
    explanation = candidate.fields if isinstance(candidate.fields, dict) else {}
    rows = []
    for field in candidate.left.schema.fields:
        row = FieldRow(
            field.name,
            field.title,
            candidate.left.values.get(field.name),
            candidate.right.values.get(field.name),
            similarity_of(explanation.get(field.name)),
        )
        if form is not None and field.name in form.fields:
            row.choice = form[field.name]
        rows.append(row)
    return rows


class DuplicateCandidateDetailView(LoginRequiredMixin, TemplateView):
    """Both records side by side, every field, with the score explained per field."""

    template_name = "masterdata/candidate_detail.html"

    def get_candidate(self):
        queryset = DuplicateCandidate.objects.restrict(self.request.user, "view")
        return get_object_or_404(queryset.select_related("left", "right", "decided_by"), pk=self.kwargs["pk"])

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        candidate = self.get_candidate()
        actionable = candidate.status == CandidateStatus.OPEN and candidate.left.is_active and candidate.right.is_active
        can_decide = actionable and may_decide(self.request.user)
        if can_decide and form is None:
            form = MergeForm(candidate)
        sources = SourceRecord.objects.filter(golden__in=[candidate.left_id, candidate.right_id])
        sources = list(sources.select_related("system").order_by("received_at", "pk"))
        context.update(
            candidate=candidate,
            rows=comparison_rows(candidate, form if can_decide else None),
            form=form,
            can_decide=can_decide,
            source_sides=[
                (candidate.left, [s for s in sources if s.golden_id == candidate.left_id]),
                (candidate.right, [s for s in sources if s.golden_id == candidate.right_id]),
            ],
        )
        return context


class CandidateActionMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """POST-only decisions on a pair the user may change."""

    permission_required = ("masterdata.add_merge", "masterdata.change_duplicatecandidate")
    http_method_names = ["post"]

    def get_candidate(self):
        return changeable_pair(self.request.user, self.kwargs["pk"])

    def refuse_if_decided(self, candidate):
        if candidate.status != CandidateStatus.OPEN:
            messages.warning(self.request, f"This pair was already decided: {candidate.get_status_display()}.")
            return redirect("masterdata:candidate_detail", candidate.pk)
        return None


class DuplicateCandidateMergeView(CandidateActionMixin, View):
    def post(self, request, pk):
        candidate = self.get_candidate()
        refused = self.refuse_if_decided(candidate)
        if refused:
            return refused
        form = MergeForm(candidate, request.POST)
        if not form.is_valid():
            view = DuplicateCandidateDetailView(request=request, kwargs=self.kwargs)
            return view.render_to_response(view.get_context_data(form=form))
        try:
            record = merge(form.survivor, form.absorbed, form.chosen(), actor=request.user, candidate=candidate)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("masterdata:candidate_detail", candidate.pk)
        survivor = record.survivor
        messages.success(
            request,
            format_html(
                'Merged “{}” (#{}) into <a href="{}" class="alert-link">{}</a> (#{}).',
                record.absorbed.display_name,
                record.absorbed.pk,
                survivor.get_absolute_url(),
                survivor.display_name,
                survivor.pk,
            ),
        )
        return redirect(QUEUE)


class DuplicateCandidateRejectView(CandidateActionMixin, View):
    """Not a duplicate: remembered, so the matcher never proposes the pair again."""

    def post(self, request, pk):
        candidate = self.get_candidate()
        refused = self.refuse_if_decided(candidate)
        if refused:
            return refused
        mark_not_duplicate(candidate, actor=request.user)
        messages.success(
            request,
            f"“{candidate.left.display_name}” and “{candidate.right.display_name}” are kept apart; "
            "this pair will not be proposed again.",
        )
        return redirect(QUEUE)
