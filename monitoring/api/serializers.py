"""API representation of alerts: read-only; a person changes one only by acknowledging it."""

from rest_framework import serializers

from accounts.api.serializers import PageUrlField

from ..choices import AlertStatus
from ..models import Alert


class AlertSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:alert-detail")
    status = serializers.ChoiceField(choices=AlertStatus.choices, read_only=True)
    acknowledged_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="The username of who acknowledged it."
    )
    page = PageUrlField(help_text="The alert's page in the portal.")

    class Meta:
        model = Alert
        fields = [
            "id",
            "url",
            "page",
            "kind",
            "severity",
            "status",
            "title",
            "detail",
            "key",
            "flow",
            "connector",
            "opened_at",
            "last_seen_at",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_at",
        ]
        read_only_fields = fields
