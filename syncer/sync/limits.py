"""Trakt's account limits, read before a write would meet the 420 (issue 23).

`GET /users/settings` carries the account's `limits` (a free account's watchlist holds 250
items); it is read once per run that adds to the watchlist (`TraktClient.account`). Adding stops
at the limit, and the dashboard says how many entries were left out."""

from __future__ import annotations

import json

from django.utils import timezone

from syncer import status_keys


def watchlist_room(trakt, *, size: int, wanted: int) -> tuple[int, str]:
    """(how many of `wanted` items fit, why the rest do not) on a watchlist holding `size`.
    A limit Trakt does not state is no limit here (a 420 still stops adding)."""
    account = trakt.account()
    limit = account.limits.get("watchlist")
    if limit is None or size + wanted <= limit:
        return wanted, ""
    room = max(0, limit - size)
    plan = "VIP" if account.vip else "free"
    return room, f"Trakt's {plan} watchlist holds {limit:,} items; {wanted - room:,} PLANNING entries were not added"


def watchlist_limit_note(*, message: str, size: int) -> None:
    """The dashboard's line about a full watchlist (the key a 420 also sets)."""
    status_keys.config_set(status_keys.WATCHLIST_FULL, json.dumps(
        {"message": message, "size": size, "at": timezone.now().isoformat()}))
