from django.contrib import admin
from guardian.admin import GuardedModelAdmin

from .models import System


@admin.register(System)
class SystemAdmin(GuardedModelAdmin):
    list_display = ("name", "kind", "environment", "owner", "updated")
    list_filter = ("kind", "environment")
    search_fields = ("name", "notes")

    def get_queryset(self, request):
        # The admin honours the same choke point as pages and API.
        return System.objects.restrict(request.user, "view")
