from celery import shared_task

from audit.bulk_changes import audited_update
from masterdata.choices import JobStatus
from masterdata.models import ImportJob
from masterdata.services import imports


@shared_task(name="masterdata.tasks.run_import", ignore_result=True, acks_late=True)
def run_import(job_id: int) -> None:
    """Ingest an uploaded CSV (the job row says what to do). Safe to run again."""
    if not imports.claim(job_id):
        return
    job = ImportJob.objects.get(pk=job_id)
    try:
        imports.run_import(job)
    except Exception as exc:
        audited_update(
            ImportJob.objects.filter(pk=job_id), status=JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}"
        )
        raise
