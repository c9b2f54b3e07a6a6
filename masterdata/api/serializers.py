from rest_framework import serializers

from ..models import DuplicateCandidate, GoldenRecord, Merge


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
