"""config.ordering: fixed values as ranges of one value, put first in every order asked for."""

import pytest

from config.ordering import one_value
from integrations.choices import OutcomeStatus, Stage
from integrations.models import RecordOutcome
from integrations.tests.pages import make_flow, make_outcomes, make_run

pytestmark = pytest.mark.django_db


def test_leading_fields_come_first_in_the_direction_of_the_order_asked_for():
    rows = RecordOutcome.objects.filter(one_value("run_id", 7)).lead_order("run_id", "status")
    assert rows.order_by("pk").query.order_by == ("run_id", "status", "pk")
    assert rows.order_by("-pk").query.order_by == ("-run_id", "-status", "-pk")
    assert rows.filter(flow_id=1).order_by("status", "pk").query.order_by == ("run_id", "status", "pk")  # kept
    assert RecordOutcome.objects.order_by("pk").query.order_by == ("pk",)  # nothing leads unless asked


def test_one_value_finds_what_equality_finds():
    flow = make_flow(stage=Stage.LIVE)
    run, other = make_run(flow), make_run(flow)
    mine = make_outcomes(run, 3, status=OutcomeStatus.QUARANTINED) + make_outcomes(run, 2, status=OutcomeStatus.DEAD)
    make_outcomes(other, 2, status=OutcomeStatus.QUARANTINED)
    rows = RecordOutcome.objects.filter(one_value("run_id", run.pk), one_value("status", OutcomeStatus.QUARANTINED))
    assert list(rows.lead_order("run_id", "status").order_by("pk")) == mine[:3]
