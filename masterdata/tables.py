import django_tables2 as tables
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html

from .models import DuplicateCandidate, GoldenRecord, SourceRecord


def score_badge(score: float) -> str:
    """A score as a percentage, coloured by how sure the matcher is."""
    css = "text-bg-success" if score >= 0.9 else "text-bg-warning" if score >= 0.75 else "text-bg-secondary"
    return format_html('<span class="badge {} jn-score">{}</span>', css, f"{score:.0%}")


class DuplicateCandidateTable(tables.Table):
    select = tables.CheckBoxColumn(
        accessor="pk",
        attrs={
            "th__input": {"aria-label": "Select all pairs on this page", "data-select-all": "candidate"},
            "td__input": {"name": "candidate", "aria-label": "Select this pair", "form": "bulk-form"},
        },
    )
    pair = tables.Column(verbose_name="Records", empty_values=(), order_by=("left__display_name", "pk"))
    entity = tables.Column()
    score = tables.Column(order_by=("score", "pk"))
    created = tables.Column(verbose_name="Waiting", order_by=("created", "pk"))
    review = tables.Column(verbose_name="", empty_values=(), orderable=False, attrs={"td": {"class": "text-end"}})

    class Meta:
        model = DuplicateCandidate
        fields = ("select", "pair", "entity", "score", "created", "review")
        attrs = {"class": "table table-hover align-middle", "data-testid": "review-queue"}
        order_by = ("-score",)
        empty_text = "No open pairs match these filters."

    def __init__(self, *args, selectable: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not selectable:
            self.columns.hide("select")

    def render_pair(self, record):
        return format_html(
            '<a href="{}">{}</a> <i class="bi bi-arrow-left-right text-body-secondary mx-1" aria-label="and"></i> {}',
            reverse("masterdata:candidate_detail", args=[record.pk]),
            record.left.display_name,
            record.right.display_name,
        )

    def render_score(self, value):
        return score_badge(value)

    def render_created(self, value):
        # Age is what a queue is sorted and judged by; the exact time is one hover away.
        return format_html('<span title="{}">{}</span>', date_format(value, "Y-m-d H:i"), naturaltime(value))

    def render_review(self, record):
        return format_html(
            '<a class="btn btn-sm btn-outline-primary" href="{}">Compare</a>',
            reverse("masterdata:candidate_detail", args=[record.pk]),
        )


# A few values that tell two records of the same name apart, per entity.
SUMMARY_FIELDS = {
    "customer": ("email", "city", "company"),
    "product": ("sku", "gtin"),
    "supplier": ("tax_id", "city"),
    "location": ("code", "city"),
}


class GoldenRecordTable(tables.Table):
    display_name = tables.Column(verbose_name="Name", linkify=True, order_by=("display_name", "pk"))
    entity = tables.Column()
    summary = tables.Column(verbose_name="Details", empty_values=(), orderable=False)
    updated = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="Last changed", order_by=("updated", "pk"))
    merged_into = tables.Column(verbose_name="Merged into", linkify=True, default="—")

    class Meta:
        model = GoldenRecord
        fields = ("display_name", "entity", "summary", "updated", "merged_into")
        attrs = {"class": "table table-hover align-middle", "data-testid": "golden-records"}
        empty_text = "No golden records match."

    def __init__(self, *args, show_merged: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not show_merged:
            self.columns.hide("merged_into")

    def render_summary(self, record):
        values = record.values if isinstance(record.values, dict) else {}
        shown = [str(values[name]) for name in SUMMARY_FIELDS.get(record.entity, ()) if values.get(name)]
        return " · ".join(shown[:2]) or "—"


class QuarantineTable(tables.Table):
    external_id = tables.Column(
        verbose_name="External id", linkify=("masterdata:sourcerecord_detail", [tables.A("pk")])
    )
    system = tables.Column(order_by=("system__name",))
    entity = tables.Column()
    reason = tables.Column(accessor="quarantine_reason", orderable=False, attrs={"td": {"class": "text-break"}})
    received_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="Received")

    class Meta:
        model = SourceRecord
        fields = ("external_id", "system", "entity", "reason", "received_at")
        attrs = {"class": "table table-hover align-middle", "data-testid": "quarantine"}
        order_by = ("-received_at",)
        empty_text = "No quarantined records match."
