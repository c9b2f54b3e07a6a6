from rest_framework.routers import DefaultRouter

from . import views

app_name = "masterdata"

router = DefaultRouter()
router.register("golden-records", views.GoldenRecordViewSet)
router.register("candidates", views.DuplicateCandidateViewSet)

urlpatterns = router.urls
