from rest_framework.routers import DefaultRouter

from . import views

app_name = "masterdata"

router = DefaultRouter()
router.register("golden-records", views.GoldenRecordViewSet)
router.register("candidates", views.DuplicateCandidateViewSet)
router.register("survivorship-rules", views.SurvivorshipRuleViewSet)
router.register("rule-applications", views.RuleApplicationViewSet)

urlpatterns = router.urls
