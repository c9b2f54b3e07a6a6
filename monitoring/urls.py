from django.urls import path

from . import views, views_alerts

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("dashboard/health/", views.HomeView.as_view(partial=True), name="home_health"),
    path("alerts/", views_alerts.AlertListView.as_view(), name="alert_list"),
    path("alerts/<int:pk>/", views_alerts.AlertDetailView.as_view(), name="alert_detail"),
    path("alerts/<int:pk>/acknowledge/", views_alerts.AlertAcknowledgeView.as_view(), name="alert_acknowledge"),
]
