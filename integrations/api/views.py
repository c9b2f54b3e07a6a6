"""Integration API: systems, connectors, flows, runs, record outcomes and reconciliations.

The same choke point as the pages: every queryset comes through
``restrict()``, and the actions (test a connector; run, promote or preview a
flow; replay or discard records) need ``change`` on the connector or flow, so
an object the caller may not change is a 404. Every action is audited by the
same service functions the pages call.
"""

from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.reverse import reverse

from accounts.api.serializers import RefusalSerializer
from accounts.api.viewsets import Conflict, RestrictedModelViewSet
from audit.context import attribute_changes_to

from .. import services
from ..engine import actions, reconcile
from ..filtersets import (
    ConnectorFilterSet,
    FlowFilterSet,
    OutcomeFilterSet,
    ReconciliationApiFilterSet,
    RunApiFilterSet,
    SystemFilterSet,
)
from ..models import Connector, Flow, Reconciliation, Run, System
from . import serializers as s
from .access import AccessActionsMixin

ACTING = [permissions.IsAuthenticated]  # actions decide by restrict(user, "change"): 404 when not allowed


class SystemViewSet(AccessActionsMixin, RestrictedModelViewSet):
    queryset = System.objects.select_related("owner")
    serializer_class = s.SystemSerializer
    filterset_class = SystemFilterSet


class ChangeableForActionsMixin:
    """Custom POST actions act on objects the caller may change."""

    acting = frozenset()

    def get_queryset(self):
        if self.action in self.acting:
            return self.queryset.restrict(self.request.user, "change").order_by("pk")
        return super().get_queryset()


def action_error(exc: services.ActionError) -> exceptions.ValidationError:
    return exceptions.ValidationError({"detail": str(exc)})


class ConnectorViewSet(AccessActionsMixin, ChangeableForActionsMixin, RestrictedModelViewSet):
    queryset = Connector.objects.select_related("system")
    serializer_class = s.ConnectorSerializer
    filterset_class = ConnectorFilterSet
    acting = frozenset({"test"})

    @extend_schema(request=None, responses={200: s.ConnectionTestSerializer}, summary="Test the connection")
    @action(detail=True, methods=["post"], permission_classes=ACTING)
    def test(self, request, pk=None):
        checks = services.check_connection(self.get_object(), request.user)
        body = {"ok": all(c.ok for c in checks), "checks": [vars(c) for c in checks]}
        return Response(s.ConnectionTestSerializer(body).data)


class FlowViewSet(AccessActionsMixin, ChangeableForActionsMixin, RestrictedModelViewSet):
    queryset = Flow.objects.select_related("source").prefetch_related(
        "targets", Prefetch("runs", queryset=Run.objects.order_by("-pk")[:1], to_attr="latest_runs")
    )
    serializer_class = s.FlowSerializer
    filterset_class = FlowFilterSet
    acting = frozenset({"run", "promote", "preview"})

    @extend_schema(
        request=None,
        responses={202: s.RunStartedSerializer, 400: OpenApiResponse(description="The flow cannot run now, and why.")},
        summary="Start a run",
    )
    @action(detail=True, methods=["post"], permission_classes=ACTING)
    def run(self, request, pk=None):
        try:
            run = services.run_flow(self.get_object(), request.user, via="api")
        except services.ActionError as exc:
            raise action_error(exc) from None
        url = reverse("api:run-detail", args=[run.pk], request=request)
        return Response({"run": run.pk, "url": url, "status": run.status}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=s.PromoteSerializer, responses={200: s.FlowSerializer}, summary="Move to another stage")
    @action(detail=True, methods=["post"], permission_classes=ACTING)
    def promote(self, request, pk=None):
        flow = self.get_object()
        body = s.PromoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            services.promote_flow(flow, body.validated_data["stage"], request.user)
        except services.ActionError as exc:
            raise exceptions.ValidationError({"stage": [str(exc)]}) from None
        return Response(self.get_serializer(flow).data)

    @extend_schema(
        request=s.PreviewRequestSerializer,
        responses={200: OpenApiTypes.OBJECT},
        summary="Preview the mapping",
        description="The record through cleansing and the flow's saved mapping: input, cleansed, changes, "
        "errors, mapped (or mapping_error) and passes_filters. Writes nothing.",
    )
    @action(detail=True, methods=["post"], permission_classes=ACTING)
    def preview(self, request, pk=None):
        body = s.PreviewRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(actions.preview(self.get_object(), body.validated_data["record"]))


class ReadOnlyRestrictedViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [permissions.IsAuthenticated]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        attribute_changes_to(request.user)


class RunViewSet(ReadOnlyRestrictedViewSet):
    """Runs of the flows the caller may view. Counts are the run's own counters."""

    serializer_class = s.RunSerializer
    filterset_class = RunApiFilterSet

    def get_queryset(self):
        return services.visible_runs(self.request.user).select_related("requested_by").order_by("-pk")


class OutcomePagination(CursorPagination):
    """By id, never OFFSET or COUNT: the cursor continues after the last row seen."""

    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class SeesOutcomes(permissions.BasePermission):
    """Record outcomes hold payloads: only roles with ``view_recordoutcome`` (not viewers)."""

    def has_permission(self, request, view):
        return request.user.has_perm("integrations.view_recordoutcome")


@extend_schema_view(list=extend_schema(summary="Record outcomes, by id (cursor pagination)"))
class OutcomeViewSet(ReadOnlyRestrictedViewSet):
    serializer_class = s.OutcomeSerializer
    filterset_class = OutcomeFilterSet
    pagination_class = OutcomePagination
    permission_classes = [permissions.IsAuthenticated, SeesOutcomes]

    def get_queryset(self):
        return services.visible_outcomes(self.request.user)

    def selected(self, ids):
        outcomes = services.changeable_outcomes(self.request.user).filter(pk__in=ids)
        if outcomes.count() != len(set(ids)):
            raise Http404("No such records (or not yours to change).")
        return outcomes

    @extend_schema(
        request=s.OutcomeIdsSerializer,
        responses={202: s.ReplayResultSerializer},
        summary="Replay dead-lettered or quarantined records",
    )
    @action(detail=False, methods=["post"])
    def replay(self, request):
        body = s.OutcomeIdsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            runs = services.replay_outcomes(self.selected(body.validated_data["ids"]), request.user, via="api")
        except services.ActionError as exc:
            raise action_error(exc) from None
        return Response({"runs": [run.pk for run in runs]}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=s.DiscardRequestSerializer,
        responses={200: s.DiscardResultSerializer},
        summary="Discard dead-lettered or quarantined records, with a reason",
    )
    @action(detail=False, methods=["post"])
    def discard(self, request):
        body = s.DiscardRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        outcomes = self.selected(body.validated_data["ids"])
        try:
            count = services.discard_outcomes(outcomes, body.validated_data["reason"], request.user, via="api")
        except services.ActionError as exc:
            raise exceptions.ValidationError({"reason": [str(exc)]}) from None
        return Response({"discarded": count})


class SeesReconciliations(permissions.BasePermission):
    """Reading needs the role's ``view_reconciliation``; starting one its ``add_reconciliation`` too
    (and change on the connector, which the view checks once it knows which)."""

    message = "Your role does not include reconciliations."

    def has_permission(self, request, view):
        user = request.user
        if not user.has_perm("integrations.view_reconciliation"):
            return False
        if request.method == "POST" and not user.has_perm("integrations.add_reconciliation"):
            what = {"accept": "accept their deletions", "resend": "send their records again"}.get(
                getattr(view, "action", None), "start them"
            )
            self.message = f"Your role may see reconciliations but not {what}."
            return False
        return True


@extend_schema_view(
    list=extend_schema(summary="Reconciliations of the connectors the caller may view, newest first"),
    retrieve=extend_schema(summary="One reconciliation, with the records found gone"),
)
class ReconciliationViewSet(mixins.CreateModelMixin, ReadOnlyRestrictedViewSet):
    """What Junction delivered to a target that the target no longer holds (deleted there)."""

    filterset_class = ReconciliationApiFilterSet
    permission_classes = [permissions.IsAuthenticated, SeesReconciliations]

    def get_queryset(self):
        return (
            services.visible_reconciliations(self.request.user)
            .select_related("requested_by", "accepted_by", "resent_by")
            .prefetch_related("resend_runs")
            .order_by("-pk")
        )

    def get_serializer_class(self):
        return s.ReconciliationSerializer if self.action == "list" else s.ReconciliationDetailSerializer

    @extend_schema(
        request=s.ReconciliationRequestSerializer,
        responses={
            201: s.ReconciliationDetailSerializer,
            400: OpenApiResponse(
                description="By field: an unknown entity, a target the caller may not view, or one that cannot "
                "be reconciled (its adapter cannot list its keys, or it is disabled)."
            ),
            403: OpenApiResponse(description="The caller may view the target but not change it, or the role may not."),
            409: OpenApiResponse(description="One of this target and entity is already queued or running."),
        },
        summary="Start a reconciliation",
        description="Queues a comparison of the target's keys with Junction's deliveries for the entity; a worker "
        "runs it (poll the returned `url` until `finished`). Records a `reconcile` event in the audit trail.",
    )
    def create(self, request, *args, **kwargs):
        body = s.ReconciliationRequestSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        target, entity = body.validated_data["target"], body.validated_data["entity"]
        if not services.may_reconcile(target, request.user):
            raise exceptions.PermissionDenied("You may view this connector but not reconcile it.")
        try:
            stored = services.reconcile_target(target, entity, request.user, via="api")
        except services.ReconcileError as exc:
            busy = Reconciliation.objects.filter(target=target, entity=entity, status__in=reconcile.BUSY)
            if busy.exists():
                raise Conflict(str(exc)) from None
            raise exceptions.ValidationError({"target": [str(exc)]}) from None
        data = s.ReconciliationDetailSerializer(stored, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": data["url"]})

    @extend_schema(
        request=None,
        responses={
            200: s.ReconciliationDetailSerializer,
            403: OpenApiResponse(
                RefusalSerializer, description="The caller may view the reconciliation but not reconcile its target."
            ),
            409: OpenApiResponse(
                RefusalSerializer,
                description="It cannot be accepted; `detail` says why: it found nothing gone (or has not finished), "
                "someone already accepted it (and who), or a later reconciliation of the target and entity exists.",
            ),
        },
        summary="Accept the deletions a reconciliation found",
        description="Junction forgets it delivered the listed records to the target (they were deleted there), so "
        "later reconciliations stop reporting them and the *records gone* alert resolves; a record that changes at "
        "the source later is sent, and created at the target, again. Only the latest completed reconciliation of a "
        "target and entity can be accepted, once; when it found more records than it lists, a new reconciliation is "
        "queued to find the rest. Needs what starting one needs. Records an `accept_deletions` event in the audit "
        "trail.",
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        stored = self.get_object()
        self._settle(services.accept_deletions, stored)
        return Response(self.get_serializer(stored).data)

    @extend_schema(
        request=None,
        responses={
            200: s.ResendResultSerializer,
            403: OpenApiResponse(
                RefusalSerializer, description="The caller may view the reconciliation but not reconcile its target."
            ),
            409: OpenApiResponse(
                RefusalSerializer,
                description="Its records cannot be sent again; `detail` says why: it found nothing gone (or has not "
                "finished), someone already accepted or resent them (and who), or a later reconciliation exists.",
            ),
        },
        summary="Send the records a reconciliation found gone to the target again",
        description="Each listed record goes to the target again exactly as Junction last sent it, under a new "
        "idempotency key so the target creates it afresh, in a run (trigger `restore`) of the flow that delivered "
        "it, with the usual retries and dead-letter queue; follow `reconciliation.resend_runs`. Records whose flow "
        "no longer delivers there (not in pilot or live, the target removed) or whose last outcome was purged are "
        "counted in `not_sent` with the reason, and forgotten as accepting would. The *records gone* alert "
        "resolves. The same rules as accepting: the latest completed reconciliation, once, either way; when it found "
        "more than it lists, a new reconciliation is queued. Records a `resend_deleted` event in the audit trail.",
    )
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        stored = self.get_object()
        result = self._settle(services.resend_deleted, stored)
        stored = self.get_queryset().get(pk=stored.pk)
        body = {
            "sent": result.sent,
            "not_sent": [{"reason": reason, "records": n} for reason, n in result.left.items()],
            "reconciliation": stored,
        }
        return Response(s.ResendResultSerializer(body, context=self.get_serializer_context()).data)

    def _settle(self, settle, stored: Reconciliation):
        """Accept or resend: 403 for callers who may see but not reconcile the target, 409 with the reason."""
        if not services.may_reconcile(stored.target, self.request.user):
            raise exceptions.PermissionDenied("You may view this reconciliation but not reconcile its target.")
        try:
            return settle(stored, self.request.user, via="api")
        except services.ReconcileError as exc:
            raise Conflict(str(exc)) from None
