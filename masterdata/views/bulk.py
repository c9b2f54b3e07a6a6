"""Bulk merge of confident pairs: pick pairs (or "every pair scoring at least X"),
see exactly what will change, confirm, and ``merge_candidates()`` does it.

The confirmation page lists the pairs by id and the POST merges only those, so
what a steward confirmed is what happens even if new pairs arrive meanwhile.
A batch is capped at ``BULK_LIMIT`` pairs to keep one request short; the page
says so when more match.
"""

from collections import Counter
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.db.models import Count
from django.shortcuts import redirect, render
from django.views import View

from ..choices import CandidateStatus
from ..filtersets import DuplicateCandidateFilterSet
from ..models import DuplicateCandidate, GoldenRecord, SourceRecord
from ..services.merge import merge_candidates

BULK_LIMIT = 500
QUEUE = "masterdata:candidate_list"


@dataclass
class BulkPlan:
    """What merging ``candidates`` in order will do, worked out without changing anything."""

    merges: list = field(default_factory=list)  # candidates that will merge
    skipped: list = field(default_factory=list)  # candidates resolved by an earlier pair in the batch
    changed_records: int = 0
    absorbed_records: int = 0
    surviving_records: int = 0
    moved_sources: int = 0


def plan_bulk(candidates: list[DuplicateCandidate]) -> BulkPlan:
    """Replays ``merge_candidates()``: the left (older) record survives, and a pair
    whose record an earlier pair merged away is skipped."""
    ids = {c.left_id for c in candidates} | {c.right_id for c in candidates}
    rows = SourceRecord.objects.filter(golden__in=ids).values("golden").annotate(n=Count("pk"))
    sources = Counter({row["golden"]: row["n"] for row in rows})
    plan, absorbed, survivors = BulkPlan(), set(), set()
    for candidate in candidates:
        left, right = candidate.left, candidate.right
        if left.pk in absorbed or right.pk in absorbed or not (left.is_active and right.is_active):
            plan.skipped.append(candidate)
            continue
        plan.merges.append(candidate)
        plan.moved_sources += sources[right.pk]
        sources[left.pk] += sources.pop(right.pk, 0)
        absorbed.add(right.pk)
        survivors.discard(right.pk)
        survivors.add(left.pk)
    plan.absorbed_records, plan.surviving_records = len(absorbed), len(survivors)
    plan.changed_records = len(absorbed | survivors)
    return plan


class BulkMergeView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """GET: the confirmation for the selected pairs. POST: merge the confirmed ones."""

    permission_required = ("masterdata.add_merge", "masterdata.change_duplicatecandidate")
    template_name = "masterdata/candidate_bulk.html"

    def decidable(self):
        user = self.request.user
        changeable = GoldenRecord.objects.restrict(user, "change")
        return (
            DuplicateCandidate.objects.restrict(user, "change")
            .filter(status=CandidateStatus.OPEN, left__in=changeable, right__in=changeable)
            .select_related("left", "right")
            .order_by("-score", "pk")
        )

    def selected_ids(self, data) -> list[int]:
        return [int(value) for value in data.getlist("candidate") if value.isdigit()]

    def get(self, request):
        ids = self.selected_ids(request.GET)
        filterset = None
        if ids:
            queryset = self.decidable().filter(pk__in=ids)
        elif request.GET.get("min_score"):
            filterset = DuplicateCandidateFilterSet(request.GET, queryset=self.decidable(), request=request)
            if not filterset.is_valid():
                messages.error(request, "Give a minimum score between 0 and 1.")
                return redirect(QUEUE)
            queryset = filterset.qs
        else:
            messages.info(request, "Select the pairs to merge, or give a minimum score.")
            return redirect(QUEUE)
        matching = queryset.count()
        candidates = list(queryset[:BULK_LIMIT])
        context = {
            "plan": plan_bulk(candidates),
            "matching": matching,
            "limit": BULK_LIMIT,
            "min_score": filterset.form.cleaned_data.get("min_score") if filterset else None,
            "back_query": request.GET.urlencode(),
        }
        return render(request, self.template_name, context)

    def post(self, request):
        ids = self.selected_ids(request.POST)[:BULK_LIMIT]
        candidates = list(self.decidable().filter(pk__in=ids))
        if not candidates:
            messages.warning(request, "None of these pairs is still open; nothing was merged.")
            return redirect(QUEUE)
        merges = merge_candidates(candidates, actor=request.user)
        changed = {m.survivor_id for m in merges} | {m.absorbed_id for m in merges}
        skipped = len(candidates) - len(merges)
        text = f"Merged {len(merges)} pair{'s' if len(merges) != 1 else ''}: {len(changed)} golden records changed."
        if skipped:
            text += f" {skipped} pair{'s were' if skipped != 1 else ' was'} already resolved and skipped."
        messages.success(request, text)
        return redirect(QUEUE)
