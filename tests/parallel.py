"""One folder and one Redis database per pytest-xdist worker (``pytest -n 2``, what ``make test`` runs).

Imported by the root conftest before any test runs. In an xdist worker process it sets
``JUNCTION_VAR_DIR`` to ``<var dir>/gw<N>`` and the Redis database of ``REDIS_URL`` to its own
number plus N (``redis://…/7`` → 7 for gw0, 8 for gw1), then computes the settings again from that
environment, as the Celery workers and servers that tests start compute theirs. So two workers
never share the filesystem broker, a Redis queue or cache, collected static files, files
roots or worker logs. The test database is per worker already: pytest-django adds ``_gw<N>`` to
its name (``DATABASES`` is left as it is: connections are configured by now).

Without xdist (``PYTEST_XDIST_WORKER`` unset) nothing changes.
"""

import importlib
import os
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings


def redis_url_for(url: str, worker: int) -> str:
    """``url`` with its database number moved up by ``worker`` (0 for the first worker)."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{base + worker}"))


def isolate_xdist_worker() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    os.environ["JUNCTION_VAR_DIR"] = str(settings.VAR_DIR / worker)
    if os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = redis_url_for(os.environ["REDIS_URL"], int(worker.removeprefix("gw")))
    fresh = importlib.reload(importlib.import_module(settings.SETTINGS_MODULE))
    for name in dir(fresh):
        if name.isupper() and name != "DATABASES":
            setattr(settings, name, getattr(fresh, name))


isolate_xdist_worker()
