"""Trakt connect: a device code shown in the page and polled until connected; pasting an
authorization code as a fallback; disconnecting."""

import logging

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from syncer.http import ApiError
from syncer.models import TraktDeviceCode
from syncer.service_status import service_status
from syncer.trakt_app import trakt_app_configured
from syncer.trakt_connection.oauth import (
    trakt_authorize_url,
    trakt_code_exchange,
    trakt_device_get,
    trakt_device_poll,
    trakt_device_start,
    trakt_disconnect,
)
from syncer.trakt_connection.tokens import trakt_token_status

logger = logging.getLogger("syncer.web")


@require_GET
def trakt_page(request):
    return render(request, "syncer/trakt.html", _page_context())


@require_POST
def device_start(request):
    try:
        device = trakt_device_start()
    except ApiError as exc:
        return _page_or_partial(request, error=_say(exc))
    return _device_answer(request, device)


@require_POST
def device_poll(request, device_id: int):
    device = trakt_device_get(device_id=device_id)
    if device is None:
        raise Http404("No such device connection attempt")
    try:
        device = trakt_device_poll(device=device)
    except ApiError as exc:
        # A network hiccup is not the end of the attempt: keep polling, say what happened.
        device.message = _say(exc)
    return _device_answer(request, device)


@require_POST
def code_exchange(request):
    code = request.POST.get("code", "").strip()
    if not code:
        return _page_or_partial(request, error="Paste the code Trakt showed you.", status=400)
    try:
        trakt_code_exchange(code=code)
    except ApiError as exc:
        return _page_or_partial(request, error=_say(exc), status=400)
    return _page_or_partial(request, notice="Connected to Trakt.")


@require_POST
def disconnect(request):
    trakt_disconnect()
    return _page_or_partial(request, notice="Disconnected from Trakt.")


def _device_answer(request, device: TraktDeviceCode):
    if not request.htmx:
        return redirect("trakt")
    if device.state == TraktDeviceCode.State.CONNECTED:
        # The whole connection box changes (status, disconnect button), not just the code.
        return _page_or_partial(request, notice="Connected to Trakt.")
    context = {"device": device, "pending": device.state == TraktDeviceCode.State.PENDING}
    return render(request, "syncer/_trakt_device.html", context)


def _page_or_partial(request, *, error: str = "", notice: str = "", status: int = 200):
    context = _page_context(error=error, notice=notice)
    if request.htmx:
        response = render(request, "syncer/_trakt_status.html", context)
        response["HX-Retarget"] = "#trakt-connection"
        response["HX-Reswap"] = "outerHTML"
        return response
    return render(request, "syncer/trakt.html", context, status=status)


def _page_context(*, error: str = "", notice: str = "") -> dict:
    return {
        "status": trakt_token_status(),
        # What the last request to Trakt learned: the dashboard's status too.
        "seen": service_status("Trakt"),
        "app_missing": not trakt_app_configured(),
        "authorize_url": trakt_authorize_url(),
        "error": error,
        "notice": notice,
    }


def _say(exc: ApiError) -> str:
    """An error for the page: the client's own message (never a secret), or a generic one."""
    logger.warning("Trakt connect: %s", exc)
    return str(exc) or "Trakt did not answer; try again."
