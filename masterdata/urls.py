from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "masterdata"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="masterdata:goldenrecord_list"), name="index"),
    path("review/", views.DuplicateCandidateListView.as_view(), name="candidate_list"),
    path("review/bulk/", views.BulkMergeView.as_view(), name="candidate_bulk"),
    path("review/<int:pk>/", views.DuplicateCandidateDetailView.as_view(), name="candidate_detail"),
    path("review/<int:pk>/merge/", views.DuplicateCandidateMergeView.as_view(), name="candidate_merge"),
    path("review/<int:pk>/not-duplicate/", views.DuplicateCandidateRejectView.as_view(), name="candidate_reject"),
    path("records/", views.GoldenRecordListView.as_view(), name="goldenrecord_list"),
    path("records/<int:pk>/", views.GoldenRecordDetailView.as_view(), name="goldenrecord_detail"),
    path("merges/<int:pk>/unmerge/", views.MergeUndoView.as_view(), name="merge_undo"),
    path("sources/<int:pk>/", views.SourceRecordDetailView.as_view(), name="sourcerecord_detail"),
    path("quarantine/", views.QuarantineListView.as_view(), name="quarantine"),
    path("import/", views.ImportView.as_view(), name="import"),
    path("import/<int:pk>/", views.ImportJobDetailView.as_view(), name="importjob_detail"),
    path("import/<int:pk>/progress/", views.ImportJobDetailView.as_view(partial=True), name="importjob_progress"),
    path("survivorship/", RedirectView.as_view(url="customer/"), name="survivorship"),
    path("survivorship/<str:entity>/", views.SurvivorshipRulesView.as_view(), name="survivorship_rules"),
    path("survivorship/<str:entity>/apply/", views.RuleApplicationStartView.as_view(), name="ruleapplication_start"),
    path("survivorship/<str:entity>/<str:field>/", views.SurvivorshipRuleEditView.as_view(), name="survivorship_rule"),
    path(
        "survivorship/applications/<int:pk>/progress/",
        views.RuleApplicationProgressView.as_view(),
        name="ruleapplication_progress",
    ),
]
