"""`POST /api/doctor`: the history doctor. `?preview=1` scans Trakt history and lists the
duplicate plays (removes nothing); `?previewId=<id>` removes what that preview listed.
`?async=1` queues either (202, poll `/api/runs/<id>`). The lines are at
`/api/runs/<id>/items`; `POST /api/runs/<id>/undo` puts a repair's plays back."""

from django.http import JsonResponse
from django.urls import reverse

from syncer.api.sync_views import already_running, failed, queued, with_run_header
from syncer.api.validation import (
    BadInput,
    Field,
    api_view,
    bounded_int,
    choice,
    ensure_no_body,
    flag,
    positive_int,
    query_params,
)
from syncer.models import SyncRun
from syncer.sync.doctor import (
    MAX_WINDOW,
    SCOPES,
    DoctorRefused,
    doctor_enqueue,
    doctor_run,
    doctor_summary,
)
from syncer.sync.services import SyncAlreadyRunning

API = SyncRun.Trigger.API


@api_view("POST")
def doctor(request):
    params = query_params(request, {
        "preview": Field(flag, default=False), "previewId": Field(positive_int), "async": Field(flag, default=False),
        "window": Field(bounded_int(1, MAX_WINDOW)), "scope": Field(choice(*SCOPES), default="all")})
    ensure_no_body(request)
    if params["preview"] == bool(params["previewId"]):
        raise BadInput("Give preview=1 (scan and list the duplicates) or previewId=<id> (remove what that preview "
                       "listed), one of the two.")
    if params["previewId"] and (params["window"] is not None or params["scope"] != "all"):
        raise BadInput("'window' and 'scope' belong to a preview; a repair uses its preview's.")
    options = {"dry_run": params["preview"], "window": params["window"], "scope": params["scope"],
               "preview_id": params["previewId"], "trigger": API}
    try:
        if params["async"]:
            return queued(doctor_enqueue(**options))
        run = doctor_run(**options)
    except DoctorRefused as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    except SyncAlreadyRunning as exc:
        return already_running(exc)
    if run.state != SyncRun.State.SUCCEEDED:
        return failed(run, "History doctor failed")
    return with_run_header(JsonResponse(doctor_body(run)), run)


def doctor_body(run: SyncRun) -> dict:
    s = doctor_summary(run)
    plays = s["duplicates"] if run.dry_run else s["removed"]
    message = (f"{plays} duplicate plays found; POST /api/doctor?previewId={run.pk} removes them" if run.dry_run
               else f"{plays} duplicate plays removed from Trakt history")
    return {"message": message, "runId": run.pk, "preview": run.dry_run, "previewId": s["preview"],
            "window": s["window"], "scope": s["scope"], "clusters": s["clusters"], "duplicates": s["duplicates"],
            "removed": s["removed"], "alreadyGone": s["gone"], "history": s["history"], "historyLimit": s["limit"],
            "historyUsedPercent": s["used"], "historyAfter": s["after"], "reads": s["reads"],
            "itemsUrl": reverse("api-run-items", args=[run.pk])}
