"""Generic page views that every app's object pages build on.

They only declare; what a person may see comes from ``restrict()``, so an
object outside a user's permissions is a 404 on every page, never a 403 that
confirms it exists.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.urls import reverse_lazy
from django.views import generic
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin


class ModelMetaMixin:
    """Gives templates ``model_meta`` (templates may not read ``_meta`` themselves)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["model_meta"] = self.model._meta
        return context


class RestrictedObjectMixin(LoginRequiredMixin, ModelMetaMixin):
    """Limits the view's ``queryset`` (or the model's) to objects the user may ``action``."""

    model = None
    queryset = None
    action = "view"

    def get_queryset(self):
        queryset = self.queryset if self.queryset is not None else self.model.objects.all()
        return queryset.restrict(self.request.user, self.action)


class ObjectListView(RestrictedObjectMixin, SingleTableMixin, FilterView):
    """Filterable, paginated table of the objects a user may view."""

    template_name = "generic/object_list.html"

    def get_table_pagination(self, table):
        # The table paginates (and clamps ?page=99 to the last page); ListView must not paginate too.
        return {"per_page": settings.PAGINATE_BY}

    def get_context_data(self, **kwargs):
        meta = self.model._meta
        context = super().get_context_data(**kwargs)
        context["can_add"] = self.request.user.has_perm(f"{meta.app_label}.add_{meta.model_name}")
        context["is_filtered"] = any(v for k, v in self.request.GET.items() if k not in {"page", "sort"})
        return context


class ObjectDetailView(RestrictedObjectMixin, generic.DetailView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, obj = self.request.user, self.object
        meta = obj._meta
        context["can_change"] = user.has_perm(f"{meta.app_label}.change_{meta.model_name}") or user.has_perm(
            f"change_{meta.model_name}", obj
        )
        context["can_delete"] = user.has_perm(f"{meta.app_label}.delete_{meta.model_name}") or user.has_perm(
            f"delete_{meta.model_name}", obj
        )
        return context


class ObjectCreateView(LoginRequiredMixin, PermissionRequiredMixin, ModelMetaMixin, generic.CreateView):
    """Creating needs the role's model permission (there is no object to grant on yet)."""

    template_name = "generic/object_form.html"

    def get_permission_required(self):
        meta = self.model._meta
        return (f"{meta.app_label}.add_{meta.model_name}",)

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, f"Created {self.model._meta.verbose_name} “{self.object}”.")
        return response


class ObjectUpdateView(RestrictedObjectMixin, generic.UpdateView):
    action = "change"
    template_name = "generic/object_form.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, f"Saved {self.model._meta.verbose_name} “{self.object}”.")
        return response


class ObjectDeleteView(RestrictedObjectMixin, generic.DeleteView):
    action = "delete"
    template_name = "generic/object_confirm_delete.html"

    def get_success_url(self):
        meta = self.model._meta
        return reverse_lazy(f"{meta.app_label}:{meta.model_name}_list")

    def form_valid(self, form):
        name = str(self.object)
        response = super().form_valid(form)
        messages.success(self.request, f"Deleted {self.model._meta.verbose_name} “{name}”.")
        return response
