"""/api/v1/tokens/: a person's own API tokens; Administrators may list and revoke anyone's."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.response import Response

from accounts import tokens
from accounts.models import ApiToken
from accounts.reauth import RecentAuthRequired

from . import schema  # noqa: F401  (registers the token scheme with drf-spectacular)
from .serializers import ApiTokenCreatedSerializer, ApiTokenSerializer


class SessionWithRecentAuth(RecentAuthRequired):
    """Creating a token needs a browser session with a recent sign-in: a token cannot mint another."""

    message = "Create tokens from a signed-in session that re-authenticated recently (/accounts/reauth/)."

    def has_permission(self, request, view):
        return request.auth is None and super().has_permission(request, view)


class ApiTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """List (own, or all for Administrators), create (own) and revoke tokens. Secrets are shown once."""

    serializer_class = ApiTokenSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_permissions(self):
        if self.action == "create":
            return [permissions.IsAuthenticated(), SessionWithRecentAuth()]
        return super().get_permissions()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return tokens.tokens_revocable_by(self.request.user).order_by("-created")

    @extend_schema(request=ApiTokenSerializer, responses={201: ApiTokenCreatedSerializer})
    def create(self, request):
        serializer = ApiTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, secret = tokens.create_token(
            request.user, data["name"], data.get("expires_in_days"), request=request._request
        )
        token.token = secret
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        tokens.revoke_token(instance, request=self.request._request)
