"""Who may see what: one place for every page and every /api/ route.

Pages need a logged-in staff user. `/api/` routes accept a staff session or
`Authorization: Bearer <API_TOKEN>`; views marked `@secret_allowed("CRON_SECRET")` also take
that secret. Views marked `@public` (login, health) are open.
"""

import hmac
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, JsonResponse


def public(view: Callable) -> Callable:
    """Mark a view as open to anonymous visitors."""
    view.access_public = True
    return view


def secret_allowed(*setting_names: str) -> Callable:
    """Let bearer callers in with the secret of these settings, besides API_TOKEN."""

    def mark(view: Callable) -> Callable:
        view.access_secrets = setting_names
        return view

    return mark


def bearer_token(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def bearer_matches(token: str, secret_names: tuple[str, ...]) -> bool:
    """Constant-time comparison against every configured secret (an empty secret never matches)."""
    matched = False
    for name in ("API_TOKEN", *secret_names):
        secret = getattr(settings, name, "") or ""
        if secret and hmac.compare_digest(token.encode(), secret.encode()):
            matched = True
    return matched


def is_staff(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


class StaffOrSecretRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "access_public", False):
            return None
        # The admin runs its own staff login.
        if request.path.startswith("/admin/"):
            return None
        if request.path.startswith("/api/"):
            return self._check_api(request, view_func)
        if is_staff(request):
            return None
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)

    def _check_api(self, request, view_func):
        token = bearer_token(request)
        if token:
            if bearer_matches(token, getattr(view_func, "access_secrets", ())):
                # A bearer caller is not a browser session: CSRF protects cookies, not tokens.
                request._dont_enforce_csrf_checks = True
                request.api_bearer = True
                return None
            return JsonResponse({"error": "Invalid bearer token."}, status=401)
        if is_staff(request):
            return None
        return JsonResponse(
            {"error": "Authentication required: log in as staff or send 'Authorization: Bearer <API_TOKEN>'."},
            status=401,
        )
