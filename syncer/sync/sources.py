"""What each sync mode reads from AniList, turned into watch events (see `events.py`).

The only impure part of event production: it calls the AniList client, as few times as a mode
allows (one activities read and one "updated since" read for a no-op incremental run).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from syncer.sync import events as ev

logger = logging.getLogger("syncer.sync")
# The cursor never passes "now minus this" (our clock when the read began). `createdAt_greater`
# is strict and AniList times are whole seconds: an activity logged in the second of the read,
# just after it (or up to this much clock skew later), would otherwise be behind the cursor for
# good. Re-reading the last minute is free of duplicates: those plays are at or below progress.
CURSOR_SETTLE_SECONDS = 60
# Called after each page read: a long read (a first sync at 30 requests a minute) keeps the
# run's progress and lease alive.
OnPage = Callable[[int], None] | None


@dataclass
class Produced:
    events: list[ev.WatchEvent]
    entries: list = field(default_factory=list)  # the list entries read (rewatch bookkeeping)
    medias: dict = field(default_factory=dict)  # AniList id -> AniListMedia (for the resolver)
    cursor_floor: int = 0  # incremental: the cursor the run started from
    cursor_seen: int = 0  # incremental: the newest activity/entry time read
    # Every entry read, whatever its status: `entries` keeps only the synced statuses, but the
    # watchlist needs the PLANNING ones and those that left PLANNING. Defaults to `entries`.
    read: list = field(default_factory=list)
    # Trakt shows whose cached season list lacked an episode a run wanted: read again this run.
    stale_shows: set = field(default_factory=set)
    # List modes: {AniList id: episodes up to its progress}, on Trakt already (no event each).
    on_trakt: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.read:
            self.read = list(self.entries)


def incremental(client, *, user_id: int, since: int, progress: dict[int, int], rewatches: bool,
                rewatched: dict[int, ev.Rewatched], now: datetime,
                statuses: tuple[str, ...] = ev.RECONCILED_STATUSES, on_page: OnPage = None,
                due: list[ev.WatchEvent] = ()) -> Produced:
    """Activities since the cursor (a rewatch in the cycle the ledger gives it: `rewatched`),
    then the entries changed since it (reconciliation, every synced status), then the plays the
    ledger still wants for a passing reason (`due`: the cursor never decides that a play is
    lost), each entry with a play made whole below it (`events.whole_entries`)."""
    activities = client.activities_since(user_id=user_id, since=since, on_page=on_page)
    entries = client.entries_updated_since(user_id=user_id, since=since, on_page=on_page)
    events, left_out = ev.scope_events(ev.activity_events(activities, rewatches=rewatches), entries,
                                       statuses=statuses)
    events = ev.rewatch_cycles(events, rewatched=rewatched)
    events += ev.reconcile_events(entries, events=events, progress=progress, since=since, now=now,
                                  statuses=statuses)
    have = {(e.anilist_id, e.episode, e.cycle) for e in events}
    events += [e for e in due if (e.anilist_id, e.episode, e.cycle) not in have]
    events = ev.whole_entries(events, entries=entries, progress=progress)
    synced = [e for e in entries if e.status in statuses]
    if rewatches:
        events += ev.rewatch_cycle_events(synced, rewatched=rewatched, events=events, now=now)
    log_left_out(left_out)
    seen = max([a.created_at for a in activities] + [e.updated_at for e in entries] + [since])
    seen = max(since, min(seen, int(now.timestamp()) - CURSOR_SETTLE_SECONDS))
    medias = {a.media.id: a.media for a in activities} | {e.media.id: e.media for e in entries}
    return Produced(events, synced, medias, cursor_floor=since, cursor_seen=seen, read=entries)


def log_left_out(left_out: dict[int, tuple[str, str]]) -> None:
    """One line per entry left out, so "nothing" always comes with its reason."""
    for anilist_id, (title, reason) in left_out.items():
        logger.info("Not synced: %s (AniList %s): %s", title, anilist_id, reason)


def from_list(client, *, user_id: int, statuses: tuple[str, ...], progress_of, now: datetime,
              on_page: OnPage = None) -> Produced:
    """The completed / watching / library modes (`statuses` already narrowed to SYNC_STATUSES).
    `progress_of(ids)` loads stored progress for the entries."""
    if not statuses:
        return Produced([])
    entries = client.list_entries(user_id=user_id, statuses=statuses, on_page=on_page)
    progress = progress_of([e.media.id for e in entries])
    events = ev.list_events(entries, statuses=statuses, progress=progress, now=now)
    return Produced(events, entries, {e.media.id: e.media for e in entries},
                    on_trakt=ev.below_progress(entries, statuses=statuses, progress=progress))


def single_show(client, *, user_id: int, anilist_id: int, now: datetime,
                statuses: tuple[str, ...] = ev.RECONCILED_STATUSES) -> Produced:
    entry = client.list_entry(user_id=user_id, media_id=anilist_id)
    if entry is None:
        return Produced([])
    reason = ev.excluded_reason(entry, statuses, whole_list_synced=True)
    if reason:
        log_left_out({anilist_id: (entry.media.title, reason)})
        return Produced([], [entry], {anilist_id: entry.media})
    mode_statuses = ("COMPLETED",) if entry.status == "COMPLETED" else ev.RECONCILED_STATUSES
    # Every watched episode, from the first: the plan marks those at or below the stored
    # progress "already synced", so a show synced before says so (with its count) instead of
    # looking like an entry that is not on the list. One show: a handful of rows.
    events = ev.list_events([entry], statuses=mode_statuses, progress={}, now=now)
    return Produced(events, [entry], {anilist_id: entry.media})
