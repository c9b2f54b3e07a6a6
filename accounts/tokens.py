"""API tokens: create, revoke, authenticate (django-rest-knox underneath).

The secret is returned once by ``create_token`` and never stored: knox keeps
its SHA-512 digest and the first characters (to find candidates). Requests
send ``Authorization: Token <secret>``. Creation and revocation are access
events in the audit trail, named by the token's id and name, never its secret.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from knox.auth import TokenAuthentication

from audit.events import record_event

from .models import ApiToken

# last_used_at is written at most this often per token, so a busy client costs no write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def create_token(user, name: str, days: int | None = None, *, request=None) -> tuple[ApiToken, str]:
    """A new token for ``user`` valid ``days`` (capped at JUNCTION_API_TOKEN_MAX_DAYS); returns it and its secret."""
    days = min(days or settings.JUNCTION_API_TOKEN_DAYS, settings.JUNCTION_API_TOKEN_MAX_DAYS)
    token, secret = ApiToken.objects.create(user=user, expiry=timedelta(days=days), name=name)
    # Only the owner creates their tokens: they are the actor, with or without a request.
    record_event(
        "token.created", actor=user, target=token, request=request, owner=user.get_username(), expiry=str(token.expiry)
    )
    return token, secret


def revoke_token(token: ApiToken, *, request=None) -> None:
    """Delete ``token``: the next request with it gets a 401."""
    record_event("token.revoked", target=token, request=request, owner=token.user.get_username())
    token.delete()


def tokens_revocable_by(user):
    """Everyone revokes their own tokens; Administrators (``delete_apitoken``) anyone's."""
    tokens = ApiToken.objects.select_related("user")
    return tokens if user.has_perm("accounts.delete_apitoken") else tokens.filter(user=user)


def live_tokens(user):
    return ApiToken.objects.filter(user=user, expiry__gt=timezone.now())


class ApiTokenAuthentication(TokenAuthentication):
    """knox's authentication, keeping the token's last-used time (to the minute)."""

    def authenticate_credentials(self, token):
        user, auth_token = super().authenticate_credentials(token)
        now = timezone.now()
        if auth_token.last_used_at is None or now - auth_token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=auth_token.pk).update(last_used_at=now)
            auth_token.last_used_at = now
        return user, auth_token
