"""Mapping sources on the dashboard: status per source and a Refresh button that queues the
refresh on django-q and polls the section until that task is done (or, for a task lost with its
worker, until `REFRESH_GIVE_UP` has passed)."""

from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_q import tasks as q

from mappings import importer
from mappings.provenance import PLACERS
from mappings.selectors import REFRESH_GIVE_UP, refresh_wait, source_statuses
from mappings.services import (
    source_refresh_give_up,
    source_refresh_queued,
    source_refreshes_interrupt_dead,
)
from syncer import selectors
from syncer.sync.services import task_lost_now

REFRESH_TASK = "mappings.services.sources_refresh"


@require_GET
def sources_partial(request):
    """The sources table; `?task=<id>&source=<name>` names a queued refresh to wait for."""
    context = sources_context(task_id=request.GET.get("task", ""), source=request.GET.get("source", ""))
    return render(request, "syncer/_sources.html", context)


@require_POST
def source_refresh(request):
    source = request.POST.get("source", "")
    if source not in importer.SOURCES:
        return render(request, "syncer/_sources.html", {**sources_context(), "error": "Unknown mapping source."}, status=400)
    # The box accepts a file the shrink guard would refuse; only sent when ticked.
    force = {"force": True} if request.POST.get("force") == "1" else {}
    task_id = q.async_task(REFRESH_TASK, source=source, task_name=refresh_task_name(source), **force)
    source_refresh_queued(source=source, task_id=str(task_id))
    if not request.htmx:
        return redirect("dashboard")
    return render(request, "syncer/_sources.html", sources_context(task_id=task_id, source=source))


def refresh_task_name(source: str) -> str:
    return f"Refresh {source} mappings"


def _check_refresh(*, task_id: str, source: str) -> None:
    """A refresh killed at work (its heartbeat stopped), or queued for a worker that is gone, is
    marked so: the panel then says why and offers Refresh again."""
    source_refreshes_interrupt_dead()
    status = next(s for s in source_statuses() if s.source == source)
    if status.refresh_task_id != task_id or status.refresh_queued_at is None:
        return
    if status.refresh_started_at and status.refresh_started_at >= status.refresh_queued_at:
        return  # it started: its heartbeat tells
    if reason := task_lost_now(task=refresh_task_name(source), queued_at=status.refresh_queued_at):
        source_refresh_give_up(source=source, task_id=task_id, reason=reason)


def sources_context(*, task_id: str = "", source: str = "") -> dict:
    if task_id and source in importer.SOURCES:
        _check_refresh(task_id=task_id, source=source)
    statuses = source_statuses()
    wait = "done"
    if task_id and source in importer.SOURCES:
        status = next(s for s in statuses if s.source == source)
        finished = selectors.task_finished(task_id=task_id)
        wait = refresh_wait(status=status, task_id=task_id, finished=finished, now=timezone.now())
    pending = wait == "wait"
    rows = [
        {
            "status": status,
            "label": importer.SOURCES[status.source].label,
            "setting": importer.SOURCES[status.source].setting,
            "configured": bool(importer.source_url(status.source)),
            # The resolver reads whatever is imported, also from `refresh_mappings --file`
            # with the URL empty (an empty URL only stops the downloads).
            "in_use": status.row_count > 0,
            "refreshing": pending and status.source == source,
            "gave_up": wait == "gave_up" and status.source == source,
        }
        for status in statuses
    ]
    return {
        "sources": rows,
        "sources_in_use": [row["label"] for row in sorted(rows, key=lambda r: PLACERS.index(r["status"].source))
                           if row["in_use"]],
        "give_up_minutes": int(REFRESH_GIVE_UP.total_seconds() // 60),
        # Without an imported source every entry resolves as unmapped: the pages say so.
        "sources_ready": any(status.row_count for status in statuses),
        "pending": pending,
        "task_id": task_id,
        "source": source,
    }
