"""A run's page and its status partial (polled until the run is finished). The context built
here (`run_context`, with what the page says about undoing the run) is also what the sync and
undo views render a run with."""

from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from syncer import selectors
from syncer.models import SyncRun
from syncer.refs import page_number
from syncer.sync.doctor import (
    DOCTOR_LINES_SHOWN,
    doctor_refusal,
    doctor_summary,
    doctor_titles,
    reason_text,
)
from syncer.sync.services import run_check_alive
from syncer.sync.undo import undo_refusal


@require_GET
def run_detail(request, run_id: int):
    """A run (or a preview) with its plan, filterable by what it does with each episode."""
    context = _run_context(request, run_id)
    return render(request, "syncer/run_detail.html", context)


@require_GET
def run_status(request, run_id: int):
    """The part of a run page that changes: state, progress, counts and (once done) the plan.
    `?blocking=1`: the run was in the way of a Run pressed on the Sync page (the notice says
    so until it ends); `?sync=1`: polled from the Sync page, whose Recent runs list changes
    with it (an out-of-band swap) instead of up to its own poll later."""
    context = _run_context(request, run_id)
    context["blocking"] = request.GET.get("blocking") == "1"
    on_sync_page = request.GET.get("sync") == "1"
    context["poll_query"] = poll_query(blocking=context["blocking"], on_sync_page=on_sync_page)
    if on_sync_page:
        context.update(recent_runs_context(), with_recent=True)
    return render(request, "syncer/_run_status_poll.html", context)


def poll_query(*, blocking: bool = False, on_sync_page: bool = False) -> str:
    return urlencode({k: "1" for k, on in (("blocking", blocking), ("sync", on_sync_page)) if on})


def recent_runs_context() -> dict:
    runs = selectors.recent_runs()
    return {"recent_runs": runs, "recent_active": any(not selectors.run_is_finished(run) for run in runs)}


def _run_context(request, run_id: int) -> dict:
    run = selectors.run_get(run_id=run_id)
    if run is None:
        raise Http404("No such run.")
    if run.state == SyncRun.State.QUEUED or (run.state == SyncRun.State.RUNNING and selectors.run_is_silent(run)):
        run = run_check_alive(run=run)
    return run_context(run, action=request.GET.get("action", ""), page=page_number(request.GET.get("page", 1)))


def run_context(run: SyncRun, *, action: str = "", page: int | str = 1) -> dict:
    """What `_run_status.html` needs; the plan is only read once the run has finished."""
    finished = selectors.run_is_finished(run)
    items = selectors.run_items_page(run=run, action=action, page=page) if finished else None
    counts = selectors.run_counts(run)
    superseded = (selectors.run_superseded_by(run) if finished and run.dry_run
                  and run.mode not in (SyncRun.Mode.UNDO, SyncRun.Mode.DOCTOR) else None)
    silent = not finished and selectors.run_is_silent(run)
    undo = undo_context(run, counts) if finished else {}
    doctor = doctor_context(run) if finished and run.mode == SyncRun.Mode.DOCTOR else {}
    return {"run": run, "items": items, "action": action, "finished": finished, "counts": counts,
            "live": None if finished else selectors.run_live(run, counts), "entries_on_trakt": _nothing_to_post(run, counts),
            "superseded": superseded, "silent": silent, **undo, **doctor}


def _nothing_to_post(run: SyncRun, counts: selectors.RunCounts) -> int:
    """How many entries a finished sync found wholly on Trakt already, when that was all it found
    (0 otherwise): "8 entries, 96 episodes already on Trakt: nothing to post". A single show
    says it in its own words."""
    done = run.state == SyncRun.State.SUCCEEDED and run.mode not in (SyncRun.Mode.SHOW, SyncRun.Mode.UNDO,
                                                                      SyncRun.Mode.DOCTOR)
    if not (done and counts.found and counts.already_synced == counts.found):
        return 0
    return selectors.run_entries_on_trakt(run)


def doctor_context(run: SyncRun) -> dict:
    """A history doctor run's page: each title's kept and removed plays, and the history limit."""
    titles = doctor_titles(run=run, limit=DOCTOR_LINES_SHOWN)
    for group in titles:
        for line in group.lines:
            line.why = reason_text(line.reason) if line.reason else ""
    offer = run.dry_run and run.state == SyncRun.State.SUCCEEDED and run.found and not doctor_refusal(run)
    return {"doctor": doctor_summary(run), "doctor_titles": titles, "doctor_offer": offer,
            "doctor_more": max(run.items.count() - DOCTOR_LINES_SHOWN, 0)}


def undo_context(run: SyncRun, counts: selectors.RunCounts) -> dict:
    """What the run page shows about undoing `run` (or, for an undo run, what it undid)."""
    if run.mode == SyncRun.Mode.UNDO:
        to_remove = counts.to_post if run.dry_run and run.state == SyncRun.State.SUCCEEDED else 0
        return {"undo_of": run.undo_of_id, "undo_to_remove": to_remove, "undo_puts_back": counts.puts_back}
    # Plays left over from an earlier run are that run's to undo (its page offers it).
    # A history doctor repair's plays are removed ones (`run.posted`), not posted lines.
    if run.dry_run or not (run.posted if run.mode == SyncRun.Mode.DOCTOR else counts.posted):
        return {}
    return {"undo_refused": undo_refusal(run), "undo_offered": True}
