"""The reliability settings the whole sync engine relies on (docs/architecture.md)."""

from config.celery import app


def test_reliability_settings():
    conf = app.conf
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    assert {q.name for q in conf.task_queues} == {"default", "sync"}


def test_sync_tasks_are_routed_to_the_sync_queue():
    route = app.amqp.router.route({}, "integrations.tasks.run_flow")
    assert route["queue"].name == "sync"
    assert app.amqp.router.route({}, "monitoring.tasks.prune_heartbeats")["queue"].name == "default"


def test_visibility_timeout_outlasts_the_hard_time_limit():
    options = app.conf.broker_transport_options
    if "visibility_timeout" in options:  # Redis / SQS-like brokers
        assert options["visibility_timeout"] > app.conf.task_time_limit
