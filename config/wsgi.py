"""WSGI entry point (the web server's command: docs/operations.md, "Web server")."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()


def _settle_heap() -> None:
    """Import every view now rather than on a first request, then move every object alive
    (Django, DRF, the app: about 125,000) out of the garbage collector's sight: a full
    collection walked them all and stopped the whole worker process for about 0.1 s of CPU
    (bench/README.md, "Inbound webhooks"). Objects made by requests are collected as before."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the URL map and its views
    gc.freeze()


_settle_heap()
