"""Mapping sources on the dashboard: status per source and a Refresh button that queues the
refresh on django-q and polls the section until that task is done."""

from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_q.tasks import async_task

from mappings import importer
from mappings.selectors import source_statuses
from syncer import selectors

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
    task_id = async_task(REFRESH_TASK, source=source, task_name=f"Refresh {source} mappings")
    if not request.htmx:
        return redirect("dashboard")
    return render(request, "syncer/_sources.html", sources_context(task_id=task_id, source=source))


def sources_context(*, task_id: str = "", source: str = "") -> dict:
    pending = bool(task_id) and source in importer.SOURCES and not selectors.task_finished(task_id=task_id)
    statuses = source_statuses()
    return {
        "sources": [
            {
                "status": status,
                "label": importer.SOURCES[status.source].label,
                "setting": importer.SOURCES[status.source].setting,
                "configured": bool(importer.source_url(status.source)),
                "refreshing": pending and status.source == source,
            }
            for status in statuses
        ],
        # Without an imported source every entry resolves as unmapped: the pages say so.
        "sources_ready": any(status.row_count for status in statuses),
        "pending": pending,
        "task_id": task_id,
        "source": source,
    }
