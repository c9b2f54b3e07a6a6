"""Background jobs of master data (CSV imports, applying survivorship rules): when one has stalled.

A job's message can be lost (a broker restarted without persistence) and its
worker can die. Each job records when it last moved; beat's minutely
``masterdata.tasks.resume_stalled`` queues again every unfinished job that has
not moved for ``STALLED_AFTER``, and only such a job may be taken over by a
second message, so two workers never run a live job at once.
"""

from datetime import datetime, timedelta

STALLED_AFTER = timedelta(minutes=10)


def stalled_before(now: datetime) -> datetime:
    """Jobs that last moved before this have stalled."""
    return now - STALLED_AFTER
