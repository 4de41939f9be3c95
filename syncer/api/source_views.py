"""Mapping sources: `/api/refresh-otaku` and `/api/refresh-fribbs` (`?check=1` reads the status,
anything else refreshes, as in the original; `?allowShrink=1` accepts a file the shrink guard
would refuse)."""

from django.http import JsonResponse

from mappings.models import SourceStatus
from mappings.selectors import source_statuses
from mappings.services import sources_refresh
from syncer import status_keys
from syncer.api.serializers import config_value, iso
from syncer.api.validation import (
    Field,
    api_view,
    ensure_no_body,
    ensure_write_allowed,
    flag,
    query_params,
)

# The original's keys, read when this install has not imported a source yet (an adopted
# database), so a dashboard shows the same dates until the first refresh here.
LEGACY_LAST_SYNC = status_keys.SOURCE_LAST_SYNC


def legacy(key: str):
    raw = status_keys.config_get(key)
    return config_value(raw) if raw is not None else None


def status_of(source: str) -> SourceStatus:
    return next(s for s in source_statuses() if s.source == source)


def check_body(status: SourceStatus) -> dict:
    last_sync = iso(status.refreshed_at) or legacy(LEGACY_LAST_SYNC[status.source])
    if status.source == SourceStatus.Source.OTAKU:
        # Otaku's own "last updated" (its `activities` table).
        last_activity = iso(status.upstream_updated_at) or legacy(status_keys.OTAKU_LAST_ACTIVITY)
        return {"count": status.row_count, "lastSync": last_sync, "lastActivity": last_activity}
    # The original answered with the incremental sync's cursor here; kept for parity.
    return {"count": status.row_count, "lastSync": last_sync, "lastFullSync": legacy(status_keys.CURSOR)}


def refresh_route(request, source: str):
    params = query_params(request, {"check": Field(flag, default=False), "allowShrink": Field(flag, default=False)})
    ensure_no_body(request)
    if params["check"]:
        return JsonResponse(check_body(status_of(source)))
    ensure_write_allowed(request)
    status = sources_refresh(source=source, force=params["allowShrink"])
    if status.refused_rows is not None:
        # Refused by the shrink guard, not broken: the caller may insist with allowShrink=1.
        body = {"success": False, "error": status.last_error, "count": status.row_count,
                "refusedCount": status.refused_rows, "lastSync": iso(status.refreshed_at)}
        return JsonResponse(body, status=409)
    if status.last_error:
        # The previous import stays in use; say so and why.
        body = {"success": False, "error": status.last_error, "count": status.row_count,
                "lastSync": iso(status.refreshed_at)}
        return JsonResponse(body, status=502)
    return JsonResponse({"success": True, "count": status.row_count, "lastSync": iso(status.refreshed_at)})


@api_view("GET", "POST")
def refresh_otaku(request):
    return refresh_route(request, SourceStatus.Source.OTAKU)


@api_view("GET", "POST")
def refresh_fribbs(request):
    return refresh_route(request, SourceStatus.Source.FRIBB)
