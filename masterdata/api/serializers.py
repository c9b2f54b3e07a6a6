from django.core.exceptions import ValidationError
from rest_framework import serializers

from ..models import DuplicateCandidate, GoldenRecord, Merge, RuleApplication, SurvivorshipRule
from ..services.rules import validate_rule


class GoldenRecordSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:masterdata:goldenrecord-detail")

    class Meta:
        model = GoldenRecord
        fields = [
            "id",
            "url",
            "entity",
            "display_name",
            "values",
            "lineage",
            "pinned",
            "merged_into",
            "created",
            "updated",
        ]


class GoldenRecordBriefSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:masterdata:goldenrecord-detail")

    class Meta:
        model = GoldenRecord
        fields = ["id", "url", "display_name"]


class DuplicateCandidateSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:masterdata:duplicatecandidate-detail")
    left = GoldenRecordBriefSerializer(read_only=True)
    right = GoldenRecordBriefSerializer(read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = DuplicateCandidate
        fields = ["id", "url", "entity", "left", "right", "score", "fields", "status", "created", "decided_by"]


class MergeSerializer(serializers.ModelSerializer):
    survivor = GoldenRecordBriefSerializer(read_only=True)
    absorbed = GoldenRecordBriefSerializer(read_only=True)
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Merge
        fields = ["id", "survivor", "absorbed", "candidate", "chosen", "actor", "created"]


class MergeRequestSerializer(serializers.Serializer):
    """Which value survives for fields where the two records differ: ``{"email": "right"}``.

    Fields left out keep what survivorship rules give; the older record (``left``) survives.
    """

    choices = serializers.DictField(
        child=serializers.ChoiceField(choices=["left", "right", "rules"]), required=False, default=dict
    )


class SurvivorshipRuleSerializer(serializers.ModelSerializer):
    """A rule of an entity's ``field`` (empty: the entity's default); ``trusted_systems``: System ids,
    most trusted first, for "most trusted source". Checked by ``services.rules.validate_rule``."""

    url = serializers.HyperlinkedIdentityField(view_name="api:masterdata:survivorshiprule-detail")
    trusted_systems = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)

    class Meta:
        model = SurvivorshipRule
        fields = ["id", "url", "entity", "field", "strategy", "trusted_systems"]

    def validate(self, attrs):
        merged = {
            name: attrs.get(name, getattr(self.instance, name, None))
            for name in ("entity", "field", "strategy", "trusted_systems")
        }
        try:
            attrs["trusted_systems"] = validate_rule(
                merged["entity"], merged["field"] or "", merged["strategy"], merged["trusted_systems"] or []
            )
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class RuleApplicationSerializer(serializers.ModelSerializer):
    """An application of the survivorship rules to an entity's golden records. POST only ``entity``."""

    url = serializers.HyperlinkedIdentityField(view_name="api:masterdata:ruleapplication-detail")
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = RuleApplication
        fields = [
            "id",
            "url",
            "entity",
            "status",
            "total",
            "examined",
            "changed",
            "error",
            "requested_by",
            "created",
            "started",
            "finished",
        ]
        read_only_fields = [name for name in fields if name != "entity"]
        validators = []  # one per entity at a time: start_apply says so (409), or queues a stalled one again
