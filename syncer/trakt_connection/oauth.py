"""Connecting Trakt: the device flow, the authorization-code flow and disconnecting. A new
token pair goes to the token store (`tokens.trakt_token_save`)."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from logs.redact import register_secret
from syncer.clients.trakt import StaticTokenStore, TraktClient
from syncer.http import ApiError, AuthError, BadResponse
from syncer.models import TraktDeviceCode, TraktToken
from syncer.trakt_connection.crypto import TokenDecryptError, decrypt, encrypt
from syncer.trakt_connection.tokens import oauth_client, trakt_token_save, trakt_token_status

logger = logging.getLogger("syncer.trakt_connection")

DEVICE_OUTCOMES = {
    404: (TraktDeviceCode.State.INVALID, "Trakt did not recognise the code; start again"),
    409: (TraktDeviceCode.State.USED, "This code was already used; start again"),
    410: (TraktDeviceCode.State.EXPIRED, "The code expired before it was entered; start again"),
    418: (TraktDeviceCode.State.DENIED, "Access was denied on Trakt"),
}


def _fetch_username(client: TraktClient, access_token: str) -> str:
    try:
        probe = TraktClient(token_store=StaticTokenStore(access_token), client=client.api.client,
                            base_url=client.api.base_url, auth_url=client.auth.base_url)
        return ((probe.user_settings() or {}).get("user") or {}).get("username") or ""
    except ApiError as exc:
        logger.warning("Connected to Trakt, but the username could not be read: %s", exc)
        return ""


def _connected(payload: dict, client: TraktClient) -> TraktToken:
    register_secret(payload.get("access_token"))
    username = _fetch_username(client, payload.get("access_token") or "")
    row = trakt_token_save(payload=payload, username=username)
    logger.info("Trakt connected%s", f" as {username}" if username else "")
    return row


def trakt_device_get(*, device_id: int) -> TraktDeviceCode | None:
    """A device-flow attempt, for its page or its API route to show or poll."""
    return TraktDeviceCode.objects.filter(pk=device_id).first()


def trakt_device_start(*, client: TraktClient | None = None) -> TraktDeviceCode:
    body = oauth_client(client).oauth_device_code()
    register_secret(body.get("device_code"))
    return TraktDeviceCode.objects.create(
        device_code=encrypt(body["device_code"]),
        user_code=body["user_code"],
        verification_url=_web_address(body.get("verification_url")),
        interval=int(body["interval"] if body.get("interval") is not None else 5),
        expires_at=timezone.now() + timedelta(seconds=int(body.get("expires_in") or 600)),
        message="Enter the code on Trakt",
    )


def _web_address(url) -> str:
    """Trakt's device page, as the answer names it when that is an http(s) address: the pages
    show it as a link, and a `javascript:` or `data:` one would run in ours."""
    parts = urlsplit(str(url or "").strip())
    if parts.scheme.lower() in ("http", "https") and parts.hostname:
        return parts.geturl()
    return "https://trakt.tv/activate"


def trakt_device_poll(*, device: TraktDeviceCode, client: TraktClient | None = None) -> TraktDeviceCode:
    """Poll once (no sleeping here; callers wait `device.interval` between polls)."""
    if device.state != TraktDeviceCode.State.PENDING:
        return device
    now = timezone.now()
    if now >= device.expires_at:
        device.state, device.message = DEVICE_OUTCOMES[410]
        device.save(update_fields=["state", "message"])
        return device
    if device.last_polled_at and now < device.last_polled_at + timedelta(seconds=device.interval):
        return device  # too early: polling faster only earns a 429
    client = oauth_client(client)
    try:
        code = decrypt(device.device_code)
    except TokenDecryptError:
        device.state, device.message = TraktDeviceCode.State.FAILED, "The code cannot be read; start again"
        device.save(update_fields=["state", "message"])
        return device
    status, payload = client.oauth_device_token(code)
    device.last_polled_at = now
    if status == 200 and payload:
        _connected(payload, client)
        device.state, device.message = TraktDeviceCode.State.CONNECTED, "Connected to Trakt"
    elif status == 400:
        device.message = "Waiting for the code to be entered on Trakt"
    elif status == 429:
        device.interval += 5  # "slow down", as RFC 8628 says
        device.message = "Trakt asked to poll more slowly"
    else:
        device.state, device.message = DEVICE_OUTCOMES.get(
            status, (TraktDeviceCode.State.FAILED, f"Unexpected answer from Trakt (HTTP {status})"))
    device.save()
    return device


def trakt_authorize_url() -> str:
    query = urlencode({"response_type": "code", "client_id": settings.TRAKT_CLIENT_ID,
                       "redirect_uri": settings.TRAKT_REDIRECT_URI})
    return f"{settings.TRAKT_AUTH_URL.rstrip('/')}/oauth/authorize?{query}"


def trakt_code_exchange(*, code: str, client: TraktClient | None = None) -> dict:
    """The authorization-code flow: exchange a code pasted from the authorize page."""
    client = oauth_client(client)
    register_secret(code)
    try:
        payload = client.oauth_exchange_code(code.strip())
    except (AuthError, BadResponse) as exc:
        raise AuthError("Trakt", exc.status, "Trakt refused the code (wrong, used or expired)") from None
    _connected(payload, client)
    return trakt_token_status()


def trakt_disconnect(*, client: TraktClient | None = None) -> None:
    """Revoke the token on Trakt (best effort) and forget it here."""
    with transaction.atomic():
        row = TraktToken.objects.select_for_update().filter(id=1).first() or TraktToken(id=1)
        try:
            access = decrypt(row.access_token)
        except TokenDecryptError:
            access = ""
        if access:
            try:
                oauth_client(client).oauth_revoke(access)
            except ApiError as exc:
                logger.warning("Trakt token could not be revoked (forgotten anyway): %s", exc)
        row.access_token = row.refresh_token = ""
        row.expires_at = row.token_created_at = None
        row.username = row.scope = row.last_error = ""
        row.state = TraktToken.State.DISCONNECTED
        row.version += 1
        row.save()
    logger.info("Trakt disconnected")
