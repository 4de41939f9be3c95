"""Undo from a run's page: "Undo this run" opens a preview (an undo dry run listing the plays
it would remove); its "Remove N plays" button queues the real undo and opens its page."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from syncer import selectors
from syncer.sync.services import SyncAlreadyRunning
from syncer.sync.undo import UndoRefused, undo_enqueue, undo_run
from syncer.views.runs import run_context


@require_POST
def run_undo(request, run_id: int):
    """Without `confirm`: the preview. With it: the real undo, queued for the worker."""
    run = selectors.run_get(run_id=run_id)
    if run is None:
        raise Http404("No such run.")
    try:
        if request.POST.get("confirm"):
            undo = undo_enqueue(run_id=run_id)
        else:
            undo = undo_run(run_id=run_id, dry_run=True)
    except (UndoRefused, SyncAlreadyRunning) as exc:
        run.refresh_from_db()
        context = {**run_context(run), "undo_error": f"Cannot undo run #{run_id}: {exc}"}
        return render(request, "syncer/run_detail.html", context, status=409)
    return redirect("run-detail", run_id=undo.pk)
