"""Master-data API: golden records and duplicate candidates to read, and the
steward's two decisions on a candidate (merge, not a duplicate) as POST actions.

Reads go through ``restrict()`` like every page. The actions need the role's
``masterdata.add_merge`` permission (403 without it) and a candidate, and both
its records, the user may change (404 otherwise), exactly as on the pages.

Survivorship rules are read and written like any model (``RestrictedModelViewSet``);
applying them to the stored golden records is a POST of a rule application
(``masterdata.add_ruleapplication``), run by a worker; 409 while one runs for the entity.
"""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.viewsets import Conflict, ModelPermissions, RestrictedModelViewSet
from audit.context import attribute_changes_to

from ..choices import CandidateStatus
from ..filtersets import DuplicateCandidateFilterSet, GoldenRecordFilterSet
from ..forms import MergeForm
from ..models import DuplicateCandidate, GoldenRecord, RuleApplication, SurvivorshipRule
from ..services.apply_rules import start_apply
from ..services.merge import mark_not_duplicate, merge
from ..views.review import changeable_pair
from .serializers import (
    DuplicateCandidateSerializer,
    GoldenRecordSerializer,
    MergeRequestSerializer,
    MergeSerializer,
    RuleApplicationSerializer,
    SurvivorshipRuleSerializer,
)


class RestrictedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """``accounts.api.viewsets.RestrictedModelViewSet`` without create, update and delete."""

    permission_classes = [permissions.IsAuthenticated, ModelPermissions]

    def get_queryset(self):
        return self.queryset.restrict(self.request.user, "view").order_by("pk")

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        attribute_changes_to(request.user)


class GoldenRecordViewSet(RestrictedReadOnlyViewSet):
    queryset = GoldenRecord.objects.all()
    serializer_class = GoldenRecordSerializer
    filterset_class = GoldenRecordFilterSet


class DecisionPermission(permissions.BasePermission):
    def has_permission(self, request, view):
        user = request.user
        return user.has_perm("masterdata.add_merge") and user.has_perm("masterdata.change_duplicatecandidate")


class DuplicateCandidateViewSet(RestrictedReadOnlyViewSet):
    queryset = DuplicateCandidate.objects.select_related("left", "right", "decided_by")
    serializer_class = DuplicateCandidateSerializer
    filterset_class = DuplicateCandidateFilterSet

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            queryset = queryset.filter(status=self.request.query_params.get("status") or CandidateStatus.OPEN)
        return queryset

    def decidable(self, pk) -> DuplicateCandidate:
        candidate = changeable_pair(self.request.user, pk)
        if candidate.status != CandidateStatus.OPEN:
            raise exceptions.ValidationError(
                {"status": f"This pair was already decided: {candidate.get_status_display()}."}
            )
        return candidate

    @extend_schema(request=MergeRequestSerializer, responses={201: MergeSerializer})
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated, DecisionPermission])
    def merge(self, request, pk=None):
        candidate = self.decidable(pk)
        body = MergeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        choices = body.validated_data["choices"]
        form = MergeForm.with_choices(candidate, choices)
        unknown = set(choices) - set(form.fields)
        if unknown or not form.is_valid():
            detail = {name: "The records do not differ in this field." for name in unknown}
            detail.update({name: errors for name, errors in form.errors.items()})
            raise exceptions.ValidationError({"choices": detail})
        try:
            record = merge(form.survivor, form.absorbed, form.chosen(), actor=request.user, candidate=candidate)
        except ValidationError as exc:
            raise exceptions.ValidationError({"non_field_errors": exc.messages}) from exc
        return Response(MergeSerializer(record, context=self.get_serializer_context()).data, status=201)

    @extend_schema(request=None, responses={200: DuplicateCandidateSerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path="not-duplicate",
        permission_classes=[permissions.IsAuthenticated, DecisionPermission],
    )
    def not_duplicate(self, request, pk=None):
        candidate = mark_not_duplicate(self.decidable(pk), actor=request.user)
        return Response(self.get_serializer(candidate).data)


class SurvivorshipRuleViewSet(RestrictedModelViewSet):
    queryset = SurvivorshipRule.objects.all()
    serializer_class = SurvivorshipRuleSerializer
    filterset_fields = ["entity", "field"]


class RuleApplicationViewSet(mixins.CreateModelMixin, RestrictedReadOnlyViewSet):
    queryset = RuleApplication.objects.select_related("requested_by")
    serializer_class = RuleApplicationSerializer
    filterset_fields = ["entity", "status"]

    def perform_create(self, serializer):
        try:
            application, _queued_again = start_apply(serializer.validated_data["entity"], user=self.request.user)
        except ValidationError as exc:
            raise Conflict(" ".join(exc.messages)) from None
        serializer.instance = application
