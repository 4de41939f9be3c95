"""Dashboard `/`: connections, mapping sources, last runs, schedules, progress, unmapped."""

from django.conf import settings
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from syncer import selectors
from syncer.connections import anilist_client
from syncer.http import ApiError
from syncer.refs import page_number
from syncer.service_status import problem_of, service_status
from syncer.sync.selectors import watchlist_full
from syncer.trakt_app import trakt_app_configured
from syncer.trakt_connection.tokens import trakt_token_status
from syncer.views.notify import notify_context
from syncer.views.sources import sources_context


@require_GET
def dashboard(request):
    context = {
        **_runs_context(),
        **sources_context(),
        **notify_context(),
        "unmapped": selectors.unmapped_summary(),
        # "Every entry is mapped" only once an entry was (a failed first preview mapped none).
        "anything_mapped": selectors.anything_mapped,  # called by the template only when it asks
        "disputes": selectors.disputed_episodes(),
        "progress": selectors.sync_progress_page(query=request.GET.get("q", ""), page=page_number(request.GET.get("page", 1))),
    }
    return render(request, "dashboard.html", context)


@require_GET
def runs_partial(request):
    """The last run of each mode and the schedules; polls itself while a run is active."""
    return render(request, "syncer/_runs.html", _runs_context())


@require_GET
def progress_partial(request):
    """The searchable, paged sync-progress table."""
    progress = selectors.sync_progress_page(query=request.GET.get("q", ""), page=page_number(request.GET.get("page", 1)))
    return render(request, "syncer/_progress.html", {"progress": progress})


@require_GET
def connections_partial(request):
    """AniList and Trakt connection status. Loaded after the page (it may ask AniList), so
    a slow AniList never slows the dashboard down."""
    context = {
        "anilist": _anilist_status(),
        "trakt": trakt_token_status(),
        # What the last request to Trakt (by a sync, a page) learned: a refused token or an
        # outage shows here even while the stored connection still looks fine.
        "trakt_seen": service_status("Trakt"),
        "trakt_app_missing": not trakt_app_configured(),
        "watchlist_full": watchlist_full(),
    }
    return render(request, "syncer/_connections.html", context)


def _anilist_status() -> dict:
    if not settings.ANILIST_ACCESS_TOKEN:
        return {"ok": False, "setup": "anilist"}
    try:
        viewer = anilist_client().viewer()
    except ApiError as exc:
        problem = problem_of(exc)
        if problem == "token refused":
            return {"ok": False, "message": "AniList refused the token: check ANILIST_ACCESS_TOKEN in `.env`."}
        return {"ok": False, "message": f"AniList: {problem or exc.message}. Syncs wait until it answers again."}
    # The viewer may be this process's cached answer: what the last request to AniList (a
    # sync's, say) learned since is the status, as for Trakt.
    seen = service_status("AniList")
    if seen and not seen["ok"]:
        return {"ok": False, "seen": seen}
    return {"ok": True, "name": viewer.name, "user_id": viewer.id}


def _runs_context() -> dict:
    last = selectors.last_runs_by_mode()
    active = selectors.active_runs()
    # One grouped query counts both: a live run's line and its row in the table say the same.
    counts = selectors.runs_counts([*last.values(), *active])
    return {
        # (mode, its newest run or None, that run's counts)
        "last_runs": [(mode, run, counts.get(run.pk) if run else None) for mode, run in last.items()],
        "active_runs": active,
        "active_live": [(run, selectors.run_live(run, counts[run.pk])) for run in active],
        "schedules": selectors.scheduled_jobs(),
        # Ratings and watchlist (SYNC_RATINGS, SYNC_WATCHLIST): on or off, and what the last run did.
        "ratings_on": settings.SYNC_RATINGS,
        "watchlist_on": settings.SYNC_WATCHLIST,
        "extras": selectors.extras_last_run() if settings.SYNC_RATINGS or settings.SYNC_WATCHLIST else None,
        "now": timezone.now(),
    }
