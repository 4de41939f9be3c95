"""Connecting Trakt from a script: the authorization-code flow (`/api/trakt-auth`, as in the
original) and the device flow (`/api/trakt-auth/device`, new: no redirect URI, no copy-paste
of a code from a browser address bar)."""

from django.conf import settings
from django.http import JsonResponse
from django.urls import reverse
from django.utils import timezone

from syncer.api.validation import (
    MAX_ID,
    BadInput,
    Field,
    api_view,
    json_body,
    query_params,
    short_text,
)
from syncer.http import ApiError, AuthError
from syncer.models import TraktDeviceCode
from syncer.trakt_app import trakt_app_configured
from syncer.trakt_connection.oauth import (
    trakt_authorize_url,
    trakt_code_exchange,
    trakt_device_get,
    trakt_device_poll,
    trakt_device_start,
)


def not_configured() -> JsonResponse | None:
    if trakt_app_configured():
        return None
    return JsonResponse({"error": "TRAKT_CLIENT_ID and TRAKT_CLIENT_SECRET must be set first."}, status=503)


def trakt_failure(exc: ApiError) -> JsonResponse:
    """Trakt refused (400: the caller can fix it) or failed (502: try again later)."""
    if isinstance(exc, AuthError):
        return JsonResponse({"error": exc.message}, status=400)
    return JsonResponse({"error": f"Trakt did not answer as expected: {exc.message}"}, status=502)


@api_view("GET", "POST")
def trakt_auth(request):
    query_params(request, {})
    if request.method == "GET":
        if missing := not_configured():
            return missing
        return JsonResponse({"authUrl": trakt_authorize_url(), "redirectUri": settings.TRAKT_REDIRECT_URI})
    body = json_body(request, {"code": Field(short_text(512), required=True)})
    if missing := not_configured():
        return missing
    try:
        status = trakt_code_exchange(code=body["code"])
    except ApiError as exc:
        return trakt_failure(exc)
    expires_at = status.get("expires_at")
    expires_in = max(0, int((expires_at - timezone.now()).total_seconds())) if expires_at else None
    return JsonResponse({"message": "Trakt tokens updated", "expires_in": expires_in})


def device_body(device: TraktDeviceCode) -> dict:
    return {
        "deviceId": device.pk,
        "state": device.state,
        "message": device.message,
        "userCode": device.user_code,
        "verificationUrl": device.verification_url,
        "interval": device.interval,
        "expiresAt": device.expires_at.isoformat(),
        "pollUrl": reverse("api-trakt-device", args=[device.pk]),
    }


@api_view("POST")
def device_start(request):
    query_params(request, {})
    json_body(request, {})
    if missing := not_configured():
        return missing
    try:
        device = trakt_device_start()
    except ApiError as exc:
        return trakt_failure(exc)
    return JsonResponse(device_body(device), status=201)


@api_view("GET", "POST")
def device_poll(request, device_id: int):
    """GET: the attempt's state as stored. POST: ask Trakt once (at most every `interval` s)."""
    query_params(request, {})
    if device_id > MAX_ID:
        raise BadInput(f"Device id must be between 1 and {MAX_ID}.")
    if request.method == "POST":
        json_body(request, {})
    device = trakt_device_get(device_id=device_id)
    if device is None:
        return JsonResponse({"error": f"No device connection attempt {device_id}."}, status=404)
    if request.method == "POST":
        if missing := not_configured():
            return missing
        try:
            device = trakt_device_poll(device=device)
        except ApiError as exc:
            return trakt_failure(exc)
    return JsonResponse(device_body(device))
