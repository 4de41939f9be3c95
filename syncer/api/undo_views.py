"""`POST /api/runs/<id>/undo`: take back the plays a run posted. `?preview=1` answers what
would be removed and removes nothing; `?async=1` queues the undo (202, poll `/api/runs/<id>`).
A run that cannot be undone (an undo, a preview, already undone, ...) answers 409 with why."""

from django.http import JsonResponse

from syncer import selectors
from syncer.api.sync_views import already_running, failed, queued, waited_for, with_run_header
from syncer.api.validation import (
    MAX_ID,
    BadInput,
    Field,
    api_view,
    ensure_no_body,
    flag,
    query_params,
)
from syncer.models import SyncRun
from syncer.sync.services import SyncAlreadyRunning
from syncer.sync.undo import UndoRefused, undo_enqueue, undo_run

API = SyncRun.Trigger.API


@api_view("POST")
def run_undo(request, run_id: int):
    params = query_params(request, {"preview": Field(flag, default=False), "async": Field(flag, default=False)})
    ensure_no_body(request)
    if run_id > MAX_ID:
        raise BadInput(f"Run id must be between 1 and {MAX_ID}.")
    if selectors.run_get(run_id=run_id) is None:
        return JsonResponse({"error": f"No sync run {run_id}."}, status=404)
    try:
        if params["preview"]:
            undo = undo_run(run_id=run_id, dry_run=True, trigger=API)  # reads the run's shows' history only
        else:
            undo = undo_enqueue(run_id=run_id, trigger=API)
    except UndoRefused as exc:
        return JsonResponse({"error": str(exc), "runId": run_id}, status=409)
    except SyncAlreadyRunning as exc:
        return already_running(exc)
    if params["async"] and not params["preview"]:
        return queued(undo)
    undo = waited_for(undo)
    if isinstance(undo, JsonResponse):
        return undo
    if undo.state != SyncRun.State.SUCCEEDED:
        return failed(undo, "Undo failed")
    return with_run_header(JsonResponse(undo_body(undo)), undo)


def undo_body(undo: SyncRun) -> dict:
    plays = undo.found - undo.not_found if undo.dry_run else undo.posted
    # A history doctor repair is undone by putting the plays it removed back.
    verb = "put back" if undo.undo_of and undo.undo_of.mode == SyncRun.Mode.DOCTOR else "removed"
    message = (f"these {plays} plays will be {verb}" if undo.dry_run
               else f"{plays} plays {verb} {'in' if verb == 'put back' else 'from'} Trakt history")
    return {"message": message, "preview": undo.dry_run, "runId": undo.pk, "undoneRunId": undo.undo_of_id,
            "plays": plays, "alreadyGone": undo.not_found}
