"""``/api/v1/<systems|connectors|flows>/<id>/access/``: who holds access, granting and revoking.

The same rules as the Access tab (``accounts.access``): the object must be
visible (else 404); listing needs ``view`` on its permission models
(Administrators, Auditors), granting and revoking ``change`` on them
(Administrators), else 403; a session-authenticated grant or revoke needs a
recent authentication (``RecentAuthRequired``). Each grant and revoke is an
access event in the audit trail.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import access
from accounts.reauth import RecentAuthRequired


class HolderSerializer(serializers.Serializer):
    type = serializers.CharField(source="kind")
    id = serializers.IntegerField(source="principal.pk")
    name = serializers.CharField()
    permissions = serializers.ListField(child=serializers.CharField(), source="actions")


class AccessChangeSerializer(serializers.Serializer):
    """Exactly one of ``user`` (a username) or ``group`` (a group name)."""

    user = serializers.CharField(required=False)
    group = serializers.CharField(required=False)
    permissions = serializers.ListField(
        child=serializers.ChoiceField(choices=access.ACTIONS), required=False, default=list
    )

    def validate(self, attrs):
        if bool(attrs.get("user")) == bool(attrs.get("group")):
            raise serializers.ValidationError({"user": ["Give a user or a group (one of them)."]})
        if attrs.get("user"):
            principal = get_user_model().objects.filter(username=attrs["user"], is_active=True).first()
            if principal is None:
                raise serializers.ValidationError({"user": ["No active user has this username."]})
        else:
            principal = Group.objects.filter(name=attrs["group"]).first()
            if principal is None:
                raise serializers.ValidationError({"group": ["No group has this name."]})
        attrs["principal"] = principal
        return attrs


class ManagesAccess(permissions.BasePermission):
    """Reading the list needs ``may_see``, changing it ``may_manage`` (checked on the object)."""

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return access.may_see(request.user, obj)
        return access.may_manage(request.user, obj)


class ReauthForChanges(RecentAuthRequired):
    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or super().has_permission(request, view)


class AccessActionsMixin:
    """Adds ``access`` (GET list, POST grant) and ``access/revoke`` (POST) to a restricted viewset."""

    ACCESS_PERMISSIONS = [permissions.IsAuthenticated, ManagesAccess]

    def get_access_object(self):
        # Visible is enough to find it; ManagesAccess decides the rest (403), restrict() the 404.
        obj = self.get_object()
        if self.request.method not in permissions.SAFE_METHODS:
            # Re-auth is asked only of those who may act (ManagesAccess passed in get_object).
            reauth = ReauthForChanges()
            if not reauth.has_permission(self.request, self):
                raise exceptions.PermissionDenied(reauth.message)
        return obj

    @extend_schema(
        request=AccessChangeSerializer,
        responses={200: HolderSerializer(many=True), 201: HolderSerializer(many=True)},
        summary="Who holds access (GET); grant a user or group permissions (POST)",
    )
    @action(detail=True, methods=["get", "post"], permission_classes=ACCESS_PERMISSIONS)
    def access(self, request, pk=None, format=None):
        obj = self.get_access_object()
        if request.method == "POST":
            body = self.access_body(request)
            self.call(access.grant, obj, body)
            return Response(HolderSerializer(access.holders(obj), many=True).data, status=status.HTTP_201_CREATED)
        return Response(HolderSerializer(access.holders(obj), many=True).data)

    @extend_schema(
        request=AccessChangeSerializer,
        responses={200: HolderSerializer(many=True)},
        summary="Revoke permissions (all of them when none are named)",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="access/revoke",
        url_name="access-revoke",
        permission_classes=ACCESS_PERMISSIONS,
    )
    def access_revoke(self, request, pk=None, format=None):
        obj = self.get_access_object()
        self.call(access.revoke, obj, self.access_body(request))
        return Response(HolderSerializer(access.holders(obj), many=True).data)

    def access_body(self, request) -> dict:
        body = AccessChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return body.validated_data

    def call(self, operation, obj, body) -> list[str]:
        try:
            return operation(
                obj, body["principal"], body["permissions"], request=self.request._request, actor=self.request.user
            )
        except access.AccessError as exc:
            raise exceptions.ValidationError({exc.field or "non_field_errors": [str(exc)]}) from None
