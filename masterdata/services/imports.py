"""CSV import of source records: validated up front, ingested by a worker with live progress."""

import csv
import io

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.bulk_changes import audited_update
from audit.context import acting_as
from config.statistics import refresh_grown
from masterdata.choices import IngestResult, JobStatus
from masterdata.entities import SCHEMAS
from masterdata.models import ImportJob

from .background import stalled_before
from .ingest_batch import GROWN, ingest_many

ID_COLUMN = "id"
PAGE = 200  # rows ingested together (one transaction, a few queries); progress is written after each
MAX_BYTES = 20 * 1024 * 1024


def read_header(content: str, entity: str) -> list[str]:
    """The CSV's columns, or a ValidationError naming what is wrong with them."""
    header = next(csv.reader(io.StringIO(content)), None)
    if not header:
        raise ValidationError("The file is empty.")
    header = [h.strip().lower() for h in header]
    if ID_COLUMN not in header:
        raise ValidationError(f"The first line must name the columns and include “{ID_COLUMN}” (the source's id).")
    known = set(SCHEMAS[entity].field_names)
    if not known & set(header):
        expected = ", ".join(SCHEMAS[entity].field_names)
        raise ValidationError(f"No column matches a {entity} field. Expected some of: {expected}.")
    return header


def start_import(*, system, entity: str, locale: str, filename: str, content: str, user) -> ImportJob:
    """Check the file, save the job, and queue it for a worker once committed."""
    from masterdata.tasks import run_import

    if len(content.encode()) > MAX_BYTES:
        raise ValidationError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    read_header(content, entity)
    rows = max(sum(1 for _ in csv.reader(io.StringIO(content))) - 1, 0)
    job = ImportJob.objects.create(
        system=system, entity=entity, locale=locale, filename=filename, content=content, total=rows, created_by=user
    )
    transaction.on_commit(lambda: run_import.delay(job.pk))
    return job


def claim(job_id: int) -> bool:
    """Take a waiting job for this worker, or one whose worker stopped moving (``background``):
    ingest is idempotent, so starting over duplicates nothing. A job another worker is running
    is left to it."""
    now = timezone.now()
    stalled = Q(status=JobStatus.RUNNING) & (Q(progressed__isnull=True) | Q(progressed__lt=stalled_before(now)))
    takeable = ImportJob.objects.filter(Q(status=JobStatus.PENDING) | stalled, pk=job_id)
    return bool(takeable.update(status=JobStatus.RUNNING, processed=0, counts={}, problems=[], progressed=now))


def resume_stalled(now=None) -> int:
    """Queue again every unfinished job that has not moved for ``STALLED_AFTER``; how many."""
    from masterdata.tasks import run_import

    before = stalled_before(now or timezone.now())
    unfinished = ImportJob.objects.filter(status__in=[JobStatus.PENDING, JobStatus.RUNNING])
    stalled = unfinished.filter(Q(progressed__lt=before) | Q(progressed__isnull=True, created__lt=before))
    ids = list(stalled.values_list("pk", flat=True)[:100])
    for job_id in ids:
        run_import.delay(job_id)
    return len(ids)


def run_import(job: ImportJob) -> ImportJob:
    """Ingest every row of the job's CSV page by page, writing progress as it goes."""
    counts = {result.value: 0 for result in IngestResult}
    problems = []
    fields = set(SCHEMAS[job.entity].field_names)
    page: list[tuple[int, str, dict]] = []  # (line, external id, payload)

    def ingest_page() -> None:
        outcomes = ingest_many(job.system, job.entity, [(e, p) for _, e, p in page], job.locale)
        for (number, external_id, _), outcome in zip(page, outcomes, strict=True):
            counts[outcome.result] += 1
            if outcome.result == IngestResult.QUARANTINED:
                problems.append({"row": number, "external_id": external_id, "reason": outcome.source.quarantine_reason})
        page.clear()
        # Progress is bookkeeping for the page, not audited; the outcome below is.
        ImportJob.objects.filter(pk=job.pk).update(
            processed=sum(counts.values()), counts=counts, progressed=timezone.now()
        )
        refresh_grown(GROWN)

    with acting_as(job.created_by):
        reader = csv.DictReader(io.StringIO(job.content))
        reader.fieldnames = [name.strip().lower() for name in reader.fieldnames or []]
        for number, row in enumerate(reader, start=2):  # line 1 is the header
            external_id = (row.get(ID_COLUMN) or "").strip()
            if not external_id:
                counts[IngestResult.QUARANTINED] += 1
                problems.append({"row": number, "external_id": "", "reason": "The id column is empty."})
                continue
            page.append((number, external_id, {k: v for k, v in row.items() if k in fields}))
            if len(page) >= PAGE:
                ingest_page()
        if page:
            ingest_page()
    problems.sort(key=lambda problem: problem["row"])
    audited_update(
        ImportJob.objects.filter(pk=job.pk),
        status=JobStatus.DONE,
        processed=sum(counts.values()),
        counts=counts,
        problems=problems,
        finished=timezone.now(),
    )
    job.refresh_from_db()
    return job
