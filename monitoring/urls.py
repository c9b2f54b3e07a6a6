from django.urls import path

from . import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("dashboard/health/", views.HomeView.as_view(partial=True), name="home_health"),
]
