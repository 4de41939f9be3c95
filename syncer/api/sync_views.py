"""Sync routes: /api/sync, /api/full-sync, /api/completed-sync, /api/watching-sync,
/api/library-sync (added by the rewrite, same shapes as completed-sync), /api/cron.

By default a route answers when the run is done, as the original did; but the run is the
worker's, and the request waits for it at most `SYNC_API_WAIT_SECONDS` (below the web server's
timeout): a run still going then answers 202 with its id and `/api/runs/<id>` to follow, as
`?async=1` does at once. A second sync while one runs is refused with 409. Responses keep the
original's keys; the run id travels in `X-Sync-Run-Id`.
"""

from django.conf import settings
from django.http import JsonResponse
from django.urls import reverse

from config.access import secret_allowed
from syncer.api.validation import (
    BadInput,
    Field,
    NeedsPost,
    api_view,
    ensure_no_body,
    ensure_write_allowed,
    flag,
    positive_int,
    query_params,
)
from syncer.models import SyncRun, SyncRunItem
from syncer.sync.cron import sync_cron
from syncer.sync.selectors import ENTRY_ON_TRAKT, run_plays
from syncer.sync.services import SyncAlreadyRunning, run_wait, sync_enqueue

API = SyncRun.Trigger.API
PREVIEW_NEEDS_POST = (
    "From a browser session a preview is started with POST: use Preview on the Sync page "
    "(POST /sync/start/); scripts may GET ?preview=1 with 'Authorization: Bearer <API_TOKEN>'."
)
ASYNC = {"async": Field(flag, default=False)}


def with_run_header(response: JsonResponse, run: SyncRun) -> JsonResponse:
    response["X-Sync-Run-Id"] = str(run.pk)
    return response


def queued(run: SyncRun, *, waited: float = 0) -> JsonResponse:
    """202: the run is the worker's; follow it at its status URL (after `waited` seconds of a
    request that meant to answer when it was done, the answer says so)."""
    url = reverse("api-run", args=[run.pk])
    body = {"runId": run.pk, "state": run.state, "statusUrl": url}
    if waited:
        body["message"] = (f"still {run.state} after {waited:.0f} s: it goes on in the worker; follow it at "
                           f"{url}")
    response = JsonResponse(body, status=202)
    response["Location"] = url
    return with_run_header(response, run)


def waited_for(run: SyncRun) -> SyncRun | JsonResponse:
    """The run once ended, or the 202 that says where to follow it when it outlasts the wait."""
    run = run_wait(run=run, seconds=settings.SYNC_API_WAIT_SECONDS)
    if run.state in (SyncRun.State.QUEUED, SyncRun.State.RUNNING):
        return queued(run, waited=settings.SYNC_API_WAIT_SECONDS)
    return run


def already_running(exc: SyncAlreadyRunning) -> JsonResponse:
    return JsonResponse({"error": "a sync is already running", "runId": exc.run_id}, status=409)


def run_sync(*, mode: str, run_async: bool, anilist_id: int | None = None) -> SyncRun | JsonResponse:
    """Run (or queue) a real sync: the finished, successful run, or the response to send
    instead (202 queued, 409 already running, 500 failed)."""
    try:
        run = sync_enqueue(mode=mode, trigger=API, anilist_id=anilist_id)
    except SyncAlreadyRunning as exc:
        return already_running(exc)
    if run_async:
        return queued(run)
    run = waited_for(run)
    if isinstance(run, JsonResponse):
        return run
    if run.state != SyncRun.State.SUCCEEDED:
        return failed(run, "Sync failed")
    return run


def failed(run: SyncRun, error: str) -> JsonResponse:
    return with_run_header(JsonResponse({"error": error, "details": run.error, "runId": run.pk}, status=500), run)


@api_view("GET", "POST")
def sync_show(request):
    params = query_params(request, {"anilistId": Field(positive_int, required=True), **ASYNC})
    ensure_no_body(request)
    ensure_write_allowed(request)
    run = run_sync(mode=SyncRun.Mode.SHOW, anilist_id=params["anilistId"], run_async=params["async"])
    if isinstance(run, JsonResponse):
        return run
    return with_run_header(JsonResponse({"success": True, "count": run.posted}), run)


@api_view("GET", "POST")
def full_sync(request):
    params = query_params(request, ASYNC)
    ensure_no_body(request)
    ensure_write_allowed(request)
    run = run_sync(mode=SyncRun.Mode.INCREMENTAL, run_async=params["async"])
    if isinstance(run, JsonResponse):
        return run
    return with_run_header(JsonResponse(full_sync_body(run)), run)


def full_sync_body(run: SyncRun) -> dict:
    return {
        "message": "Sync complete!",
        "found": run.found,
        "synced": run.posted,
        "alreadySynced": run.already_synced,
        "skippedUnmapped": run.unmapped,
        "added": {"episodes": run.posted},
    }


LIBRARY_MESSAGES = {
    SyncRun.Mode.COMPLETED: "Completed library sync complete!",
    SyncRun.Mode.WATCHING: "Watching library sync complete!",
    SyncRun.Mode.LIBRARY: "Library sync complete!",
}


def library_sync(request, mode: str):
    """GET ?preview=1 lists what would be synced per show; POST runs the sync."""
    if request.method == "GET":
        params = query_params(request, {"preview": Field(flag, default=False)})
        if not params["preview"]:
            raise BadInput("Use preview=1 for listing or POST to run sync.")
        if not getattr(request, "api_bearer", False):
            # A preview records a run: from a cookie session that is a write, and a GET carries
            # no CSRF token. The Sync page previews with a POST form.
            raise NeedsPost(PREVIEW_NEEDS_POST)
        run = waited_for(sync_enqueue(mode=mode, trigger=API, dry_run=True))
        if isinstance(run, JsonResponse):
            return run
        if run.state != SyncRun.State.SUCCEEDED:
            return failed(run, "Preview failed")
        items = preview_items(run, totals=mode == SyncRun.Mode.WATCHING)
        return with_run_header(JsonResponse({"items": items, "count": len(items)}), run)
    params = query_params(request, ASYNC)
    ensure_no_body(request)
    run = run_sync(mode=mode, run_async=params["async"])
    if isinstance(run, JsonResponse):
        return run
    return with_run_header(JsonResponse(library_body(run, mode)), run)


def preview_items(run: SyncRun, *, totals: bool = False) -> list[dict]:
    """One item per AniList entry of the plan, in plan order, in the original's shape.

    `progress` is the highest AniList episode planned for the entry and `watchedAt` that
    episode's date. The plan keeps one title per entry (English, else romaji), so both title
    keys carry it. The original's watching preview also gave `totalEpisodes` (the entry's
    episode count, null while unknown): `totals` adds it.
    """
    entries: dict[int, dict] = {}
    # An entry's line for its episodes on Trakt before the run names no planned episode.
    plan = run_plays(run=run).exclude(reason_code=ENTRY_ON_TRAKT)
    for item in plan.order_by("position").iterator(chunk_size=2000):
        entry = entries.setdefault(item.anilist_id, {"anilistShowId": item.anilist_id, "progress": 0})
        if item.anilist_episode >= entry["progress"]:
            entry.update(
                titleEnglish=item.title,
                titleRomaji=item.title,
                progress=item.anilist_episode,
                watchedAt=item.watched_at.isoformat() if item.watched_at else None,
            )
            if totals:
                entry["totalEpisodes"] = item.total_episodes
    return list(entries.values())


def library_body(run: SyncRun, mode: str) -> dict:
    """The original's counts: `found` entries with something to do, `alreadySyncedShows`
    entries with nothing left to post, `batches` history POSTs."""
    items = run_plays(run=run)
    shows = set(items.values_list("anilist_id", flat=True).distinct())
    doing = set(items.exclude(action=SyncRunItem.Action.ALREADY_SYNCED).values_list("anilist_id", flat=True))
    return {
        "message": LIBRARY_MESSAGES[mode],
        "found": len(shows),
        "synced": run.posted,
        "alreadySyncedShows": len(shows - doing),
        "addedEpisodes": run.posted,
        "batches": run.batches.count(),
    }


@api_view("GET", "POST")
def completed_sync(request):
    return library_sync(request, SyncRun.Mode.COMPLETED)


@api_view("GET", "POST")
def watching_sync(request):
    return library_sync(request, SyncRun.Mode.WATCHING)


@api_view("GET", "POST")
def library_sync_all(request):
    """Every entry with progress, whatever its (synced) status: the first sync of an install."""
    return library_sync(request, SyncRun.Mode.LIBRARY)


@secret_allowed("CRON_SECRET")
@api_view("GET", "POST")
def cron(request):
    """For external schedulers: an automated incremental sync when the interval has passed."""
    params = query_params(request, ASYNC)
    ensure_no_body(request)
    ensure_write_allowed(request)
    result = sync_cron(wait=0 if params["async"] else settings.SYNC_API_WAIT_SECONDS)
    if result.get("message") == "a sync is already running":
        return JsonResponse({"error": "a sync is already running", "runId": result.get("runId")}, status=409)
    status = 500 if result.get("state") == SyncRun.State.FAILED else 200
    going = result.get("state") in (SyncRun.State.QUEUED, SyncRun.State.RUNNING)
    if going:
        result["statusUrl"] = reverse("api-run", args=[result["runId"]])
        status = 200 if params["async"] else 202  # async=1 answered 200 "Sync started", as it always did
    response = JsonResponse(result, status=status)
    if going:
        response["Location"] = result["statusUrl"]
    if result.get("runId"):
        response["X-Sync-Run-Id"] = str(result["runId"])
    return response
