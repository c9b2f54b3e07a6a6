"""A worker bootstep that records the worker's heartbeat in the database.

It runs in its own thread, so a long task in a solo pool or a busy event loop
does not make a healthy worker look dead. On a clean shutdown the row is
removed, so /healthz notices at once instead of after the stale period.
"""

import logging
import os
import threading

from celery import bootsteps
from celery.signals import beat_init

log = logging.getLogger(__name__)


class HeartbeatStep(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Pool"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.stopping = threading.Event()
        self.thread = None

    def start(self, worker):
        from django.conf import settings

        interval = settings.JUNCTION_WORKER_HEARTBEAT_INTERVAL
        self.thread = threading.Thread(
            target=self.run, args=(worker.hostname, interval), name="junction-heartbeat", daemon=True
        )
        self.thread.start()

    def run(self, hostname: str, interval: float) -> None:
        from django.db import close_old_connections

        from .choices import Component
        from .models import Heartbeat

        while not self.stopping.is_set():
            try:
                Heartbeat.beat(Component.WORKER, hostname, os.getpid())
            except Exception:  # the database may be briefly away; keep beating
                log.exception("Could not record the worker heartbeat")
            finally:
                close_old_connections()
            self.stopping.wait(interval)

    def stop(self, worker):
        from django.db import close_old_connections

        from .choices import Component
        from .models import Heartbeat

        self.stopping.set()
        if self.thread:
            self.thread.join(timeout=5)
        try:
            Heartbeat.objects.filter(component=Component.WORKER, hostname=worker.hostname).delete()
        except Exception:
            log.exception("Could not remove the worker heartbeat")
        finally:
            close_old_connections()


@beat_init.connect
def announce_scheduler(sender, **kwargs):
    """Send the first scheduler heartbeat at once instead of one interval after start."""
    sender.app.send_task("monitoring.tasks.scheduler_heartbeat")
