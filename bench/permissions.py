"""List pages and API lists with thousands of connectors and flows and their object permissions.

    .venv/bin/python bench/permissions.py                    # 5,000 connectors and 5,000 flows, 20 requests each
    .venv/bin/python bench/permissions.py --objects 20000 --requests 10

Needs the local PostgreSQL (127.0.0.1; override with BENCH_PG). A scratch database
(``junction_bench_perms``, or BENCH_DB) is created, migrated and filled:

- ``--objects`` connectors and as many flows (each from one connector to another);
- grants in the direct foreign-key permission tables: the engineer holds view/change
  on a third of them directly and on another third through their team group; 50 other
  people and 10 other groups hold view on 200 objects each, so the tables the engineer's
  query joins are not small;
- one Administrator (role-wide permissions: no grant lookup) and one Integration engineer.

Each page is requested ``--requests`` times in this process through Django's test client
(the whole request: middleware, ``restrict()``, the table or serializer, the template),
production mode (DEBUG off), after one warm-up request; the table prints the median and
the 95th percentile in milliseconds and the number of SQL queries per request. The
second factor is switched off for the Administrator here (JUNCTION_REQUIRE_ADMIN_2FA=0):
sign-in is not what is measured.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from scratch import create_database, production_env

ROOT = Path(__file__).resolve().parent.parent
APP_DB = os.environ.get("BENCH_DB", "junction_bench_perms")
PAGES = [
    "/integrations/connectors/",
    "/integrations/connectors/?page=40",
    "/integrations/connectors/?q=Connector%2012",
    "/integrations/flows/",
    "/integrations/flows/?stage=draft",
    "/api/v1/connectors/",
    "/api/v1/flows/",
    "/api/v1/flows/?page=20",
]


def bench_env() -> dict:
    return production_env(
        APP_DB, "var-perms", DJANGO_ALLOWED_HOSTS="testserver", JUNCTION_TLS="0", JUNCTION_REQUIRE_ADMIN_2FA="0"
    )


def fill(objects: int) -> dict:
    """The landscape, written with bulk inserts (not audited: this is a scratch database)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission

    from accounts.roles import Role
    from integrations import models as m

    User = get_user_model()
    admin = User.objects.create_user("admin", is_staff=True)
    admin.groups.add(Group.objects.get(name=Role.ADMINISTRATOR))
    engineer = User.objects.create_user("engineer")
    engineer.groups.add(Group.objects.get(name=Role.INTEGRATION_ENGINEER))
    team = Group.objects.create(name="Engineer's team")
    engineer.groups.add(team)
    others = User.objects.bulk_create(User(username=f"person{i}") for i in range(50))
    other_groups = Group.objects.bulk_create(Group(name=f"Team {i}") for i in range(10))

    system = m.System.objects.create(name="Bench ERP", kind="erp")
    connectors = m.Connector.objects.bulk_create(
        m.Connector(system=system, name=f"Connector {i:05d}", adapter="rest", settings={}) for i in range(objects)
    )
    flows = m.Flow.objects.bulk_create(
        m.Flow(name=f"Flow {i:05d}", entity="customer", source=connectors[i], trigger="manual") for i in range(objects)
    )
    Through = m.Flow.targets.through
    Through.objects.bulk_create(
        Through(flow_id=f.pk, connector_id=connectors[(i + 1) % objects].pk) for i, f in enumerate(flows)
    )

    def perm(codename):
        return Permission.objects.get(codename=codename)

    for model, rows, user_model, group_model in (
        (m.Connector, connectors, m.ConnectorUserObjectPermission, m.ConnectorGroupObjectPermission),
        (m.Flow, flows, m.FlowUserObjectPermission, m.FlowGroupObjectPermission),
    ):
        name = model._meta.model_name
        view, change = perm(f"view_{name}"), perm(f"change_{name}")
        user_rows, group_rows = [], []
        for i, obj in enumerate(rows):
            if i % 3 == 1:
                user_rows += [user_model(user=engineer, permission=p, content_object=obj) for p in (view, change)]
            elif i % 3 == 2:
                group_rows += [group_model(group=team, permission=p, content_object=obj) for p in (view, change)]
        for n, person in enumerate(others):
            user_rows += [
                user_model(user=person, permission=view, content_object=rows[(n * 97 + k) % objects])
                for k in range(200)
            ]
        for n, group in enumerate(other_groups):
            group_rows += [
                group_model(group=group, permission=view, content_object=rows[(n * 89 + k) % objects])
                for k in range(200)
            ]
        user_model.objects.bulk_create(user_rows, batch_size=5000, ignore_conflicts=True)
        group_model.objects.bulk_create(group_rows, batch_size=5000, ignore_conflicts=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would soon after a load: the planner needs row counts
    return {"Administrator": admin, "Integration engineer": engineer}


def measure(client, url: str, requests: int) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm-up
    assert response.status_code == 200, (url, response.status_code)
    timings = []
    for _ in range(requests):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return statistics.median(timings), p95, len(queries), visible_count(response)


def time_restrict(model, user, requests: int) -> tuple[float, float]:
    """restrict() alone, in the database: the count and the first page of 25 by name (median ms)."""
    counts, pages = [], []
    for _ in range(requests):
        start = time.perf_counter()
        model.objects.restrict(user, "view").count()
        counts.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        list(model.objects.restrict(user, "view").order_by("name")[:25])
        pages.append((time.perf_counter() - start) * 1000)
    return statistics.median(counts), statistics.median(pages)


def visible_count(response) -> int:
    if response.get("Content-Type", "").startswith("application/json"):
        return response.json()["count"]
    table = response.context["table"] if response.context else None
    return table.paginator.count if table is not None else -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--objects", type=int, default=5000, help="connectors, and as many flows")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page and person")
    args = parser.parse_args()

    env = bench_env()
    create_database(env, static=True)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment

    from integrations.models import Connector, ConnectorGroupObjectPermission, ConnectorUserObjectPermission, Flow

    setup_test_environment()  # lets the client see response.context (templates rendered)
    started = time.perf_counter()
    people = fill(args.objects)
    rows = ConnectorUserObjectPermission.objects.count() + ConnectorGroupObjectPermission.objects.count()
    print(
        f"{Connector.objects.count()} connectors, {Flow.objects.count()} flows, {rows} connector grant rows "
        f"(as many for flows); filled in {time.perf_counter() - started:.1f} s\n"
    )
    print("| person | model | restrict().count() ms | first 25 by name ms |")
    print("|---|---|---:|---:|")
    for role, user in people.items():
        for model in (Connector, Flow):
            count_ms, page_ms = time_restrict(model, user, args.requests)
            print(f"| {role} | {model.__name__} | {count_ms:.1f} | {page_ms:.1f} |")
    print()
    print("| person | page | visible | median ms | p95 ms | queries |")
    print("|---|---|---:|---:|---:|---:|")
    for role, user in people.items():
        client = Client()
        client.force_login(user)
        for url in PAGES:
            median, p95, queries, count = measure(client, url, args.requests)
            print(f"| {role} | `{url}` | {count} | {median:.1f} | {p95:.1f} | {queries} |")


if __name__ == "__main__":
    main()
