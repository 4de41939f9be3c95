"""Watch events: what the user watched on AniList, one AniList episode each, in watch order.

Every sync mode differs only in how it produces these (pure functions over the AniList client's
dataclasses; no database, no network). `progress` maps an AniList id to the highest episode
already written to Trakt (`SyncProgress.last_abs`).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo

from config.statuses import RECONCILED_STATUSES

WATCHED = "watched episode"
REWATCHED = "rewatched episode"
COMPLETED = "completed"
REWATCH_DONE = "rewatched"
WATCHING_STATUSES = ("CURRENT", "REPEATING")
@dataclass(frozen=True)
class WatchEvent:
    anilist_id: int
    episode: int  # AniList episode number; a movie's is its episode count (1)
    watched_at: datetime
    title: str
    total: int | None = None  # the AniList entry's episode count, when known
    activity_id: int | None = None
    created_at: int | None = None  # the activity's Unix time: what the incremental cursor counts
    rewatch: bool = False
    # A rewatch's cycle (n: the n-th rewatch of the episode), its ledger row's (`rewatch_cycles`).
    cycle: int | None = None
    # Dated by a day the user gave (AniList `completedAt`/`startedAt`), not a moment: a day of
    # the user's own calendar, placed in their Trakt time zone by `local_days`.
    day: bool = False


def unix_to_datetime(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value else None


def fuzzy_to_datetime(date) -> datetime | None:
    """An AniList FuzzyDate as a UTC midnight. A missing day is the 1st of the month, a missing
    month January: "completed in March 2021" becomes 2021-03-01 (documented in docs/sync.md)."""
    if date is None or not date.year:
        return None
    month = date.month if date.month and 1 <= date.month <= 12 else 1
    last_day = calendar.monthrange(date.year, month)[1]
    day = date.day if date.day and 1 <= date.day <= last_day else 1
    return datetime(date.year, month, day, tzinfo=UTC)


def entry_watched_at(entry, *, now: datetime) -> datetime:
    """Completed entries: `completedAt`, else `updatedAt`; others `updatedAt`; "now" only when
    nothing is known."""
    if entry.status == "COMPLETED":
        completed = fuzzy_to_datetime(entry.completed_at)
        if completed is not None:
            return completed
    return unix_to_datetime(entry.updated_at) or now


def entry_target(entry) -> int:
    """The episode an entry's watching reached: its progress, or for a completed entry whose
    progress is 0 (imported lists), its episode count."""
    if entry.progress:
        return entry.progress
    if entry.status == "COMPLETED":
        return entry.media.episodes or (1 if entry.media.format == "MOVIE" else 0)
    return 0


def _entry_events(entry, first: int, last: int, *, now: datetime,
                  created_at: int | None = None) -> list[WatchEvent]:
    when = entry_watched_at(entry, now=now)
    day = entry.status == "COMPLETED" and fuzzy_to_datetime(entry.completed_at) is not None
    media = entry.media
    return [
        WatchEvent(media.id, episode, when, media.title, total=media.episodes, created_at=created_at, day=day)
        for episode in range(max(first, 1), last + 1)
    ]


def local_days(events: list[WatchEvent], *, zone: tzinfo) -> list[WatchEvent]:
    """Events dated by a day the user gave, moved from that day's UTC midnight to its midnight
    in `zone` (the user's Trakt time zone): AniList's dates are days of the user's own calendar,
    and a UTC midnight is the day before for anyone west of UTC."""
    return [replace(e, watched_at=e.watched_at.replace(tzinfo=zone)) if e.day else e for e in events]


def list_events(entries: Iterable, *, statuses: tuple[str, ...], progress: dict[int, int],
                now: datetime) -> list[WatchEvent]:
    """The completed / watching modes: each entry's episodes above the stored progress."""
    events: list[WatchEvent] = []
    chosen = sorted((e for e in entries if e.status in statuses), key=lambda e: (e.updated_at, e.id))
    for entry in chosen:
        events += _entry_events(entry, progress.get(entry.media.id, 0) + 1, entry_target(entry), now=now)
    return events


def below_progress(entries: Iterable, *, statuses: tuple[str, ...], progress: dict[int, int]) -> dict[int, int]:
    """The list modes: {AniList id: its watched episodes at or below the stored progress}, the
    ones `list_events` leaves out because they are on Trakt already (the ledger's word:
    `progress` is where its plays stop being there)."""
    out = {}
    for entry in entries:
        if entry.status in statuses and (n := min(progress.get(entry.media.id, 0), entry_target(entry))) > 0:
            out[entry.media.id] = n
    return out


def activity_events(activities: Iterable, *, rewatches: bool) -> list[WatchEvent]:
    """The incremental mode's events from activities (oldest first; a merged range "10 - 12" is
    three episodes). A "completed" activity without progress stands for the whole entry; a
    rewatch counts only when rewatches are on."""
    events: list[WatchEvent] = []
    for activity in sorted(activities, key=lambda a: (a.created_at, a.id)):
        media = activity.media
        rewatch = activity.status == REWATCHED
        if rewatch and not rewatches:
            continue
        if activity.status in (WATCHED, REWATCHED):
            episodes = activity.episodes
        elif activity.status == COMPLETED and not activity.episodes:
            total = media.episodes or (1 if media.format == "MOVIE" else 0)
            episodes = tuple(range(1, total + 1))
        else:
            continue
        when = unix_to_datetime(activity.created_at)
        for episode in sorted(set(episodes)):
            events.append(WatchEvent(media.id, episode, when, media.title, total=media.episodes,
                                     activity_id=activity.id, created_at=activity.created_at,
                                     rewatch=rewatch))
    return events


def reconcile_events(entries: Iterable, *, events: list[WatchEvent], progress: dict[int, int],
                     since: int, now: datetime, statuses: tuple[str, ...] = RECONCILED_STATUSES) -> list[WatchEvent]:
    """Entries changed since the cursor whose progress is above both what was synced and what
    the activities cover: the user disabled or deleted those activities. Only entries updated
    after the cursor count, so a fresh incremental run never re-posts a whole old library.
    Every watched status the user syncs (`statuses`) is reconciled, paused and dropped included."""
    covered: dict[int, int] = {}
    for event in events:
        if not event.rewatch:
            covered[event.anilist_id] = max(covered.get(event.anilist_id, 0), event.episode)
    extra: list[WatchEvent] = []
    for entry in sorted(entries, key=lambda e: (e.updated_at, e.id)):
        if entry.status not in RECONCILED_STATUSES or entry.status not in statuses:
            continue
        if since and entry.updated_at <= since:
            continue
        media_id = entry.media.id
        first = max(progress.get(media_id, 0), covered.get(media_id, 0)) + 1
        extra += _entry_events(entry, first, entry_target(entry), now=now, created_at=entry.updated_at)
    return extra


def excluded_reason(entry, statuses: tuple[str, ...], *, whole_list_synced: bool) -> str:
    """Why the activities of an entry are not synced ("" when they are). An entry whose status
    the user does not sync is left out entirely, activities included, so it is never on Trakt in
    part; PLANNING means not watched, whatever an old activity says. An activity of an entry no
    longer on the list has no status to check: it counts only while every status is synced."""
    if entry is None:
        return "" if whole_list_synced else "no longer on your AniList list, and SYNC_STATUSES leaves some statuses out"
    if entry.status == "PLANNING":
        return "status PLANNING: planned, not watched"
    if entry.status not in statuses:
        return f"status {entry.status} is not in SYNC_STATUSES"
    return ""


def scope_events(events: list[WatchEvent], entries: Iterable, *, statuses: tuple[str, ...]
                 ) -> tuple[list[WatchEvent], dict[int, tuple[str, str]]]:
    """The activity events of entries whose status is synced, and {AniList id: (title, reason)}
    for the entries left out."""
    by_media = {e.media.id: e for e in entries}
    whole = set(RECONCILED_STATUSES) <= set(statuses)
    kept: list[WatchEvent] = []
    left_out: dict[int, tuple[str, str]] = {}
    for event in events:
        reason = excluded_reason(by_media.get(event.anilist_id), statuses, whole_list_synced=whole)
        if reason:
            left_out[event.anilist_id] = (event.title, reason)
        else:
            kept.append(event)
    return kept, left_out


def whole_entries(events: list[WatchEvent], *, entries: Iterable, progress: dict[int, int]) -> list[WatchEvent]:
    """Progress is a high-water mark: once episode n of an entry is posted, nothing below n is
    planned again. So every entry with a first-time play in `events` gets each earlier episode
    above its stored progress that `events` lack (Trakt already holding some is for the plan to
    see), and each entry's first-time plays come in ascending order, together, at the place of
    its first one: a run stopped between two POSTs never leaves a later episode posted and an
    earlier one owed. Rewatch events keep their place.

    A filled-in episode is dated by the rule in docs/sync.md ("Whole entries"): the entry's
    `startedAt` when known and not later than the next episode's date, else that date. It
    carries the `created_at` of the next event, so the incremental cursor stays before the
    activity that needs it until it is posted."""
    started = {e.media.id: fuzzy_to_datetime(e.started_at) for e in entries}
    blocks: dict[int, list[WatchEvent]] = {}
    for event in events:
        if not event.rewatch:
            blocks.setdefault(event.anilist_id, []).append(event)
    out: list[WatchEvent] = []
    emitted: set[int] = set()
    for event in events:
        if event.rewatch:
            out.append(event)
        elif event.anilist_id not in emitted:
            emitted.add(event.anilist_id)
            out += _fill_below(blocks[event.anilist_id], first=progress.get(event.anilist_id, 0) + 1,
                               started=started.get(event.anilist_id))
    return out


def _fill_below(block: list[WatchEvent], *, first: int, started: datetime | None) -> list[WatchEvent]:
    ordered = sorted(block, key=lambda e: e.episode)  # stable: two plays of one episode keep their order
    have = {e.episode for e in ordered}
    by_episode = {}
    for event in ordered:
        by_episode.setdefault(event.episode, event)
    filled: list[WatchEvent] = []
    later = None  # the event of the next episode up, dated
    for episode in range(ordered[-1].episode, first - 1, -1):
        if episode in have:
            later = by_episode[episode]
            continue
        by_start = started is not None and started <= later.watched_at
        later = WatchEvent(later.anilist_id, episode, started if by_start else later.watched_at, later.title,
                           total=later.total, created_at=later.created_at, day=by_start or later.day)
        filled.append(later)
    return sorted(ordered + filled, key=lambda e: e.episode)


@dataclass(frozen=True)
class Rewatched:
    """One entry's rewatch cycles as the ledger has them (`ledger.rewatched`): cycles 1..`whole`
    accounted for as a whole, each cycle's episodes with a row (`rows`, any state) and those of
    them on Trakt or settled (`done`), and the cycle each activity's play of an episode went to
    (`activities`: (activity id, episode) -> cycle)."""

    whole: int = 0
    rows: dict[int, frozenset[int]] = field(default_factory=dict)
    done: dict[int, frozenset[int]] = field(default_factory=dict)
    activities: dict[tuple[int, int], int] = field(default_factory=dict)

    def has(self, cycle: int, episode: int) -> bool:
        """Whether the ledger has this play of the cycle on Trakt (or settled)."""
        return 0 < cycle <= self.whole or episode in self.done.get(cycle, ())


NOT_REWATCHED = Rewatched()


def rewatch_cycles(events: list[WatchEvent], *, rewatched: dict[int, Rewatched]) -> list[WatchEvent]:
    """Each activity's rewatch play gets its cycle: the one the ledger gave that activity's play
    of the episode when it was read before, else the first cycle after those accounted whole
    that has no row of the episode yet (nor a play of this run): one more play of an episode is
    its next watch. Read again, an activity finds its row, so it posts once."""
    taken: set[tuple[int, int, int]] = set()
    out: list[WatchEvent] = []
    for event in events:
        if not event.rewatch or event.cycle is not None:
            out.append(event)
            continue
        mine = rewatched.get(event.anilist_id, NOT_REWATCHED)
        cycle = mine.activities.get((event.activity_id, event.episode))
        if cycle is None:
            cycle = mine.whole + 1
            while event.episode in mine.rows.get(cycle, ()) or (event.anilist_id, cycle, event.episode) in taken:
                cycle += 1
        taken.add((event.anilist_id, cycle, event.episode))
        out.append(replace(event, cycle=cycle))
    return out


def rewatch_cycle_events(entries: Iterable, *, rewatched: dict[int, Rewatched], events: Iterable[WatchEvent],
                         now: datetime) -> list[WatchEvent]:
    """With rewatches on: an entry's `repeat` count is the rewatches it finished. Each of those
    cycles not accounted for whole gets a play of every episode the ledger does not have on
    Trakt in that cycle and this run's `events` (its activities) do not bring."""
    brought = {(e.anilist_id, e.cycle, e.episode) for e in events if e.rewatch}
    out: list[WatchEvent] = []
    for entry in entries:
        mine = rewatched.get(entry.media.id, NOT_REWATCHED)
        total = entry.media.episodes or (1 if entry.media.format == "MOVIE" else 0)
        if entry.repeat <= mine.whole or not total:
            continue
        when = unix_to_datetime(entry.updated_at) or now
        for cycle in range(mine.whole + 1, entry.repeat + 1):
            out += [WatchEvent(entry.media.id, ep, when, entry.media.title, total=entry.media.episodes,
                               rewatch=True, cycle=cycle)
                    for ep in range(1, total + 1)
                    if not mine.has(cycle, ep) and (entry.media.id, cycle, ep) not in brought]
    return out
