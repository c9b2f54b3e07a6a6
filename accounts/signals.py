"""Sign-in events: the session's authentication time and 2FA step, and the audit trail.

Connected in ``AccountsConfig.ready``. The attempted username is recorded on
failures (an auditor needs it to see who is being guessed at); the password
never is.
"""

from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete
from django.dispatch import receiver

from audit.events import record_event

from . import reauth, two_factor
from .middleware import IdleTimeoutMiddleware


@receiver(user_logged_in, dispatch_uid="accounts.logged_in")
def on_logged_in(sender, request, user, **kwargs):
    if request is None:  # e.g. a script calling login() without a request
        return
    reauth.mark_authenticated(request)
    # Seen now: the first page after signing in then writes no session row of its own.
    request.session[IdleTimeoutMiddleware.SESSION_KEY] = request.session[reauth.SESSION_KEY]
    two_factor.remember_step(request, user)
    record_event("login.succeeded", actor=user, target=user, request=request)


@receiver(user_login_failed, dispatch_uid="accounts.login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    if request is not None and getattr(request, "junction_reauth", False):
        return  # the re-auth page records its own event
    username = str(credentials.get("username", ""))[:150]
    known = get_user_model().objects.filter(username=username).first()
    record_event("login.failed", actor=None, target=known, repr_=username, request=request, username=username)


@receiver(user_logged_out, dispatch_uid="accounts.logged_out")
def on_logged_out(sender, request, user, **kwargs):
    if user is not None:
        record_event("logout", actor=user, target=user, request=request)


@receiver(user_locked_out, dispatch_uid="accounts.locked_out")
def on_locked_out(sender, request, username, ip_address, **kwargs):
    username = str(username or "")[:150]
    known = get_user_model().objects.filter(username=username).first()
    record_event(
        "login.locked_out", actor=None, target=known, repr_=username, request=request, username=username, ip=ip_address
    )


@receiver(post_delete, sender=AccessAttempt, dispatch_uid="accounts.lockout_cleared")
def on_attempts_deleted(sender, instance, **kwargs):
    """An unlock (admin page or an axes_reset* command) or an expired lockout, in the trail."""
    if instance.failures_since_start < settings.AXES_FAILURE_LIMIT:
        return  # counters cleared by a successful sign-in, no lockout was lifted
    known = get_user_model().objects.filter(username=instance.username).first()
    record_event(
        "login.lockout_cleared",
        target=known,
        repr_=instance.username or "",
        username=instance.username or "",
        ip=instance.ip_address,
    )
