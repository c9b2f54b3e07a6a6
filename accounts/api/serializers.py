from django.conf import settings
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
