"""The log page: the newest lines, and a live tail that fetches only the lines added since."""

from urllib.parse import urlencode

from django.shortcuts import render
from django.views.decorators.http import require_GET

from logs.forms import LogFilterForm
from logs.selectors import PAGE_ROWS, log_entries, log_entries_after, log_last_id
from syncer.refs import ascii_number


@require_GET
def log_list(request):
    """The newest lines with a live tail, or (`?before=<id>`) a still page of older lines."""
    form = LogFilterForm(request.GET)
    filters = form.filters()
    before_id = _int(request.GET.get("before")) or None
    # One row more than shown says whether there are older lines, without a count query.
    rows = log_entries(**filters, before_id=before_id, limit=PAGE_ROWS + 1)
    entries = rows[:PAGE_ROWS]
    last_id = entries[0].id if entries else (before_id or log_last_id())
    context = {
        "form": form,
        "entries": entries,
        "browsing_older": before_id is not None,
        "older_query": _query(filters, before=entries[-1].id) if len(rows) > PAGE_ROWS else "",
        "newest_query": _query(filters),
        **_tail_context(filters, last_id, paused=before_id is not None),
    }
    return render(request, "logs/list.html", context)


@require_GET
def log_tail(request):
    """Rows newer than `after`, plus the next poller (or a still one while paused)."""
    form = LogFilterForm(request.GET)
    filters = form.filters()
    after_id = _int(request.GET.get("after"))
    paused = request.GET.get("paused") == "1"
    # Pausing fetches nothing: the rows shown stay as they are until the user resumes.
    entries = [] if paused else list(reversed(log_entries_after(after_id=after_id, **filters)))
    last_id = max([after_id] + [entry.id for entry in entries])
    context = {
        "entries": entries,
        # The pause/resume buttons also swap themselves; a plain poll leaves them alone, so the
        # keyboard focus never jumps away from them.
        "toggled": request.GET.get("toggle") == "1",
        **_tail_context(filters, last_id, paused=paused),
    }
    return render(request, "logs/_tail.html", context)


def _query(filters: dict, **extra) -> str:
    """The filters (and `extra`) as a query string for the page's links and polls."""
    params = {}
    if filters["level"]:
        params["level"] = filters["level"]
    if filters["run_id"] is not None:
        params["run"] = filters["run_id"]
    return urlencode({**params, **extra})


def _tail_context(filters: dict, last_id: int, *, paused: bool) -> dict:
    return {
        "last_id": last_id,
        "paused": paused,
        "tail_query": _query(filters, after=last_id),
        "filtered": bool(filters["level"] or filters["run_id"] is not None),
    }


def _int(value: str | None) -> int:
    return ascii_number(value or "0") or 0
