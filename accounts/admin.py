from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from . import tokens, two_factor
from .models import ApiToken

User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Administrators manage people through roles (groups), not by hand-picked
    permissions, and cannot make anyone a superuser: the role matrix stays the
    ceiling of what anyone may do."""

    ESCALATING_FIELDS = ("is_superuser", "user_permissions")
    actions = ["reset_two_factor"]

    @admin.action(description="Reset two-factor authentication (lost phone and recovery codes)", permissions=["change"])
    def reset_two_factor(self, request, queryset):
        """Removes the people's TOTP and recovery codes; recorded in the audit trail per person."""
        for user in queryset:
            two_factor.reset(user, actor=request.user, request=request)
        self.message_user(request, f"Two-factor authentication reset for {queryset.count()} people.")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in self.ESCALATING_FIELDS]})
            for name, options in fieldsets
        ]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Administrators see everyone's tokens (never a secret: only its hash is stored) and revoke them."""

    list_display = ("name", "user", "created", "expiry", "last_used_at")
    list_filter = ("expiry",)
    search_fields = ("name", "user__username")
    fields = ("name", "user", "created", "expiry", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # tokens are created by their owner, who alone sees the secret

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        tokens.revoke_token(obj, request=request)

    def delete_queryset(self, request, queryset):
        for token in queryset:
            tokens.revoke_token(token, request=request)
