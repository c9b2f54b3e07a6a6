from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("systems/", views.SystemListView.as_view(), name="system_list"),
    path("systems/add/", views.SystemCreateView.as_view(), name="system_add"),
    path("systems/<int:pk>/", views.SystemDetailView.as_view(), name="system_detail"),
    path("systems/<int:pk>/edit/", views.SystemUpdateView.as_view(), name="system_edit"),
    path("systems/<int:pk>/delete/", views.SystemDeleteView.as_view(), name="system_delete"),
]
