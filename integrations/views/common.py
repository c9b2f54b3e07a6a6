"""Pieces the integration pages share: keyset pages, permission questions, action responses."""

from dataclasses import dataclass

from django.contrib import messages
from django.db.models import ProtectedError
from django.shortcuts import redirect

from accounts import generic

from ..models import Connector, Flow, System


@dataclass
class KeysetPage:
    """One page of rows in id order, and the id to continue after.

    Pages go by ``?after=<id>`` (an index range scan), never by OFFSET, and
    nothing is counted: totals come from the run's counters.
    """

    rows: list
    next_after: int | None
    is_first: bool
    size: int


def keyset_page(queryset, after: str | None, size: int, *, descending: bool = False) -> KeysetPage:
    """A page of ``queryset`` in id order after the id ``after``. ``queryset`` may be a list of
    querysets (one per status, say), each read in its own index's order
    (``config.ordering``) and merged by id."""
    cursor = int(after) if after and str(after).isdigit() else None
    rows = []
    for part in queryset if isinstance(queryset, list) else [queryset]:
        part = part.order_by("-pk" if descending else "pk")
        if cursor is not None:
            part = part.filter(pk__lt=cursor) if descending else part.filter(pk__gt=cursor)
        rows += part[: size + 1]
    rows = sorted(rows, key=lambda row: row.pk, reverse=descending)[: size + 1]
    more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(rows, rows[-1].pk if more and rows else None, cursor is None, size)


def may(user, obj, action: str) -> bool:
    """Whether ``user`` may ``action`` (change/delete) ``obj``: by role or by a grant on it."""
    meta = obj._meta
    return user.has_perm(f"{meta.app_label}.{action}_{meta.model_name}") or user.has_perm(
        f"{action}_{meta.model_name}", obj
    )


def is_filtered(request, ignore=("page", "sort", "after")) -> bool:
    return any(v for k, v in request.GET.items() if k not in ignore)


class ProtectedDeleteView(generic.ObjectDeleteView):
    """Delete, or say what still uses the object instead of failing."""

    protected_message = "“{object}” is still in use: {users}."

    def delete(self, request, *args, **kwargs):
        # Django's DELETE handler deletes without the form: send it the same way as the button's POST.
        return self.post(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except ProtectedError as exc:
            users = in_use_by(self.request.user, exc.protected_objects)
            messages.error(self.request, self.protected_message.format(object=self.object, users=", ".join(users)))
            return redirect(self.object.get_absolute_url())


def in_use_by(user, objects, shown: int = 5) -> list[str]:
    """What keeps an object from being deleted, told without leaking: the names of connectors
    and flows ``user`` may view, "others you may not see" for the rest (never how many), and
    only the kind of any other row (runs, record outcomes: their text names records)."""
    objects = list(objects)
    names, hidden, kinds = [], False, set()
    by_model: dict[type, list] = {}
    for obj in objects:
        by_model.setdefault(type(obj), []).append(obj)
    for model, rows in by_model.items():
        if model in (Connector, Flow, System):
            visible = set(
                model.objects.restrict(user, "view").filter(pk__in=[r.pk for r in rows]).values_list("pk", flat=True)
            )
            names += sorted(str(r) for r in rows if r.pk in visible)
            hidden = hidden or len(visible) < len(rows)
        else:
            kinds.add(str(model._meta.verbose_name_plural))
    return [*sorted(names)[:shown], *(["others you may not see"] if hidden else []), *sorted(f"its {k}" for k in kinds)]
