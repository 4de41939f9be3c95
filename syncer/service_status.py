"""What the last request to AniList and to Trakt learned, and when: the dashboard's connection
status says "Trakt: token refused at 21:40" instead of "Connected" while the token or the
service is not working.

The HTTP layer reports every outcome (`syncer.http.observe_outcomes`, wired in `apps.py`); a
problem is stored at once, a success only when it changes the picture or the stored one is a
minute old, so a sync of thousands of requests writes a handful of rows, not thousands.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from syncer import status_keys
from syncer.http import ApiError, AuthError, Locked, RateLimited, ServiceUnavailable, UncertainWrite
from syncer.models import SystemConfig

logger = logging.getLogger("syncer.http")
KEY = status_keys.SERVICE
SUCCESS_REWRITE_SECONDS = 60.0

_lock = threading.Lock()
_written: dict[str, tuple[bool, float]] = {}  # service -> (ok, monotonic time) of this process's last write


def problem_of(failure: ApiError | None) -> str:
    """The failure as a few words ("token refused"); "" when the service answered usefully
    (a 404 or an unusable body says nothing about the connection)."""
    if isinstance(failure, AuthError):
        return "token refused"
    if isinstance(failure, RateLimited):
        return "rate limited"
    if isinstance(failure, Locked):
        return "account locked"
    if isinstance(failure, ServiceUnavailable | UncertainWrite):
        if failure.status and failure.status >= 500:
            return f"server error (HTTP {failure.status})"
        if failure.status == 403:
            return "blocked by Cloudflare"
        reason = failure.message.partition("(")[2].partition(")")[0]
        return f"not reachable ({reason})" if reason else "not reachable"
    return ""


def service_seen(service: str, failure: ApiError | None) -> None:
    problem = problem_of(failure)
    now = time.monotonic()
    with _lock:
        last = _written.get(service)
        if not problem and last and last[0] and now - last[1] < SUCCESS_REWRITE_SECONDS:
            return
        _written[service] = (not problem, now)
    value = json.dumps({"ok": not problem, "problem": problem, "at": timezone.now().isoformat()})
    try:
        # A savepoint: a failed write must not break the caller's transaction.
        with transaction.atomic():
            SystemConfig.objects.update_or_create(key=KEY.format(service=service.lower()), defaults={"value": value})
    except Exception:  # noqa: BLE001 - bookkeeping never breaks a request (e.g. no database yet)
        logger.debug("Could not record the outcome of a %s request", service, exc_info=True)


def service_status(service: str) -> dict | None:
    """`{"ok", "problem", "at": datetime}` of the last recorded request, or None."""
    raw = SystemConfig.objects.filter(key=KEY.format(service=service.lower())).values_list("value", flat=True).first()
    try:
        data = json.loads(raw) if raw else None
        return {**data, "at": datetime.fromisoformat(data["at"])} if data else None
    except (ValueError, KeyError, TypeError):
        return None


def service_status_forget() -> None:
    """Forget this process's memory of what it wrote (tests)."""
    with _lock:
        _written.clear()
