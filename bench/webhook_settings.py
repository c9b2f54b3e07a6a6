"""Settings for bench/webhook.py only: Junction's settings with a URL map that adds two baseline views.

config/settings.py is executed from its file rather than imported: importing
``config.settings`` runs ``config/__init__``, whose Celery app reads the
settings being defined here, a circular import. Its upper-case names are copied
(Django reads settings from a module's globals), then ROOT_URLCONF replaced.
"""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "bench.junction_settings", Path(__file__).resolve().parent.parent / "config" / "settings.py"
)
_junction = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_junction)
globals().update({name: value for name, value in vars(_junction).items() if name.isupper()})

ROOT_URLCONF = "bench.webhook_urls"
