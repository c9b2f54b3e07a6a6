"""Top-level URL map: pages per app, the versioned API, its schema and docs, health."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from monitoring.views import HealthView


class FaviconView(RedirectView):
    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("img/junction.svg")  # resolved per request: the manifest gives the hashed name


api_v1 = [
    path("", include("integrations.api.urls")),
    path("masterdata/", include("masterdata.api.urls")),
    path("", include("accounts.api.urls")),  # tokens/
    path("", include("monitoring.api.urls")),  # alerts/
]

urlpatterns = [
    path("", include("monitoring.urls")),
    path("", include("accounts.urls")),
    path("integrations/", include("integrations.urls")),
    path("masterdata/", include("masterdata.urls")),
    path("audit/", include("audit.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("healthz", HealthView.as_view(), name="healthz"),
    # Browsers ask for /favicon.ico on pages without our <link rel="icon"> (admin, API docs).
    path("favicon.ico", FaviconView.as_view()),
]

admin.site.site_header = "Junction administration"
admin.site.site_title = "Junction admin"
