"""The Celery application: reliability settings live here, values in settings.py.

Work that matters is described by a database row first; a message only says
"look at row N". So a lost message costs a retry, never a record.
"""

import gc
import os

from celery import Celery
from celery.signals import worker_process_init, worker_ready
from django.conf import settings
from kombu import Queue

from config import filebroker  # noqa: F401 - "filesystem://" is its transport from here on
from monitoring.heartbeat import HeartbeatStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("junction")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    # Acknowledge after the task ran, and requeue if the worker process dies mid-task.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    # Outcomes are stored on our own models, not in a result backend.
    task_ignore_result=True,
    task_default_queue="default",
    task_queues=(Queue("default"), Queue("sync")),
    task_routes={"integrations.tasks.*": {"queue": "sync"}},
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    beat_schedule={
        "scheduler-heartbeat": {
            "task": "monitoring.tasks.scheduler_heartbeat",
            "schedule": 15.0,
            # A tick that waited longer than this is useless: the next one is coming.
            "options": {"expires": 14},
        },
        "prune-heartbeats": {"task": "monitoring.tasks.prune_heartbeats", "schedule": 3600.0},
        # Seals audit entries no commit-time message covered (bulk inserts, a broker outage).
        "seal-audit-trail": {"task": "audit.tasks.seal_audit_trail", "schedule": 60.0, "options": {"expires": 59}},
        # Walks the whole hash chain; the auditor's page shows the result (audit/verify.py).
        "verify-audit-trail": {"task": "audit.tasks.verify_audit_trail", "schedule": 86400.0},
        # Re-queues committed work that has no message (integrations/engine/sweeper.py).
        "sweep": {
            "task": "integrations.tasks.sweep",
            "schedule": float(settings.JUNCTION_SWEEP_SECONDS),
            "options": {"expires": settings.JUNCTION_SWEEP_SECONDS},
        },
        # Starts the reconciliations that are due (integrations/engine/reconcile.py).
        "schedule-reconciliations": {"task": "integrations.tasks.schedule_reconciliations", "schedule": 3600.0},
        # Imports and rule applications whose message or worker was lost.
        "resume-stalled-masterdata": {
            "task": "masterdata.tasks.resume_stalled",
            "schedule": 60.0,
            "options": {"expires": 59},
        },
        # Opens and resolves alerts as conditions come and go (monitoring/alerts.py).
        "evaluate-alerts": {
            "task": "monitoring.tasks.evaluate_alerts",
            "schedule": float(settings.JUNCTION_ALERT_EVALUATE_SECONDS),
            "options": {"expires": settings.JUNCTION_ALERT_EVALUATE_SECONDS},
        },
    },
)
app.steps["worker"].add(HeartbeatStep)
app.autodiscover_tasks()


@worker_process_init.connect  # each child of a prefork pool
@worker_ready.connect  # the worker's own process (solo and thread pools run tasks there)
def settle_heap(**_):
    """Import what sync tasks use, then move every object alive now out of the garbage collector's
    sight (``gc.freeze``). A worker's heap holds a million long-lived objects (Django, numpy,
    phonenumbers' metadata, the adapters) and every full collection walked them all again: the
    master-data step of a page spent a sixth of its CPU there (bench/README.md). Objects made
    by tasks are collected as before."""
    from integrations.adapters.registry import load_all
    from masterdata.services import ingest_batch  # noqa: F401 - the master-data step's imports

    load_all()
    gc.freeze()
