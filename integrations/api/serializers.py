"""API representations. Connector credentials are write-only: a response says whether
they are set and when they changed, never what they are."""

import copy

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, serializers

from accounts.api.serializers import PageUrlField
from accounts.reauth import RecentAuthRequired

from .. import services
from ..adapters import registry
from ..choices import FlowEntity, Stage
from ..engine import mapping
from ..models import Connector, Flow, Reconciliation, RecordOutcome, Run, System


class SystemSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:system-detail")
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = System
        fields = ["id", "url", "name", "kind", "environment", "owner", "locale", "notes", "created", "updated"]


def visible(request, model, action: str = "view"):
    user = request.user if request is not None else None
    return model.objects.restrict(user, action)


class ConnectorSerializer(serializers.ModelSerializer):
    """Settings are checked by the adapter's settings schema and credentials by its credentials
    schema; errors come back per field, e.g. ``{"settings": {"base_url": ["…"]}}``."""

    url = serializers.HyperlinkedIdentityField(view_name="api:connector-detail")
    adapter = serializers.ChoiceField(choices=[])
    settings = serializers.JSONField(required=False, help_text="The adapter's settings (see its documentation).")
    credentials = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        write_only=True,
        required=False,
        help_text="Secrets, write-only. Keys you leave out or send empty keep their stored value.",
    )
    has_credentials = serializers.BooleanField(read_only=True)
    credentials_changed = serializers.DateTimeField(read_only=True)

    class Meta:
        model = Connector
        fields = [
            "id",
            "url",
            "name",
            "system",
            "adapter",
            "enabled",
            "settings",
            "credentials",
            "has_credentials",
            "credentials_changed",
            "circuit",
            "last_error",
            "created",
            "updated",
        ]
        read_only_fields = ["circuit", "last_error"]

    def get_fields(self):
        fields = super().get_fields()
        fields["adapter"].choices = registry.choices()
        fields["system"].queryset = visible(self.context.get("request"), System)
        return fields

    def validate(self, attrs):
        instance = self.instance
        adapter = attrs.get("adapter", instance.adapter if instance else None)
        settings = attrs.get("settings", instance.settings if instance else {})
        if not isinstance(settings, dict):
            raise serializers.ValidationError({"settings": ["Give the settings as a JSON object."]})
        credentials, changed = services.merged_credentials(instance, adapter, attrs.pop("credentials", None))
        if changed and instance is not None:
            self._require_recent_auth()
        try:
            services.validate_connector_config(adapter, settings, credentials)
        except services.ConfigErrors as exc:
            raise serializers.ValidationError(exc.errors) from None
        attrs["settings"] = settings
        self._credentials = credentials if changed else None
        return attrs

    def _require_recent_auth(self) -> None:
        """Replacing stored credentials over a session needs a recent sign-in (token requests pass)."""
        request, check = self.context.get("request"), RecentAuthRequired()
        if request is not None and not check.has_permission(request, self.context.get("view")):
            raise exceptions.PermissionDenied(check.message)

    def save(self, **kwargs):
        user = self.context["request"].user
        connector = self.instance or Connector()
        for name, value in {**self.validated_data, **kwargs}.items():
            setattr(connector, name, value)
        services.save_connector(connector, user, getattr(self, "_credentials", None))
        self.instance = connector
        return connector


class FlowSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:flow-detail")
    mapping = serializers.JSONField(required=False, help_text="Mapping rules; see docs for the format.")
    filters = serializers.JSONField(required=False)
    pilot_filter = serializers.JSONField(required=False)
    last_run = serializers.SerializerMethodField()

    class Meta:
        model = Flow
        fields = [
            "id",
            "url",
            "name",
            "entity",
            "source",
            "targets",
            "trigger",
            "schedule_minutes",
            "mapping",
            "filters",
            "pilot_filter",
            "batch_size",
            "max_attempts",
            "retry_base_seconds",
            "stage",
            "watermark",
            "last_run",
            "created",
            "updated",
        ]
        read_only_fields = ["stage", "watermark"]

    def get_fields(self):
        fields = super().get_fields()
        connectors = visible(self.context.get("request"), Connector)
        if self.instance is not None and isinstance(self.instance, Flow):
            # What the flow already uses stays valid, even if not granted to this person.
            used = [self.instance.source_id, *self.instance.targets.values_list("pk", flat=True)]
            connectors = (connectors | Connector.objects.filter(pk__in=used)).distinct()
        fields["source"].queryset = connectors
        fields["targets"].child_relation.queryset = connectors
        return fields

    def get_last_run(self, flow) -> int | None:
        runs = getattr(flow, "latest_runs", None)
        if runs is None:
            runs = list(flow.runs.order_by("-pk")[:1])
        return runs[0].pk if runs else None

    def validate_mapping(self, value):
        return mapping.validate_rules(value)

    def validate_filters(self, value):
        return mapping.validate_filters(value)

    def validate_pilot_filter(self, value):
        return mapping.validate_filters(value)

    def validate(self, attrs):
        """The model's own rules (trigger, schedule, one flow per webhook) and the route's, by field."""
        flow = copy.copy(self.instance) if self.instance is not None else Flow()
        for name, value in attrs.items():
            if name != "targets":
                setattr(flow, name, value)
        try:
            flow.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        targets = (
            attrs["targets"] if "targets" in attrs else (list(self.instance.targets.all()) if self.instance else [])
        )
        errors = services.route_errors(attrs.get("source", getattr(self.instance, "source", None)), targets)
        if errors:
            raise serializers.ValidationError({field: [message] for field, message in errors.items()})
        return attrs

    def create(self, validated_data):
        flow = super().create(validated_data)
        services.grant_creator(flow, self.context["request"].user)
        return flow


class PromoteSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)


class PreviewRequestSerializer(serializers.Serializer):
    record = serializers.DictField(help_text="One sample record, as the source would send it.")


class RunStartedSerializer(serializers.Serializer):
    run = serializers.IntegerField()
    url = serializers.URLField()
    status = serializers.CharField()


class RunSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:run-detail")
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    finished = serializers.BooleanField(read_only=True)
    dry_run = serializers.BooleanField(read_only=True)

    class Meta:
        model = Run
        fields = [
            "id",
            "url",
            "flow",
            "stage",
            "trigger",
            "status",
            "dry_run",
            "finished",
            "requested_by",
            "read",
            "filtered",
            "created",
            "updated",
            "unchanged",
            "planned",
            "quarantined",
            "failed",
            "dead_lettered",
            "error",
            "queued_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class OutcomeSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:outcome-detail")

    class Meta:
        model = RecordOutcome
        fields = [
            "id",
            "url",
            "run",
            "flow",
            "target",
            "external_id",
            "subject",
            "status",
            "action",
            "attempts",
            "next_attempt_at",
            "remote_id",
            "error_class",
            "error_message",
            "discard_reason",
            "payload",
            "mapped",
            "diff",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OutcomeIdsSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=10_000)


class DiscardRequestSerializer(OutcomeIdsSerializer):
    reason = serializers.CharField(max_length=1000, help_text="Why the records are given up on; required.")


class ReplayResultSerializer(serializers.Serializer):
    runs = serializers.ListField(child=serializers.IntegerField(), help_text="The new replay runs, one per flow.")


class DiscardResultSerializer(serializers.Serializer):
    discarded = serializers.IntegerField()


class CheckSerializer(serializers.Serializer):
    name = serializers.CharField()
    ok = serializers.BooleanField()
    detail = serializers.CharField()


class ConnectionTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    checks = CheckSerializer(many=True)


class ReconciliationSerializer(serializers.ModelSerializer):
    """A reconciliation in a list: its counts, not the records found missing (see its own URL)."""

    url = serializers.HyperlinkedIdentityField(view_name="api:reconciliation-detail")
    page = PageUrlField(help_text="The reconciliation's page in the portal.")
    requested_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Who started it; null: the schedule."
    )
    finished = serializers.BooleanField(read_only=True)
    accepted_by = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Who accepted the deletions it found (null: nobody yet, or a deleted user when accepted_at is set).",
    )
    resent_by = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Who had the records it found sent again (null: nobody yet, or a deleted user if resent_at is set).",
    )
    resend_runs = serializers.HyperlinkedRelatedField(
        view_name="api:run-detail",
        many=True,
        read_only=True,
        help_text="The runs sending the records again (trigger `restore`), one per flow that had delivered them.",
    )

    class Meta:
        model = Reconciliation
        fields = [
            "id",
            "url",
            "page",
            "target",
            "entity",
            "status",
            "finished",
            "requested_by",
            "delivered",
            "present",
            "missing_count",
            "error",
            "accepted_at",
            "accepted_by",
            "resent_at",
            "resent_by",
            "resend_runs",
            "queued_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "accepted_at": {
                "help_text": "When someone accepted the deletions it found: Junction forgot it delivered them."
            },
            "resent_at": {"help_text": "When someone had the records it found sent to the target again."},
        }


class MissingRecordSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The record's key at the target.")
    subject = serializers.CharField(
        help_text="Junction's name for the record: `golden:<id>` (master data) or `<source system id>:<id>`."
    )


class ReconciliationDetailSerializer(ReconciliationSerializer):
    missing = MissingRecordSerializer(
        many=True, read_only=True, help_text="The first 1,000 records found gone; missing_count counts them all."
    )

    class Meta(ReconciliationSerializer.Meta):
        fields = [*ReconciliationSerializer.Meta.fields, "missing"]
        read_only_fields = fields


class NotResentSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why these records could not be sent again.")
    records = serializers.IntegerField(help_text="How many; Junction forgot it had delivered them.")


class ResendResultSerializer(serializers.Serializer):
    sent = serializers.IntegerField(help_text="Records on their way to the target again.")
    not_sent = NotResentSerializer(many=True, help_text="Records that could not be sent again, by reason.")
    reconciliation = ReconciliationDetailSerializer(help_text="The reconciliation, now settled.")


class ReconciliationRequestSerializer(serializers.Serializer):
    target = serializers.PrimaryKeyRelatedField(
        queryset=Connector.objects.none(), help_text="The id of a connector Junction delivers to."
    )
    entity = serializers.ChoiceField(choices=FlowEntity.choices)

    def get_fields(self):
        fields = super().get_fields()
        fields["target"].queryset = visible(self.context.get("request"), Connector)
        return fields
