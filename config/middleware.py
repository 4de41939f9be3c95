"""Request and response rules every page and API route shares (see `MIDDLEWARE` in settings)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.cache import patch_cache_control

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NUL_MESSAGE = "A parameter contains a NUL character (%00); remove it and try again."
NUL_PATH_MESSAGE = "The address contains a NUL character (%00); remove it and try again."


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class RefuseNulBytesMiddleware:
    """A NUL in the path or in a query or form parameter is refused with a 400, before any view,
    filter or admin lookup (`/admin/.../%00/change/`) can hand it to PostgreSQL, which cannot
    store or even compare it (and would answer a 500)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        message = NUL_PATH_MESSAGE if "\x00" in request.path else NUL_MESSAGE if self._has_nul(request) else None
        if message:
            if is_api(request):
                return JsonResponse({"error": message}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        params = [request.GET]
        if request.method == "POST" and request.content_type in FORM_TYPES:
            params.append(request.POST)
        return any("\x00" in key or any("\x00" in value for value in values)
                   for query in params for key, values in query.lists())


class PrivateResponsesMiddleware:
    """What a signed-in person or an API caller reads is theirs: no shared or stored copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # A response that already says no-store is stored nowhere: it is left as it is.
        stored = "no-store" not in response.get("Cache-Control", "")
        if stored and (is_api(request) or _signed_in(request)):
            patch_cache_control(response, private=True, no_store=True)
        return response


def _signed_in(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class PlainHttpCookiesMiddleware:
    """With BEHIND_TLS unset, cookies are Secure on HTTPS requests only.

    A browser refuses a Secure cookie sent over plain HTTP (from a LAN address), so the CSRF
    cookie never comes back and every login fails the CSRF check. With BEHIND_TLS=true the
    flag always stays; with BEHIND_TLS=false the settings never set it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response: HttpResponse = self.get_response(request)
        if settings.BEHIND_TLS is None and not request.is_secure():
            for cookie in response.cookies.values():
                cookie["secure"] = ""
        return response
