"""The REST/JSON adapter: any HTTP API that lists records as JSON and takes them back.

One connector is one API: a base URL, a path per entity, an auth scheme, a
pagination style. Settings and credentials are validated by the two
serializers below; :meth:`RestAdapter.check_credentials` checks that the
credentials hold the secret the chosen auth type needs (the engine calls it
with both dicts, because neither schema sees the other). An adapter built with
incomplete credentials raises :class:`PermanentError` on its first request and
reports a failing "Authenticate" check, so a connector is never half-working.

Auth schemes and pagination styles are registries of small pieces
(``AUTH_BUILDERS``, ``PAGINATORS``), not ``if`` chains. Every request goes
through one ``httpx.Client`` with connect/read timeouts and an optional
client-side token bucket; failures become ``TransientError`` (retry later) or
``PermanentError`` (quarantine) in :func:`raise_for_status` and
:meth:`RestAdapter._request`. Retries are the engine's job: the only retry here
is the single one after an OAuth2 token is refused (401).

Private addresses are allowed (connectors exist to reach systems on the
company network); the outbound policy (``integrations/outbound.py``) refuses
link-local and other never-legitimate destinations and applies the
administrator's allowlist, when the base URL is saved (:class:`UrlField`) and
on every connection the client opens (:func:`outbound.http_client`).
"""

from __future__ import annotations

import base64
import email.utils
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from rest_framework import serializers

from integrations.outbound import UrlField, http_client

from .base import Adapter, Check, OutRecord, Page, SourceRecord, WriteResult, loads_json, validate
from .errors import AdapterError, DestinationRefused, PermanentError, TransientError
from .registry import register

USER_AGENT = "Junction REST adapter (httpx)"
MESSAGE_LIMIT = 300  # characters of a peer's error text kept in a message
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 token


class AuthType(models.TextChoices):
    NONE = "none", "None"
    API_KEY_HEADER = "api_key_header", "API key in a header"
    API_KEY_QUERY = "api_key_query", "API key in the query string"
    BEARER = "bearer", "Bearer token"
    BASIC = "basic", "HTTP Basic"
    OAUTH2 = "oauth2_client_credentials", "OAuth2 client credentials"


class Pagination(models.TextChoices):
    NONE = "none", "None: one response holds every record"
    PAGE = "page", "Page number"
    OFFSET = "offset", "Offset and limit"
    CURSOR = "cursor", "Cursor in the response body"
    LINK_HEADER = "link_header", 'Link header (rel="next")'


class TokenAuthMethod(models.TextChoices):
    BASIC = "client_secret_basic", "Client id and secret as HTTP Basic"
    POST = "client_secret_post", "Client id and secret in the form body"


# The credential fields each auth type cannot do without.
NEEDED_CREDENTIALS: dict[str, tuple[str, ...]] = {
    AuthType.NONE: (),
    AuthType.API_KEY_HEADER: ("api_key",),
    AuthType.API_KEY_QUERY: ("api_key",),
    AuthType.BEARER: ("token",),
    AuthType.BASIC: ("password",),
    AuthType.OAUTH2: ("client_id", "client_secret"),
}


class PeerUnavailableError(TransientError):
    """The peer cannot be reached or asked us to back off (connect failure, timeout, 429, 502-504).

    The rest of a write batch is not attempted: every record would fail the same way.
    """


class AuthenticationError(PermanentError):
    """The peer refused our credentials (401, or the OAuth2 token request failed).

    The rest of a write batch is not attempted.
    """


def _blank(**kwargs) -> serializers.CharField:
    return serializers.CharField(default="", allow_blank=True, **kwargs)


def _secret(help_text: str) -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_blank=True, write_only=True, style={"input_type": "password"}, help_text=help_text
    )


class RestSettingsSerializer(serializers.Serializer):
    """Non-secret settings of a REST connector; cross-field rules give errors keyed by field."""

    base_url = UrlField(help_text="e.g. https://erp.example.com/api/v1")
    paths = serializers.DictField(
        child=serializers.CharField(), allow_empty=False, help_text='Entity → path, e.g. {"customer": "/customers"}'
    )
    id_field = serializers.CharField(default="id", help_text="JSON path of the record id (dots for nesting)")
    version_field = _blank(help_text="JSON path of the record version or change time, if any")
    query_params = serializers.DictField(child=serializers.CharField(allow_blank=True), default=dict)

    auth_type = serializers.ChoiceField(choices=AuthType.choices, default=AuthType.NONE)
    api_key_header = serializers.CharField(default="X-API-Key")
    api_key_param = serializers.CharField(default="api_key")
    username = _blank(help_text="For HTTP Basic")
    token_url = UrlField(default="", allow_blank=True, help_text="OAuth2 token endpoint")
    scope = _blank(help_text="OAuth2 scope, space-separated")
    token_auth_method = serializers.ChoiceField(choices=TokenAuthMethod.choices, default=TokenAuthMethod.BASIC)

    pagination = serializers.ChoiceField(choices=Pagination.choices, default=Pagination.NONE)
    records_path = _blank(help_text='JSON path of the record list, e.g. "data"; empty for a top-level list')
    page_param = serializers.CharField(default="page", allow_blank=True)
    first_page = serializers.IntegerField(default=1, min_value=0)
    page_size_param = serializers.CharField(default="page_size", allow_blank=True)
    offset_param = serializers.CharField(default="offset")
    limit_param = serializers.CharField(default="limit")
    cursor_param = serializers.CharField(default="cursor")
    next_cursor_path = serializers.CharField(default="next", allow_blank=True)

    incremental_param = _blank(help_text='Query parameter for "changed since", e.g. updated_after')
    watermark_field = _blank(help_text="JSON path of the change time in each record, e.g. updated_at")

    rate_limit = serializers.FloatField(
        default=0, min_value=0, max_value=1000, help_text="Requests per second; 0: none"
    )
    connect_timeout = serializers.FloatField(default=5, min_value=0.1, max_value=120)
    read_timeout = serializers.FloatField(default=30, min_value=0.1, max_value=600)

    update_method = serializers.ChoiceField(choices=["PUT", "PATCH"], default="PUT")
    upsert_key_field = _blank(help_text="Payload field to PUT by when the target id is unknown")
    idempotency_header = _blank(help_text="Header that carries each record's idempotency key, e.g. Idempotency-Key")

    def validate_base_url(self, value: str) -> str:
        url = httpx.URL(value)
        if url.query or url.fragment:
            raise serializers.ValidationError("Leave out the query string; put parameters in query_params.")
        return value.rstrip("/")

    def validate_paths(self, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(entity for entity, path in value.items() if not path.startswith("/") or "?" in path)
        if bad:
            raise serializers.ValidationError(f"Paths start with / and have no query string: {', '.join(bad)}.")
        return value

    def validate_api_key_header(self, value: str) -> str:
        return _header_name(value)

    def validate_idempotency_header(self, value: str) -> str:
        return _header_name(value) if value else value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, str] = {}
        for field, needed, message in _CROSS_FIELD_RULES:
            if needed(attrs) and not attrs.get(field):  # attrs holds every field: they all have defaults
                errors[field] = message
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def _header_name(value: str) -> str:
    if not HEADER_NAME.match(value):
        raise serializers.ValidationError("Not a valid HTTP header name.")
    return value


# (field that must be set, when it is needed, what to tell the user)
_CROSS_FIELD_RULES: list[tuple[str, Callable[[dict], bool], str]] = [
    ("token_url", lambda a: a["auth_type"] == AuthType.OAUTH2, "OAuth2 client credentials need a token URL."),
    ("username", lambda a: a["auth_type"] == AuthType.BASIC, "HTTP Basic needs a username."),
    ("page_param", lambda a: a["pagination"] == Pagination.PAGE, "Page pagination needs the page parameter name."),
    ("next_cursor_path", lambda a: a["pagination"] == Pagination.CURSOR, "Cursor pagination needs the cursor path."),
    (
        "records_path",
        lambda a: a["pagination"] == Pagination.CURSOR,
        "Cursor pagination needs the path of the record list beside the cursor, e.g. data.",
    ),
    ("watermark_field", lambda a: bool(a["incremental_param"]), "Incremental reads need the watermark field."),
]


class RestCredentialsSerializer(serializers.Serializer):
    """Secrets of a REST connector; which one is needed depends on the auth type (see check_credentials)."""

    api_key = _secret("For API key auth")
    token = _secret("For bearer auth")
    password = _secret("For HTTP Basic")
    client_id = _secret("For OAuth2 client credentials")
    client_secret = _secret("For OAuth2 client credentials")


# --- Auth: one httpx.Auth per auth type ---------------------------------------------------------


class HeaderAuth(httpx.Auth):
    """Sends a fixed header (API key, bearer token)."""

    def __init__(self, name: str, value: str):
        self.name, self.value = name, value

    def auth_flow(self, request):
        request.headers[self.name] = self.value
        yield request


class QueryAuth(httpx.Auth):
    """Sends an API key as a query parameter. Messages name paths only, so the key stays out of them."""

    def __init__(self, name: str, value: str):
        self.name, self.value = name, value

    def auth_flow(self, request):
        request.url = request.url.copy_merge_params({self.name: self.value})
        yield request


class OAuth2ClientCredentials(httpx.Auth):
    """OAuth2 client credentials (RFC 6749 §4.4): fetches a token, keeps it until shortly before it
    expires, and on a 401 fetches a new one once and sends the request again."""

    requires_response_body = True

    def __init__(
        self, token_url: str, client_id: str, client_secret: str, scope: str = "", method: str = TokenAuthMethod.BASIC
    ):
        self.token_url, self.scope, self.method = token_url, scope, method
        self.client_id, self.client_secret = client_id, client_secret
        self.token: str | None = None
        self.expires_at: float | None = None  # monotonic; None: until the peer refuses it

    def auth_flow(self, request):
        if not self.valid():
            self.store((yield self.token_request()))
        request.headers["Authorization"] = f"Bearer {self.token}"
        response = yield request
        if response.status_code == 401:
            # Revoked or rotated before it expired: one new token, one retry.
            self.store((yield self.token_request()))
            request.headers["Authorization"] = f"Bearer {self.token}"
            yield request

    def valid(self) -> bool:
        return self.token is not None and (self.expires_at is None or time.monotonic() < self.expires_at)

    def token_request(self) -> httpx.Request:
        data = {"grant_type": "client_credentials", **({"scope": self.scope} if self.scope else {})}
        headers = {"Accept": "application/json"}
        if self.method == TokenAuthMethod.POST:
            data |= {"client_id": self.client_id, "client_secret": self.client_secret}
        else:
            pair = f"{self.client_id}:{self.client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        return httpx.Request("POST", self.token_url, data=data, headers=headers)

    def store(self, response: httpx.Response) -> None:
        if response.status_code in (400, 401):
            raise AuthenticationError(f"The token endpoint refused the client credentials: {server_message(response)}")
        raise_for_status(response)
        body = parse_json(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise AuthenticationError(f"The token endpoint answered without an access_token: {_trim(response.text)}")
        lifetime = body.get("expires_in")
        self.token = token
        self.expires_at = None
        if isinstance(lifetime, int | float) and lifetime > 0:
            # Renew a little early, so a token does not expire on its way to the peer.
            self.expires_at = time.monotonic() + lifetime - min(30.0, lifetime / 2)


AUTH_BUILDERS: dict[str, Callable[[dict, dict], httpx.Auth | None]] = {
    AuthType.NONE: lambda s, c: None,
    AuthType.API_KEY_HEADER: lambda s, c: HeaderAuth(s["api_key_header"], c["api_key"]),
    AuthType.API_KEY_QUERY: lambda s, c: QueryAuth(s["api_key_param"], c["api_key"]),
    AuthType.BEARER: lambda s, c: HeaderAuth("Authorization", f"Bearer {c['token']}"),
    AuthType.BASIC: lambda s, c: httpx.BasicAuth(s["username"], c["password"]),
    AuthType.OAUTH2: lambda s, c: OAuth2ClientCredentials(
        s["token_url"], c["client_id"], c["client_secret"], s["scope"], s["token_auth_method"]
    ),
}


class TokenBucket:
    """Client-side rate limit: ``rate`` requests per second, bursts of up to one second's worth.

    Per adapter instance: two workers talking to one peer each get the full rate.
    """

    def __init__(self, rate: float):
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def acquire(self, _request: httpx.Request | None = None) -> None:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            self.tokens -= 1  # may go negative: that reserves the next slot for this caller
            wait = -self.tokens / self.rate if self.tokens < 0 else 0.0
        if wait:
            time.sleep(wait)


# --- Responses and errors -----------------------------------------------------------------------


def _trim(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def server_message(response: httpx.Response) -> str:
    """The peer's own words about a failure: a JSON message field, else the body text, else the reason."""
    try:
        body = json.loads(response.text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "error_description", "detail", "error", "title"):
            if isinstance(body.get(key), str) and body[key].strip():
                return _trim(body[key])
        if not body:
            return response.reason_phrase
    return _trim(response.text) or response.reason_phrase


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header, in either form: delta-seconds or an HTTP-date."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def raise_for_status(response: httpx.Response) -> None:
    """Map a non-2xx response to the error the engine acts on; return quietly for 2xx."""
    status = response.status_code
    if status < 300:
        return
    where = f"{response.request.method} {response.request.url.path}"
    text = f"HTTP {status} from {where}: {server_message(response)}"
    wait = retry_after(response.headers.get("Retry-After"))
    if status in (429, 502, 503, 504):
        raise PeerUnavailableError(text, retry_after=wait, detail=response.text[:2000])
    if status >= 500 or status in (408, 423, 425):
        raise TransientError(text, retry_after=wait, detail=response.text[:2000])
    if status < 400:
        location = response.headers.get("Location", "?")
        raise PermanentError(
            f"HTTP {status} from {where} redirects to {location}: set the base URL to the final address."
        )
    if status == 401:
        raise AuthenticationError(f"{text} (check the credentials)", detail=response.text[:2000])
    raise PermanentError(text, detail=response.text[:2000])


def parse_json(response: httpx.Response) -> Any:
    try:
        return loads_json(response.content)
    except ValueError as exc:
        where = f"{response.request.method} {response.request.url.path}"
        raise PermanentError(f"{where} returned malformed JSON ({exc}): {_trim(response.text)}") from exc


# What we were doing when each kind of timeout struck, and which httpx.Timeout limit it hit.
_TIMEOUT_PHASES: dict[type, tuple[str, str]] = {
    httpx.ConnectTimeout: ("connecting to", "connect"),
    httpx.ReadTimeout: ("waiting for an answer from", "read"),
    httpx.WriteTimeout: ("sending to", "write"),
    httpx.PoolTimeout: ("waiting for a free connection to", "pool"),
}


@contextmanager
def transport_errors(timeouts: httpx.Timeout):
    """Turn httpx's transport exceptions into adapter errors with a readable message."""
    try:
        yield
    except httpx.TimeoutException as exc:
        host = exc.request.url.host
        phase, limit = _TIMEOUT_PHASES.get(type(exc), ("talking to", "read"))
        seconds = getattr(timeouts, limit)
        raise PeerUnavailableError(f"Timed out after {seconds:g} s {phase} {host}.") from exc
    except httpx.ConnectError as exc:
        raise PeerUnavailableError(f"Could not connect to {exc.request.url.host}: {exc}") from exc
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise PermanentError(f"Bad URL: {exc}") from exc
    except httpx.HTTPError as exc:
        raise TransientError(f"HTTP transport error: {exc or type(exc).__name__}") from exc


def _at(data: Any, path: str) -> Any:
    """The value at a dotted JSON path ("meta.next"), or None; the empty path is the data itself."""
    for key in path.split(".") if path else ():
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _order_key(value: str) -> tuple:
    # Integer watermarks (sequence numbers) compare as numbers, everything else as text:
    # ISO 8601 timestamps in one format and time zone sort correctly as text.
    return (0, int(value), "") if value.lstrip("-").isdigit() else (1, 0, value)


def latest(current: str | None, value: Any) -> str | None:
    """The later of two watermarks (None and "" are no watermark)."""
    if value is None or value == "":
        return current
    value = str(value)
    return value if current is None or _order_key(value) > _order_key(current) else current


def at_or_after(value: Any, watermark: str) -> bool:
    """Whether a record's change time is at or after the watermark (no change time: keep it)."""
    return value is None or value == "" or _order_key(str(value)) >= _order_key(watermark)


# --- Pagination: one generator per style, each yielding the raw records of one page -----------


@dataclass
class Fetched:
    response: httpx.Response
    body: Any
    records: list


Get = Callable[[str, dict | None], Fetched]


def _size(options: dict, param: str, page_size: int) -> dict:
    return {options[param]: page_size} if options[param] else {}


def _refuse_repeat(previous: list | None, records: list, what: str) -> None:
    if previous is not None and previous == records:
        raise PermanentError(f"{what} repeated the previous page: the API ignores the paging parameter.")


def _no_paging(get: Get, path: str, params: dict, page_size: int, options: dict) -> Iterator[list]:
    yield get(path, params).records


def _page_numbers(get: Get, path: str, params: dict, page_size: int, options: dict) -> Iterator[list]:
    # Stop at the first empty page, not a short one: many APIs cap the page size below what we ask.
    number, previous = options["first_page"], None
    while records := get(
        path, {**params, options["page_param"]: number, **_size(options, "page_size_param", page_size)}
    ).records:
        _refuse_repeat(previous, records, f"Page {number}")
        yield records
        previous, number = records, number + 1


def _offsets(get: Get, path: str, params: dict, page_size: int, options: dict) -> Iterator[list]:
    offset, previous = 0, None
    while records := get(path, {**params, options["offset_param"]: offset, options["limit_param"]: page_size}).records:
        _refuse_repeat(previous, records, f"Offset {offset}")
        yield records
        previous, offset = records, offset + len(records)


def _cursors(get: Get, path: str, params: dict, page_size: int, options: dict) -> Iterator[list]:
    query, seen = {**params, **_size(options, "page_size_param", page_size)}, set()
    while True:
        fetched = get(path, query)
        yield fetched.records
        cursor = _at(fetched.body, options["next_cursor_path"])
        if cursor is None or cursor == "":
            return
        if cursor in seen:
            raise PermanentError(f"GET {path} returned the cursor {cursor!r} twice.")
        seen.add(cursor)
        query = {**query, options["cursor_param"]: cursor}


def _link_header(get: Get, path: str, params: dict, page_size: int, options: dict) -> Iterator[list]:
    first_page = {options["page_param"]: options["first_page"]} if options["page_param"] else {}
    url, query, seen = path, {**params, **first_page, **_size(options, "page_size_param", page_size)}, set()
    while True:
        fetched = get(url, query)
        yield fetched.records
        link = fetched.response.links.get("next", {}).get("url")
        if not link:
            return
        following = fetched.response.url.join(link)
        # Credentials go with every request: never follow a link to another origin.
        if _origin(following) != _origin(fetched.response.url):
            raise PermanentError(f"GET {path}: the next-page link points to another site ({following.host}).")
        if following in seen:
            raise PermanentError(f"GET {path}: the next-page links go round in a circle.")
        seen.add(following)
        url, query = str(following), None


def _origin(url: httpx.URL) -> tuple:
    return url.scheme, url.host, url.port


PAGINATORS: dict[str, Callable[..., Iterator[list]]] = {
    Pagination.NONE: _no_paging,
    Pagination.PAGE: _page_numbers,
    Pagination.OFFSET: _offsets,
    Pagination.CURSOR: _cursors,
    Pagination.LINK_HEADER: _link_header,
}


# --- The adapter --------------------------------------------------------------------------------


@register
class RestAdapter(Adapter):
    """Reads and writes JSON records over HTTP; see docs/connectors/rest.md."""

    key = "rest"
    label = "REST/JSON API"
    settings_schema = RestSettingsSerializer
    credentials_schema = RestCredentialsSerializer

    def __init__(self, settings: dict[str, Any], credentials: dict[str, Any] | None = None):
        super().__init__(settings, credentials)
        try:
            # Settings were validated when saved; again here, so defaults added since apply.
            self.options = validate(RestSettingsSerializer, settings)
        except serializers.ValidationError as exc:
            problems = "; ".join(f"{field}: {' '.join(map(str, errors))}" for field, errors in exc.detail.items())
            raise PermanentError(f"Invalid REST connector settings: {problems}") from exc
        options = self.options
        self.timeouts = httpx.Timeout(options["read_timeout"], connect=options["connect_timeout"])
        bucket = TokenBucket(options["rate_limit"]) if options["rate_limit"] else None
        self.client = http_client(
            base_url=options["base_url"],
            timeout=self.timeouts,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            event_hooks={"request": [bucket.acquire]} if bucket else {},
        )
        self._auth: httpx.Auth | None = None

    @classmethod
    def check_credentials(cls, settings: dict[str, Any], credentials: dict[str, Any] | None) -> dict[str, list[str]]:
        """Field errors for the secrets that the settings' auth type needs and ``credentials`` lacks.

        Call it with the (validated) settings when saving a connector's credentials.
        """
        auth_type = settings.get("auth_type", AuthType.NONE)
        label = AuthType(auth_type).label if auth_type in AuthType.values else auth_type
        return {
            field: [f"Required for {label} authentication."]
            for field in NEEDED_CREDENTIALS.get(auth_type, ())
            if not (credentials or {}).get(field)
        }

    @property
    def auth(self) -> httpx.Auth | None:
        """The auth for this connector, built on first use (it keeps the OAuth2 token)."""
        if self._auth is None:
            self._require_credentials()
            self._auth = AUTH_BUILDERS[self.options["auth_type"]](self.options, self.credentials)
        return self._auth

    def _require_credentials(self) -> None:
        if missing := self.check_credentials(self.options, self.credentials):
            raise AuthenticationError(f"Credentials are incomplete: {', '.join(missing)} missing.")

    def close(self) -> None:
        self.client.close()

    # --- HTTP

    def _request(self, method: str, url: str, **kwargs) -> httpx.Response:
        with transport_errors(self.timeouts):
            response = self.client.request(method, url, auth=self.auth, **kwargs)
        raise_for_status(response)
        return response

    def _get(self, url: str, params: dict | None) -> Fetched:
        response = self._request("GET", url, params=params)
        body = parse_json(response)
        records = _at(body, self.options["records_path"])
        if not isinstance(records, list):
            where = f"'{self.options['records_path']}'" if self.options["records_path"] else "the top level"
            raise PermanentError(
                f"GET {response.request.url.path} has no list of records at {where}: {_trim(response.text)}"
            )
        return Fetched(response, body, records)

    def _path(self, entity: str) -> str:
        try:
            return self.options["paths"][entity]
        except KeyError:
            known = ", ".join(sorted(self.options["paths"]))
            raise PermanentError(f"No path is set for entity '{entity}' (paths are set for: {known}).") from None

    # --- Reading

    def read(self, entity: str, *, watermark: str | None = None, page_size: int = 500) -> Iterator[Page]:
        """Pages of ``entity``'s records; with a watermark, only those changed since.

        With ``incremental_param`` the peer filters (it gets the watermark as is); with only
        ``watermark_field`` the adapter reads everything and keeps records whose field is at or
        after the watermark. Either way a record changed at the watermark itself is read again:
        the engine's idempotency key makes that harmless, and nothing changed in that second is lost.
        Each page carries the latest watermark seen so far, which is only safe to store when the
        peer returns the oldest change first (sort it through ``query_params`` if needed).
        """
        options, path = self.options, self._path(entity)
        params = dict(options["query_params"])
        field, param = options["watermark_field"], options["incremental_param"]
        if watermark and param:
            params[param] = watermark
        mark = watermark
        for raw in PAGINATORS[options["pagination"]](self._get, path, params, page_size, options):
            records = [self._source_record(item, path) for item in raw]
            if field:
                marks = [_at(r.payload, field) for r in records]
                if watermark and not param:
                    records = [r for r, m in zip(records, marks, strict=True) if at_or_after(m, watermark)]
                for value in marks:
                    mark = latest(mark, value)
            yield Page(records, watermark=mark)

    def _source_record(self, item: Any, path: str) -> SourceRecord:
        if not isinstance(item, dict):
            raise PermanentError(f"GET {path} returned a record that is not a JSON object: {_trim(json.dumps(item))}")
        ident = _at(item, self.options["id_field"])
        if ident is None or ident == "":
            raise PermanentError(
                f"A record from GET {path} has no '{self.options['id_field']}' field: {_trim(json.dumps(item))}"
            )
        version = _at(item, self.options["version_field"]) if self.options["version_field"] else None
        return SourceRecord(external_id=str(ident), payload=item, version=None if version is None else str(version))

    # --- Writing

    def write(self, entity: str, records: list[OutRecord]) -> list[WriteResult]:
        """One request per record, in order. A record's failure goes in its result; after the peer
        becomes unreachable, refuses the credentials or is refused by the outbound policy, the
        remaining records are not attempted and get the same error."""
        path = self._path(entity)
        self._require_credentials()  # incomplete credentials fail the whole batch, before any request
        results: list[WriteResult] = []
        stop: AdapterError | None = None
        for record in records:
            if stop is not None:
                error = type(stop)(f"Not attempted: {stop.message}", retry_after=stop.retry_after)
                results.append(WriteResult(key=record.key, error=error))
                continue
            results.append(result := self._write_one(path, record))
            if isinstance(result.error, PeerUnavailableError | AuthenticationError | DestinationRefused):
                stop = result.error
        return results

    def _write_one(self, path: str, record: OutRecord) -> WriteResult:
        options = self.options
        headers = {"Content-Type": "application/json"}
        if options["idempotency_header"]:
            headers[options["idempotency_header"]] = record.key
        try:
            method, url, known_id = self._write_target(path, record)
            content = json.dumps(record.payload, cls=DjangoJSONEncoder)
            response = self._request(method, url, content=content, headers=headers)
            body = parse_json(response) if response.content.strip() else None
        except AdapterError as exc:
            return WriteResult(key=record.key, error=exc)
        except (TypeError, ValueError) as exc:
            return WriteResult(key=record.key, error=PermanentError(f"The record cannot be sent as JSON: {exc}"))
        target_id = _at(body, options["id_field"]) if isinstance(body, dict) else None
        if target_id is None and response.headers.get("Location"):
            target_id = response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
        if target_id is None:
            target_id = known_id
        action = "created" if method == "POST" or response.status_code == 201 else "updated"
        return WriteResult(key=record.key, action=action, target_id=None if target_id is None else str(target_id))

    def _write_target(self, path: str, record: OutRecord) -> tuple[str, str, str | None]:
        """(method, url, the id in the url): update by target id, else PUT by upsert key, else POST."""
        if record.target_id:
            return self.options["update_method"], _item(path, record.target_id), record.target_id
        field = self.options["upsert_key_field"]
        if not field:
            return "POST", path, None
        key = _at(record.payload, field)
        if key is None or key == "":
            raise PermanentError(f"The record has no '{field}' to upsert by.")
        return "PUT", _item(path, str(key)), str(key)

    # --- Test connection

    def test_connection(self) -> list[Check]:
        """Connect to the base URL, authenticate, then read the first page of every entity."""
        checks = [self._check_connect()]
        if checks[-1].ok:
            checks.append(self._check_auth())
        if checks[-1].ok:
            checks += [self._check_read(entity) for entity in self.options["paths"]]
        return checks

    def _check_connect(self) -> Check:
        name, started = "Resolve and connect to base URL", time.monotonic()
        try:
            with transport_errors(self.timeouts):
                response = self.client.get("", auth=None)
        except AdapterError as exc:
            return Check(name, False, exc.message)
        ms = (time.monotonic() - started) * 1000
        return Check(name, True, f"{self.options['base_url']} answered HTTP {response.status_code} in {ms:.0f} ms.")

    def _check_auth(self) -> Check:
        name, auth_type = "Authenticate", self.options["auth_type"]
        if auth_type == AuthType.NONE:
            return Check(name, True, "No authentication is configured.")
        try:
            auth = self.auth
            if isinstance(auth, OAuth2ClientCredentials):
                with transport_errors(self.timeouts):
                    auth.store(self.client.send(auth.token_request()))
                return Check(name, True, f"Got an access token from {auth.token_url}.")
            first = next(iter(self.options["paths"]))
            next(self.read(first, page_size=1), None)
        except AuthenticationError as exc:
            return Check(name, False, exc.message)
        except AdapterError as exc:
            return Check(name, True, f"Not refused, but not confirmed either: {exc.message}")
        label = AuthType(auth_type).label
        return Check(name, True, f"GET {self._path(first)} accepted the credentials ({label}).")

    def _check_read(self, entity: str) -> Check:
        name, path = f"Read {entity} path", self._path(entity)
        try:
            page = next(self.read(entity, page_size=1), None)
        except AdapterError as exc:
            return Check(name, False, exc.message)
        if page is None:
            return Check(name, True, f"GET {path} answered with no records.")
        first = f" (first id: {page.records[0].external_id})" if page.records else ""
        return Check(name, True, f"GET {path} answered with {len(page.records)} record(s) on the first page{first}.")


def _item(path: str, ident: str) -> str:
    return f"{path.rstrip('/')}/{quote(ident, safe='')}"
