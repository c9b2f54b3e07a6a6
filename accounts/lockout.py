"""The page django-axes shows when a username and address pair is locked out."""

from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from django.http import JsonResponse
from django.shortcuts import render


def lockout_response(request, original_response=None, credentials=None):
    """429 with the lockout page (JSON for API requests), naming how long the pause lasts."""
    cool_off = get_cool_off(request)
    minutes = int(cool_off.total_seconds() // 60) if cool_off else None
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "username": get_client_username(request, credentials) or "",
        "cooloff_minutes": minutes,
    }
    if request.path.startswith("/api/"):
        detail = "Too many failed sign-ins for this username from this address; try again later."
        return JsonResponse({"detail": detail}, status=429)
    return render(request, "registration/locked_out.html", context, status=429)
