"""List pages and API lists cost the same number of queries for 3 or 60 connectors and flows,
for an administrator (role-wide permission) and an engineer (grants to them and their group):
restrict() filters in the database with joins on the direct foreign-key permission tables."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import access
from accounts.roles import Role
from accounts.tests.factories import UserFactory
from integrations.models import Connector
from integrations.tests.factories import SystemFactory
from integrations.tests.pages import make_flow, make_run

pytestmark = pytest.mark.django_db

URLS = ["/integrations/connectors/", "/integrations/flows/", "/api/v1/connectors/", "/api/v1/flows/"]
# A ceiling, so a regression shows even where both sizes grow alike; the equality below is the point.
MAX_QUERIES = 30


def add_objects(count: int, engineer, team):
    system = SystemFactory()
    for _ in range(count):
        n = Connector.objects.count()
        source = Connector.objects.create(system=system, name=f"Source {n}", adapter="rest", settings={})
        target = Connector.objects.create(system=system, name=f"Target {n}", adapter="rest", settings={})
        flow = make_flow(f"Flow {n}", source=source, targets=[target], trigger="manual")
        make_run(flow)
        # Half granted to the engineer, half to their group, some to nobody.
        if n % 3 == 0:
            continue
        holder = engineer if n % 3 == 1 else team
        for obj in (source, target, flow):
            access.grant(obj, holder, ["view", "change"])


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("persona", ["admin", "engineer"])
def test_query_count_does_not_grow_with_the_number_of_objects(
    client_for, personas, django_assert_max_num_queries, persona
):
    team = Group.objects.create(name="Team")
    engineer = UserFactory(username="erin", role=Role.INTEGRATION_ENGINEER)
    engineer.groups.add(team)
    user = personas["admin"] if persona == "admin" else engineer
    client = client_for(user)
    add_objects(3, engineer, team)
    for url in URLS:  # warm the caches a running server has warm (content types, session)
        queries(client, url)
    small = {url: queries(client, url) for url in URLS}
    add_objects(60, engineer, team)
    for url in URLS:
        with django_assert_max_num_queries(MAX_QUERIES):
            large = queries(client, url)
        assert large == small[url], f"{url}: {small[url]} queries for 3 flows, {large} for 63"
