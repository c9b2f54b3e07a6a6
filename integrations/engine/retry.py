"""When to try a failed record again: exponential backoff with jitter."""

import random
from datetime import datetime, timedelta

from django.utils import timezone

MAX_DELAY = 3600.0  # never wait more than an hour between attempts


def next_attempt(attempts: int, base_seconds: float, retry_after: float | None = None) -> datetime:
    """The time of the next attempt after ``attempts`` failed ones.

    The delay doubles with each attempt (base * 2^(attempts-1)) and is drawn at
    random from its upper half, so many records failing together do not come
    back together and hit a recovering target at once; a peer's Retry-After is
    honoured as the least delay.
    """
    ceiling = min(MAX_DELAY, base_seconds * 2 ** max(attempts - 1, 0))
    delay = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - spreading load, not a secret
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_DELAY))
    return timezone.now() + timedelta(seconds=delay)
