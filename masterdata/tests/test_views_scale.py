"""The stewardship pages at the issue's scale: 100,000 golden records and 10,000 open pairs.

Rows are inserted directly (no cleansing, matching or audit signals): the golden
records by the database itself from a number series, the rest in bulk. Each page
must answer with a bounded number of queries, whatever the number of rows:
paginated, counted once, no per-row queries. How long the pages take is a
benchmark's business (bench/README.md), not a timed assert here.
"""

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from masterdata.choices import SourceStatus
from masterdata.models import DuplicateCandidate, GoldenRecord, SourceRecord
from masterdata.tests.factories import SystemFactory

pytestmark = pytest.mark.django_db

GOLDEN = 100_000
PAIRS = 10_000
BATCH = 5_000


def insert_golden_records(count: int) -> None:
    """``count`` golden records as ``GoldenRecord(entity="customer" if n % 4 else "product",
    display_name=f"Name {n:06d}", values={"first_name": "Name", "last_name": f"{n:06d}"})`` would
    give, for n from 0, made by the database from a series: building and sending 100,000 rows
    from Python took most of this test's time."""
    if connection.vendor == "postgresql":
        series = "generate_series(0, %s - 1) AS s(n)"
        number, values, empty = "lpad(n::text, 6, '0')", "jsonb_build_object", "'{}'::jsonb"
    else:
        series = "(WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < %s - 1) SELECT n FROM s)"
        number, values, empty = "substr('00000' || n, -6)", "json_object", "'{}'"
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    # Only this function's own constants go into the text; the rest are parameters.
    sql = (
        'INSERT INTO masterdata_goldenrecord (entity, display_name, "values", lineage, pinned, created, updated) '  # noqa: S608
        f"SELECT CASE WHEN n %% 4 = 0 THEN 'product' ELSE 'customer' END, 'Name ' || {number}, "
        f"{values}('first_name', 'Name', 'last_name', {number}), {empty}, {empty}, %s, %s FROM {series}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, now, count])


@pytest.fixture
def big_master_data():
    erp, shop = SystemFactory(name="ERP"), SystemFactory(name="Shop")
    insert_golden_records(GOLDEN)
    ids = list(GoldenRecord.objects.order_by("pk").values_list("pk", flat=True))
    SourceRecord.objects.bulk_create(
        (
            SourceRecord(
                system=erp if n % 2 else shop,
                entity="customer",
                external_id=str(n),
                payload={},
                payload_hash="x",
                status=SourceStatus.LINKED,
                golden_id=ids[n],
            )
            for n in range(2 * PAIRS)
        ),
        batch_size=BATCH,
    )
    DuplicateCandidate.objects.bulk_create(
        (
            DuplicateCandidate(
                entity="customer", left_id=ids[2 * n], right_id=ids[2 * n + 1], score=0.6 + (n % 40) / 100
            )
            for n in range(PAIRS)
        ),
        batch_size=BATCH,
    )
    return erp


def test_pages_use_bounded_queries_with_100k_records_and_10k_pairs(
    big_master_data, client_for, personas, django_assert_max_num_queries
):
    erp = big_master_data
    client = client_for(personas["steward"])
    client.get(reverse("masterdata:candidate_list"))  # warm up templates and permission caches
    first = GoldenRecord.objects.order_by("pk").first()
    pages = [  # (url, query, most queries)
        (reverse("masterdata:candidate_list"), {}, 13),
        (reverse("masterdata:candidate_list"), {"page": 300, "sort": "-created"}, 13),
        (reverse("masterdata:candidate_list"), {"system": erp.pk, "min_score": "0.8", "entity": "customer"}, 13),
        (reverse("masterdata:goldenrecord_list"), {}, 12),
        (reverse("masterdata:goldenrecord_list"), {"entity": "product", "page": 500}, 10),
        (reverse("masterdata:goldenrecord_list"), {"q": "0999"}, 10),
        (reverse("masterdata:candidate_bulk"), {"min_score": "0.95"}, 12),
        (first.get_absolute_url(), {}, 20),
    ]
    for url, params, most in pages:
        with django_assert_max_num_queries(most):
            response = client.get(url, params)
        assert response.status_code == 200
    queue = client.get(reverse("masterdata:candidate_list"))
    assert queue.context["table"].paginator.count == PAIRS
    assert f"{PAIRS} open" in queue.content.decode()
