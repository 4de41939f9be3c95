"""The Trakt token store: encrypted at rest, rotation-safe, seeded from an adopted database
or the environment.

Refresh tokens are single-use. A refresh therefore runs under a row lock and re-reads the
row first: if another process rotated meanwhile (`version` changed) its new token is used
instead of spending the old refresh token a second time.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from logs.redact import register_secret
from syncer.clients.trakt import RefreshRefused, TraktClient
from syncer.http import ApiError, AuthError, BadResponse
from syncer.models import SystemConfig, TraktToken
from syncer.notify import notify_trakt_reconnect
from syncer.trakt_app import trakt_app_configured
from syncer.trakt_connection.crypto import TokenDecryptError, decrypt, encrypt

logger = logging.getLogger("syncer.trakt_connection")

REFRESH_AHEAD_FRACTION = 0.1  # refresh when less than 10 % of the token's lifetime is left
RECONNECT = "Trakt needs to be reconnected on the Trakt page (/trakt/) or with `manage.py trakt_auth`"
# A refresh whose answer was lost took effect, and its retry was refused: the pair is gone.
LOST_REFRESH = ("Trakt's answer to a token refresh was lost and the refresh token is now spent, so this "
                "connection cannot be renewed")
LEGACY_KEYS = ("trakt:token", "trakt:refresh_token")



def oauth_client(client: TraktClient | None) -> TraktClient:
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
                payload = oauth_client(client).oauth_refresh(refresh)
            except RefreshRefused as exc:
                failure = (LOST_REFRESH if exc.after_lost_answer else
                           f"Trakt refused the refresh token ({exc.code})")
            except (AuthError, BadResponse) as exc:
                if exc.status not in (400, 401, 403):
                    raise
                failure = f"Trakt refused the refresh token ({exc.message})"
            else:
                # Stored in this transaction, under the row lock, before anything else is sent.
                token = _apply_payload(row, payload)
                logger.info("Trakt token refreshed (%s); expires %s", reason, row.expires_at)
                return token
        _mark_reconnect(row, failure)  # committed with the block: not a crash loop
    raise AuthError("Trakt", 401, f"{failure}. {RECONNECT}")


class DatabaseTokenStore:
    """The `TokenStore` the Trakt client uses in the app (see `syncer.connections.trakt_client`)."""

    def __init__(self, client: TraktClient | None = None):
        self.client = client
        self.version: int | None = None

    def access_token(self) -> str:
        token, self.version = trakt_access_token_versioned(client=self.client)
        return token

    def refresh(self, *, reason: str) -> str:
        return trakt_token_refresh(reason=reason, seen_version=self.version, client=self.client)
