"""System checks: a mistyped audit setting stops ``manage.py check`` and startup, not a later save."""

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from .redaction import rules


@register()
def redaction_setting(app_configs, **kwargs):
    try:
        rules()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="audit.E001")]
    return []
