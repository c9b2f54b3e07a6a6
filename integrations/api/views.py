from accounts.api.viewsets import RestrictedModelViewSet

from ..filtersets import SystemFilterSet
from ..models import System
from .serializers import SystemSerializer


class SystemViewSet(RestrictedModelViewSet):
    queryset = System.objects.select_related("owner")
    serializer_class = SystemSerializer
    filterset_class = SystemFilterSet
