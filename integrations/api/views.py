from accounts.api.viewsets import RestrictedModelViewSet

from ..filtersets import SystemFilterSet
from ..models import System
from .serializers import SystemSerializer


class SystemViewSet(RestrictedModelViewSet):
    queryset = System.objects.all()
    serializer_class = SystemSerializer
    filterset_class = SystemFilterSet
