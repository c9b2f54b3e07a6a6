from django.contrib.auth import get_user_model
from rest_framework import serializers

from ..models import System


class SystemSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:system-detail")
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = System
        fields = ["id", "url", "name", "kind", "environment", "owner", "notes", "created", "updated"]
