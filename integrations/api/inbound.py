"""``POST /api/v1/inbound/<connector>/``: where systems push records.

The request is checked (size, signature, JSON) and stored, then answered 202
with a receipt; workers do the rest. Nothing here can answer 500 for a
sender's mistake: each one gets a 4xx that says what to fix.
"""

import json

from django.core.cache import cache
from django.db import IntegrityError, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.adapters.webhook import SignatureError
from integrations.models import Connector, InboundEvent

RECEIPT = inline_serializer(
    "InboundReceipt",
    {
        "receipt": serializers.UUIDField(),
        "records": serializers.IntegerField(),
        "duplicate": serializers.BooleanField(),
    },
)
PROBLEM = inline_serializer("InboundProblem", {"detail": serializers.CharField()})


class RawJSONParser(BaseParser):
    """Leaves the body as bytes: the signature is over the exact bytes sent."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read()


class InboundView(APIView):
    authentication_classes = []  # the HMAC signature is the authentication
    permission_classes = [AllowAny]
    parser_classes = [RawJSONParser]
    throttle_classes = []

    @extend_schema(
        operation_id="inbound_push",
        summary="Push records to a webhook connector",
        description=(
            "Body: one JSON object or an array of objects. Signed the Standard Webhooks way: headers "
            "`webhook-id` (the event id; a repeat is accepted once), `webhook-timestamp` (Unix seconds) and "
            "`webhook-signature` (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body` with the connector's secret)."
        ),
        request=OpenApiTypes.OBJECT,
        parameters=[
            OpenApiParameter("webhook-id", str, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("webhook-timestamp", int, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("webhook-signature", str, OpenApiParameter.HEADER, required=True),
        ],
        responses={
            202: RECEIPT,
            400: OpenApiResponse(PROBLEM, description="The body is not JSON, or not an object or array of objects."),
            401: OpenApiResponse(PROBLEM, description="Missing or wrong signature, or a stale timestamp."),
            404: OpenApiResponse(PROBLEM, description="No enabled webhook connector with this id."),
            413: OpenApiResponse(PROBLEM, description="The body is larger than the connector allows."),
        },
        examples=[OpenApiExample("Two customers", value=[{"id": "C-1", "name": "Ada"}, {"id": "C-2", "name": "Bo"}])],
        tags=["inbound"],
    )
    def post(self, request, pk: int):
        connector = Connector.objects.filter(pk=pk, adapter="webhook", enabled=True).first()
        if connector is None:
            return problem(status.HTTP_404_NOT_FOUND, "No enabled webhook connector with this id.")
        limit = int(connector.settings.get("max_body_bytes", 1_048_576))
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
            return problem(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"The body is larger than {limit} bytes.")
        body = request.body
        if len(body) > limit:  # a chunked body has no Content-Length to check first
            return problem(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"The body is larger than {limit} bytes.")
        adapter = connector.open_adapter()
        try:
            event_id = adapter.verify({k.lower(): v for k, v in request.headers.items()}, body)
        except SignatureError as exc:
            return problem(status.HTTP_401_UNAUTHORIZED, str(exc))
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            return problem(status.HTTP_400_BAD_REQUEST, f"The body is not valid JSON: {exc}")
        records = data if isinstance(data, list) else [data]
        if not records or not all(isinstance(r, dict) for r in records):
            return problem(
                status.HTTP_400_BAD_REQUEST, "The body must be a JSON object or a non-empty array of objects."
            )
        event, duplicate = store(connector, event_id[:255], records)
        return Response(
            {"receipt": str(event.receipt), "records": len(event.records), "duplicate": duplicate},
            status=status.HTTP_202_ACCEPTED,
        )


def store(connector: Connector, event_id: str, records: list) -> tuple[InboundEvent, bool]:
    """Store the event once; a repeat (even a concurrent one) gets the first one's receipt."""
    try:
        with transaction.atomic():
            event = InboundEvent.objects.create(connector=connector, event_id=event_id, records=records)
            transaction.on_commit(lambda: wake_workers(connector.pk))
        return event, False
    except IntegrityError:
        return InboundEvent.objects.get(connector=connector, event_id=event_id), True


def wake_workers(connector_id: int) -> None:
    """At most one message per connector per second; the sweeper catches anything in between."""
    from integrations import tasks

    if cache.add(f"inbound-wake:{connector_id}", 1, timeout=1):
        tasks.process_inbound.delay(connector_id)


def problem(code: int, detail: str) -> Response:
    return Response({"detail": detail}, status=code)
