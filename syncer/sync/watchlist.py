"""Plan to watch → Trakt watchlist (`SYNC_WATCHLIST`).

The rules (docs/sync.md, "Watchlist"):
- PLANNING entries that resolve to a Trakt show or movie are added to the watchlist. The list
  modes read the PLANNING list (one more AniList request); the incremental takes the PLANNING
  entries among those changed since the cursor (a "plans to watch" activity changes the entry,
  so it costs no extra request).
- Every item this app adds is recorded (`WatchlistAdded`). An entry that left PLANNING is taken
  off the watchlist only when it is recorded as ours: the user's own watchlist is not touched.
  List modes see every PLANNING entry, so a recorded entry missing from them has left; the
  incremental sees the entries changed since the cursor.
- Trakt's watchlist is read once per run with something to add or remove; only what is not
  there is added, only what is there is removed.
- A full watchlist (free accounts: 420 with `X-Account-Limit`) stops adding for the run; the
  lines say so, the dashboard says so (`status:watchlist:full`), and later runs add nothing
  until the watchlist has fewer items than when it was full. Never retried.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from mappings.selectors import mapping_spec
from mappings.services import mapping_resolve_many
from syncer import status_keys
from syncer.connections import anilist_client
from syncer.http import AccountLimit, ApiError
from syncer.models import SyncRun, SyncRunItem, WatchlistAdded
from syncer.sync.limits import watchlist_limit_note, watchlist_room
from syncer.sync.selectors import run_next_position, watchlist_full

logger = logging.getLogger("syncer.sync")
FULL_KEY = status_keys.WATCHLIST_FULL
Item = SyncRunItem


@dataclass(frozen=True)
class WatchLine:
    anilist_id: int
    title: str
    kind: str  # show | movie
    trakt_id: int
    action: str  # watchlist | unwatchlist
    reason: str = ""


def watch_plan(*, planning: dict[int, tuple[str, int, str]], left: dict[int, WatchlistAdded],
               on_trakt: set[tuple[str, int]]) -> list[WatchLine]:
    """Pure. `planning`: AniList id → (kind, trakt id, title) of resolved PLANNING entries;
    `left`: our records of entries that left PLANNING, or whose mapping moved to another Trakt
    item (the old one comes off, the new one goes on); `on_trakt`: the watchlist."""
    lines = []
    for anilist_id, (kind, trakt_id, title) in sorted(planning.items()):
        if (kind, trakt_id) not in on_trakt:
            lines.append(WatchLine(anilist_id, title, kind, trakt_id, Item.Action.WATCHLIST))
    for anilist_id, ours in sorted(left.items()):
        still_planned = any((k, t) == (ours.kind, ours.trakt_id) for k, t, _ in planning.values())
        if (ours.kind, ours.trakt_id) in on_trakt and not still_planned:
            why = (f"mapped to Trakt {planning[anilist_id][0]} {planning[anilist_id][1]} now"
                   if anilist_id in planning else "no longer planned on AniList")
            lines.append(WatchLine(anilist_id, ours.title, ours.kind, ours.trakt_id, Item.Action.UNWATCHLIST, why))
    return lines


def watchlist_phase(*, run: SyncRun, produced, trakt, list_mode: bool) -> None:
    try:
        planning, left = _entries(run, produced, list_mode)
        if not planning and not left:
            return
        on_trakt = trakt.watchlist()
    except ApiError as exc:
        logger.warning("Watchlist not compared this run: %s", exc)
        return
    lines = watch_plan(planning=planning, left=left, on_trakt=on_trakt)
    _forget_gone(left, on_trakt)
    start = run_next_position(run=run)
    items = Item.objects.bulk_create([
        Item(run=run, position=start + n, anilist_id=line.anilist_id, title=line.title[:500], anilist_episode=0,
             action=line.action, kind=line.kind, trakt_id=line.trakt_id, reason=line.reason)
        for n, line in enumerate(lines)])
    logger.info("Watchlist: %s to add, %s to remove", sum(x.action == Item.Action.WATCHLIST for x in lines),
                sum(x.action == Item.Action.UNWATCHLIST for x in lines))
    if run.dry_run or not lines:
        return
    _apply(trakt, list(zip(lines, items, strict=True)), watchlist_size=len(on_trakt))


def _entries(run: SyncRun, produced, list_mode: bool) -> tuple[dict, dict]:
    if list_mode:
        anilist = anilist_client()
        entries = anilist.list_entries(user_id=anilist.viewer().id, statuses=("PLANNING",))
        seen_elsewhere = set()
    else:
        entries = [e for e in produced.read if e.status == "PLANNING"]
        seen_elsewhere = {e.media.id for e in produced.read if e.status != "PLANNING"}
    rows = mapping_resolve_many(medias=[e.media for e in entries]) if entries else {}
    planning = {}
    for entry in entries:
        spec = mapping_spec(rows[entry.media.id]) if entry.media.id in rows else None
        if spec is not None:
            planning[entry.media.id] = (spec.kind, spec.trakt_id, entry.media.title)
    ours = WatchlistAdded.objects.exclude(anilist_id__in=[e.media.id for e in entries])
    if not list_mode:
        ours = ours.filter(anilist_id__in=seen_elsewhere)
    # Still planned, but mapped elsewhere now (a remap): what this app added there comes off.
    moved = [row for row in WatchlistAdded.objects.filter(anilist_id__in=list(planning))
             if (row.kind, row.trakt_id) != planning[row.anilist_id][:2]]
    return planning, {row.anilist_id: row for row in [*ours, *moved]}


def _forget_gone(left: dict[int, WatchlistAdded], on_trakt: set) -> None:
    """Ours, but already off the watchlist (the user removed it): nothing to remove, ever."""
    gone = [a for a, row in left.items() if (row.kind, row.trakt_id) not in on_trakt]
    WatchlistAdded.objects.filter(anilist_id__in=gone).delete()


def _payload(pairs) -> dict:
    body: dict[str, list] = {}
    for line, _ in pairs:
        body.setdefault("movies" if line.kind == "movie" else "shows", []).append({"ids": {"trakt": line.trakt_id}})
    return body


def _mark(pairs, state: str, reason: str = "") -> None:
    fields = {"state": state, **({"reason": reason[:500]} if reason else {})}
    Item.objects.filter(pk__in=[item.pk for _, item in pairs]).update(**fields)


def _apply(trakt, pairs, *, watchlist_size: int) -> None:
    removes = [p for p in pairs if p[0].action == Item.Action.UNWATCHLIST]
    adds = [p for p in pairs if p[0].action == Item.Action.WATCHLIST]
    if removes:
        try:
            trakt.remove_from_watchlist(_payload(removes))
        except ApiError as exc:
            _mark(removes, Item.State.FAILED, f"not removed: {exc}")
        else:
            WatchlistAdded.objects.filter(anilist_id__in=[line.anilist_id for line, _ in removes]).delete()
            _mark(removes, Item.State.POSTED)
            watchlist_size -= len(removes)
    if adds:
        _add(trakt, adds, watchlist_size=watchlist_size)


def _add(trakt, adds, *, watchlist_size: int) -> None:
    room, why = watchlist_room(trakt, size=watchlist_size, wanted=len(adds))
    if why:  # the account's limit, known before the 420
        _mark(adds[room:], Item.State.FAILED, f"not added: {why}")
        watchlist_limit_note(message=why, size=watchlist_size + room)
        logger.warning("Watchlist: %s", why)
        adds = adds[:room]
        if not adds:
            return
    full = watchlist_full()
    if full and watchlist_size >= full["size"]:
        _mark(adds, Item.State.FAILED, f"not added: the Trakt watchlist is full (since {full['at'][:10]}); "
                                       "remove items there or upgrade, then the next run adds these")
        logger.warning("Watchlist: %s entries not added, the Trakt watchlist is full", len(adds))
        return
    size = settings.TRAKT_BATCH_SIZE
    for start in range(0, len(adds), size):
        chunk = adds[start:start + size]
        try:
            trakt.watchlist_add(_payload(chunk))
        except AccountLimit as exc:
            status_keys.config_set(FULL_KEY, json.dumps(
                {"message": str(exc), "size": watchlist_size, "at": timezone.now().isoformat()}))
            _mark(adds[start:], Item.State.FAILED, f"not added: {exc}")
            logger.warning("Watchlist: %s. Adding stops (no retry) until it has room again", exc)
            return
        except ApiError as exc:
            _mark(adds[start:], Item.State.FAILED, f"not added: {exc}")
            logger.warning("Watchlist: entries not added: %s", exc)
            return
        if not why:
            status_keys.config_forget(FULL_KEY)
        for line, _ in chunk:
            WatchlistAdded.objects.update_or_create(anilist_id=line.anilist_id, defaults={
                "kind": line.kind, "trakt_id": line.trakt_id, "title": line.title})
        _mark(chunk, Item.State.POSTED)
        watchlist_size += len(chunk)
