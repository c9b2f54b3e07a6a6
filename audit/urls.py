from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.LogEntryListView.as_view(), name="logentry_list"),
    path("<int:pk>/", views.LogEntryDetailView.as_view(), name="logentry_detail"),
    path("export.<str:format>", views.LogEntryExportView.as_view(), name="logentry_export"),
]
