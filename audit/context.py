"""Who the audit trail attributes a change to, where the request middleware cannot know."""

from auditlog.context import auditlog_value


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
