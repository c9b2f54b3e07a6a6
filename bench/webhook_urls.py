"""Junction's URL map plus the baseline views of bench/webhook.py: never part of the app."""

from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


@csrf_exempt
def trivial(request):
    """The floor: the same middleware as every Junction request, no work, a tiny JSON answer."""
    return JsonResponse({"ok": True}, status=202)


class TrivialAPIView(APIView):
    """The floor for a DRF view configured like the inbound endpoint (no auth, no throttles)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    def post(self, request):
        size = len(request.body)  # read it, as the inbound view does
        return Response({"ok": True, "bytes": size}, status=status.HTTP_202_ACCEPTED)


urlpatterns = [
    path("bench/trivial/", trivial),
    path("bench/trivial-drf/", TrivialAPIView.as_view()),
    path("", include("config.urls")),
]
