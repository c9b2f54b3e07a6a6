"""``POST /api/v1/inbound/<connector>/``: where systems push records.

The request is checked (size, signature, JSON) and stored, then answered 202
with a receipt; workers do the rest. Nothing here can answer 500 for a
sender's mistake: each one gets a 4xx that says what to fix.

This is the one hot path of the web process (issue 4: ≥ 1,000 requests/s), so
it departs from the ORM-everywhere habit, on purpose and only here:

- the adapter built from the connector (settings validated, secret decrypted)
  is kept in process memory per connector with the *stored text* of both
  columns, and a request it accepts is stored by one ``INSERT … SELECT …
  WHERE EXISTS`` that also checks, in the same statement, that the connector
  is enabled and still stores that text. Disabling, a new secret,
  ``rotate_keys`` or an edited setting (however it is written) takes effect
  on the next request: the INSERT then stores nothing, and the request is
  decided again on the connector read afresh, as is every answer but a 202;
- the event is stored with ``ON CONFLICT DO NOTHING`` (the unique constraint
  ``inbound_event_once`` decides, also between concurrent repeats); only a
  repeat reads the first delivery's receipt;
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
from typing import NamedTuple

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
from integrations.adapters.base import loads_json, validate
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
        # First with the adapter kept from an earlier request, unconfirmed: the INSERT itself
        # checks that the connector still stores what that adapter was built from. Any other
        # outcome (a refusal, a changed or disabled connector) is decided again below, on the
        # connector read afresh, so a kept adapter never answers anything but a 202.
        kept = _adapters.get(pk)
        if kept is not None and (response := self.accept(request, pk, kept, confirmed=False)) is not None:
            return response
        try:
            current = read_connector(pk)
        except serializers.ValidationError as exc:  # settings made invalid since they were saved, e.g. by an upgrade
            return answer(exc.detail, status.HTTP_400_BAD_REQUEST)
        if current is None:
            return problem(status.HTTP_404_NOT_FOUND, "No enabled webhook connector with this id.")
        return self.accept(request, pk, current, confirmed=True)

    def accept(self, request, pk: int, kept: "KeptAdapter", confirmed: bool) -> JsonResponse | None:
        """Check and store the request with this adapter: the answer, or None when the adapter
        is unconfirmed and the answer would be anything but a 202 stored with it."""
        outcome = checked_event(request, kept.adapter)
        if isinstance(outcome, JsonResponse):
            return outcome if confirmed else None
        event_id, records = outcome
        try:
            stored = store(pk, event_id, records, expected=None if confirmed else kept)
        except DataError:
            if not confirmed:
                return None
            # PostgreSQL's jsonb refuses \u0000 and unpaired surrogates, which Python's JSON accepts.
            return problem(
                status.HTTP_400_BAD_REQUEST,
                "The body holds a string the database cannot store (\\u0000 or an unpaired surrogate escape).",
            )
        if stored is None:  # the connector changed since this adapter was built
            return None
        receipt, count, duplicate = stored
        return answer({"receipt": str(receipt), "records": count, "duplicate": duplicate}, status.HTTP_202_ACCEPTED)


def checked_event(request, adapter: WebhookAdapter) -> JsonResponse | tuple[str, list]:
    """(event id, records) of a request within the size limit, correctly signed and holding JSON
    objects; otherwise the 4xx answer that says what to fix."""
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
        data = loads_json(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return problem(status.HTTP_400_BAD_REQUEST, f"The body is not valid JSON: {exc}")
    records = data if isinstance(data, list) else [data]
    if not records or not all(isinstance(r, dict) for r in records):
        return problem(status.HTTP_400_BAD_REQUEST, "The body must be a JSON object or a non-empty array of objects.")
    return event_id[:255], records


# --- The connector: decoded once per change, confirmed by the INSERT ------------------------


class KeptAdapter(NamedTuple):
    """An adapter and the stored text of the connector columns it was built from."""

    settings: str
    credentials: str
    adapter: WebhookAdapter


_adapters: dict[int, KeptAdapter] = {}  # connector id -> the adapter last built for it in this process


def _columns(model, *fields: str) -> dict[str, str]:
    return {f: connection.ops.quote_name(model._meta.get_field(f).column) for f in fields}


@cache
def _connector_sql() -> tuple[str, str]:
    """The enabled webhook connector's stored settings and credentials, and the condition that
    they are still a kept adapter's (id, adapter key, enabled, settings text, credentials)."""
    col = _columns(Connector, "id", "adapter", "enabled", "settings", "credentials")
    table = connection.ops.quote_name(Connector._meta.db_table)
    enabled = f"{col['id']} = %s AND {col['adapter']} = %s AND {col['enabled']} = %s"
    read = f"SELECT {col['settings']}, {col['credentials']} FROM {table} WHERE {enabled}"  # noqa: S608 - model names
    as_json = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"  # jsonb equality, not text
    unchanged = f"{enabled} AND {col['settings']} = {as_json} AND {col['credentials']} = %s"
    return read, f"SELECT 1 FROM {table} WHERE {unchanged}"  # noqa: S608 - model names


def still_current(pk: int, kept: KeptAdapter) -> list:
    """The parameters of ``_connector_sql()[1]`` for this kept adapter."""
    return [pk, WebhookAdapter.key, True, kept.settings, kept.credentials]


def read_connector(pk: int) -> KeptAdapter | None:
    """The enabled webhook connector's adapter (validated settings, decrypted secret), or None.

    Validation and decryption run again only when the stored text of the settings or of
    the encrypted credentials differs from what the kept adapter was built from.
    """
    with connection.cursor() as cursor:
        cursor.execute(_connector_sql()[0], [pk, WebhookAdapter.key, True])
        row = cursor.fetchone()
    if row is None:
        return None
    stored_settings, token = row
    if not isinstance(stored_settings, str):  # a backend that decodes JSON itself
        stored_settings = json.dumps(stored_settings, sort_keys=True)
    kept = _adapters.get(pk)
    if kept is not None and kept.settings == stored_settings and kept.credentials == token:
        return kept
    settings_ = validate(WebhookAdapter.settings_schema, json.loads(stored_settings))
    kept = _adapters[pk] = KeptAdapter(stored_settings, token, WebhookAdapter(settings_, crypto.decrypt(token)))
    return kept


# --- Storing the event ----------------------------------------------------------------------

# How each database counts a JSON array's items (a repeat answers with the first delivery's count).
JSON_ARRAY_LENGTH = {"postgresql": "jsonb_array_length", "sqlite": "json_array_length"}


@cache
def _event_sql() -> dict[str, str]:
    """INSERT (unconditional, or only while the connector is unchanged) and the first delivery's
    receipt (unconditional, or only while the connector is unchanged)."""
    col = _columns(InboundEvent, "id", "connector", "event_id", "receipt", "records", "received_at")
    table, unchanged = connection.ops.quote_name(InboundEvent._meta.db_table), _connector_sql()[1]
    columns = ", ".join(col[f] for f in ("connector", "event_id", "receipt", "records", "received_at"))
    once = f"ON CONFLICT ({col['connector']}, {col['event_id']}) DO NOTHING RETURNING {col['id']}"
    length = JSON_ARRAY_LENGTH[connection.vendor]
    first = f"SELECT {col['receipt']}, {length}({col['records']}) FROM {table} "  # noqa: S608 - model names
    first += f"WHERE {col['connector']} = %s AND {col['event_id']} = %s"
    return {
        "insert": f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s) {once}",  # noqa: S608
        # SQLite needs the WHERE of an INSERT … SELECT to read ON CONFLICT as the upsert clause.
        "insert_if_unchanged": f"INSERT INTO {table} ({columns}) SELECT %s, %s, %s, %s, %s "
        f"WHERE EXISTS ({unchanged}) {once}",
        "first": first,
        "first_if_unchanged": f"{first} AND EXISTS ({unchanged})",
    }


def store(
    connector_id: int, event_id: str, records: list, expected: KeptAdapter | None = None
) -> tuple[uuid.UUID, int, bool] | None:
    """Store the event once: (receipt, record count, duplicate). A repeat, even a concurrent
    one, gets the first delivery's receipt and count.

    With ``expected``, only while the connector is enabled and stores the settings and
    credentials that adapter was built from, checked in the same statement; None when it
    does not (nothing is stored then).

    The unique constraint decides (``ON CONFLICT DO NOTHING``): no exception, no rollback.
    Outside a transaction the single INSERT commits on its own before the 202 is sent;
    inside one (ATOMIC_REQUESTS, tests) it runs in a savepoint so a refused body
    (DataError) leaves the outer transaction usable.
    """
    sql, condition = _event_sql(), [] if expected is None else still_current(connector_id, expected)
    receipt, fields = uuid.uuid4(), InboundEvent._meta
    values = [
        connector_id,
        event_id,
        fields.get_field("receipt").get_db_prep_save(receipt, connection),
        fields.get_field("records").get_db_prep_save(records, connection),
        fields.get_field("received_at").get_db_prep_save(timezone.now(), connection),
    ]
    checked = "_if_unchanged" if condition else ""
    with transaction.atomic() if connection.in_atomic_block else nullcontext(), connection.cursor() as cursor:
        cursor.execute(sql["insert" + checked], [*values, *condition])
        if cursor.fetchone() is not None:
            transaction.on_commit(lambda: wake_workers(connector_id))
            return receipt, len(records), False
        # A repeat: the first delivery is committed (ON CONFLICT waited for it if it was in flight).
        # Or, with a condition, the connector changed: then neither statement finds a row.
        cursor.execute(sql["first" + checked], [connector_id, event_id, *condition])
        row = cursor.fetchone()
    if row is None:
        return None
    return fields.get_field("receipt").to_python(row[0]), row[1], True


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
    now = time.monotonic()
    with _woken_lock:
        if now - _woken.get(connector_id, -1.0) < 1.0:
            return
        _woken[connector_id] = now
    from django.core.cache import cache as shared_cache

    from integrations import tasks

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
