import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.access import public
from config.middleware import is_api


@public
@never_cache
@require_GET
def healthz(request):
    """Answers OK when the database answers `SELECT 1`; 503 otherwise (for the load balancer)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("OK", content_type="text/plain")


# --- Django's own error answers: JSON under /api/ (docs/api.md promises JSON errors) -------


def _api_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def server_error(request):
    """`handler500`. A 503 when the database cannot be reached (the exception being handled is
    still current here): JSON under /api/, a page that says so elsewhere; otherwise a 500."""
    database_down = isinstance(sys.exc_info()[1], (OperationalError, InterfaceError))
    if not is_api(request):
        if database_down:
            # Rendered without the request: its user and session would ask the database again.
            response = HttpResponse(loader.render_to_string("503_database.html"), status=503)
            response["Retry-After"] = "30"
            return response
        return defaults.server_error(request)
    if database_down:
        return _api_error("The database is unavailable; try again in a moment.", 503)
    return _api_error("Internal server error; the details are in the server's log.", 500)


def bad_request(request, exception):
    if not is_api(request):
        return defaults.bad_request(request, exception)
    return _api_error("Bad request.", 400)


def permission_denied(request, exception):
    if not is_api(request):
        return defaults.permission_denied(request, exception)
    return _api_error("Permission denied.", 403)


def page_not_found(request, exception):
    if not is_api(request):
        return defaults.page_not_found(request, exception)
    return _api_error(f"No API route {request.path}: see docs/api.md for the routes.", 404)


def csrf_failure_page(request, reason: str = ""):
    """A page's CSRF failure: what went wrong, and exactly which setting fixes it."""
    origin = request.headers.get("Origin", "")
    secure = request.is_secure()
    context = {
        "reason": reason,
        "origin": origin,
        "seen_as": f"{'https' if secure else 'http'}://{request.get_host()}",
        "behind_tls": {True: "true", False: "false", None: "unset"}[settings.BEHIND_TLS],
        "trusted": ", ".join(settings.CSRF_TRUSTED_ORIGINS) or "(empty)",
        # A browser on http:// keeps no Secure cookie, so the CSRF cookie never came back.
        "https_only": not secure and settings.CSRF_COOKIE_SECURE and settings.BEHIND_TLS is True,
        "bad_origin": reason.startswith("Origin checking failed") and bool(origin),
    }
    return render(request, "403_csrf.html", context, status=403)
