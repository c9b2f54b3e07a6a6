"""Base viewset: the API applies the same ``restrict()`` choke point as the pages."""

from django.db.models import ProtectedError
from rest_framework import exceptions, permissions, status, viewsets

from audit.context import attribute_changes_to


class ModelPermissions(permissions.DjangoModelPermissions):
    """Read needs ``view``; writes are decided per object by ``restrict()``
    (change/delete) or by the model permission (add)."""

    perms_map = {
        "GET": [],
        "OPTIONS": [],
        "HEAD": [],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": [],
        "PATCH": [],
        "DELETE": [],
    }


ACTION_FOR_METHOD = {"PUT": "change", "PATCH": "change", "DELETE": "delete"}


class InUse(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "in_use"


class Conflict(exceptions.APIException):
    """409: the object's state forbids the action now (already done, busy); the message says which."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class RestrictedModelViewSet(viewsets.ModelViewSet):
    """Objects outside a user's permissions are a 404, exactly as on the pages."""

    permission_classes = [permissions.IsAuthenticated, ModelPermissions]

    def get_queryset(self):
        action = ACTION_FOR_METHOD.get(self.request.method, "view")
        return self.queryset.restrict(self.request.user, action).order_by("pk")

    def perform_destroy(self, instance):
        try:
            super().perform_destroy(instance)
        except ProtectedError as exc:
            # Kinds only, never names: the rows in the way may be ones the caller may not see.
            kinds = sorted({str(obj._meta.verbose_name_plural) for obj in exc.protected_objects})
            raise InUse(f"“{instance}” is still used by {', '.join(kinds)}: remove it from them first.") from None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # DRF authenticates tokens after AuditlogMiddleware ran: give the trail the real actor.
        attribute_changes_to(request.user)
