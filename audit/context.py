"""Who the audit trail attributes a change to, where the request middleware cannot know."""

from contextlib import contextmanager

from auditlog.context import auditlog_value
from auditlog.context import set_actor as _auditlog_set_actor


@contextmanager
def acting_as(actor, **where):
    """auditlog's ``set_actor`` (``remote_addr=``, ``remote_port=``), undone when the block ends.

    auditlog sets its context and never resets it: after its block, whatever else runs in the
    thread (a message published, the next command or test) would still name ``actor``, and
    ``audit.correlation`` stamps tasks with it. Use this instead (lint forbids the original).
    """
    token = auditlog_value.set({})
    try:
        with _auditlog_set_actor(actor, **where):
            yield
    finally:
        auditlog_value.reset(token)


def attribute_changes_to(user) -> None:
    """Set the actor for the rest of this request's changes.

    AuditlogMiddleware records ``request.user`` before DRF authenticates a token;
    this updates the same context in place. (Nesting auditlog's ``set_actor``
    inside the middleware's context would leak its signal receiver.)
    """
    if user is None or not user.is_authenticated:
        return
    try:
        context = auditlog_value.get()
    except LookupError:
        return
    context["actor"] = user
