"""``POST /api/v1/inbound/<connector>/``: where systems push records.

The request is checked (size, signature, JSON) and stored, then answered 202
with a receipt; workers do the rest. Nothing here can answer 500 for a
sender's mistake: each one gets a 4xx that says what to fix.

This is the one hot path of the web process (issue 4: ≥ 1,000 requests/s), so
it departs from the ORM-everywhere habit, on purpose and only here:

- the connector is read with one plain SQL statement (two columns), and the
  adapter built from it (settings validated, secret decrypted) is kept in
  process memory per connector, keyed by the *stored text* of both columns:
  any change to either (a new secret, ``rotate_keys``, an edited
  setting, however it is written) is a different key, so it takes effect on
  the next request; ``enabled`` is read from the database every time;
- the event is stored with one ``INSERT … ON CONFLICT DO NOTHING`` (the
  unique constraint ``inbound_event_once`` decides, also between concurrent
  repeats); only a repeat reads the first delivery's receipt;
- a process that sent the workers' wake-up less than a second ago does not
  ask Redis again.

bench/README.md ("Inbound webhooks") has the measurements behind each.
"""

import json
import threading
import time
import uuid
from contextlib import nullcontext
from functools import cache

from django.conf import settings
from django.db import DataError, connection, transaction
from django.http import JsonResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from integrations import crypto
from integrations.adapters.base import validate
from integrations.adapters.webhook import SignatureError, WebhookAdapter
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
SIGNATURE_HEADERS = {"webhook-id": "HTTP_WEBHOOK_ID", "webhook-timestamp": "HTTP_WEBHOOK_TIMESTAMP"}
SIGNATURE_HEADERS["webhook-signature"] = "HTTP_WEBHOOK_SIGNATURE"


class RawJSONParser(BaseParser):
    """Leaves the body as bytes: the signature is over the exact bytes sent."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read()


class InboundView(APIView):
    """An APIView for the schema, OPTIONS and 405s; a POST skips DRF's request cycle.

    DRF would wrap the request, negotiate content and render the answer, none of which
    this endpoint needs: it reads only headers and the raw body, and answers JSON. So
    ``post`` takes Django's request and returns a JsonResponse (DRF passes such a
    response through unchanged when it does dispatch), and ``dispatch`` hands it a POST
    directly. There is no authentication, permission or throttle to skip: the signature
    is the authentication.
    """

    authentication_classes = []  # the HMAC signature is the authentication
    permission_classes = [AllowAny]
    parser_classes = [RawJSONParser]
    throttle_classes = []

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST":
            self.args, self.kwargs, self.request = args, kwargs, request
            return self.post(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

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
        try:
            adapter = webhook_adapter(pk)
        except serializers.ValidationError as exc:  # settings made invalid since they were saved, e.g. by an upgrade
            return answer(exc.detail, status.HTTP_400_BAD_REQUEST)
        if adapter is None:
            return problem(status.HTTP_404_NOT_FOUND, "No enabled webhook connector with this id.")
        limit = adapter.max_body_bytes
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
            return problem(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"The body is larger than {limit} bytes.")
        body = request.body
        if len(body) > limit:  # a chunked body has no Content-Length to check first
            return problem(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"The body is larger than {limit} bytes.")
        try:
            event_id = adapter.verify({h: request.META.get(m, "") for h, m in SIGNATURE_HEADERS.items()}, body)
        except SignatureError as exc:
            return problem(status.HTTP_401_UNAUTHORIZED, str(exc))
        try:
            data = json.loads(body, parse_constant=refuse_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            return problem(status.HTTP_400_BAD_REQUEST, f"The body is not valid JSON: {exc}")
        records = data if isinstance(data, list) else [data]
        if not records or not all(isinstance(r, dict) for r in records):
            return problem(
                status.HTTP_400_BAD_REQUEST, "The body must be a JSON object or a non-empty array of objects."
            )
        try:
            receipt, count, duplicate = store(pk, event_id[:255], records)
        except DataError:
            # PostgreSQL's jsonb refuses \u0000 and unpaired surrogates, which Python's JSON accepts.
            return problem(
                status.HTTP_400_BAD_REQUEST,
                "The body holds a string the database cannot store (\\u0000 or an unpaired surrogate escape).",
            )
        return answer({"receipt": str(receipt), "records": count, "duplicate": duplicate}, status.HTTP_202_ACCEPTED)


def refuse_constant(name: str):
    """NaN and Infinity are not JSON (RFC 8259), and the database's JSON type refuses them."""
    raise ValueError(f"{name} is not a JSON value")


# --- The connector, read once per request and decoded once per change ----------------------

# connector id -> (stored settings text, stored credentials token, adapter built from them)
_adapters: dict[int, tuple[str, str, WebhookAdapter]] = {}


@cache
def _connector_sql() -> str:
    quote, meta = connection.ops.quote_name, Connector._meta
    columns = ", ".join(quote(meta.get_field(f).column) for f in ("settings", "credentials"))
    where = " AND ".join(f"{quote(meta.get_field(f).column)} = %s" for f in ("id", "adapter", "enabled"))
    return f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {where}"  # noqa: S608 - names from the model


def webhook_adapter(pk: int) -> WebhookAdapter | None:
    """The enabled webhook connector's adapter (validated settings, decrypted secret), or None.

    The row is read on every request, so disabling a connector takes effect at once;
    validation and decryption run again only when the stored text of the settings or
    of the encrypted credentials differs from what the cached adapter was built from.
    """
    with connection.cursor() as cursor:
        cursor.execute(_connector_sql(), [pk, WebhookAdapter.key, True])
        row = cursor.fetchone()
    if row is None:
        return None
    stored_settings, token = row
    if not isinstance(stored_settings, str):  # a backend that decodes JSON itself
        stored_settings = json.dumps(stored_settings, sort_keys=True)
    cached = _adapters.get(pk)
    if cached is not None and cached[0] == stored_settings and cached[1] == token:
        return cached[2]
    settings_ = validate(WebhookAdapter.settings_schema, json.loads(stored_settings))
    adapter = WebhookAdapter(settings_, crypto.decrypt(token))
    _adapters[pk] = (stored_settings, token, adapter)
    return adapter


# --- Storing the event ----------------------------------------------------------------------

# How each database counts a JSON array's items (a repeat answers with the first delivery's count).
JSON_ARRAY_LENGTH = {"postgresql": "jsonb_array_length", "sqlite": "json_array_length"}


@cache
def _event_sql() -> tuple[str, str]:
    quote, meta = connection.ops.quote_name, InboundEvent._meta
    col = {f: quote(meta.get_field(f).column) for f in ("id", "connector", "event_id", "receipt", "records")}
    col["received_at"], table = quote(meta.get_field("received_at").column), quote(meta.db_table)
    insert = (
        f"INSERT INTO {table} ({col['connector']}, {col['event_id']}, {col['receipt']}, {col['records']}, "  # noqa: S608
        f"{col['received_at']}) VALUES (%s, %s, %s, %s, %s) "
        f"ON CONFLICT ({col['connector']}, {col['event_id']}) DO NOTHING RETURNING {col['id']}"
    )
    length = JSON_ARRAY_LENGTH[connection.vendor]
    first = (
        f"SELECT {col['receipt']}, {length}({col['records']}) FROM {table} "  # noqa: S608 - names from the model
        f"WHERE {col['connector']} = %s AND {col['event_id']} = %s"
    )
    return insert, first


def store(connector_id: int, event_id: str, records: list) -> tuple[uuid.UUID, int, bool]:
    """Store the event once: (receipt, record count, duplicate). A repeat, even a concurrent
    one, gets the first delivery's receipt and count.

    The unique constraint decides (``ON CONFLICT DO NOTHING``): no exception, no rollback.
    Outside a transaction the single INSERT commits on its own before the 202 is sent;
    inside one (ATOMIC_REQUESTS, tests) it runs in a savepoint so a refused body
    (DataError) leaves the outer transaction usable.
    """
    insert, first = _event_sql()
    receipt, fields = uuid.uuid4(), InboundEvent._meta
    values = [
        connector_id,
        event_id,
        fields.get_field("receipt").get_db_prep_save(receipt, connection),
        fields.get_field("records").get_db_prep_save(records, connection),
        fields.get_field("received_at").get_db_prep_save(timezone.now(), connection),
    ]
    with transaction.atomic() if connection.in_atomic_block else nullcontext(), connection.cursor() as cursor:
        cursor.execute(insert, values)
        if cursor.fetchone() is not None:
            transaction.on_commit(lambda: wake_workers(connector_id))
            return receipt, len(records), False
        # A repeat: the first delivery is committed (ON CONFLICT waited for it if it was in flight).
        cursor.execute(first, [connector_id, event_id])
        stored_receipt, count = cursor.fetchone()
    return fields.get_field("receipt").to_python(stored_receipt), count, True


# --- Waking the workers ---------------------------------------------------------------------

_woken: dict[int, float] = {}  # connector id -> monotonic time this process last asked the cache
_woken_lock = threading.Lock()


def wake_workers(connector_id: int) -> None:
    """At most one message per connector per second; the sweeper catches anything in between.

    The cache key (shared by every process with Redis) keeps it to one message a second
    across processes; this process first skips the cache round trip when it asked less
    than a second ago, whatever the answer was then: someone sent a message within the
    last second either way.
    """
    from django.core.cache import cache as shared_cache

    from integrations import tasks

    now = time.monotonic()
    with _woken_lock:
        if now - _woken.get(connector_id, -1.0) < 1.0:
            return
        _woken[connector_id] = now
    if shared_cache.add(f"inbound-wake:{connector_id}", 1, timeout=1):
        tasks.process_inbound.delay(connector_id)


def answer(data, code: int) -> JsonResponse:
    """JSON as DRF's renderer writes it (compact), so the bodies did not change when DRF stepped aside."""
    return JsonResponse(data, status=code, safe=False, json_dumps_params={"separators": (",", ":")})


def problem(code: int, detail: str) -> JsonResponse:
    return answer({"detail": detail}, code)


# --- Skipping the middleware that has nothing to do here ------------------------------------


class InboundMiddleware:
    """Hands ``POST /api/v1/inbound/<id>/`` straight to the view, past the middleware after it.

    Placed after SecurityMiddleware and WhiteNoise (config/settings.py). Everything after it
    exists for people using pages, and measured as a third of the endpoint's CPU
    (bench/README.md): sessions, CSRF (the view is exempt: the signature authenticates),
    authentication, messages, htmx, and the audit context (the endpoint writes only
    InboundEvent rows, which are deliberately not audited). What of theirs does apply is
    kept here: the Host header is checked against ALLOWED_HOSTS (CommonMiddleware's
    get_host), and the answer carries Content-Length (also CommonMiddleware's),
    X-Frame-Options and a Content-Security-Policy (one that allows nothing: it is JSON).
    Every other request, including other methods on this path, goes through the whole stack.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.view = InboundView.as_view()

    def __call__(self, request):
        pk = inbound_pk(request.path) if request.method == "POST" else None
        if pk is None:
            return self.get_response(request)
        request.get_host()  # DisallowedHost (400) for a Host not in ALLOWED_HOSTS, as CommonMiddleware does
        response = self.view(request, pk=pk)
        response["X-Frame-Options"] = settings.X_FRAME_OPTIONS
        response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
        response["Content-Length"] = str(len(response.content))  # else the server sends it chunked
        return response


@cache
def _inbound_prefix() -> str:
    return reverse("api:inbound", args=[0]).removesuffix("0/")  # from the URL map, so the two cannot disagree


def inbound_pk(path: str) -> int | None:
    """The connector id when ``path`` is the inbound endpoint's, else None."""
    prefix = _inbound_prefix()
    if not path.startswith(prefix) or not path.endswith("/"):
        return None
    digits = path[len(prefix) : -1]
    return int(digits) if digits.isascii() and digits.isdigit() else None
