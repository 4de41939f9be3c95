"""Read routes and manual mappings: status, logs, progress, mappings, manual-map, runs.

Access control is not here: `config.access` refuses anonymous callers before a view runs.
"""

from django.http import JsonResponse
from django.urls import reverse

from config.views import csrf_failure_page
from logs.selectors import log_entries
from mappings.manual import ManualMappingRefused
from mappings.models import Mapping
from mappings.selectors import mappings_by_anilist_id
from syncer import selectors
from syncer.api import serializers
from syncer.api.services import manual_map_save
from syncer.api.validation import (
    MAX_ID,
    MISSING,
    BadInput,
    Field,
    api_view,
    bounded_int,
    choice,
    imdb_id,
    json_body,
    optional_positive_int,
    positive_int,
    query_params,
)
from syncer.models import SyncRun, SyncRunItem

LOG_LIMIT = 200


@api_view("GET")
def status(request):
    query_params(request, {})
    return JsonResponse({name: serializers.config_value(raw) for name, raw in selectors.sync_status().items()})


@api_view("GET")
def logs(request):
    query_params(request, {})
    entries = log_entries(limit=LOG_LIMIT)
    response = JsonResponse([serializers.log_entry(e) for e in entries], safe=False)
    response["Cache-Control"] = "no-store"
    return response


@api_view("GET")
def progress(request):
    params = query_params(
        request,
        {"limit": Field(bounded_int(1, 500)), "anilistId": Field(positive_int)},
    )
    if params["anilistId"] is not None:
        if params["limit"] is not None:
            raise BadInput("Give either 'anilistId' or 'limit', not both.")
        row = selectors.sync_progress_of(anilist_id=params["anilistId"])
        return JsonResponse({"anilistId": params["anilistId"], "lastAbs": row.last_abs if row else 0})
    limit = params["limit"] or 50
    items = [serializers.progress_row(r) for r in selectors.sync_progress_recent(limit=limit)]
    return JsonResponse({"count": len(items), "items": items})


@api_view("GET")
def mappings(request):
    query_params(request, {})
    result = {"manual": [], "auto": []}
    for row in mappings_by_anilist_id():
        result["manual" if row.is_manual else "auto"].append(serializers.mapping(row))
    return JsonResponse(result)


MANUAL_MAP_FIELDS = {
    "anilistId": Field(positive_int, required=True),
    "traktId": Field(positive_int, required=True),
    "tmdbId": Field(optional_positive_int, default=MISSING),
    "imdbId": Field(imdb_id, default=MISSING),
    "tvdbId": Field(optional_positive_int, default=MISSING),
    # Added by the rewrite: without `type`, an AniList movie stays a movie and the rest are shows.
    "type": Field(choice(*Mapping.Type.values)),
    "startSeason": Field(bounded_int(0, 1000)),
    "startEpisode": Field(bounded_int(1, 100_000)),
}


EXTERNAL_ID_KEYS = {"tmdbId": "tmdb_id", "imdbId": "imdb_id", "tvdbId": "tvdb_id"}


@api_view("POST")
def manual_map(request):
    query_params(request, {})
    body = json_body(request, MANUAL_MAP_FIELDS)
    if body["type"] == Mapping.Type.MOVIE and (body["startSeason"] is not None or body["startEpisode"] is not None):
        raise BadInput("'startSeason' and 'startEpisode' apply to shows, not to a movie.")
    given_ids = {column: body[key] for key, column in EXTERNAL_ID_KEYS.items() if body[key] is not MISSING}
    try:
        manual_map_save(
            anilist_id=body["anilistId"],
            trakt_id=body["traktId"],
            kind=body["type"],
            start_season=body["startSeason"],
            start_episode=body["startEpisode"],
            **given_ids,
        )
    except ManualMappingRefused as exc:
        raise BadInput(exc.message) from None
    return JsonResponse({"success": True, "added": 1})


def _run_or_404(run_id: int) -> SyncRun | JsonResponse:
    if run_id > MAX_ID:
        raise BadInput(f"Run id must be between 1 and {MAX_ID}.")
    run = selectors.run_get(run_id=run_id)
    return run if run is not None else JsonResponse({"error": f"No sync run {run_id}."}, status=404)


@api_view("GET")
def run_detail(request, run_id: int):
    query_params(request, {})
    run = _run_or_404(run_id)
    if isinstance(run, JsonResponse):
        return run
    counts = selectors.run_counts(run)
    body = serializers.run(run, counts, None if selectors.run_is_finished(run) else selectors.run_live(run, counts))
    body["itemsUrl"] = reverse("api-run-items", args=[run.pk])
    return JsonResponse(body)


RUN_ITEMS_PER_PAGE = 200


@api_view("GET")
def run_items(request, run_id: int):
    """A run's plan, one page at a time, in plan order (the exact preview of a dry run)."""
    params = query_params(
        request,
        {"page": Field(bounded_int(1, 100_000), default=1), "action": Field(choice(*SyncRunItem.Action.values))},
    )
    run = _run_or_404(run_id)
    if isinstance(run, JsonResponse):
        return run
    page = selectors.run_items_page(run=run, action=params["action"] or "", page=params["page"],
                                    per_page=RUN_ITEMS_PER_PAGE)
    # A page past the end is empty here (the run page shows the last one instead).
    items = [serializers.run_item(i) for i in page.object_list] if page.number == params["page"] else []
    return JsonResponse(
        {"runId": run.pk, "count": page.paginator.count, "page": params["page"], "perPage": RUN_ITEMS_PER_PAGE,
         "items": items}
    )


def csrf_failure(request, reason: str = ""):
    """`CSRF_FAILURE_VIEW`: API callers get JSON, pages a page saying what to set."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": f"CSRF check failed ({reason}): send the X-CSRFToken header, or use a bearer token."},
            status=403,
        )

    return csrf_failure_page(request, reason=reason)


def unknown_route(request, rest: str = ""):
    """Any other /api/ path: a JSON 404 (after the same authentication as every route)."""
    return JsonResponse({"error": f"No API route /api/{rest}: see docs/api.md for the routes."}, status=404)
