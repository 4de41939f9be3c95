"""Strict input checks for the JSON API.

Every route declares the query parameters and body fields it accepts; anything else, a wrong
type, a number out of range or a body over the cap is refused with a 400 that names the
problem, before a view touches the database. Views raise `BadInput`; `api_view` turns it into
the response.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.http import HttpRequest, JsonResponse

from syncer.refs import MAX_ID, ascii_number

# Scripts send a handful of ids; nothing legitimate comes near this.
MAX_BODY_BYTES = 16 * 1024
_IMDB = re.compile(r"tt[0-9]{5,10}")
# The default of a field that may be left out and must then stay untouched (not set to None).
MISSING = object()


class BadInput(Exception):
    """A request the API refuses (400); the message is shown to the caller as is."""

    status = 400


class NeedsPost(BadInput):
    """A browser session asked for a write with GET, which carries no CSRF token."""

    status = 403

    def __init__(self, message: str = ""):
        super().__init__(
            message
            or "From a browser session this route writes only with POST and a CSRF token; "
            "scripts may use GET with 'Authorization: Bearer <API_TOKEN>'."
        )


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def ensure_no_body(request: HttpRequest) -> None:
    """Routes driven by the query string still refuse a POST body with fields in it. An HTML
    form button may post here too: its CSRF field is the one field allowed."""
    if request.method != "POST":
        return
    if request.content_type in FORM_TYPES:
        declared = ascii_number(request.META.get("CONTENT_LENGTH") or "0")
        if declared is None or declared > MAX_BODY_BYTES:
            raise BadInput(f"The request body is too large (at most {MAX_BODY_BYTES} bytes).")
        unknown = sorted(set(request.POST) - {"csrfmiddlewaretoken"}) + sorted(request.FILES)
        if unknown:
            raise BadInput(f"Unknown field {', '.join(repr(u) for u in unknown)} (accepted: none).")
        return
    json_body(request, {})


def ensure_write_allowed(request: HttpRequest) -> None:
    """GET writes exist for the original's scripts and schedulers (bearer callers). A cookie
    session would make them a cross-site request forgery target, so sessions must POST."""
    if request.method != "POST" and not getattr(request, "api_bearer", False):
        raise NeedsPost()


@dataclass(frozen=True)
class Field:
    """One accepted query parameter or body field: `parse(name, raw)` returns the clean value."""

    parse: Callable[[str, Any], Any]
    required: bool = False
    default: Any = None


def api_view(*methods: str) -> Callable:
    """Allow only `methods`, answer JSON for a refused method and for `BadInput`."""

    def wrap(view: Callable) -> Callable:
        @wraps(view)
        def inner(request: HttpRequest, *args, **kwargs):
            if request.method not in methods:
                response = JsonResponse(
                    {"error": f"Method {request.method} is not allowed here; use {', '.join(methods)}."},
                    status=405,
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except BadInput as exc:
                return JsonResponse({"error": str(exc)}, status=exc.status)

        return inner

    return wrap


# --- parsers --------------------------------------------------------------------------------


def whole_number(name: str, raw: Any, *, minimum: int, maximum: int) -> int:
    """A whole number in range, given as a JSON integer or a string of digits (the original's
    scripts sent ids as strings). Signs, spaces, decimals and booleans are refused."""
    if isinstance(raw, bool):
        raise BadInput(f"'{name}' must be an integer, not a boolean.")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and ascii_number(raw) is not None:
        value = ascii_number(raw)
    else:
        kind = "a positive integer" if minimum >= 1 else "a whole number"
        raise BadInput(f"'{name}' must be {kind}.")
    if not minimum <= value <= maximum:
        raise BadInput(f"'{name}' must be between {minimum} and {maximum}.")
    return value


def positive_int(name: str, raw: Any) -> int:
    return whole_number(name, raw, minimum=1, maximum=MAX_ID)


def bounded_int(minimum: int, maximum: int) -> Callable[[str, Any], int]:
    def parse(name: str, raw: Any) -> int:
        return whole_number(name, raw, minimum=minimum, maximum=maximum)

    return parse


def optional_positive_int(name: str, raw: Any) -> int | None:
    return None if raw is None or raw == "" else positive_int(name, raw)


def imdb_id(name: str, raw: Any) -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not _IMDB.fullmatch(raw):
        raise BadInput(f"'{name}' must be an IMDb id like 'tt0213338'.")
    return raw


def flag(name: str, raw: Any) -> bool:
    """`1`/`true` or `0`/`false` (query strings), or a JSON boolean."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in {"1", "true"}:
        return True
    if isinstance(raw, str) and raw.lower() in {"0", "false"}:
        return False
    raise BadInput(f"'{name}' must be 1 or 0.")


def choice(*values: str) -> Callable[[str, Any], str]:
    def parse(name: str, raw: Any) -> str:
        if not isinstance(raw, str) or raw not in values:
            raise BadInput(f"'{name}' must be one of: {', '.join(values)}.")
        return raw

    return parse


def short_text(maximum: int) -> Callable[[str, Any], str]:
    def parse(name: str, raw: Any) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise BadInput(f"'{name}' must be a non-empty string.")
        if len(raw) > maximum:
            raise BadInput(f"'{name}' is too long (at most {maximum} characters).")
        return raw.strip()

    return parse


# --- readers --------------------------------------------------------------------------------


def _clean(source: dict[str, Any], fields: dict[str, Field], where: str) -> dict[str, Any]:
    unknown = sorted(set(source) - set(fields))
    if unknown:
        accepted = ", ".join(sorted(fields)) or "none"
        raise BadInput(f"Unknown {where} {', '.join(repr(u) for u in unknown)} (accepted: {accepted}).")
    clean = {}
    for name, field in fields.items():
        raw = source.get(name, MISSING)
        if raw is MISSING:
            if field.required:
                raise BadInput(f"'{name}' is required.")
            clean[name] = field.default
        else:
            clean[name] = field.parse(name, raw)
    return clean


def query_params(request: HttpRequest, fields: dict[str, Field]) -> dict[str, Any]:
    """The query string, checked against `fields`; a repeated parameter is refused."""
    source = {}
    for name, values in request.GET.lists():
        if len(values) > 1:
            raise BadInput(f"Query parameter '{name}' is given more than once.")
        source[name] = values[0]
    return _clean(source, fields, "query parameter")


def json_body(request: HttpRequest, fields: dict[str, Field]) -> dict[str, Any]:
    """The body as a JSON object checked against `fields`; an empty body counts as `{}`."""
    declared = ascii_number(request.META.get("CONTENT_LENGTH") or "0")
    if declared is None or declared > MAX_BODY_BYTES:
        raise BadInput(f"The request body is too large (at most {MAX_BODY_BYTES} bytes).")
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        raise BadInput(f"The request body is too large (at most {MAX_BODY_BYTES} bytes).")
    if not body.strip():
        data: Any = {}
    else:
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise BadInput("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadInput("The request body must be a JSON object.")
    return _clean(data, fields, "field")
