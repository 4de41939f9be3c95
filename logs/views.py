"""The log page: the newest lines, and a live tail that fetches only the lines added since."""

from urllib.parse import urlencode

from django.shortcuts import render
from django.views.decorators.http import require_GET

from logs.forms import LogFilterForm
from logs.selectors import log_entries, log_entries_after, log_last_id


@require_GET
def log_list(request):
    form = LogFilterForm(request.GET)
    filters = form.filters()
    entries = log_entries(**filters)
    last_id = entries[0].id if entries else log_last_id()
    context = {"form": form, "entries": entries, **_tail_context(filters, last_id, paused=False)}
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


def _tail_context(filters: dict, last_id: int, *, paused: bool) -> dict:
    params = {"after": last_id}
    if filters["level"]:
        params["level"] = filters["level"]
    if filters["run_id"] is not None:
        params["run"] = filters["run_id"]
    return {
        "last_id": last_id,
        "paused": paused,
        "tail_query": urlencode(params),
        "filtered": bool(filters["level"] or filters["run_id"] is not None),
    }


def _int(value: str | None) -> int:
    try:
        return max(int(value or 0), 0)
    except ValueError:
        return 0
