"""Access events beside changes: logins, exports, grants, credential changes, replays.

auditlog records what changed on a model; these are things a person *did*
that change no row of their own (or whose row must not carry the secret).
They are written as auditlog entries with action ACCESS, so the auditor's
page, the exports and the hash chain treat them like every other entry.
``additional_data["event"]`` names the event, e.g. ``"login.failed"``.
"""

from auditlog.cid import get_cid
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType


def record_event(event: str, *, actor=None, target=None, request=None, repr_: str | None = None, **detail) -> LogEntry:
    """Write one access event and return it.

    ``target`` is the object the event is about (a connector, a flow, a user);
    without one the event is filed under the actor's (or, for an unknown
    username, the user model's) content type with ``repr_`` as its label.
    ``detail`` must never hold a secret: it is shown to auditors and exported.
    """
    actor = _actor(actor, request)
    subject = target if target is not None else actor
    if subject is not None:
        content_type = ContentType.objects.get_for_model(subject, for_concrete_model=False)
        object_pk, object_id = str(subject.pk), subject.pk if isinstance(subject.pk, int) else None
        label = repr_ or str(subject)
    else:
        content_type = ContentType.objects.get_for_model(get_user_model())
        object_pk, object_id, label = "", None, repr_ or ""
    return LogEntry.objects.create(
        content_type=content_type,
        object_pk=object_pk,
        object_id=object_id,
        object_repr=label[:1000],
        action=LogEntry.Action.ACCESS,
        changes={},
        actor=actor,
        remote_addr=_remote_addr(request),
        cid=get_cid(),
        additional_data={"event": event, **detail},
    )


def _actor(actor, request):
    if actor is not None:
        return actor if getattr(actor, "is_authenticated", False) else None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    # Otherwise left empty on purpose: inside an active set_actor() (a command, the request
    # middleware) auditlog's own pre_save receiver fills it in, and in a Celery task
    # audit.correlation does. Reading auditlog_value here would also see a context that
    # has ended: auditlog never resets it.
    return None


def _remote_addr(request):
    if request is None:
        return None  # filled from the active context, as the actor is
    from .middleware import AuditMiddleware

    return AuditMiddleware._get_remote_addr(request)
