"""Objects for the page, API and command tests: connectors, flows, runs and outcomes in a few lines."""

import hashlib
import itertools

from integrations import services
from integrations.choices import OutcomeStatus, RunStatus, Stage, Trigger
from integrations.models import Connector, Flow, RecordOutcome, Run
from integrations.tests.factories import SystemFactory

# Never shown anywhere: tests assert these strings are absent from every page and response.
WEBHOOK_SECRET = "whsec_" + "dG9wLXNlY3JldC1zaWduaW5nLWtleS1mb3ItcGFnZXM="
API_TOKEN = "tok-Very-Secret-7f3a9c2e"
_serial = itertools.count(1)


def rest_connector(name: str = "ERP REST", owner=None, **settings) -> Connector:
    connector = Connector(
        system=SystemFactory(name=f"{name} system {next(_serial)}"),
        name=name,
        adapter="rest",
        settings={"base_url": "https://erp.example.com/api", "paths": {"customer": "/customers"}, **settings},
    )
    connector.save()
    if owner is not None:
        services.grant_creator(connector, owner)
    return connector


def webhook_connector(name: str = "Shop webhook", owner=None) -> Connector:
    connector = Connector(system=SystemFactory(name=f"{name} system {next(_serial)}"), name=name, adapter="webhook")
    connector.settings = {"id_field": "id"}
    connector.set_credentials({"secret": WEBHOOK_SECRET})
    connector.save()
    if owner is not None:
        services.grant_creator(connector, owner)
    return connector


def make_flow(
    name: str = "Customers to ERP", source=None, targets=(), stage=Stage.DRAFT, owner=None, entity="customer", **fields
) -> Flow:
    source = source or webhook_connector(f"{name} source")
    targets = list(targets) or [rest_connector(f"{name} target")]
    fields.setdefault("mapping", [{"target": "name", "op": "copy", "from": "last_name"}])
    fields.setdefault("trigger", Trigger.PUSH if source.adapter == "webhook" else Trigger.MANUAL)
    flow = Flow.objects.create(name=name, entity=entity, source=source, stage=stage, **fields)
    flow.targets.set(targets)
    if owner is not None:
        services.grant_creator(flow, owner)
    return flow


def make_run(flow: Flow, status=RunStatus.PARTIAL, stage=None, **counts) -> Run:
    return Run.objects.create(flow=flow, stage=stage or flow.stage, trigger="manual", status=status, **counts)


def make_outcomes(run: Run, count: int, status=OutcomeStatus.DEAD, target="first", **fields) -> list[RecordOutcome]:
    target = run.flow.targets.first() if target == "first" else target
    rows = []
    for _ in range(count):
        n = next(_serial)
        key = hashlib.sha256(f"{run.pk}-{n}".encode()).hexdigest()
        payload = {"id": f"C-{n}", "last_name": f"Person {n}"}
        rows.append(
            RecordOutcome(
                run=run,
                flow=run.flow,
                target=target,
                external_id=f"C-{n}",
                idempotency_key=key,
                subject=f"{run.flow.source_id}:C-{n}",
                payload=payload,
                payload_hash=key,
                mapped={"name": payload["last_name"]},
                status=status,
                **fields,
            )
        )
    return RecordOutcome.objects.bulk_create(rows)
