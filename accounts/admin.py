from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Administrators manage people through roles (groups), not by hand-picked
    permissions, and cannot make anyone a superuser: the role matrix stays the
    ceiling of what anyone may do."""

    ESCALATING_FIELDS = ("is_superuser", "user_permissions")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in self.ESCALATING_FIELDS]})
            for name, options in fieldsets
        ]
