"""Trakt connection: the token store (encrypted, rotation-safe) and the OAuth flows.

Refresh tokens are single-use. A refresh therefore runs under a row lock and re-reads the
row first: if another process rotated meanwhile (`version` changed) its new token is used
instead of spending the old refresh token a second time.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from logs.redact import register_secret
from syncer.clients.trakt import TraktClient
from syncer.crypto import TokenDecryptError, decrypt, encrypt
from syncer.http import ApiError, AuthError, BadResponse
from syncer.models import SystemConfig, TraktDeviceCode, TraktToken
from syncer.trakt_app import trakt_app_configured

logger = logging.getLogger("syncer.trakt_auth")

REFRESH_AHEAD_FRACTION = 0.1  # refresh when less than 10 % of the token's lifetime is left
RECONNECT = "Trakt needs to be reconnected on the Trakt page (/trakt/) or with `manage.py trakt_auth`"
LEGACY_KEYS = ("trakt:token", "trakt:refresh_token")


# --- Token store ----------------------------------------------------------------------------


def _oauth_client(client: TraktClient | None) -> TraktClient:
    if not trakt_app_configured():
        raise AuthError("Trakt", None, "TRAKT_CLIENT_ID and TRAKT_CLIENT_SECRET must be set")
    return client or TraktClient()


def _legacy_value(raw: str | None, field: str) -> str:
    """The original app kept plain strings; accept a JSON string or token object too."""
    raw = (raw or "").strip()
    if raw.startswith(("{", '"')):
        try:
            parsed = json.loads(raw)
        except ValueError:
            return raw
        return (parsed.get(field) or "") if isinstance(parsed, dict) else str(parsed)
    return raw


def _seed_values() -> tuple[str, str, str]:
    """(access, refresh, source): an adopted database's keys first, then the environment."""
    stored = dict(SystemConfig.objects.filter(key__in=LEGACY_KEYS).values_list("key", "value"))
    access = _legacy_value(stored.get("trakt:token"), "access_token")
    refresh = _legacy_value(stored.get("trakt:refresh_token"), "refresh_token") or _legacy_value(
        stored.get("trakt:token") if (stored.get("trakt:token") or "").lstrip().startswith("{") else "",
        "refresh_token",
    )
    if access:
        return access, refresh, "system_config"
    if settings.TRAKT_ACCESS_TOKEN:
        return settings.TRAKT_ACCESS_TOKEN, settings.TRAKT_REFRESH_TOKEN, "environment"
    return "", "", ""


def _row(*, lock: bool = False) -> TraktToken:
    """The token row. Created (seeded) only when there is something to seed, so an explicit
    disconnect (which keeps the row) is never undone by a token left in the environment."""
    manager = TraktToken.objects.select_for_update() if lock else TraktToken.objects
    row = manager.filter(id=1).first()
    if row is not None:
        return row
    access, refresh, source = _seed_values()
    if not access:
        return TraktToken(id=1, state=TraktToken.State.DISCONNECTED)
    register_secret(access)
    register_secret(refresh)
    TraktToken.objects.get_or_create(id=1, defaults={
        "access_token": encrypt(access), "refresh_token": encrypt(refresh),
        "state": TraktToken.State.CONNECTED, "last_error": "",
    })
    logger.info("Trakt token imported from %s", source)
    return manager.get(id=1)


def _decrypted(row: TraktToken, field: str) -> str:
    try:
        value = decrypt(getattr(row, field))
    except TokenDecryptError as exc:
        _mark_reconnect(row, str(exc))
        raise AuthError("Trakt", None, f"{exc}. {RECONNECT}") from None
    register_secret(value)
    return value


def _mark_reconnect(row: TraktToken, reason: str) -> None:
    if row._state.adding:
        return
    newly = row.state != TraktToken.State.NEEDS_RECONNECT
    row.state = TraktToken.State.NEEDS_RECONNECT
    row.last_error = reason
    row.save(update_fields=["state", "last_error", "updated_at"])
    logger.error("Trakt token unusable: %s. %s", reason, RECONNECT)
    if newly:  # once per loss of the connection; after the commit, never inside the row lock
        from syncer.notify import notify_trakt_reconnect

        transaction.on_commit(lambda: notify_trakt_reconnect(reason))


def _expiring(row: TraktToken, now: datetime | None = None) -> bool:
    if row.expires_at is None:
        return False  # unknown expiry (seeded token): a 401 will trigger the refresh
    now = now or timezone.now()
    lifetime = (row.expires_at - row.token_created_at) if row.token_created_at else timedelta(days=1)
    return row.expires_at - now < lifetime * REFRESH_AHEAD_FRACTION


def _apply_payload(row: TraktToken, payload: dict) -> str:
    access, refresh = payload.get("access_token") or "", payload.get("refresh_token") or ""
    if not access:
        raise BadResponse("Trakt", 200, "the token answer had no access_token")
    register_secret(access)
    register_secret(refresh)
    created = payload.get("created_at")
    created_at = datetime.fromtimestamp(int(created), tz=UTC) if created else timezone.now()
    row.access_token = encrypt(access)
    row.refresh_token = encrypt(refresh)
    row.token_created_at = created_at
    expires_in = payload.get("expires_in")
    row.expires_at = created_at + timedelta(seconds=int(expires_in)) if expires_in else None
    row.scope = payload.get("scope") or ""
    row.state = TraktToken.State.CONNECTED
    row.last_error = ""
    row.version += 1
    row.save()
    return access


@transaction.atomic
def trakt_token_save(*, payload: dict, username: str | None = None) -> TraktToken:
    """Store a new token pair (device flow, pasted code, refresh) in one transaction."""
    row = TraktToken.objects.select_for_update().filter(id=1).first() or TraktToken(id=1)
    if username is not None:
        row.username = username
    _apply_payload(row, payload)
    return row


def trakt_token_status() -> dict:
    row = _row()
    connected = row.state == TraktToken.State.CONNECTED and bool(row.access_token)
    messages = {
        TraktToken.State.CONNECTED: "Connected to Trakt" + (f" as {row.username}" if row.username else ""),
        TraktToken.State.NEEDS_RECONNECT: f"{row.last_error}. {RECONNECT}" if row.last_error else RECONNECT,
        TraktToken.State.DISCONNECTED: "Trakt is not connected",
    }
    return {"connected": connected, "username": row.username, "expires_at": row.expires_at,
            "state": row.state, "message": messages.get(row.state, "")}


def _usable(row: TraktToken) -> None:
    if row.state == TraktToken.State.NEEDS_RECONNECT:
        raise AuthError("Trakt", None, RECONNECT)
    if row.state != TraktToken.State.CONNECTED or not row.access_token:
        raise AuthError("Trakt", None, "Trakt is not connected")


def trakt_access_token_versioned(*, client: TraktClient | None = None) -> tuple[str, int]:
    """(access token, version), refreshing first when the token is close to expiry."""
    row = _row()
    _usable(row)
    if _expiring(row):
        try:
            token = trakt_token_refresh(reason="expiring", seen_version=row.version, client=client)
            return token, TraktToken.objects.get(id=1).version
        except AuthError:
            raise
        except ApiError as exc:
            if row.expires_at <= timezone.now():
                raise
            # Trakt is having a bad moment; the current token still works, so keep going.
            logger.warning("Trakt token refresh failed, using the current token until it expires: %s", exc)
    return _decrypted(row, "access_token"), row.version


def trakt_access_token() -> str:
    return trakt_access_token_versioned()[0]


def trakt_token_refresh(*, reason: str, seen_version: int | None = None,
                        client: TraktClient | None = None) -> str:
    """Rotate the token pair and return the new access token.

    `seen_version` is the version the caller's token came from: if the row moved on meanwhile,
    another process already rotated and its token is returned without a second refresh.
    A refused refresh (`invalid_grant`) leaves the "needs reconnect" state and raises AuthError.
    """
    failure = ""
    with transaction.atomic():
        row = _row(lock=True)
        if row._state.adding:
            raise AuthError("Trakt", None, "Trakt is not connected")
        if seen_version is not None and row.version != seen_version:
            _usable(row)
            return _decrypted(row, "access_token")
        refresh = _decrypted(row, "refresh_token")
        if not refresh:
            failure = "no refresh token is stored"
        else:
            try:
                payload = _oauth_client(client).oauth_refresh(refresh)
            except (AuthError, BadResponse) as exc:
                if exc.status not in (400, 401, 403):
                    raise
                failure = f"Trakt refused the refresh token ({exc.message})"
            else:
                token = _apply_payload(row, payload)
                logger.info("Trakt token refreshed (%s); expires %s", reason, row.expires_at)
                return token
        _mark_reconnect(row, failure)  # committed with the block: not a crash loop
    raise AuthError("Trakt", 401, f"{failure}. {RECONNECT}")


class DatabaseTokenStore:
    """The `TokenStore` the Trakt client uses in the app (see `syncer.clients.trakt_client`)."""

    def __init__(self, client: TraktClient | None = None):
        self.client = client
        self.version: int | None = None

    def access_token(self) -> str:
        token, self.version = trakt_access_token_versioned(client=self.client)
        return token

    def refresh(self, *, reason: str) -> str:
        return trakt_token_refresh(reason=reason, seen_version=self.version, client=self.client)


# --- Connecting -----------------------------------------------------------------------------

DEVICE_OUTCOMES = {
    404: (TraktDeviceCode.State.INVALID, "Trakt did not recognise the code; start again"),
    409: (TraktDeviceCode.State.USED, "This code was already used; start again"),
    410: (TraktDeviceCode.State.EXPIRED, "The code expired before it was entered; start again"),
    418: (TraktDeviceCode.State.DENIED, "Access was denied on Trakt"),
}


def _fetch_username(client: TraktClient, access_token: str) -> str:
    from syncer.clients.trakt import StaticTokenStore

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


def trakt_device_start(*, client: TraktClient | None = None) -> TraktDeviceCode:
    body = _oauth_client(client).oauth_device_code()
    register_secret(body.get("device_code"))
    return TraktDeviceCode.objects.create(
        device_code=encrypt(body["device_code"]),
        user_code=body["user_code"],
        verification_url=body.get("verification_url") or "https://trakt.tv/activate",
        interval=int(body["interval"] if body.get("interval") is not None else 5),
        expires_at=timezone.now() + timedelta(seconds=int(body.get("expires_in") or 600)),
        message="Enter the code on Trakt",
    )


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
    client = _oauth_client(client)
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
    client = _oauth_client(client)
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
                _oauth_client(client).oauth_revoke(access)
            except ApiError as exc:
                logger.warning("Trakt token could not be revoked (forgotten anyway): %s", exc)
        row.access_token = row.refresh_token = ""
        row.expires_at = row.token_created_at = None
        row.username = row.scope = row.last_error = ""
        row.state = TraktToken.State.DISCONNECTED
        row.version += 1
        row.save()
    logger.info("Trakt disconnected")
