"""Pieces the integration pages share: keyset pages, permission questions, action responses."""

from dataclasses import dataclass

from django.contrib import messages
from django.db.models import ProtectedError
from django.shortcuts import redirect

from accounts import generic


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
    cursor = int(after) if after and str(after).isdigit() else None
    queryset = queryset.order_by("-pk" if descending else "pk")
    if cursor is not None:
        queryset = queryset.filter(pk__lt=cursor) if descending else queryset.filter(pk__gt=cursor)
    rows = list(queryset[: size + 1])
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

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except ProtectedError as exc:
            users = sorted({str(obj) for obj in exc.protected_objects})[:5]
            messages.error(self.request, self.protected_message.format(object=self.object, users=", ".join(users)))
            return redirect(self.object.get_absolute_url())
