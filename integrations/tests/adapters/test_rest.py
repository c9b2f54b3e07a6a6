"""The REST adapter against a real HTTP peer: json-server 0.17 plus tests/peers/server.js."""

import socket
import time
from email.utils import formatdate

import pytest
from rest_framework import serializers

from integrations.adapters import registry
from integrations.adapters.base import OutRecord, validate
from integrations.adapters.errors import PermanentError, TransientError
from integrations.adapters.rest import (
    AuthenticationError,
    PeerUnavailableError,
    RestAdapter,
    RestSettingsSerializer,
    latest,
    retry_after,
)

from .peers import SEED

ALL_IDS = [str(c["id"]) for c in SEED["customers"]]
CLIENT = {"client_id": "junction", "client_secret": "client-secret"}


def make(server_or_url, credentials=None, **options) -> RestAdapter:
    """A REST adapter for the customers of ``server_or_url``; ``options`` override the settings."""
    url = getattr(server_or_url, "url", server_or_url)
    return RestAdapter({"base_url": url, "paths": {"customer": "/customers"}, **options}, credentials)


def read_all(adapter, **kwargs):
    with adapter:
        return list(adapter.read("customer", **kwargs))


def ids(pages):
    return [r.external_id for page in pages for r in page.records]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Settings and credentials ---------------------------------------------------------------------


def test_registered_as_rest():
    assert registry.get("rest") is RestAdapter


def test_settings_defaults():
    options = validate(RestSettingsSerializer, {"base_url": "https://erp.example.com/api/", "paths": {"c": "/c"}})
    assert options["base_url"] == "https://erp.example.com/api"
    assert (options["auth_type"], options["pagination"], options["id_field"]) == ("none", "none", "id")
    assert (options["connect_timeout"], options["read_timeout"], options["rate_limit"]) == (5, 30, 0)


def test_settings_take_single_label_hosts():
    options = validate(RestSettingsSerializer, {"base_url": "http://tryton:8000/", "paths": {"c": "/c"}})
    assert options["base_url"] == "http://tryton:8000"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"base_url": "ftp://erp.example.com"}, "base_url"),
        ({"base_url": "https://erp.example.com/api?key=1"}, "base_url"),
        ({"base_url": "erp.example.com"}, "base_url"),
        ({"auth_type": "oauth2_client_credentials", "token_url": "mailto:x@example.com"}, "token_url"),
        ({"paths": {}}, "paths"),
        ({"paths": {"customer": "customers"}}, "paths"),
        ({"auth_type": "oauth2_client_credentials"}, "token_url"),
        ({"auth_type": "basic"}, "username"),
        ({"auth_type": "api_key_header", "api_key_header": "X API Key"}, "api_key_header"),
        ({"auth_type": "kerberos"}, "auth_type"),
        ({"pagination": "page", "page_param": ""}, "page_param"),
        ({"pagination": "cursor"}, "records_path"),
        ({"pagination": "cursor", "records_path": "data", "next_cursor_path": ""}, "next_cursor_path"),
        ({"incremental_param": "updated_after"}, "watermark_field"),
        ({"rate_limit": -1}, "rate_limit"),
        ({"read_timeout": 0}, "read_timeout"),
    ],
)
def test_settings_errors_are_keyed_by_field(overrides, field):
    data = {"base_url": "https://erp.example.com", "paths": {"customer": "/customers"}, **overrides}
    with pytest.raises(serializers.ValidationError) as raised:
        validate(RestSettingsSerializer, data)
    assert set(raised.value.detail) == {field}


@pytest.mark.parametrize(
    ("auth", "credentials", "errors"),
    [
        ({"auth_type": "none"}, {}, {}),
        ({"auth_type": "api_key_header"}, {}, {"api_key"}),
        ({"auth_type": "api_key_query"}, {"api_key": "k"}, set()),
        ({"auth_type": "bearer"}, {"api_key": "k"}, {"token"}),
        ({"auth_type": "basic", "username": "alice"}, {"password": ""}, {"password"}),
        ({"auth_type": "oauth2_client_credentials"}, {"client_id": "x"}, {"client_secret"}),
    ],
)
def test_check_credentials_names_the_missing_secret(auth, credentials, errors):
    assert set(RestAdapter.check_credentials(auth, credentials)) == set(errors)


def test_invalid_settings_fail_permanently_when_built():
    with pytest.raises(PermanentError, match=r"^Invalid REST connector settings: paths: This field is required\.$"):
        RestAdapter({"base_url": "https://erp.example.com"})


def test_retry_after_reads_both_forms():
    assert retry_after("120") == 120
    assert 25 < retry_after(formatdate(time.time() + 30, usegmt=True)) <= 30
    assert retry_after(formatdate(time.time() - 30, usegmt=True)) == 0
    assert retry_after("soon") is None
    assert retry_after(None) is None


def test_watermarks_compare_as_text_or_as_integers():
    assert latest("2024-01-02T00:00:00Z", "2024-01-10T00:00:00Z") == "2024-01-10T00:00:00Z"
    assert latest("9", 10) == "10"
    assert latest("10", None) == "10"
    assert latest(None, "") is None


# --- Reading: pagination ----------------------------------------------------------------------------


PAGINATION = {
    "none": {},
    "page": {"pagination": "page", "page_param": "_page", "page_size_param": "_limit"},
    "offset": {"pagination": "offset", "offset_param": "_start", "limit_param": "_limit"},
    "link_header": {"pagination": "link_header", "page_param": "_page", "page_size_param": "_limit"},
    "cursor": {
        "pagination": "cursor",
        "paths": {"customer": "/cursor/customers"},
        "records_path": "data",
        "next_cursor_path": "meta.next",
        "page_size_param": "limit",
    },
}


@pytest.mark.parametrize("style", PAGINATION)
def test_each_pagination_style_reads_every_record_once(json_server, style):
    pages = read_all(make(json_server, **PAGINATION[style], watermark_field="updatedAt"), page_size=3)
    assert ids(pages) == ALL_IDS
    assert [len(p.records) for p in pages] == ([7] if style == "none" else [3, 3, 1])
    # Each page carries the latest change seen so far.
    assert pages[-1].watermark == "2024-01-07T10:00:00Z"
    assert pages[0].watermark == ("2024-01-07T10:00:00Z" if style == "none" else "2024-01-03T10:00:00Z")


def test_records_carry_payload_and_version(json_server):
    (page,) = read_all(make(json_server, version_field="rev"))
    first = page.records[0]
    assert (first.external_id, first.version, first.payload["name"]) == ("1", "r1", "Customer 1")
    assert page.watermark is None


def test_a_paging_parameter_the_api_ignores_is_caught(json_server):
    adapter = make(json_server, pagination="page", page_param="pg", page_size_param="_limit")
    with pytest.raises(PermanentError, match="repeated the previous page"):
        read_all(adapter, page_size=3)


def test_a_body_without_the_records_list_is_permanent(json_server):
    with pytest.raises(PermanentError, match="no list of records at 'items'"):
        read_all(make(json_server, records_path="items"))


def test_records_without_an_id_are_permanent(json_server):
    with pytest.raises(PermanentError, match="no 'code' field"):
        read_all(make(json_server, id_field="code"))


def test_unknown_entity_is_permanent(json_server):
    with make(json_server) as adapter, pytest.raises(PermanentError, match="No path is set for entity 'order'"):
        list(adapter.read("order"))


# --- Reading: incremental ---------------------------------------------------------------------------


def test_incremental_read_asks_the_peer_for_changes_since_the_watermark(json_server):
    adapter = make(
        json_server,
        incremental_param="updatedAt_gte",
        watermark_field="updatedAt",
        query_params={"_sort": "updatedAt", "_order": "asc"},
        pagination="page",
        page_param="_page",
        page_size_param="_limit",
    )
    pages = read_all(adapter, watermark="2024-01-05T10:00:00Z", page_size=2)
    # The record changed at the watermark itself comes again: at least once, never lost.
    assert ids(pages) == ["5", "6", "7"]
    assert [p.watermark for p in pages] == ["2024-01-06T10:00:00Z", "2024-01-07T10:00:00Z"]


def test_incremental_read_without_a_peer_filter_filters_here(json_server):
    pages = read_all(make(json_server, watermark_field="updatedAt"), watermark="2024-01-06T10:00:00Z")
    assert ids(pages) == ["6", "7"]
    assert pages[-1].watermark == "2024-01-07T10:00:00Z"


def test_incremental_read_with_nothing_new_keeps_the_watermark(json_server):
    adapter = make(json_server, incremental_param="updatedAt_gte", watermark_field="updatedAt")
    pages = read_all(adapter, watermark="2030-01-01T00:00:00Z")
    assert ids(pages) == []
    assert all(p.watermark == "2030-01-01T00:00:00Z" for p in pages)


# --- Authentication ---------------------------------------------------------------------------------


AUTH = {
    "api_key_header": ("/apikey-header", {"auth_type": "api_key_header"}, {"api_key": "test-api-key"}),
    "api_key_query": ("/apikey-query", {"auth_type": "api_key_query"}, {"api_key": "test-api-key"}),
    "bearer": ("/bearer", {"auth_type": "bearer"}, {"token": "test-bearer-token"}),
    "basic": ("/basic", {"auth_type": "basic", "username": "alice"}, {"password": "wonderland"}),
}


@pytest.mark.parametrize("kind", AUTH)
def test_each_auth_type_is_accepted(json_server, kind):
    prefix, options, credentials = AUTH[kind]
    pages = read_all(make(f"{json_server.url}{prefix}", credentials, **options))
    assert ids(pages) == ALL_IDS


@pytest.mark.parametrize("kind", AUTH)
def test_each_auth_type_refused_is_permanent(json_server, kind):
    prefix, options, credentials = AUTH[kind]
    wrong = {name: "wrong" for name in credentials}
    with pytest.raises(AuthenticationError, match=r"HTTP 401 .*Invalid or missing credentials"):
        read_all(make(f"{json_server.url}{prefix}", wrong, **options))


def test_api_key_stays_out_of_messages(json_server):
    adapter = make(f"{json_server.url}/apikey-query", {"api_key": "not-the-key"}, auth_type="api_key_query")
    with pytest.raises(AuthenticationError) as raised:
        read_all(adapter)
    assert "not-the-key" not in str(raised.value)


def test_missing_credentials_fail_before_any_request(json_server):
    with pytest.raises(AuthenticationError, match="token missing"):
        read_all(make(f"{json_server.url}/bearer", {}, auth_type="bearer"))


def oauth(server, credentials=CLIENT, **options) -> RestAdapter:
    return make(
        f"{server.url}/oauth",
        credentials,
        auth_type="oauth2_client_credentials",
        token_url=f"{server.url}/token",
        scope="customers:read",
        **options,
    )


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_oauth2_token_is_fetched_once_and_reused(json_server, method):
    with oauth(json_server, token_auth_method=method) as adapter:
        assert ids(adapter.read("customer")) == ALL_IDS
        assert ids(adapter.read("customer")) == ALL_IDS
    assert json_server.stats()["tokenRequests"] == 1


def test_oauth2_token_refused_mid_run_is_renewed_once(json_server):
    with oauth(json_server) as adapter:
        assert ids(adapter.read("customer")) == ALL_IDS
        json_server.control(revoke=True)  # the peer forgets the token before it expires
        assert ids(adapter.read("customer")) == ALL_IDS
    assert json_server.stats()["tokenRequests"] == 2


def test_oauth2_token_is_renewed_before_it_expires(json_server):
    json_server.control(tokenLifetime=1)  # kept for half its life: 0.5 s
    with oauth(json_server) as adapter:
        list(adapter.read("customer"))
        time.sleep(0.6)
        list(adapter.read("customer"))
    assert json_server.stats()["tokenRequests"] == 2


def test_oauth2_bad_client_secret_is_permanent(json_server):
    adapter = oauth(json_server, {"client_id": "junction", "client_secret": "nope"})
    with pytest.raises(AuthenticationError, match="refused the client credentials: Client authentication failed"):
        read_all(adapter)


# --- Errors -----------------------------------------------------------------------------------------


def status_adapter(server, code, **query):
    return make(server, paths={"customer": f"/status/{code}"}, query_params=query)


def test_429_with_retry_after_seconds_is_transient(json_server):
    with pytest.raises(TransientError) as raised:
        read_all(status_adapter(json_server, 429, retry_after="7", message="Slow down"))
    assert raised.value.retry_after == 7
    assert "HTTP 429 from GET /status/429: Slow down" in raised.value.message


def test_503_with_retry_after_date_is_transient(json_server):
    when = formatdate(time.time() + 60, usegmt=True)
    with pytest.raises(TransientError) as raised:
        read_all(status_adapter(json_server, 503, retry_after=when))
    assert 50 < raised.value.retry_after <= 60


def test_500_is_transient_with_the_servers_message(json_server):
    with pytest.raises(TransientError, match=r"HTTP 500 .*Database is restarting") as raised:
        read_all(status_adapter(json_server, 500, message="  Database is restarting\n"))
    assert not raised.value.permanent
    assert raised.value.retry_after is None


def test_404_is_permanent(json_server):
    with pytest.raises(PermanentError, match="HTTP 404 from GET /nothing: Not Found"):
        read_all(make(json_server, paths={"customer": "/nothing"}))


def test_422_is_permanent_with_the_servers_message(json_server):
    with pytest.raises(PermanentError, match=r"HTTP 422 .*: Field 'vat' is invalid$"):
        read_all(status_adapter(json_server, 422, message="Field 'vat' is invalid"))


def test_malformed_json_is_permanent(json_server):
    with pytest.raises(PermanentError, match="malformed JSON"):
        read_all(status_adapter(json_server, 200, body="{not json"))


def test_nan_in_an_answer_is_malformed_json(json_server):
    # Python's json reads NaN; PostgreSQL's jsonb would refuse the page where it is stored.
    with pytest.raises(PermanentError, match="malformed JSON \\(NaN is not a JSON value\\)"):
        read_all(status_adapter(json_server, 200, body='[{"id": 1, "amount": NaN}]'))


def test_connection_refused_is_transient():
    with pytest.raises(PeerUnavailableError, match=r"Could not connect to 127\.0\.0\.1") as raised:
        read_all(make(f"http://127.0.0.1:{free_port()}"))
    assert isinstance(raised.value, TransientError)


def test_timeout_is_transient(json_server):
    adapter = make(json_server, query_params={"_delay": "2000"}, read_timeout=0.3)
    with pytest.raises(TransientError, match=r"Timed out after 0\.3 s waiting for an answer from 127\.0\.0\.1"):
        read_all(adapter)


def test_rate_limit_spaces_requests(json_server):
    # 8 requests (7 one-record pages and the empty one) at 4 per second: 4 at once, then 0.25 s apart.
    adapter = make(json_server, rate_limit=4, pagination="page", page_param="_page", page_size_param="_limit")
    started = time.monotonic()
    assert ids(read_all(adapter, page_size=1)) == ALL_IDS
    assert time.monotonic() - started >= 0.9


# --- Writing ----------------------------------------------------------------------------------------


def test_write_creates_then_updates_by_target_id(json_server):
    with make(json_server) as adapter:
        (created,) = adapter.write("customer", [OutRecord(key="k1", payload={"name": "Newco"})])
        assert (created.action, created.target_id, created.error) == ("created", "8", None)
        (updated,) = adapter.write("customer", [OutRecord(key="k2", payload={"name": "Renamed"}, target_id="8")])
        assert (updated.action, updated.target_id, updated.error) == ("updated", "8", None)
    assert json_server.record("customers", 8)["name"] == "Renamed"


def test_write_upserts_by_key_with_put(json_server):
    upsert = f"{json_server.url}/upsert"  # where PUT to a new id creates it
    with make(upsert, upsert_key_field="code", idempotency_header="Idempotency-Key") as adapter:
        first = adapter.write("customer", [OutRecord(key="k1", payload={"code": "ACME-1", "name": "Acme"})])
        again = adapter.write("customer", [OutRecord(key="k2", payload={"code": "ACME-1", "name": "Acme AG"})])
        missing = adapter.write("customer", [OutRecord(key="k3", payload={"name": "No code"})])
    assert [(r.action, r.target_id) for r in first + again] == [("created", "ACME-1"), ("updated", "ACME-1")]
    assert json_server.record("customers", "ACME-1")["name"] == "Acme AG"
    assert isinstance(missing[0].error, PermanentError)
    assert "no 'code' to upsert by" in missing[0].error.message


def test_write_reports_each_records_failure_and_goes_on(json_server):
    records = [
        OutRecord(key="good-1", payload={"name": "One"}),
        OutRecord(key="bad", payload={"name": ""}),
        OutRecord(key="gone", payload={"name": "Gone"}, target_id="999"),
        OutRecord(key="good-2", payload={"name": "Two"}),
    ]
    with make(json_server) as adapter:
        results = adapter.write("customer", records)
    assert [r.key for r in results] == ["good-1", "bad", "gone", "good-2"]
    assert [r.target_id for r in (results[0], results[3])] == ["8", "9"]
    assert isinstance(results[1].error, PermanentError)
    assert results[1].error.message.endswith("HTTP 422 from POST /customers: Validation failed: name must not be blank")
    assert isinstance(results[2].error, PermanentError)
    assert "HTTP 404 from PUT /customers/999" in results[2].error.message


def test_write_to_an_unreachable_peer_stops_after_the_first_record():
    records = [OutRecord(key=f"k{n}", payload={"name": str(n)}) for n in range(3)]
    with make(f"http://127.0.0.1:{free_port()}") as adapter:
        results = adapter.write("customer", records)
    assert all(isinstance(r.error, TransientError) for r in results)
    assert results[1].error.message.startswith("Not attempted: Could not connect")


# --- Test connection --------------------------------------------------------------------------------


def test_connection_checks_pass(json_server):
    paths = {"customer": "/customers", "product": "/products"}
    with oauth(json_server, paths=paths) as adapter:
        checks = adapter.test_connection()
    assert [(c.name, c.ok) for c in checks] == [
        ("Resolve and connect to base URL", True),
        ("Authenticate", True),
        ("Read customer path", True),
        ("Read product path", True),
    ]
    assert checks[1].detail == f"Got an access token from {json_server.url}/token."
    assert checks[3].detail == "GET /products answered with 1 record(s) on the first page (first id: P-1)."


def test_connection_check_fails_on_refused_connection():
    with make(f"http://127.0.0.1:{free_port()}") as adapter:
        (check,) = adapter.test_connection()
    assert not check.ok
    assert "Could not connect to 127.0.0.1" in check.detail


def test_connection_check_fails_on_refused_credentials(json_server):
    with make(f"{json_server.url}/bearer", {"token": "wrong"}, auth_type="bearer") as adapter:
        checks = adapter.test_connection()
    assert [(c.name, c.ok) for c in checks] == [("Resolve and connect to base URL", True), ("Authenticate", False)]
    assert "Invalid or missing credentials" in checks[1].detail


def test_connection_check_fails_on_a_bad_path(json_server):
    paths = {"customer": "/customers", "order": "/orders"}
    with make(f"{json_server.url}/bearer", {"token": "test-bearer-token"}, auth_type="bearer", paths=paths) as adapter:
        checks = adapter.test_connection()
    assert [c.ok for c in checks] == [True, True, True, False]
    assert checks[1].detail == "GET /customers accepted the credentials (Bearer token)."
    assert checks[3].detail == "HTTP 404 from GET /bearer/orders: Not Found"
