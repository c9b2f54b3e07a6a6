from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import ApiToken


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as listed: never its secret (only a hash is stored)."""

    owner = serializers.CharField(source="user.username", read_only=True)
    expires_in_days = serializers.IntegerField(write_only=True, required=False, min_value=1)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "owner", "created", "expiry", "last_used_at", "expires_in_days"]
        read_only_fields = ["id", "owner", "created", "expiry", "last_used_at"]

    def validate_expires_in_days(self, value):
        if value > settings.JUNCTION_API_TOKEN_MAX_DAYS:
            raise serializers.ValidationError(f"At most {settings.JUNCTION_API_TOKEN_MAX_DAYS} days.")
        return value


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    """The answer to a creation: the one time the secret is shown."""

    token = serializers.CharField(read_only=True)

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]


@extend_schema_field(OpenApiTypes.URI)
class PageUrlField(serializers.Field):
    """An object's page in the portal (``get_absolute_url``), absolute when there is a request."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, obj) -> str:
        path = obj.get_absolute_url()
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class RefusalSerializer(serializers.Serializer):
    """The body of a refusal (403, 409): why not, for a person."""

    detail = serializers.CharField(help_text="Why not, for a person.")
