"""The history doctor `/doctor/`: preview the duplicate plays other tools left in Trakt history
(a queued dry run, shown on its run page), then remove what the preview listed from that page."""

from django.conf import settings
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from syncer.models import SyncRun
from syncer.refs import ascii_id
from syncer.sync.doctor import MAX_WINDOW, DoctorRefused, doctor_enqueue, doctor_runs
from syncer.sync.services import SyncAlreadyRunning
from syncer.trakt_connection.tokens import trakt_token_status


@require_GET
def doctor_page(request):
    return render(request, "syncer/doctor.html", _context())


@require_POST
def doctor_start(request):
    """Without `preview`: a new preview with the form's window and scope. With it: carry it out."""
    try:
        if request.POST.get("preview"):
            run = doctor_enqueue(dry_run=False, preview_id=ascii_id(request.POST["preview"]))
        else:
            window = ascii_id(request.POST.get("window") or str(settings.DOCTOR_WINDOW_SECONDS))
            if window is None:
                raise DoctorRefused(f"the window is a number of seconds, from 1 to {MAX_WINDOW}")
            scope = "mirrored" if request.POST.get("mirrored") else "all"
            run = doctor_enqueue(dry_run=True, window=window, scope=scope)
    except (DoctorRefused, SyncAlreadyRunning) as exc:
        return render(request, "syncer/doctor.html", {**_context(), "error": _refusal(exc)}, status=409)
    return redirect("run-detail", run_id=run.pk)


def _refusal(exc: Exception) -> str:
    if isinstance(exc, SyncAlreadyRunning):
        return "A sync is already running: the history doctor removes plays only while nothing else writes to Trakt."
    return f"{str(exc)[0].upper()}{str(exc)[1:]}."


def _context() -> dict:
    return {"runs": doctor_runs(limit=10), "window": settings.DOCTOR_WINDOW_SECONDS, "max_window": MAX_WINDOW,
            "trakt_connected": trakt_token_status()["connected"], "limit": settings.TRAKT_HISTORY_LIMIT,
            "doctor_mode": SyncRun.Mode.DOCTOR}
