"""Plan to watch → Trakt watchlist (`SYNC_WATCHLIST`).

The rules (docs/sync.md, "Watchlist"):
- Each entry the watchlist concerns is a ledger row (`LedgerItem`, what `watchlist`): where it
  **belongs** (its mapping's Trakt show or movie while it is PLANNING; nowhere once it is not),
  where it **is** (`posted`: this app added it; `present`: the user put it there; `removed`: not
  there and wanted nowhere; `wanted`: belongs there and is not, with a reason code: the account's
  limit, a full watchlist, no mapping, an undo).
- The list modes read the PLANNING list (one more AniList request); the incremental takes the
  PLANNING entries among those changed since the cursor (a "plans to watch" activity changes the
  entry, so it costs no extra request).
- Only what this app added (`posted`) is ever taken off: when its entry left PLANNING, or was
  remapped (the old item comes off, the new one goes on). An item the user put there is never
  removed, nor one another PLANNING entry belongs at (that entry's row takes it over as ours).
- Trakt's watchlist is read once per run with something to compare; only what is not there is
  added, only what is there is removed.
- A full watchlist (free accounts: 420 with `X-Account-Limit`) stops adding for the run; the
  rows say so, the dashboard says so (`status:watchlist:full`), and later runs add nothing
  until the watchlist has fewer items than when it was full. Never retried.

`watchlist_undo` takes a run's adds off again (an undo run), through the same remove as a run.
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
from syncer.models import LedgerItem, SyncRun, SyncRunItem
from syncer.sync import ledger
from syncer.sync.limits import watchlist_limit_note, watchlist_room
from syncer.sync.selectors import run_next_position, watchlist_full

logger = logging.getLogger("syncer.sync")
FULL_KEY = status_keys.WATCHLIST_FULL
Item = SyncRunItem
State = LedgerItem.State
GONE = "no longer on the Trakt watchlist (removed there already)"


@dataclass(frozen=True)
class WatchLine:
    anilist_id: int
    title: str
    kind: str  # show | movie
    trakt_id: int
    action: str  # watchlist | unwatchlist
    reason: str = ""


def _where(row: LedgerItem) -> tuple[str, int] | None:
    return (row.kind, row.trakt_id) if row.trakt_id else None


def watch_plan(*, planning: dict[int, tuple[str, int, str]], rows: dict[int, LedgerItem],
               on_trakt: set[tuple[str, int]]) -> list[WatchLine]:
    """Pure. `planning`: AniList id → (kind, trakt id, title) of resolved PLANNING entries;
    `rows`: the ledger rows of the entries in scope (PLANNING or left it); `on_trakt`: the
    watchlist. Takes off what this app added where its entry no longer belongs (unless another
    PLANNING entry belongs there), adds what belongs and is missing."""
    wanted_at = {(kind, trakt_id) for kind, trakt_id, _ in planning.values()}
    lines = []
    for anilist_id, row in sorted(rows.items()):
        where = _where(row)
        if row.state != State.POSTED or where is None or where == planning.get(anilist_id, (None, None))[:2]:
            continue
        if where in on_trakt and where not in wanted_at:
            why = (f"mapped to Trakt {planning[anilist_id][0]} {planning[anilist_id][1]} now"
                   if anilist_id in planning else "no longer planned on AniList")
            lines.append(WatchLine(anilist_id, row.title, *where, Item.Action.UNWATCHLIST, why))
    for anilist_id, (kind, trakt_id, title) in sorted(planning.items()):
        if (kind, trakt_id) not in on_trakt:
            lines.append(WatchLine(anilist_id, title, kind, trakt_id, Item.Action.WATCHLIST))
    return lines


def watchlist_phase(*, run: SyncRun, produced, trakt, list_mode: bool) -> None:
    try:
        planning, unmapped, rows = _entries(produced, list_mode)
        on_trakt = trakt.watchlist() if planning or any(_where(r) for r in rows.values()) else set()
    except ApiError as exc:
        logger.warning("Watchlist not compared this run: %s", exc)
        return
    lines = watch_plan(planning=planning, rows=rows, on_trakt=on_trakt)
    start = run_next_position(run=run)
    items = Item.objects.bulk_create([
        Item(run=run, position=start + n, anilist_id=line.anilist_id, title=line.title[:500], anilist_episode=0,
             action=line.action, kind=line.kind, trakt_id=line.trakt_id, reason=line.reason)
        for n, line in enumerate(lines)])
    if lines:
        logger.info("Watchlist: %s to add, %s to remove", sum(x.action == Item.Action.WATCHLIST for x in lines),
                    sum(x.action == Item.Action.UNWATCHLIST for x in lines))
    if run.dry_run:
        return
    done = _apply(trakt, list(zip(lines, items, strict=True)), watchlist_size=len(on_trakt)) if lines else {}
    ledger.watchlist_settled(_settle(run, planning=planning, unmapped=unmapped, rows=rows, on_trakt=on_trakt,
                                     done=done))


def _entries(produced, list_mode: bool) -> tuple[dict, dict, dict[int, LedgerItem]]:
    """(resolved PLANNING entries, unresolved ones: AniList id → title, the ledger rows of the
    entries in scope: PLANNING, or left it with something still to settle)."""
    if list_mode:
        anilist = anilist_client()
        entries = anilist.list_entries(user_id=anilist.viewer().id, statuses=("PLANNING",))
        seen_elsewhere = None
    else:
        entries = [e for e in produced.read if e.status == "PLANNING"]
        seen_elsewhere = {e.media.id for e in produced.read if e.status != "PLANNING"}
    found = mapping_resolve_many(medias=[e.media for e in entries]) if entries else {}
    planning, unmapped = {}, {}
    for entry in entries:
        spec = mapping_spec(found[entry.media.id]) if entry.media.id in found else None
        if spec is not None:
            planning[entry.media.id] = (spec.kind, spec.trakt_id, entry.media.title)
        else:
            unmapped[entry.media.id] = entry.media.title
    return planning, unmapped, ledger.watchlist_rows(planned=[*planning, *unmapped], left=seen_elsewhere)


def _settle(run: SyncRun, *, planning: dict, unmapped: dict, rows: dict[int, LedgerItem], on_trakt: set,
            done: dict[int, tuple[Item, str, dict]]) -> list[LedgerItem]:
    """The rows of the entries in scope, changed to where each belongs and is after the run's
    writes (`done`: AniList id → (its line, the reason code it was not written for or "", params))."""
    removed = {aid for aid, (line, code, _) in done.items() if line.action == Item.Action.UNWATCHLIST and not code}
    added = {aid: line for aid, (line, code, _) in done.items() if line.action == Item.Action.WATCHLIST and not code}
    # A refused remove keeps its entry's line in `done` (`_apply` adds nothing for that entry).
    refused = {aid for aid, (line, code, _) in done.items() if line.action == Item.Action.UNWATCHLIST and code}
    # What this app added where a PLANNING entry belongs stays ours, whichever entry holds it now.
    ours = {_where(r): (r.run_id, r.item_id) for aid, r in rows.items() if r.state == State.POSTED and aid not in removed}
    wanted_at = {(kind, trakt_id) for kind, trakt_id, _ in planning.values()}
    before = {aid: _fields(r) for aid, r in rows.items()}
    out = {}
    for aid, (kind, trakt_id, title) in planning.items():
        row = out[aid] = rows.get(aid) or LedgerItem(what=LedgerItem.What.WATCHLIST, anilist_id=aid)
        row.title, row.belongs, target = title[:500], {"kind": kind, "trakt_id": trakt_id}, (kind, trakt_id)
        if aid in refused:
            continue  # Trakt refused to take its old item off: still ours, moved by a later run
        if aid in added:
            _place(row, State.POSTED, target, run_id=run.pk, item_id=added[aid].pk)
        elif target in on_trakt and target in ours:
            _place(row, State.POSTED, target, *ours[target])
        elif target in on_trakt:
            _place(row, State.PRESENT, target)
        else:
            _, code, params = done.get(aid, (None, "", {}))
            _place(row, State.WANTED, None, reason=code, params=params)
    for aid, title in unmapped.items():
        row = out[aid] = rows.get(aid) or LedgerItem(what=LedgerItem.What.WATCHLIST, anilist_id=aid)
        row.title, row.belongs = title[:500], None
        if row.state != State.POSTED or aid in removed or _where(row) not in on_trakt:
            _place(row, State.WANTED, None, reason="no_mapping")
    for aid, row in rows.items():
        if aid in out:
            continue
        out[aid], row.belongs, where = row, None, _where(row)
        if row.state == State.POSTED and where in on_trakt and aid not in removed and where not in wanted_at:
            continue  # Trakt refused to take it off: the next run tries again
        if row.state != State.PRESENT or where not in on_trakt:
            _place(row, State.REMOVED, None)
    return [row for aid, row in out.items() if row.pk is None or _fields(row) != before.get(aid)]


def _fields(row: LedgerItem) -> tuple:
    return (row.state, row.kind, row.trakt_id, row.belongs, row.reason, row.params, row.run_id, row.item_id,
            row.title)


def _place(row: LedgerItem, state: str, where: tuple[str, int] | None, run_id: int | None = None,
           item_id: int | None = None, *, reason: str = "", params: dict | None = None) -> None:
    row.state, row.reason, row.params, row.run_id, row.item_id = state, reason, params or {}, run_id, item_id
    row.kind, row.trakt_id = where if where else ("", None)


def _payload(pairs) -> dict:
    body: dict[str, list] = {}
    for line, _ in pairs:
        body.setdefault("movies" if line.kind == "movie" else "shows", []).append({"ids": {"trakt": line.trakt_id}})
    return body


def _mark(pairs, state: str, reason: str = "", code: str = "") -> None:
    fields = {"state": state, **({"reason": reason[:500]} if reason else {}), **({"reason_code": code} if code else {})}
    Item.objects.filter(pk__in=[item.pk for _, item in pairs]).update(**fields)


def watchlist_remove(trakt, pairs) -> bool:
    """The one remove from the watchlist (a run's `unwatchlist` lines, an undo's): True when
    Trakt took it; the lines say so."""
    try:
        trakt.remove_from_watchlist(_payload(pairs))
    except ApiError as exc:
        _mark(pairs, Item.State.FAILED, f"not removed: {exc}")
        return False
    _mark(pairs, Item.State.POSTED)
    return True


def _apply(trakt, pairs, *, watchlist_size: int) -> dict[int, tuple[Item, str, dict]]:
    """Remove, then add; returns AniList id → (line, reason code it was not written for, params)."""
    done: dict[int, tuple[Item, str, dict]] = {}
    removes = [p for p in pairs if p[0].action == Item.Action.UNWATCHLIST]
    adds = [p for p in pairs if p[0].action == Item.Action.WATCHLIST]
    if removes:
        taken = watchlist_remove(trakt, removes)
        done |= {line.anilist_id: (item, "" if taken else "trakt_refused", {}) for line, item in removes}
        watchlist_size -= len(removes) if taken else 0
        if not taken:
            # A remapped entry's row points at its old item while that is still ours on the
            # watchlist (so a later run takes it off); its new item waits for that run.
            stuck = {line.anilist_id for line, _ in removes}
            _mark([p for p in adds if p[0].anilist_id in stuck], Item.State.FAILED,
                  "not added: its old item could not be taken off first; the next run does both", "trakt_refused")
            adds = [p for p in adds if p[0].anilist_id not in stuck]
    if adds:
        done |= _add(trakt, adds, watchlist_size=watchlist_size)
    return done


def _add(trakt, adds, *, watchlist_size: int) -> dict[int, tuple[Item, str, dict]]:
    done: dict[int, tuple[Item, str, dict]] = {}

    def left_out(pairs, text: str, code: str, params: dict) -> None:
        _mark(pairs, Item.State.FAILED, f"not added: {text}", code)
        done.update({line.anilist_id: (item, code, params) for line, item in pairs})

    room, why = watchlist_room(trakt, size=watchlist_size, wanted=len(adds))
    if why:  # the account's limit, known before the 420
        left_out(adds[room:], why, "watchlist_limit", {"limit": watchlist_size + room})
        watchlist_limit_note(message=why, size=watchlist_size + room)
        logger.warning("Watchlist: %s", why)
        adds = adds[:room]
        if not adds:
            return done
    full = watchlist_full()
    if full and watchlist_size >= full["size"]:
        left_out(adds, f"the Trakt watchlist is full (since {full['at'][:10]}); remove items there or upgrade, "
                       "then the next run adds these", "watchlist_full", {"limit": full.get("limit")})
        logger.warning("Watchlist: %s entries not added, the Trakt watchlist is full", len(adds))
        return done
    size = settings.TRAKT_BATCH_SIZE
    for start in range(0, len(adds), size):
        chunk = adds[start:start + size]
        try:
            trakt.watchlist_add(_payload(chunk))
        except AccountLimit as exc:
            limit = getattr(exc, "limit", None)
            status_keys.config_set(FULL_KEY, json.dumps(
                {"message": str(exc), "size": watchlist_size, "limit": limit, "at": timezone.now().isoformat()}))
            left_out(adds[start:], str(exc), "watchlist_full", {"limit": limit})
            logger.warning("Watchlist: %s. Adding stops (no retry) until it has room again", exc)
            return done
        except ApiError as exc:
            left_out(adds[start:], str(exc), "trakt_refused", {"error": str(exc)[:200]})
            logger.warning("Watchlist: entries not added: %s", exc)
            return done
        if not why:
            status_keys.config_forget(FULL_KEY)
        _mark(chunk, Item.State.POSTED)
        done.update({line.anilist_id: (item, "", {}) for line, item in chunk})
        watchlist_size += len(chunk)
    return done


# --- undo

def watchlist_undo(*, undo: SyncRun, target: SyncRun, trakt, start: int) -> int:
    """Take off the watchlist the adds `target` made that are still its own (an add a later run
    moved is that run's to undo), through the run's own remove: lines of the undo (action
    `unwatchlist`, from position `start`: not plays), and the rows wanted again (`undone`). A
    preview only lists them. Returns how many lines it made."""
    rows = ledger.watchlist_added_by(target)
    if not rows:
        return 0
    on_trakt = trakt.watchlist()
    lines = Item.objects.bulk_create([
        Item(run=undo, position=start + n, anilist_id=r.anilist_id, title=r.title, anilist_episode=0,
             action=Item.Action.UNWATCHLIST, kind=r.kind, trakt_id=r.trakt_id,
             reason="taken off the watchlist" if _where(r) in on_trakt else GONE)
        for n, r in enumerate(rows)])
    if undo.dry_run:
        return len(lines)
    pairs = [(WatchLine(r.anilist_id, r.title, r.kind, r.trakt_id, Item.Action.UNWATCHLIST), line)
             for r, line in zip(rows, lines, strict=True)]
    there = [p for r, p in zip(rows, pairs, strict=True) if _where(r) in on_trakt]
    gone = [p for r, p in zip(rows, pairs, strict=True) if _where(r) not in on_trakt]
    _mark(gone, Item.State.NOT_FOUND)
    if there and not watchlist_remove(trakt, there):
        raise ApiError("Trakt", None, "the watchlist adds were not taken off")
    Item.objects.filter(pk__in=[r.item_id for r in rows if r.item_id]).update(state=Item.State.REMOVED)
    ledger.watchlist_undone(rows=rows, undo_id=undo.pk)
    return len(lines)
