"""Attribute every change in a request to its user and client address."""

from auditlog.middleware import AuditlogMiddleware
from django.conf import settings


class AuditMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware, with a client address that cannot be forged.

    auditlog believes the *first* X-Forwarded-For entry, which any client can
    write. We use the socket's address, or, behind our own proxy
    (JUNCTION_BEHIND_PROXY), the *last* entry: the one that proxy appended.
    """

    @staticmethod
    def _get_remote_addr(request):
        forwarded = request.headers.get("X-Forwarded-For", "")
        if settings.BEHIND_PROXY and forwarded:
            return forwarded.split(",")[-1].strip()
        return request.META.get("REMOTE_ADDR")

    @staticmethod
    def _get_remote_port(request):
        return None
