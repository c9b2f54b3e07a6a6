"""CSV import from the browser: the form, then a job page whose progress bar
refreshes itself (htmx polls a partial every second until the worker is done)."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views.generic import DetailView, FormView

from integrations.models import System

from ..choices import IngestResult, JobStatus
from ..forms import ImportForm
from ..models import ImportJob
from ..services.imports import start_import

RECENT_JOBS = 5
LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL"]
# What happened to the rows, most reassuring first: (result, heading, explanation).
SUMMARY = [
    (IngestResult.CREATED, "Created", "new golden records"),
    (IngestResult.LINKED, "Linked", "to existing golden records"),
    (IngestResult.REVIEW, "Sent to review", "possible duplicates"),
    (IngestResult.QUARANTINED, "Quarantined", "not imported, see below"),
]


class ImportView(LoginRequiredMixin, PermissionRequiredMixin, FormView):
    permission_required = "masterdata.add_importjob"
    form_class = ImportForm
    template_name = "masterdata/import_form.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["systems"] = System.objects.restrict(self.request.user, "view").order_by("name")
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        jobs = ImportJob.objects.restrict(self.request.user, "view").filter(created_by=self.request.user)
        context["recent_jobs"] = jobs.select_related("system").defer("content")[:RECENT_JOBS]
        context["locales"] = LOCALES
        return context

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            job = start_import(
                system=data["system"],
                entity=data["entity"],
                locale=data["locale"].strip(),
                filename=self.request.FILES["file"].name[:255],
                content=data["file"],
                user=self.request.user,
            )
        except ValidationError as exc:
            form.add_error("file", exc)
            return self.form_invalid(form)
        messages.success(self.request, f"“{job.filename}” is queued: {job.total} rows to import.")
        return redirect("masterdata:importjob_detail", job.pk)


class ImportJobDetailView(LoginRequiredMixin, DetailView):
    """The job page; with ``partial`` (the htmx poll) only its progress card."""

    template_name = "masterdata/importjob_detail.html"
    partial_template_name = "masterdata/includes/importjob_progress.html"
    partial = False
    context_object_name = "job"

    def get_queryset(self):
        queryset = ImportJob.objects.restrict(self.request.user, "view")
        return queryset.select_related("system", "created_by").defer("content")

    def get_template_names(self):
        return [self.partial_template_name if self.partial else self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = self.object
        context["finished"] = job.status in (JobStatus.DONE, JobStatus.FAILED)
        context["summary"] = [
            {"result": result.value, "heading": heading, "text": text, "count": job.counts.get(result.value, 0)}
            for result, heading, text in SUMMARY
        ]
        context["unchanged"] = job.counts.get(IngestResult.UNCHANGED, 0)
        return context
