"""The dashboard's Notifications card: which targets are set and a "Send test notification"
button (the targets themselves are never shown: a webhook URL is a credential)."""

from django.conf import settings
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from syncer.notify import notify_test


def notify_context(*, result: str = "") -> dict:
    return {"notify_targets": len(settings.NOTIFY_URLS), "notify_result": result}


@require_POST
def notify_test_send(request):
    if not settings.NOTIFY_URLS:
        result = "none"
    else:
        result = "sent" if notify_test() else "failed"
    if not request.htmx:
        return redirect("dashboard")
    return render(request, "syncer/_notify.html", notify_context(result=result))
