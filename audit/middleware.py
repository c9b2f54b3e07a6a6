"""Attribute every change in a request to its user, client address and correlation id."""

from auditlog.cid import correlation_id
from auditlog.context import auditlog_value, set_extra_data
from auditlog.middleware import AuditlogMiddleware
from django.conf import settings

from .correlation import new_cid

CID_MAX_LENGTH = 64


class AuditMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware, with a client address and correlation id that cannot be forged.

    auditlog believes the *first* X-Forwarded-For entry, which any client can
    write. We use the socket's address, or, behind our own proxy
    (JUNCTION_BEHIND_PROXY), the *last* entry: the one that proxy appended.
    Likewise the correlation id: a fresh one per request, or our proxy's
    ``X-Correlation-ID``. It is returned in the response's header, and
    Celery tasks the request starts carry it (audit/correlation.py).
    """

    def __call__(self, request):
        cid = self._get_cid(request)
        token = correlation_id.set(cid)
        # auditlog sets its context without ever resetting it: a thread's next caller (a test,
        # a command run in-process) would inherit this request's actor. The token undoes it.
        context_token = auditlog_value.set({})
        try:
            with set_extra_data(context_data=self.get_extra_data(request)):
                response = self.get_response(request)
        finally:
            auditlog_value.reset(context_token)
            correlation_id.reset(token)
        response.headers.setdefault("X-Correlation-ID", cid)
        return response

    @staticmethod
    def _get_cid(request) -> str:
        given = request.headers.get(settings.AUDITLOG_CID_HEADER, "").strip()
        if settings.BEHIND_PROXY and given and len(given) <= CID_MAX_LENGTH and given.isprintable():
            return given
        return new_cid()

    @staticmethod
    def _get_remote_addr(request):
        forwarded = request.headers.get("X-Forwarded-For", "")
        if settings.BEHIND_PROXY and forwarded:
            return forwarded.split(",")[-1].strip()
        return request.META.get("REMOTE_ADDR")

    @staticmethod
    def _get_remote_port(request):
        return None
