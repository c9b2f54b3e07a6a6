from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("systems", views.SystemViewSet)

urlpatterns = router.urls
