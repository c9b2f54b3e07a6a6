"""config.lookups.any_of: the rows of ``__in``, sent as one array parameter on PostgreSQL."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.lookups import any_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def groups():
    return [Group.objects.create(name=f"group {n}") for n in range(5)]


def test_it_finds_the_rows_in_finds(groups):
    names = ["group 1", "group 3", "group 3", None, "nobody"]
    pks = [groups[0].pk, groups[4].pk, None]
    assert set(Group.objects.filter(any_of("name", names))) == set(Group.objects.filter(name__in=names))
    assert set(Group.objects.filter(any_of("pk", pks))) == {groups[0], groups[4]}
    assert set(Group.objects.filter(any_of("name", iter(["group 2"])))) == {groups[2]}


def test_nothing_to_match_finds_nothing_without_a_query(groups):
    with CaptureQueriesContext(connection) as queries:
        assert list(Group.objects.filter(any_of("name", []))) == []
        assert list(Group.objects.filter(any_of("name", [None]))) == []
    assert len(queries) == 0


def test_a_subquery_stays_a_subquery(groups):
    wanted = Group.objects.filter(name__in=["group 0", "group 2"]).values("pk")
    assert set(Group.objects.filter(any_of("pk", wanted))) == {groups[0], groups[2]}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the array form is PostgreSQL's; SQLite takes IN")
def test_a_long_list_is_one_parameter_on_postgresql(groups):
    names = [f"group {n}" for n in range(3000)]
    query = Group.objects.filter(any_of("name", names)).query
    sql, params = query.sql_with_params()
    assert "= ANY(%s)" in sql
    assert len(params) == 1
    assert Group.objects.filter(any_of("name", names)).count() == 5


def test_values_are_prepared_for_their_column():
    from datetime import timedelta

    from django.contrib.auth.models import User
    from django.utils import timezone

    joined = timezone.now() - timedelta(days=3)
    users = [User.objects.create(username=f"u{n}", date_joined=joined + timedelta(hours=n)) for n in range(3)]
    wanted = [users[0].date_joined, users[2].date_joined]
    assert set(User.objects.filter(any_of("date_joined", wanted))) == {users[0], users[2]}
