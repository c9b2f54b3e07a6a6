"""Golden records (list, detail with lineage, xrefs, merges and history), source
records, the quarantine, and unmerge.

History comes from django-auditlog. Its rows name who did what, which the
audit pages show only to administrators and auditors; here a record's own
history is also shown to those who may change the record (the stewards), who
need it to understand and correct their work. Viewers see lineage, not people.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.html import format_html
from django.views import View

from accounts import generic
from integrations.models import TargetChange

from ..choices import CandidateStatus, SourceStatus
from ..filtersets import GoldenRecordFilterSet, SourceRecordFilterSet
from ..models import DuplicateCandidate, GoldenRecord, Merge, SourceRecord
from ..services.merge import unmerge
from ..tables import GoldenRecordTable, QuarantineTable
from .history import record_history

HISTORY_LIMIT = 50
STEWARD = "steward"


class GoldenRecordListView(generic.ObjectListView):
    model = GoldenRecord
    queryset = GoldenRecord.objects.select_related("merged_into")
    table_class = GoldenRecordTable
    filterset_class = GoldenRecordFilterSet
    template_name = "masterdata/goldenrecord_list.html"

    def get_table_kwargs(self):
        return {"show_merged": self.request.GET.get("merged") == "true"}


@dataclass
class ValueRow:
    name: str
    title: str
    value: object
    source: SourceRecord | None  # the source record that supplied the value
    by_steward: bool


@dataclass
class PayloadRow:
    """One field of a source record: as sent, after cleansing, and the rules that changed it."""

    name: str
    sent: object
    cleansed: object
    changes: list
    error: str | None
    warning: str | None


def payload_rows(source: SourceRecord) -> list[PayloadRow]:
    """Every field the schema knows or the source sent, in schema order."""
    names = [f.name for f in GoldenRecord(entity=source.entity).schema.fields]
    names += [n for n in source.payload if n not in names]  # columns the schema does not know: shown, not used
    changes = [c for c in source.changes if isinstance(c, dict)]
    rows = []
    for name in names:
        sent, cleansed = source.payload.get(name), source.values.get(name)
        field_changes = [c for c in changes if c.get("field") == name]
        if sent in (None, "") and cleansed in (None, "") and not field_changes and name not in source.errors:
            continue
        rows.append(PayloadRow(name, sent, cleansed, field_changes, source.errors.get(name), source.warnings.get(name)))
    return rows


def may_see_history(user, golden) -> bool:
    return (
        user.has_perm("auditlog.view_logentry")
        or GoldenRecord.objects.restrict(user, "change").filter(pk=golden.pk).exists()
    )


class GoldenRecordDetailView(generic.ObjectDetailView):
    model = GoldenRecord
    queryset = GoldenRecord.objects.select_related("merged_into")
    template_name = "masterdata/goldenrecord_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        golden, user = self.object, self.request.user
        sources = list(golden.source_records.select_related("system").order_by("-received_at", "pk"))
        context.update(
            values=self.value_rows(golden, sources),
            sources=[(source, payload_rows(source)) for source in sources],
            open_pairs=DuplicateCandidate.objects.restrict(user, "view")
            .filter(Q(left=golden) | Q(right=golden), status=CandidateStatus.OPEN)
            .select_related("left", "right"),
            **self.merges(golden),
        )
        context["history"] = record_history(golden, HISTORY_LIMIT) if may_see_history(user, golden) else None
        return context

    def value_rows(self, golden, sources) -> list[ValueRow]:
        by_pk = {source.pk: source for source in sources}
        # A merged-away record's lineage names source records that moved to the survivor: one query for all.
        elsewhere = {pk for pk in golden.lineage.values() if isinstance(pk, int)} - set(by_pk)
        if elsewhere:
            by_pk.update(SourceRecord.objects.select_related("system").in_bulk(elsewhere))
        rows = []
        for field in golden.schema.fields:
            origin = golden.lineage.get(field.name)
            source = by_pk.get(origin) if isinstance(origin, int) else None
            rows.append(ValueRow(field.name, field.title, golden.values.get(field.name), source, origin == STEWARD))
        return rows

    def merges(self, golden) -> dict:
        user = self.request.user
        visible = Merge.objects.restrict(user, "view").select_related("survivor", "absorbed", "actor", "undone_by")
        visible = visible.prefetch_related("target_changes__target")
        merges_in = list(visible.filter(survivor=golden).order_by("-created", "-pk"))
        undoable_ids = set(
            Merge.objects.restrict(user, "change")
            .filter(survivor=golden, undone_at__isnull=True)
            .values_list("pk", flat=True)
        )
        # Only the latest merge into an active record can be undone; older ones wait for it.
        latest = next((m for m in merges_in if m.undone_at is None), None)
        can_unmerge = latest is not None and golden.is_active and latest.pk in undoable_ids
        return {
            "merges_in": merges_in,
            "merges_out": list(visible.filter(absorbed=golden).order_by("-created", "-pk")),
            "unmerge_id": latest.pk if can_unmerge else None,
            "may_see_merges": user.has_perm("masterdata.view_merge"),
            "may_see_target_changes": user.has_perm("integrations.view_targetchange"),
            "rule_changes": self.rule_changes(golden),
        }

    def rule_changes(self, golden) -> list[tuple]:
        """``(application, its changes at the targets)`` for each application of survivorship rules
        that updated this record at a target, newest first (shown with the permission to see them)."""
        if not self.request.user.has_perm("integrations.view_targetchange"):
            return []
        rows = TargetChange.objects.filter(subject=f"golden:{golden.pk}", merge__isnull=True, entity=golden.entity)
        rows = rows.select_related("target", "application__requested_by").order_by("-application_id", "pk")
        grouped: dict = {}
        for row in rows:
            grouped.setdefault(row.application, []).append(row)
        return list(grouped.items())


class MergeUndoView(LoginRequiredMixin, View):
    """POST: undo a merge; the absorbed record comes back with its own xrefs."""

    http_method_names = ["post"]

    def post(self, request, pk):
        record = get_object_or_404(Merge.objects.restrict(request.user, "change"), pk=pk)
        # As for merging: both golden records must be the user's to change.
        changeable = GoldenRecord.objects.restrict(request.user, "change")
        if changeable.filter(pk__in=[record.survivor_id, record.absorbed_id]).count() != 2:
            raise Http404
        try:
            unmerge(record, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(record.survivor)
        absorbed = record.absorbed
        messages.success(
            request,
            format_html(
                'Unmerged: <a href="{}" class="alert-link">{}</a> is a record of its own again, '
                "with its source records.",
                absorbed.get_absolute_url(),
                absorbed.display_name,
            ),
        )
        return redirect(record.survivor)


class SourceRecordDetailView(generic.ObjectDetailView):
    model = SourceRecord
    queryset = SourceRecord.objects.select_related("system", "golden")
    template_name = "masterdata/sourcerecord_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = payload_rows(self.object)
        return context


class QuarantineListView(generic.ObjectListView):
    model = SourceRecord
    queryset = SourceRecord.objects.filter(status=SourceStatus.QUARANTINED).select_related("system")
    table_class = QuarantineTable
    filterset_class = SourceRecordFilterSet
    template_name = "masterdata/quarantine_list.html"
