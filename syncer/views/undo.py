"""Undo from a run's page: "Undo this run" opens a preview (an undo dry run listing the plays
it would remove); its "Remove N plays" button queues the real undo and opens its page."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from syncer.models import SyncRun
from syncer.sync.services import SyncAlreadyRunning
from syncer.sync.undo import UndoRefused, undo_enqueue, undo_refusal, undo_run


def undo_context(run: SyncRun) -> dict:
    """What the run page shows about undoing `run` (or, for an undo run, what it undid)."""
    if run.mode == SyncRun.Mode.UNDO:
        to_remove = run.found - run.not_found if run.dry_run and run.state == SyncRun.State.SUCCEEDED else 0
        return {"undo_of": run.undo_of_id, "undo_to_remove": to_remove}
    if run.dry_run or not run.posted:
        return {}
    return {"undo_refused": undo_refusal(run), "undo_offered": True}


@require_POST
def run_undo(request, run_id: int):
    """Without `confirm`: the preview. With it: the real undo, queued for the worker."""
    if not SyncRun.objects.filter(pk=run_id).exists():
        raise Http404("No such run.")
    try:
        if request.POST.get("confirm"):
            undo = undo_enqueue(run_id=run_id)
        else:
            undo = undo_run(run_id=run_id, dry_run=True)
    except (UndoRefused, SyncAlreadyRunning) as exc:
        from syncer.views.runs import run_context

        context = {**run_context(SyncRun.objects.get(pk=run_id)), "undo_error": f"Cannot undo run #{run_id}: {exc}"}
        return render(request, "syncer/run_detail.html", context, status=409)
    return redirect("run-detail", run_id=undo.pk)
