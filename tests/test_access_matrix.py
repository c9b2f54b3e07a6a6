"""Every URL pattern, for every role (and anonymous) and every method it accepts, against one table.

``MATRIX`` below is the single, explicit statement of who gets what: per URL pattern (as
written in the URLconf, found by walking ``config.urls`` recursively: pages, the API router,
the Django admin, the inbound webhook), an example address and, per method, the expected
status for each persona in ``PERSONAS`` order. A pattern or method with no row fails
``test_every_url_pattern_is_in_the_matrix`` ("add <pattern> to the matrix"), so a new URL
cannot ship without someone deciding who may use it.

Personas: anonymous; one user per role; and ``outsider``, a second Integration engineer
who holds no grant (``engineer`` holds view/change/delete on the connectors and the flow).
So "granted" and "not granted" are two columns of the same row.

Each request runs inside a savepoint that is rolled back, so every persona meets the same
objects (an Administrator's DELETE does not remove the engineer's flow). Mutating requests
carry an empty body: they test the gate, not the form; the pages' own tests test the forms.
Auditors and Viewers change nothing anywhere: besides their statuses, no mutating request of
theirs may leave a change in the audit trail.

Admin pages are one row per *shape* (``admin/<model>/…``), tried on every registered model:
only Administrators are staff, so every other persona is sent to the admin's sign-in page;
for Administrators the admin itself answers 200, a redirect or 403 (read-only models), which
``integrations/tests/test_admin_access.py`` pins down where it matters.
"""

import copy
import json
import re
from dataclasses import dataclass, field

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.http import urlencode

from accounts.roles import Role
from accounts.tests.factories import UserFactory
from accounts.tests.otp import verify_session
from integrations.tests.factories import SystemFactory
from integrations.tests.pages import make_flow, make_outcomes, make_run, rest_connector, webhook_connector
from masterdata.tests.factories import customer_pair

pytestmark = pytest.mark.django_db

PERSONAS = ("anonymous", "admin", "engineer", "outsider", "steward", "auditor", "viewer")
MUTATING = ("POST", "PUT", "PATCH", "DELETE")
METHODS = ("GET", *MUTATING)
# What a request that was refused or changed nothing may answer (for the "change nothing" check).
OK = {200, 201, 202, 204}


@dataclass
class Row:
    url: str  # example address; {placeholders} name objects of the ``world`` fixture
    expect: dict[str, tuple[frozenset[int], ...]] = field(default_factory=dict)
    data: dict | None = None  # the body of mutating requests ({placeholders} too); empty by default


def row(url: str, data: dict | None = None, **methods: str) -> Row:
    """``row("/x/{flow}/", GET="302 200 200 404 200 200 200")``: one status per persona, in
    ``PERSONAS`` order; ``200/403`` accepts either. ``data``: a real body for the mutating
    methods, where an empty one would stop at validation before the permission matters."""
    expect = {}
    for method, codes in methods.items():
        cells = codes.split()
        assert len(cells) == len(PERSONAS), f"{url} {method}: {len(cells)} statuses for {len(PERSONAS)} personas"
        expect[method] = tuple(frozenset(int(c) for c in cell.split("/")) for cell in cells)
    return Row(url, expect, data)


# Statuses in PERSONAS order:          anonymous admin engineer outsider steward auditor viewer
MATRIX: dict[str, Row] = {
    "": row("/", GET="302 200 200 200 200 200 200"),
    "dashboard/health/": row("/dashboard/health/", GET="302 200 200 200 200 200 200"),
    # The alert is about the engineer's connector; acknowledging needs change on it (Auditors, Viewers: 403).
    "alerts/": row("/alerts/", GET="302 200 200 200 403 200 200"),
    "alerts/<int:pk>/": row("/alerts/{alert}/", GET="302 200 200 404 404 200 200"),
    "alerts/<int:pk>/acknowledge/": row("/alerts/{alert}/acknowledge/", POST="302 302 302 404 404 403 403"),
    "login/": row(
        "/login/",
        GET="200 302 302 302 302 302 302",
        POST="200 302 302 302 302 302 302",
        PUT="200 302 302 302 302 302 302",
    ),
    "logout/": row("/logout/", POST="302 302 302 302 302 302 302"),
    "account/password/": row(
        "/account/password/",
        GET="302 200 200 200 200 200 200",
        POST="302 200 200 200 200 200 200",
        PUT="302 200 200 200 200 200 200",
    ),
    "account/password/done/": row("/account/password/done/", GET="302 200 200 200 200 200 200"),
    "accounts/2fa/verify/": row(
        "/accounts/2fa/verify/",
        GET="302 302 302 302 302 302 302",
        POST="302 302 302 302 302 302 302",
        PUT="302 302 302 302 302 302 302",
    ),
    "accounts/2fa/setup/": row(
        "/accounts/2fa/setup/",
        GET="302 200 200 200 200 200 200",
        POST="302 200 200 200 200 200 200",
        PUT="302 200 200 200 200 200 200",
    ),
    "accounts/reauth/": row(
        "/accounts/reauth/",
        GET="302 200 200 200 200 200 200",
        POST="302 200 200 200 200 200 200",
        PUT="302 200 200 200 200 200 200",
    ),
    "accounts/security/": row("/accounts/security/", GET="302 200 200 200 200 200 200"),
    "accounts/security/recovery-codes/": row("/accounts/security/recovery-codes/", POST="302 200 302 302 302 302 302"),
    "accounts/security/2fa/disable/": row("/accounts/security/2fa/disable/", POST="302 302 302 302 302 302 302"),
    "accounts/security/tokens/new/": row(
        "/accounts/security/tokens/new/", GET="302 302 302 302 302 302 302", POST="302 400 400 400 400 400 400"
    ),
    "accounts/security/tokens/<int:pk>/revoke/": row(
        "/accounts/security/tokens/{token}/revoke/", POST="302 302 404 404 404 404 404"
    ),
    "integrations/systems/": row("/integrations/systems/", GET="302 200 200 200 200 200 200"),
    "integrations/systems/add/": row(
        "/integrations/systems/add/",
        GET="302 200 200 200 403 403 403",
        POST="302 200 200 200 403 403 403",
        PUT="302 200 200 200 403 403 403",
    ),
    "integrations/systems/<int:pk>/": row("/integrations/systems/{system}/", GET="302 200 200 200 200 200 200"),
    "integrations/systems/<int:pk>/edit/": row(
        "/integrations/systems/{system}/edit/",
        GET="302 200 200 200 404 404 404",
        POST="302 200 200 200 404 404 404",
        PUT="302 200 200 200 404 404 404",
    ),
    "integrations/systems/<int:pk>/delete/": row(
        "/integrations/systems/{system}/delete/",
        GET="302 200 200 200 404 404 404",
        POST="302 302 302 302 404 404 404",
        DELETE="302 200 200 200 404 404 404",
    ),
    "integrations/systems/<int:pk>/access/": row(
        "/integrations/systems/{system}/access/", GET="302 200 403 403 403 200 403"
    ),
    "integrations/systems/<int:pk>/access/grant/": row(
        "/integrations/systems/{system}/access/grant/",
        {"principal": "user:{user}", "permissions": ["view"]},
        GET="302 302 403 403 403 403 403",
        POST="302 302 403 403 403 403 403",
    ),
    "integrations/systems/<int:pk>/access/revoke/": row(
        "/integrations/systems/{system}/access/revoke/",
        {"principal": "user:{engineer}"},
        GET="302 302 403 403 403 403 403",
        POST="302 200 403 403 403 403 403",
    ),
    "integrations/connectors/": row("/integrations/connectors/", GET="302 200 200 200 200 200 200"),
    "integrations/connectors/add/": row(
        "/integrations/connectors/add/",
        GET="302 200 200 200 403 403 403",
        POST="302 200 200 200 403 403 403",
        PUT="302 200 200 200 403 403 403",
    ),
    "integrations/connectors/adapter-fields/": row(
        "/integrations/connectors/adapter-fields/", GET="302 200 200 200 403 403 403"
    ),
    "integrations/connectors/<int:pk>/": row(
        "/integrations/connectors/{connector}/", GET="302 200 200 404 404 200 200"
    ),
    "integrations/connectors/<int:pk>/edit/": row(
        "/integrations/connectors/{connector}/edit/",
        GET="302 200 200 404 404 404 404",
        POST="302 200 200 404 404 404 404",
        PUT="302 200 200 404 404 404 404",
    ),
    "integrations/connectors/<int:pk>/delete/": row(
        "/integrations/connectors/{connector}/delete/",
        GET="302 200 200 404 404 404 404",
        POST="302 302 302 404 404 404 404",
        DELETE="302 200 200 404 404 404 404",
    ),
    "integrations/connectors/<int:pk>/access/": row(
        "/integrations/connectors/{connector}/access/", GET="302 200 403 404 404 200 403"
    ),
    "integrations/connectors/<int:pk>/access/grant/": row(
        "/integrations/connectors/{connector}/access/grant/",
        {"principal": "user:{user}", "permissions": ["view"]},
        GET="302 302 403 404 404 403 403",
        POST="302 302 403 404 404 403 403",
    ),
    "integrations/connectors/<int:pk>/access/revoke/": row(
        "/integrations/connectors/{connector}/access/revoke/",
        {"principal": "user:{engineer}"},
        GET="302 302 403 404 404 403 403",
        POST="302 302 403 404 404 403 403",
    ),
    "integrations/connectors/<int:pk>/test/": row(
        "/integrations/connectors/{connector}/test/", POST="302 200 200 404 404 404 404"
    ),
    # The REST connector cannot be reconciled: those who may try are sent back with the reason.
    "integrations/connectors/<int:pk>/reconcile/": row(
        "/integrations/connectors/{connector}/reconcile/", {"entity": "customer"}, POST="302 302 302 404 404 404 404"
    ),
    "integrations/flows/": row("/integrations/flows/", GET="302 200 200 200 200 200 200"),
    "integrations/flows/add/": row(
        "/integrations/flows/add/",
        GET="302 200 200 200 403 403 403",
        POST="302 200 200 200 403 403 403",
        PUT="302 200 200 200 403 403 403",
    ),
    "integrations/flows/<int:pk>/": row("/integrations/flows/{flow}/", GET="302 200 200 404 404 200 200"),
    "integrations/flows/<int:pk>/edit/": row(
        "/integrations/flows/{flow}/edit/",
        GET="302 200 200 404 404 404 404",
        POST="302 200 200 404 404 404 404",
        PUT="302 200 200 404 404 404 404",
    ),
    "integrations/flows/<int:pk>/delete/": row(
        "/integrations/flows/{flow}/delete/",
        GET="302 200 200 404 404 404 404",
        POST="302 302 302 404 404 404 404",
        DELETE="302 200 200 404 404 404 404",
    ),
    "integrations/flows/<int:pk>/access/": row("/integrations/flows/{flow}/access/", GET="302 200 403 404 404 200 403"),
    "integrations/flows/<int:pk>/access/grant/": row(
        "/integrations/flows/{flow}/access/grant/",
        {"principal": "user:{user}", "permissions": ["view"]},
        GET="302 302 403 404 404 403 403",
        POST="302 302 403 404 404 403 403",
    ),
    "integrations/flows/<int:pk>/access/revoke/": row(
        "/integrations/flows/{flow}/access/revoke/",
        {"principal": "user:{engineer}"},
        GET="302 302 403 404 404 403 403",
        POST="302 302 403 404 404 403 403",
    ),
    "integrations/flows/<int:pk>/mapping/": row(
        "/integrations/flows/{flow}/mapping/",
        GET="302 200 200 404 404 404 404",
        POST="302 302 302 404 404 404 404",
        PUT="302 302 302 404 404 404 404",
    ),
    "integrations/flows/<int:pk>/preview/": row(
        "/integrations/flows/{flow}/preview/", POST="302 200 200 404 404 404 404"
    ),
    "integrations/flows/<int:pk>/promote/": row(
        "/integrations/flows/{flow}/promote/", POST="302 302 302 404 404 404 404"
    ),
    "integrations/flows/<int:pk>/run/": row("/integrations/flows/{flow}/run/", POST="302 302 302 404 404 404 404"),
    "integrations/runs/": row("/integrations/runs/", GET="302 200 200 200 200 200 200"),
    "integrations/runs/<int:pk>/": row("/integrations/runs/{run}/", GET="302 200 200 404 404 200 200"),
    "integrations/runs/<int:pk>/progress/": row(
        "/integrations/runs/{run}/progress/", GET="302 200 200 404 404 200 200"
    ),
    "integrations/reconciliations/": row("/integrations/reconciliations/", GET="302 200 200 200 403 200 200"),
    "integrations/reconciliations/<int:pk>/": row(
        "/integrations/reconciliations/{reconciliation}/", GET="302 200 200 404 404 200 200"
    ),
    "integrations/reconciliations/<int:pk>/progress/": row(
        "/integrations/reconciliations/{reconciliation}/progress/", GET="302 200 200 404 404 200 200"
    ),
    # Accepting needs change on the target; this one found nothing gone: sent back with the reason.
    "integrations/reconciliations/<int:pk>/accept/": row(
        "/integrations/reconciliations/{reconciliation}/accept/", POST="302 302 302 404 404 403 403"
    ),
    "integrations/reconciliations/<int:pk>/resend/": row(
        "/integrations/reconciliations/{reconciliation}/resend/", POST="302 302 302 404 404 403 403"
    ),
    "integrations/outcomes/<int:pk>/": row("/integrations/outcomes/{outcome}/", GET="302 200 200 404 404 200 404"),
    "integrations/dead-letters/": row("/integrations/dead-letters/", GET="302 200 200 200 403 200 403"),
    "integrations/dead-letters/replay/": row(
        "/integrations/dead-letters/replay/", {"outcome": ["{outcome}"]}, POST="302 302 302 404 404 404 404"
    ),
    "integrations/dead-letters/discard/": row(
        "/integrations/dead-letters/discard/",
        {"outcome": ["{outcome}"], "reason": "matrix"},
        POST="302 302 302 404 404 404 404",
    ),
    "masterdata/": row(
        "/masterdata/",
        GET="302 302 302 302 302 302 302",
        POST="302 302 302 302 302 302 302",
        PUT="302 302 302 302 302 302 302",
        PATCH="302 302 302 302 302 302 302",
        DELETE="302 302 302 302 302 302 302",
    ),
    "masterdata/review/": row("/masterdata/review/", GET="302 200 200 200 200 200 200"),
    "masterdata/review/bulk/": row(
        "/masterdata/review/bulk/", GET="302 302 403 403 302 403 403", POST="302 302 403 403 302 403 403"
    ),
    "masterdata/review/<int:pk>/": row("/masterdata/review/{candidate}/", GET="302 200 200 200 200 200 404"),
    "masterdata/review/<int:pk>/merge/": row(
        "/masterdata/review/{candidate}/merge/", POST="302 200 403 403 200 403 403"
    ),
    "masterdata/review/<int:pk>/not-duplicate/": row(
        "/masterdata/review/{candidate}/not-duplicate/", POST="302 302 403 403 302 403 403"
    ),
    "masterdata/records/": row("/masterdata/records/", GET="302 200 200 200 200 200 200"),
    "masterdata/records/<int:pk>/": row("/masterdata/records/{golden}/", GET="302 200 200 200 200 200 200"),
    "masterdata/merges/<int:pk>/unmerge/": row(
        "/masterdata/merges/{merge}/unmerge/", POST="302 302 404 404 302 404 404"
    ),
    "masterdata/sources/<int:pk>/": row("/masterdata/sources/{source}/", GET="302 200 200 200 200 200 200"),
    "masterdata/quarantine/": row("/masterdata/quarantine/", GET="302 200 200 200 200 200 200"),
    "masterdata/import/": row(
        "/masterdata/import/",
        GET="302 200 200 200 200 403 403",
        POST="302 200 200 200 200 403 403",
        PUT="302 200 200 200 200 403 403",
    ),
    "masterdata/import/<int:pk>/": row("/masterdata/import/{job}/", GET="302 200 200 200 200 200 404"),
    "masterdata/import/<int:pk>/progress/": row(
        "/masterdata/import/{job}/progress/", GET="302 200 200 200 200 200 404"
    ),
    "masterdata/survivorship/": row(
        "/masterdata/survivorship/",
        GET="302 302 302 302 302 302 302",
        POST="302 302 302 302 302 302 302",
        PUT="302 302 302 302 302 302 302",
        PATCH="302 302 302 302 302 302 302",
        DELETE="302 302 302 302 302 302 302",
    ),
    # Rules are per entity: the role's permissions decide (403), there is no object to hide.
    "masterdata/survivorship/<str:entity>/": row(
        "/masterdata/survivorship/customer/", GET="302 200 200 200 200 200 403"
    ),
    "masterdata/survivorship/<str:entity>/apply/": row(
        "/masterdata/survivorship/customer/apply/", POST="302 302 403 403 302 403 403"
    ),
    "masterdata/survivorship/<str:entity>/<str:field>/": row(
        "/masterdata/survivorship/customer/email/",
        GET="302 200 403 403 200 403 403",
        POST="302 200 403 403 200 403 403",
        PUT="302 200 403 403 200 403 403",
    ),
    "masterdata/survivorship/applications/<int:pk>/progress/": row(
        "/masterdata/survivorship/applications/{application}/progress/", GET="302 200 200 200 200 200 404"
    ),
    "audit/": row("/audit/", GET="302 200 403 403 403 200 403"),
    "audit/<int:pk>/": row("/audit/{entry}/", GET="302 200 403 403 403 200 403"),
    "audit/export.<str:format>": row("/audit/export.csv", GET="302 200 403 403 403 200 403"),
    "api/v1/inbound/<int:pk>/": row("/api/v1/inbound/{webhook}/", POST="401 401 401 401 401 401 401"),
    "api/v1/^systems/$": row("/api/v1/systems/", GET="401 200 200 200 200 200 200", POST="401 400 400 400 403 403 403"),
    "api/v1/^systems/(?P<pk>[^/.]+)/$": row(
        "/api/v1/systems/{system}/",
        GET="401 200 200 200 200 200 200",
        PUT="401 400 400 400 404 404 404",
        PATCH="401 200 200 200 404 404 404",
        DELETE="401 409 409 409 404 404 404",
    ),
    "api/v1/^systems/(?P<pk>[^/.]+)/access/$": row(
        "/api/v1/systems/{system}/access/",
        {"user": "viewer", "permissions": ["view"]},
        GET="401 200 403 403 403 200 403",
        POST="401 201 403 403 403 403 403",
    ),
    "api/v1/^systems/(?P<pk>[^/.]+)/access/revoke/$": row(
        "/api/v1/systems/{system}/access/revoke/", {"user": "engineer"}, POST="401 400 403 403 403 403 403"
    ),
    "api/v1/^connectors/$": row(
        "/api/v1/connectors/", GET="401 200 200 200 200 200 200", POST="401 400 400 400 403 403 403"
    ),
    "api/v1/^connectors/(?P<pk>[^/.]+)/$": row(
        "/api/v1/connectors/{connector}/",
        GET="401 200 200 404 404 200 200",
        PUT="401 400 400 404 404 404 404",
        PATCH="401 200 200 404 404 404 404",
        DELETE="401 409 409 404 404 404 404",
    ),
    "api/v1/^connectors/(?P<pk>[^/.]+)/access/$": row(
        "/api/v1/connectors/{connector}/access/",
        {"user": "viewer", "permissions": ["view"]},
        GET="401 200 403 404 404 200 403",
        POST="401 201 403 404 404 403 403",
    ),
    "api/v1/^connectors/(?P<pk>[^/.]+)/access/revoke/$": row(
        "/api/v1/connectors/{connector}/access/revoke/", {"user": "engineer"}, POST="401 200 403 404 404 403 403"
    ),
    "api/v1/^connectors/(?P<pk>[^/.]+)/test/$": row(
        "/api/v1/connectors/{connector}/test/", POST="401 200 200 404 404 404 404"
    ),
    "api/v1/^flows/$": row("/api/v1/flows/", GET="401 200 200 200 200 200 200", POST="401 400 400 400 403 403 403"),
    "api/v1/^flows/(?P<pk>[^/.]+)/$": row(
        "/api/v1/flows/{flow}/",
        GET="401 200 200 404 404 200 200",
        PUT="401 400 400 404 404 404 404",
        PATCH="401 200 200 404 404 404 404",
        DELETE="401 409 409 404 404 404 404",
    ),
    "api/v1/^flows/(?P<pk>[^/.]+)/access/$": row(
        "/api/v1/flows/{flow}/access/",
        {"user": "viewer", "permissions": ["view"]},
        GET="401 200 403 404 404 200 403",
        POST="401 201 403 404 404 403 403",
    ),
    "api/v1/^flows/(?P<pk>[^/.]+)/access/revoke/$": row(
        "/api/v1/flows/{flow}/access/revoke/", {"user": "engineer"}, POST="401 200 403 404 404 403 403"
    ),
    "api/v1/^flows/(?P<pk>[^/.]+)/preview/$": row("/api/v1/flows/{flow}/preview/", POST="401 400 400 400 400 400 400"),
    "api/v1/^flows/(?P<pk>[^/.]+)/promote/$": row("/api/v1/flows/{flow}/promote/", POST="401 400 400 404 404 404 404"),
    "api/v1/^flows/(?P<pk>[^/.]+)/run/$": row("/api/v1/flows/{flow}/run/", POST="401 202 202 404 404 404 404"),
    "api/v1/^runs/$": row("/api/v1/runs/", GET="401 200 200 200 200 200 200"),
    "api/v1/^runs/(?P<pk>[^/.]+)/$": row("/api/v1/runs/{run}/", GET="401 200 200 404 404 200 200"),
    "api/v1/^outcomes/$": row("/api/v1/outcomes/", GET="401 200 200 200 403 200 403"),
    "api/v1/^outcomes/discard/$": row(
        "/api/v1/outcomes/discard/", {"ids": ["{outcome}"], "reason": "matrix"}, POST="401 200 200 404 403 404 403"
    ),
    "api/v1/^outcomes/replay/$": row(
        "/api/v1/outcomes/replay/", {"ids": ["{outcome}"]}, POST="401 400 400 404 403 404 403"
    ),
    "api/v1/^outcomes/(?P<pk>[^/.]+)/$": row("/api/v1/outcomes/{outcome}/", GET="401 200 200 404 403 200 403"),
    # Starting one: the REST connector cannot be reconciled (400); the outsider may not see it (400, by field).
    "api/v1/^reconciliations/$": row(
        "/api/v1/reconciliations/",
        {"target": "{connector}", "entity": "customer"},
        GET="401 200 200 200 403 200 200",
        POST="401 400 400 400 403 403 403",
    ),
    "api/v1/^reconciliations/(?P<pk>[^/.]+)/$": row(
        "/api/v1/reconciliations/{reconciliation}/", GET="401 200 200 404 403 200 200"
    ),
    # Accepting: this one found nothing gone (409 with the reason for those who may).
    "api/v1/^reconciliations/(?P<pk>[^/.]+)/accept/$": row(
        "/api/v1/reconciliations/{reconciliation}/accept/", POST="401 409 409 404 403 403 403"
    ),
    "api/v1/^reconciliations/(?P<pk>[^/.]+)/resend/$": row(
        "/api/v1/reconciliations/{reconciliation}/resend/", POST="401 409 409 404 403 403 403"
    ),
    "api/v1/": row("/api/v1/", GET="401 200 200 200 200 200 200"),
    "api/v1/masterdata/^golden-records/$": row("/api/v1/masterdata/golden-records/", GET="401 200 200 200 200 200 200"),
    "api/v1/masterdata/^golden-records/(?P<pk>[^/.]+)/$": row(
        "/api/v1/masterdata/golden-records/{golden}/", GET="401 200 200 200 200 200 200"
    ),
    "api/v1/masterdata/^candidates/$": row("/api/v1/masterdata/candidates/", GET="401 200 200 200 200 200 200"),
    "api/v1/masterdata/^candidates/(?P<pk>[^/.]+)/$": row(
        "/api/v1/masterdata/candidates/{candidate}/", GET="401 200 200 200 200 200 404"
    ),
    "api/v1/masterdata/^candidates/(?P<pk>[^/.]+)/merge/$": row(
        "/api/v1/masterdata/candidates/{candidate}/merge/", POST="401 201 403 403 201 403 403"
    ),
    "api/v1/masterdata/^candidates/(?P<pk>[^/.]+)/not-duplicate/$": row(
        "/api/v1/masterdata/candidates/{candidate}/not-duplicate/", POST="401 200 403 403 200 403 403"
    ),
    "api/v1/masterdata/^survivorship-rules/$": row(
        "/api/v1/masterdata/survivorship-rules/",
        GET="401 200 200 200 200 200 200",
        POST="401 400 403 403 400 403 403",
    ),
    "api/v1/masterdata/^survivorship-rules/(?P<pk>[^/.]+)/$": row(
        "/api/v1/masterdata/survivorship-rules/{rule}/",
        GET="401 200 200 200 200 200 404",
        PUT="401 400 404 404 400 404 404",
        PATCH="401 200 404 404 200 404 404",
        DELETE="401 204 404 404 204 404 404",
    ),
    "api/v1/masterdata/^rule-applications/$": row(
        "/api/v1/masterdata/rule-applications/",
        GET="401 200 200 200 200 200 200",
        POST="401 400 403 403 400 403 403",
    ),
    "api/v1/masterdata/^rule-applications/(?P<pk>[^/.]+)/$": row(
        "/api/v1/masterdata/rule-applications/{application}/", GET="401 200 200 200 200 200 404"
    ),
    "api/v1/masterdata/": row("/api/v1/masterdata/", GET="401 200 200 200 200 200 200"),
    "api/v1/^alerts/$": row("/api/v1/alerts/", GET="401 200 200 200 403 200 200"),
    "api/v1/^alerts/(?P<pk>[^/.]+)/$": row("/api/v1/alerts/{alert}/", GET="401 200 200 404 403 200 200"),
    "api/v1/^alerts/(?P<pk>[^/.]+)/acknowledge/$": row(
        "/api/v1/alerts/{alert}/acknowledge/", POST="401 200 200 404 403 403 403"
    ),
    "api/v1/^tokens/$": row("/api/v1/tokens/", GET="401 200 200 200 200 200 200", POST="401 400 400 400 400 400 400"),
    "api/v1/^tokens/(?P<pk>[^/.]+)/$": row("/api/v1/tokens/{token}/", DELETE="401 204 404 404 404 404 404"),
    "api/schema/": row("/api/schema/", GET="200 200 200 200 200 200 200"),
    "api/docs/": row("/api/docs/", GET="200 200 200 200 200 200 200"),
    "healthz": row("/healthz", GET="200/503 200/503 200/503 200/503 200/503 200/503 200/503"),
    "favicon.ico": row(
        "/favicon.ico",
        GET="301 301 301 301 301 301 301",
        POST="301 301 301 301 301 301 301",
        PUT="301 301 301 301 301 301 301",
        PATCH="301 301 301 301 301 301 301",
        DELETE="301 301 301 301 301 301 301",
    ),
}

# The admin site, one row per shape; ``{app_model}`` and ``{id}`` are filled per registered model.
ADMIN_MATRIX: dict[str, Row] = {
    "admin/": row(
        "/admin/", GET="302 200/302/403/404 302 302 302 302 302", POST="302 200/302/403/404 302 302 302 302 302"
    ),
    "admin/login/": row("/admin/login/", GET="200 200/302 200 200 200 200 200", POST="200 200/302 200 200 200 200 200"),
    "admin/logout/": row(
        "/admin/logout/", GET="302 405 302 302 302 302 302", POST="302 200/302/403/404 302 302 302 302 302"
    ),
    "admin/password_change/": row(
        "/admin/password_change/",
        GET="302 200/302/403/404 302 302 302 302 302",
        POST="302 200/302/403/404 302 302 302 302 302",
    ),
    "admin/password_change/done/": row(
        "/admin/password_change/done/",
        GET="302 200/302/403/404 302 302 302 302 302",
        POST="302 405 302 302 302 302 302",
    ),
    "admin/autocomplete/": row(
        "/admin/autocomplete/", GET="302 200/302/403/404 302 302 302 302 302", POST="302 405 302 302 302 302 302"
    ),
    "admin/jsi18n/": row(
        "/admin/jsi18n/", GET="302 200/302/403/404 302 302 302 302 302", POST="302 405 302 302 302 302 302"
    ),
    "admin/r/<path:content_type_id>/<path:object_id>/": row(
        "/admin/r/1/{connector}/",
        GET="302 200/302/403/404 302 302 302 302 302",
        POST="302 200/302/403/404 302 302 302 302 302",
    ),
    "admin/<app_label>/": row(
        "/admin/integrations/",
        GET="302 200/302/403/404 302 302 302 302 302",
        POST="302 200/302/403/404 302 302 302 302 302",
    ),
    "admin/(?P<url>.*)$": row(
        "/admin/no-such-page/",
        GET="302 200/302/403/404 302 302 302 302 302",
        POST="302 200/302/403/404 302 302 302 302 302",
    ),
    "admin/<model>/": row(
        "/admin/{app_model}/",
        GET="302 200/302/403/404 302 302 302 302 302",
        POST="302 200/302/403/404 302 302 302 302 302",
    ),
    "admin/<model>/add/": row(
        "/admin/{app_model}/add/",
        GET="302 200/302/403/404 302 302 302 302 302",
        POST="302 200/302/403/404 302 302 302 302 302",
    ),
    "admin/<model>/<path:object_id>/history/": row(
        "/admin/{app_model}/{id}/history/",
        GET="302 200/302/403/404 302 302 302 302 302",
        POST="302 200/302/403/404 302 302 302 302 302",
    ),
    "admin/<model>/<path:object_id>/delete/": row(
        "/admin/{app_model}/{id}/delete/",
        GET="302 200/302/403/404 302 302 302 302 302",
        POST="302 200/302/403/404 302 302 302 302 302",
    ),
    "admin/<model>/<path:object_id>/change/": row(
        "/admin/{app_model}/{id}/change/",
        GET="302 200/302/403/404 302 302 302 302 302",
        POST="302 200/302/403/404 302 302 302 302 302",
    ),
    "admin/<model>/<path:object_id>/": row(
        "/admin/{app_model}/{id}/",
        GET="302 200/302/403/404 302 302 302 302 302",
        POST="302 200/302/403/404 302 302 302 302 302",
        PUT="302 200/302/403/404 302 302 302 302 302",
        PATCH="302 200/302/403/404 302 302 302 302 302",
        DELETE="302 200/302/403/404 302 302 302 302 302",
    ),
    "admin/<model>/<int:pk>/config/": row(
        "/admin/{app_model}/{id}/config/",
        GET="302 200/302/403/404 302 302 302 302 302",
        POST="302 200/302/403/404 302 302 302 302 302",
    ),
    "admin/<model>/<int:pk>/qrcode/": row(
        "/admin/{app_model}/{id}/qrcode/",
        GET="302 200/302/403/404 302 302 302 302 302",
        POST="302 200/302/403/404 302 302 302 302 302",
    ),
    "admin/<model>/<int:object_pk>/permissions/": row(
        "/admin/{app_model}/{id}/permissions/",
        GET="302 200/302/403/404 302 302 302 302 302",
        POST="302 200/302/403/404 302 302 302 302 302",
    ),
    "admin/<model>/<id>/password/": row(
        "/admin/{app_model}/{id}/password/",
        GET="302 200/302/403/404 302 302 302 302 302",
        POST="302 200/302/403/404 302 302 302 302 302",
    ),
}


# --- The URLconf, walked ------------------------------------------------------------------------

FORMAT_SUFFIX = re.compile(r"\\\.\(\?P<format>\[a-z0-9\]\+\)/\?\$$|<drf_format_suffix:format>$")


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def accepted_methods(pattern: URLPattern) -> tuple[str, ...]:
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:  # a DRF viewset route
        return tuple(m for m in METHODS if m.lower() in actions)
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is None:  # a function view (the admin's): it reads GET and POST
        return ("GET", "POST")
    names = getattr(view_class, "http_method_names", [m.lower() for m in METHODS])
    return tuple(m for m in METHODS if m.lower() in names and hasattr(view_class, m.lower()))


def admin_shape(route: str) -> str | None:
    """``admin/integrations/flow/<path:object_id>/change/`` → ``admin/<model>/<path:object_id>/change/``."""
    if route.startswith("admin/^(?P<app_label>"):
        return "admin/<app_label>/"  # its regex lists the apps, which change as apps are added
    for model in admin.site._registry:
        prefix = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        if route.startswith(prefix):
            return "admin/<model>/" + route[len(prefix) :]
    return None


def routes() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Every pattern (format-suffix twins folded into their base): route → (matrix key, methods)."""
    found = {}
    for route, pattern in walk(get_resolver().url_patterns):
        if FORMAT_SUFFIX.search(route):
            continue  # the same view as its base route (``.json``), which is tried with the suffix too
        key = admin_shape(route) or route
        found[route] = (key, accepted_methods(pattern))
    return found


def with_suffix_twin() -> set[str]:
    """Base routes that also answer with a format suffix (``connectors/1.json``)."""
    twins = set()
    for route, _ in walk(get_resolver().url_patterns):
        if FORMAT_SUFFIX.search(route):
            twins.add(FORMAT_SUFFIX.sub("", route))
    return twins


# --- The objects and the people -----------------------------------------------------------------


@pytest.fixture
def world(personas):
    engineer = personas["engineer"]
    outsider = UserFactory(username="outsider", role=Role.INTEGRATION_ENGINEER)
    # Refused at once on this closed network, so "Test connection" answers quickly.
    connector = rest_connector("ERP REST", owner=engineer, base_url="http://127.0.0.1:9/api")
    webhook = webhook_connector("Shop webhook", owner=engineer)
    flow = make_flow("Customers to ERP", source=webhook, targets=[connector], owner=engineer, stage="test")
    run = make_run(flow)
    outcome = make_outcomes(run, 1)[0]
    older, _newer, candidate = customer_pair()
    from masterdata.services.merge import merge

    left, right, _ = customer_pair(SystemFactory(name="CRM"), SystemFactory(name="Helpdesk"), score=0.8)
    merged = merge(left, right, actor=personas["admin"])
    from masterdata.models import ImportJob

    job = ImportJob.objects.create(system=connector.system, entity="customer", filename="x.csv", content="id\n")
    from accounts.tokens import create_token

    token, _ = create_token(personas["admin"], "matrix")
    from monitoring.choices import AlertKind
    from monitoring.tests.factories import make_alert

    alert = make_alert("Deliveries to ERP REST are paused", connector=connector, kind=AlertKind.CIRCUIT_OPEN)
    from masterdata.models import RuleApplication, SurvivorshipRule

    rule = SurvivorshipRule.objects.create(entity="customer", field="email", strategy="most_complete")
    application = RuleApplication.objects.create(entity="customer", status="done")
    from integrations.models import Reconciliation

    reconciliation = Reconciliation.objects.create(target=connector, entity="customer", status="done")
    people = {**personas, "outsider": outsider}
    return {
        "people": people,
        "ids": {
            "system": connector.system.pk,
            "connector": connector.pk,
            "webhook": webhook.pk,
            "flow": flow.pk,
            "run": run.pk,
            "outcome": outcome.pk,
            "candidate": candidate.pk,
            "golden": older.pk,
            "source": older.source_records.first().pk,
            "merge": merged.pk,
            "job": job.pk,
            "entry": LogEntry.objects.order_by("pk").first().pk,
            "token": token.pk,
            "alert": alert.pk,
            "reconciliation": reconciliation.pk,
            "rule": rule.pk,
            "application": application.pk,
            "user": personas["viewer"].pk,
            "engineer": engineer.pk,
        },
    }


def clients(world) -> dict[str, Client]:
    result = {"anonymous": Client()}
    for name in PERSONAS[1:]:
        client = Client()
        user = world["people"][name]
        client.force_login(user)
        verify_session(client, user)
        result[name] = client
    return result


def filled(value, ids: dict):
    """``value`` with ``{placeholders}`` replaced by the ids of ``world``'s objects."""
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [filled(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: filled(v, ids) for k, v in value.items()}
    return value


def send(client: Client, method: str, url: str, data: dict | None = None):
    """One request, rolled back afterwards; returns (status, audit-trail changes it made).

    The client's cookies are put back too: signing out (or in) must not change who the
    next request is made by."""
    cookies = copy.deepcopy(client.cookies)
    with transaction.atomic():
        before = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        if url.startswith("/api/"):
            response = client.generic(method, url, json.dumps(data or {}), content_type="application/json")
        else:
            body = urlencode(data or {}, doseq=True)
            response = client.generic(method, url, body, content_type="application/x-www-form-urlencoded")
        changes = LogEntry.objects.filter(pk__gt=before).exclude(action=LogEntry.Action.ACCESS).count()
        transaction.set_rollback(True)
    client.cookies = cookies
    return response.status_code, changes


def check(row: Row, url: str, methods, people: dict[str, Client], where: str, ids: dict) -> list[str]:
    problems = []
    data = filled(row.data, ids) if row.data else None
    for method in methods:
        expected = row.expect.get(method)
        if expected is None:
            problems.append(f"{where}: add {method} to its matrix row")
            continue
        for persona, allowed in zip(PERSONAS, expected, strict=True):
            status, changes = send(people[persona], method, url, data if method in MUTATING else None)
            if status not in allowed:
                problems.append(
                    f"{where} {method} {url} as {persona}: {status}, expected {'/'.join(map(str, sorted(allowed)))}"
                )
            if persona in ("auditor", "viewer") and method in MUTATING and changes:
                problems.append(f"{where} {method} {url} as {persona}: changed {changes} row(s)")
    return problems


# --- The tests ----------------------------------------------------------------------------------


def test_every_url_pattern_is_in_the_matrix():
    missing = []
    for key, methods in routes().values():
        row_ = (ADMIN_MATRIX if key.startswith("admin/") else MATRIX).get(key)
        if row_ is None:
            missing.append(f"add {key!r} to the matrix")
            continue
        missing += [f"add {m} of {key!r} to the matrix" for m in methods if m not in row_.expect]
    stale = [k for k in [*MATRIX, *ADMIN_MATRIX] if k not in {key for key, _ in routes().values()}]
    assert not missing and not stale, "\n".join([*sorted(set(missing)), *(f"{k!r} is no URL any more" for k in stale)])


def test_pages_and_api_answer_every_persona_as_the_matrix_says(world):
    people = clients(world)
    problems = []
    twins = {t.removesuffix("\\") for t in with_suffix_twin()}
    for route, (key, methods) in routes().items():
        if key.startswith("admin/"):
            continue
        row_ = MATRIX.get(key)
        if row_ is None:
            continue  # reported by test_every_url_pattern_is_in_the_matrix
        url = row_.url.format(**world["ids"])
        problems += check(row_, url, methods, people, key, world["ids"])
        if route.removesuffix("/$").removesuffix("/") in twins and "GET" in methods:
            problems += check(row_, url.rstrip("/") + ".json", ("GET",), people, key + " (.json)", world["ids"])
    assert not problems, "\n".join(problems)


def test_admin_site_answers_every_persona_as_the_matrix_says(world):
    people = clients(world)
    problems = []
    for route, (key, methods) in routes().items():
        if not key.startswith("admin/"):
            continue
        row_ = ADMIN_MATRIX.get(key)
        if row_ is None:
            continue
        url = "/" + route
        for model in admin.site._registry:
            if key.startswith("admin/<model>/") and not route.startswith(
                f"admin/{model._meta.app_label}/{model._meta.model_name}/"
            ):
                continue
            first = model._default_manager.order_by("pk").first()
            ids = {"app_model": f"{model._meta.app_label}/{model._meta.model_name}", "id": first.pk if first else 0}
            url = row_.url.format(**ids, **world["ids"])
            problems += check(row_, url, methods, people, key, world["ids"])
            break
    assert not problems, "\n".join(problems)
