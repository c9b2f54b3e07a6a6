"""Who and which request a worker's audit entries belong to.

A request gets a correlation id (``cid``) in ``AuditMiddleware``. Every Celery
message published while a request or a task is running carries that cid, the
acting user's id and their address in a message header; the worker restores
them around the task, so what it writes on someone's behalf names that person
and the request that caused it. A task nobody caused (beat, a sweeper's
re-queue) gets its own root task id as cid and no actor ("system").

The worker side does not use auditlog's ``set_actor``: nested in the import's
own ``set_actor`` it would leak a signal receiver. One permanent ``pre_save``
receiver fills what an entry lacks from this module's context instead.
"""

import uuid
from contextvars import ContextVar

from auditlog.cid import correlation_id, get_cid
from auditlog.context import auditlog_value
from django.contrib.auth import get_user_model

HEADER = "junction_audit"

# {"cid", "actor_id", "remote_addr"} of the task running in this worker process, if any.
task_context: ContextVar[dict | None] = ContextVar("junction_audit_task", default=None)
_tokens: dict[str, tuple] = {}


def new_cid() -> str:
    return uuid.uuid4().hex


def current() -> dict:
    """The cid, actor id and address of whatever runs now: a request, a task, or nothing."""
    task = task_context.get()
    if task is not None:
        return {
            "cid": get_cid() or task.get("cid"),
            "actor_id": task.get("actor_id"),
            "remote_addr": task.get("remote_addr"),
        }
    try:
        request = auditlog_value.get()
    except LookupError:
        request = {}
    actor = request.get("actor")
    return {
        "cid": get_cid(),
        "actor_id": getattr(actor, "pk", None),
        "remote_addr": request.get("remote_addr"),
    }


def on_publish(headers=None, **kwargs):
    """``before_task_publish``: stamp the message with who and which request caused it."""
    if headers is None:
        return
    context = {key: value for key, value in current().items() if value is not None}
    if context:
        headers[HEADER] = context


def on_task_start(task_id=None, task=None, **kwargs):
    """``task_prerun``: restore the publisher's context, or start one named by the root task."""
    request = getattr(task, "request", None)
    stamped = dict(getattr(request, HEADER, None) or {})
    stamped.setdefault("cid", getattr(request, "root_id", None) or task_id)
    _tokens[task_id] = (task_context.set(stamped), correlation_id.set(stamped["cid"]))


def on_task_end(task_id=None, **kwargs):
    """``task_postrun``: forget the context, so the next task in this process starts clean."""
    tokens = _tokens.pop(task_id, None)
    if tokens is not None:
        task_context.reset(tokens[0])
        correlation_id.reset(tokens[1])


def fill_entry(sender, instance, **kwargs):
    """``pre_save`` of LogEntry: in a task, add the actor, address and cid the entry lacks."""
    task = task_context.get()
    if task is None:
        return
    if instance.actor_id is None and task.get("actor_id"):
        if "actor" not in task:  # looked up once per task, not once per entry
            task["actor"] = get_user_model().objects.filter(pk=task["actor_id"]).first()
        actor = task["actor"]
        if actor is not None:
            instance.actor = actor
            instance.actor_email = getattr(actor, "email", None)
    if not instance.remote_addr and task.get("remote_addr"):
        instance.remote_addr = task["remote_addr"]
    if not instance.cid:
        instance.cid = task.get("cid")
