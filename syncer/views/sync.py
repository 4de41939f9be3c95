"""Sync `/sync/`: the four modes, each with Preview (a dry run) and Run, queued on django-q."""

from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from syncer import selectors
from syncer.forms import SyncStartForm
from syncer.models import SyncRun
from syncer.sync.services import SyncAlreadyRunning, sync_enqueue
from syncer.views.runs import run_context

MODES = [
    (SyncRun.Mode.INCREMENTAL, "Incremental",
     "Your AniList activity since the last sync, plus list entries ahead of what was synced."),
    (SyncRun.Mode.COMPLETED, "Completed", "Every completed entry, episodes not yet on Trakt."),
    (SyncRun.Mode.WATCHING, "Watching", "Every entry you are watching or rewatching."),
    (SyncRun.Mode.SHOW, "Single show", "One AniList entry, by id or URL."),
]


@require_GET
def sync_page(request):
    context = {
        "modes": MODES,
        "form": SyncStartForm(),
        "active_runs": selectors.active_runs(),
        "recent_runs": selectors.recent_runs(),
    }
    return render(request, "syncer/sync.html", context)


@require_POST
def sync_start(request):
    """Queue a preview or a run; answers with its status partial (HTMX) or redirects to it."""
    form = SyncStartForm(request.POST)
    if not form.is_valid():
        return _answer(request, "syncer/_sync_refused.html", {"form": form}, status=400)
    try:
        run = sync_enqueue(
            mode=form.cleaned_data["mode"],
            dry_run=form.cleaned_data["dry_run"],
            anilist_id=form.cleaned_data["anilist"] if form.cleaned_data["mode"] == SyncRun.Mode.SHOW else None,
            trigger=SyncRun.Trigger.MANUAL,
        )
    except SyncAlreadyRunning as exc:
        return _answer(request, "syncer/_sync_refused.html", {"running_id": exc.run_id}, status=409)
    if not request.htmx:
        return redirect("run-detail", run_id=run.id)
    run.refresh_from_db()  # the task may already have run (inline tasks, a fast worker)
    return render(request, "syncer/_run_status.html", run_context(run))


def _answer(request, template: str, context: dict, *, status: int):
    """HTMX swaps the message into the page; without JavaScript it is a page of its own."""
    if request.htmx:
        # htmx does not swap error answers by default; 200 with the message is what it shows.
        return render(request, template, context)
    return render(request, "syncer/sync_message.html", {**context, "template": template}, status=status)
