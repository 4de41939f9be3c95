from django.shortcuts import render

from logs.models import LogEntry


def log_list(request):
    entries = LogEntry.objects.select_related("run")[:200]
    return render(request, "logs/list.html", {"entries": entries})
