from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views
from .inbound import InboundView

router = DefaultRouter()
router.register("systems", views.SystemViewSet)
router.register("connectors", views.ConnectorViewSet)
router.register("flows", views.FlowViewSet)
router.register("runs", views.RunViewSet, basename="run")
router.register("outcomes", views.OutcomeViewSet, basename="outcome")
router.register("reconciliations", views.ReconciliationViewSet, basename="reconciliation")

urlpatterns = [
    path("inbound/<int:pk>/", InboundView.as_view(), name="inbound"),
    *router.urls,
]
