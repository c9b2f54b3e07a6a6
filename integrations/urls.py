from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("systems/", views.SystemListView.as_view(), name="system_list"),
    path("systems/add/", views.SystemCreateView.as_view(), name="system_add"),
    path("systems/<int:pk>/", views.SystemDetailView.as_view(), name="system_detail"),
    path("systems/<int:pk>/edit/", views.SystemUpdateView.as_view(), name="system_edit"),
    path("systems/<int:pk>/delete/", views.SystemDeleteView.as_view(), name="system_delete"),
    path("systems/<int:pk>/access/", views.SystemAccessView.as_view(), name="system_access"),
    path("systems/<int:pk>/access/grant/", views.SystemAccessGrantView.as_view(), name="system_access_grant"),
    path("systems/<int:pk>/access/revoke/", views.SystemAccessRevokeView.as_view(), name="system_access_revoke"),
    path("connectors/", views.ConnectorListView.as_view(), name="connector_list"),
    path("connectors/add/", views.ConnectorCreateView.as_view(), name="connector_add"),
    path("connectors/adapter-fields/", views.ConnectorAdapterFieldsView.as_view(), name="connector_adapter_fields"),
    path("connectors/<int:pk>/", views.ConnectorDetailView.as_view(), name="connector_detail"),
    path("connectors/<int:pk>/edit/", views.ConnectorUpdateView.as_view(), name="connector_edit"),
    path("connectors/<int:pk>/delete/", views.ConnectorDeleteView.as_view(), name="connector_delete"),
    path("connectors/<int:pk>/access/", views.ConnectorAccessView.as_view(), name="connector_access"),
    path("connectors/<int:pk>/access/grant/", views.ConnectorAccessGrantView.as_view(), name="connector_access_grant"),
    path(
        "connectors/<int:pk>/access/revoke/", views.ConnectorAccessRevokeView.as_view(), name="connector_access_revoke"
    ),
    path("connectors/<int:pk>/test/", views.ConnectorTestView.as_view(), name="connector_test"),
    path("connectors/<int:pk>/reconcile/", views.ConnectorReconcileView.as_view(), name="connector_reconcile"),
    path("flows/", views.FlowListView.as_view(), name="flow_list"),
    path("flows/add/", views.FlowCreateView.as_view(), name="flow_add"),
    path("flows/<int:pk>/", views.FlowDetailView.as_view(), name="flow_detail"),
    path("flows/<int:pk>/edit/", views.FlowUpdateView.as_view(), name="flow_edit"),
    path("flows/<int:pk>/delete/", views.FlowDeleteView.as_view(), name="flow_delete"),
    path("flows/<int:pk>/access/", views.FlowAccessView.as_view(), name="flow_access"),
    path("flows/<int:pk>/access/grant/", views.FlowAccessGrantView.as_view(), name="flow_access_grant"),
    path("flows/<int:pk>/access/revoke/", views.FlowAccessRevokeView.as_view(), name="flow_access_revoke"),
    path("flows/<int:pk>/mapping/", views.FlowMappingView.as_view(), name="flow_mapping"),
    path("flows/<int:pk>/preview/", views.FlowPreviewView.as_view(), name="flow_preview"),
    path("flows/<int:pk>/promote/", views.FlowPromoteView.as_view(), name="flow_promote"),
    path("flows/<int:pk>/run/", views.FlowRunView.as_view(), name="flow_run"),
    path("runs/", views.RunListView.as_view(), name="run_list"),
    path("runs/<int:pk>/", views.RunDetailView.as_view(), name="run_detail"),
    path("runs/<int:pk>/progress/", views.RunDetailView.as_view(partial=True), name="run_progress"),
    path("outcomes/<int:pk>/", views.OutcomeDetailView.as_view(), name="outcome_detail"),
    path("reconciliations/", views.ReconciliationListView.as_view(), name="reconciliation_list"),
    path("reconciliations/<int:pk>/", views.ReconciliationDetailView.as_view(), name="reconciliation_detail"),
    path(
        "reconciliations/<int:pk>/progress/",
        views.ReconciliationDetailView.as_view(partial=True),
        name="reconciliation_progress",
    ),
    path("reconciliations/<int:pk>/accept/", views.ReconciliationAcceptView.as_view(), name="reconciliation_accept"),
    path("reconciliations/<int:pk>/resend/", views.ReconciliationResendView.as_view(), name="reconciliation_resend"),
    path("dead-letters/", views.DeadLetterListView.as_view(), name="deadletter_list"),
    path("dead-letters/replay/", views.DeadLetterReplayView.as_view(), name="deadletter_replay"),
    path("dead-letters/discard/", views.DeadLetterDiscardView.as_view(), name="deadletter_discard"),
]
