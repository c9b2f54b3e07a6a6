from celery import shared_task

from audit.bulk_changes import audited_update
from masterdata.choices import JobStatus
from masterdata.models import ImportJob
from masterdata.services import apply_rules as rules_service
from masterdata.services import imports

APPLY_SLICE_SECONDS = 120  # well inside the task time limit; the rest goes on in a new message


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


@shared_task(name="masterdata.tasks.resume_stalled", ignore_result=True)
def resume_stalled() -> dict[str, int]:
    """Beat, every minute: queue again the imports and rule applications that stopped moving
    (a lost message, a dead worker); see ``masterdata.services.background``."""
    return {"imports": imports.resume_stalled(), "rule_applications": rules_service.resume_stalled()}


@shared_task(name="masterdata.tasks.apply_rules", ignore_result=True, acks_late=True)
def apply_rules(application_id: int) -> None:
    """Apply the current survivorship rules to an entity's golden records (the RuleApplication row
    says which). Safe to run again: it carries on after the last committed batch."""
    if not rules_service.claim(application_id):
        return
    try:
        done = rules_service.run(application_id, slice_seconds=APPLY_SLICE_SECONDS)
    except Exception as exc:
        rules_service.fail(application_id, f"{type(exc).__name__}: {exc}")
        raise
    if not done:
        apply_rules.delay(application_id)
