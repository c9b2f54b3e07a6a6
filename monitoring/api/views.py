"""``/api/v1/alerts/``: the alerts the caller may view, and acknowledging one.

The same choke point as the pages: every queryset comes from
``visible_alerts``, so an alert about a flow or connector the caller may not
view is a 404. Roles without ``monitoring.view_alert`` get a 403. Acknowledging
needs the alert in ``visible_alerts(user, "change")`` (else 403); an alert
already acknowledged or resolved is a 409 with the reason in ``detail``.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.serializers import RefusalSerializer
from accounts.api.viewsets import Conflict
from audit.context import attribute_changes_to

from .. import alerts
from ..filtersets import AlertApiFilterSet
from .serializers import AlertSerializer


class SeesAlerts(permissions.BasePermission):
    message = "Your role does not include alerts."

    def has_permission(self, request, view):
        return request.user.has_perm("monitoring.view_alert")


@extend_schema_view(
    list=extend_schema(summary="Alerts: unresolved first, critical first, then the newest"),
    retrieve=extend_schema(summary="One alert"),
)
class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AlertSerializer
    filterset_class = AlertApiFilterSet
    permission_classes = [permissions.IsAuthenticated, SeesAlerts]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        attribute_changes_to(request.user)

    def get_queryset(self):
        return alerts.ordered(alerts.visible_alerts(self.request.user)).select_related("acknowledged_by")

    @extend_schema(
        request=None,
        responses={
            200: AlertSerializer,
            403: OpenApiResponse(
                RefusalSerializer, description="The caller may view the alert but not acknowledge it."
            ),
            409: OpenApiResponse(
                RefusalSerializer, description="Already acknowledged or resolved; `detail` says which, and by whom."
            ),
        },
        summary="Acknowledge an alert",
        description="Marks the alert as seen by the caller (it stays open until its condition ends) and records "
        "an `alert.acknowledged` event in the audit trail.",
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        alert = self.get_object()
        if not alerts.changeable_ids(request.user, [alert]):
            raise exceptions.PermissionDenied("Your role may see this alert but not acknowledge it.")
        try:
            alerts.acknowledge(alert, request.user)
        except alerts.AcknowledgeError as exc:
            raise Conflict(str(exc)) from None
        return Response(self.get_serializer(alert).data)
