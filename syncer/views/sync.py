"""Sync `/sync/`: the five modes, each with Preview (a dry run) and Run, queued on django-q."""

from django.conf import settings
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from syncer import selectors
from syncer.forms import SyncStartForm
from syncer.models import SyncRun
from syncer.sync.selectors import never_synced
from syncer.sync.services import SyncAlreadyRunning, sync_enqueue
from syncer.trakt_app import trakt_app_configured
from syncer.trakt_connection.tokens import trakt_token_status
from syncer.views.runs import poll_query, recent_runs_context, run_context

MODES = [
    (SyncRun.Mode.LIBRARY, "Library",
     "Every entry with progress (watching, rewatching, completed, paused, dropped), each whole up to "
     "its progress: the first sync of an install."),
    (SyncRun.Mode.INCREMENTAL, "Incremental",
     "Your AniList activity since the last sync, plus list entries ahead of what was synced."),
    (SyncRun.Mode.COMPLETED, "Completed", "Every completed entry: the episodes this app has not synced yet."),
    (SyncRun.Mode.WATCHING, "Watching", "Every entry you are watching or rewatching, up to your progress."),
    (SyncRun.Mode.SHOW, "Single show", "One AniList entry, by id or URL."),
]


@require_GET
def sync_page(request):
    context = {
        "modes": MODES,
        "form": SyncStartForm(),
        "active_runs": selectors.active_runs(),
        **recent_runs_context(),
        # A run going on while the page loads is followed in the Result panel, as if just started.
        **_live_result(),
        "missing": sync_blocker(dry_run=True),
        "trakt_connected": trakt_token_status()["connected"],
        "sources_imported": selectors.sources_imported(),
        "first_sync": never_synced(),
    }
    return render(request, "syncer/sync.html", context)


def sync_blocker(*, dry_run: bool) -> str:
    """What must be set up before this sync can work ("" when nothing): a preview reads AniList
    and Trakt's public catalogue; a run also needs the Trakt connection to write."""
    if not settings.ANILIST_ACCESS_TOKEN:
        return "anilist"
    if not trakt_app_configured():
        return "trakt_app"
    if not dry_run and not trakt_token_status()["connected"]:
        return "trakt"
    return ""


@require_POST
def sync_start(request):
    """Queue a preview or a run; answers with its status partial (HTMX) or redirects to it."""
    form = SyncStartForm(request.POST)
    if not form.is_valid():
        return _answer(request, "syncer/_sync_refused.html", {"form": form}, status=400)
    # Refuse up front what would only fail in the worker a moment later, and say what to do.
    blocker = sync_blocker(dry_run=form.cleaned_data["dry_run"])
    if blocker:
        return _answer(request, "syncer/_sync_refused.html", {"blocker": blocker}, status=409)
    try:
        run = sync_enqueue(
            mode=form.cleaned_data["mode"],
            dry_run=form.cleaned_data["dry_run"],
            anilist_id=form.cleaned_data["anilist"] if form.cleaned_data["mode"] == SyncRun.Mode.SHOW else None,
            trigger=SyncRun.Trigger.MANUAL,
        )
    except SyncAlreadyRunning as exc:
        # Show the run that is in the way, live, rather than a notice that outlives it.
        running = selectors.run_get(run_id=exc.run_id) if exc.run_id else None
        return _answer(request, "syncer/_sync_refused.html",
                       {"running_id": exc.run_id, **(run_context(running) if running else {}),
                        "poll_query": poll_query(blocking=True, on_sync_page=True)}, status=409)
    if not request.htmx:
        return redirect("run-detail", run_id=run.id)
    run.refresh_from_db()  # the task may already have run (inline tasks, a fast worker)
    # The new run joins the page's "Recent runs" list too (an out-of-band swap).
    return render(request, "syncer/_sync_started.html",
                  {**run_context(run), **recent_runs_context(), "poll_query": poll_query(on_sync_page=True)})


def _live_result() -> dict:
    active = selectors.active_runs()
    if not active:
        return {}
    run = max(active, key=lambda r: r.pk)
    return {"live": True, **run_context(run), "poll_query": poll_query(on_sync_page=True)}


def _answer(request, template: str, context: dict, *, status: int):
    """HTMX swaps the message into the page; without JavaScript it is a page of its own."""
    if request.htmx:
        # htmx does not swap error answers by default; 200 with the message is what it shows.
        return render(request, template, context)
    return render(request, "syncer/sync_message.html", {**context, "template": template}, status=status)
