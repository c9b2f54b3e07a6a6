"""The permission choke point: every list, detail, export and API view asks
``Model.objects.restrict(user, action)`` what the user may see."""

from guardian.shortcuts import get_objects_for_user

from config.ordering import LeadingOrder


class RestrictedQuerySet(LeadingOrder):
    def restrict(self, user, action: str = "view"):
        """Objects ``user`` may ``action`` (view/change/delete): all of them with
        the role's model permission, else those granted one by one (guardian)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        meta = self.model._meta
        perm = f"{meta.app_label}.{action}_{meta.model_name}"
        return get_objects_for_user(user, perm, klass=self, accept_global_perms=True, with_superuser=True)
