"""The engine's reads, for the pages, the API, the command line and the engine itself."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from django.db.models import QuerySet

from syncer import status_keys
from syncer.models import SyncProgress, SyncRun, SyncRunItem
from syncer.sync import ledger
from syncer.sync.events import Rewatched
from syncer.sync.runs import cursor_get

# The lines a run adds after its plan (ratings, watchlist): not plays, so the original's shapes
# (`/api/` previews and plans) leave them out.
EXTRA_ACTIONS = (SyncRunItem.Action.RATE, SyncRunItem.Action.WATCHLIST, SyncRunItem.Action.UNWATCHLIST)
# The reason code of a list run's already synced line that stands for an entry's episodes
# 1..`anilist_episode`, on Trakt before the run (one line an entry, not one an episode): every
# count of the run counts it as that many episodes.
ENTRY_ON_TRAKT = "entry_on_trakt"


def run_items(*, run: SyncRun) -> QuerySet[SyncRunItem]:
    return SyncRunItem.objects.filter(run=run).order_by("position")


def run_unmapped(*, run: SyncRun) -> list[dict]:
    """Every unmapped title of a run once, with its AniList id and the reason."""
    seen: dict[int, dict] = {}
    for item in run_items(run=run).filter(action=SyncRunItem.Action.UNMAPPED):
        seen.setdefault(item.anilist_id, {"anilist_id": item.anilist_id, "title": item.title,
                                          "reason": item.reason, "episodes": []})["episodes"].append(
            item.anilist_episode)
    return list(seen.values())


def run_plays(*, run: SyncRun) -> QuerySet[SyncRunItem]:
    """A run's plan without its ratings and watchlist lines."""
    return run_items(run=run).exclude(action__in=EXTRA_ACTIONS)


def run_next_position(*, run: SyncRun) -> int:
    """Where the next line of a run's plan goes (after the plays, the extras phases add theirs)."""
    last = run.items.order_by("-position").values_list("position", flat=True).first()
    return 0 if last is None else last + 1


def never_synced() -> bool:
    """No cursor and no per-show progress: this install has never written to Trakt."""
    return cursor_get() == 0 and not SyncProgress.objects.exists()


def watchlist_full() -> dict | None:
    """The dashboard's notice: {"limit", "size", "at"} while the watchlist is known to be full."""
    raw = status_keys.config_get(status_keys.WATCHLIST_FULL)
    return json.loads(raw) if raw else None


class ProgressSnapshot:
    """What this run starts from, read once: each entry's progress (`SyncProgress`) and its
    rewatch cycles (the ledger's) are read on first use and reused by every later step of the
    run, so the events and the plan see the same values. Taken after the reconcile of uncertain
    batches, before anything of this run is posted.

    An entry's progress is where the ledger says its plays stop being on Trakt: `last_abs`,
    or just below its first wanted episode when the ledger has one (`ledger.progress_of`);
    `done` gives the episodes above that which are on Trakt all the same."""

    def __init__(self) -> None:
        self._rows: dict[int, int] = {}  # anilist id -> last_abs
        self._asked: set[int] = set()
        self._everything = False
        self._floors: dict[int, int] = {}  # entries whose ledger has a wanted row: its episode - 1
        self._done: dict[int, frozenset[int]] = {}
        self._moving: dict[int, set[int]] = {}  # a preview's moves: plays counted as wanted already
        self._moving_rewatches: set[tuple[int, int, int]] = set()  # ... of rewatches: (id, cycle, episode)
        self._rewatched: dict[int, Rewatched] | None = None
        self._moving_from: set[tuple] = set()  # ... and the places of ours it leaves on Trakt

    def moving(self, rows, *, ours=()) -> None:
        """A preview leaves the plays it would move on Trakt, yet plans as the run does once it
        has taken them off (`ours`) or left them (the user's): wanted again."""
        for row in rows:
            if row.cycle:
                self._moving_rewatches.add((row.anilist_id, row.cycle, row.episode))
            else:
                self._moving.setdefault(row.anilist_id, set()).add(row.episode)
        self._moving_from |= {(r.kind, r.trakt_id, r.season, r.number) for r in ours}

    def moving_from(self) -> frozenset[tuple]:
        """Plan keys (`plan.target_key`) of the plays of ours a preview would take off Trakt: not
        on Trakt for its plan, as they are not for the run's once it has taken them off."""
        return frozenset(self._moving_from)

    def _load(self, ids) -> None:
        missing = [] if self._everything else [i for i in set(ids) if i not in self._asked]
        if not missing:
            return
        self._rows.update(SyncProgress.objects.filter(anilist_id__in=missing).values_list("anilist_id", "last_abs"))
        self._lower(ledger.progress_of(missing))
        self._lower({a: min(self._moving[a]) - 1 for a in missing if a in self._moving})
        self._asked.update(missing)

    def load_all(self) -> None:
        if not self._everything:
            self._rows = dict(SyncProgress.objects.values_list("anilist_id", "last_abs"))
            self._floors = {}
            self._lower(ledger.gaps_all())
            self._lower({a: min(eps) - 1 for a, eps in self._moving.items()})
            self._everything = True

    def _lower(self, gaps: dict[int, int]) -> None:
        for aid, floor in gaps.items():
            last = self._rows.get(aid, 0)
            if floor < last:
                self._rows[aid] = floor
            self._floors[aid] = min(floor, last, self._floors.get(aid, floor))

    def done(self, ids) -> dict[int, frozenset[int]]:
        """{AniList id: episodes above its progress that the ledger has on Trakt}."""
        ids = [i for i in set(ids) if i not in self._done]
        if ids:
            self._load(ids)
            found = ledger.done_above(ids, self._floors, {i: self._rows[i] for i in ids if i in self._rows})
            self._done.update({i: found.get(i, frozenset()) - self._moving.get(i, set()) for i in ids})
        return {i: eps for i, eps in self._done.items() if eps}

    def last_abs(self, ids=None) -> dict[int, int]:
        """{AniList id: episodes already on Trakt} for `ids` (every stored entry when None)."""
        if ids is None:
            self.load_all()
            return dict(self._rows)
        ids = list(ids)
        self._load(ids)
        return {a: self._rows[a] for a in ids if a in self._rows}

    def rewatched(self) -> dict[int, Rewatched]:
        """{AniList id: its rewatch cycles as the ledger has them} (`ledger.rewatched`), a
        preview's moves counted as wanted already."""
        if self._rewatched is None:
            self._rewatched = ledger.rewatched()
            for aid, cycle, episode in self._moving_rewatches:
                mine = self._rewatched[aid]
                self._rewatched[aid] = replace(mine, done={**mine.done, cycle: mine.done[cycle] - {episode}})
        return self._rewatched


# A play as Trakt history holds it: (kind "episode"/"movie", show or movie Trakt id, season,
# number, watched_at to the second).
PlayKey = tuple


def plays_posted_here(*, plays: Sequence[tuple[int, PlayKey]]) -> set[int]:
    """Of these Trakt history plays (history id, key), the history ids this app posted: the one
    place that says which plays are ours (the history doctor keeps them).

    Today it is read from the posted lines of sync runs, by key: plays with one key cannot be
    told apart, so per key as many history ids as we posted there count as ours (lowest first),
    and Trakt keeps at least that many. Lines of undo runs (plays put back) are not ours."""
    wanted: dict[PlayKey, list[int]] = {}
    for history_id, key in plays:
        wanted.setdefault(key, []).append(history_id)
    targets = sorted({key[1] for key in wanted})
    posted: Counter = Counter()
    for start in range(0, len(targets), 500):
        rows = SyncRunItem.objects.filter(
            action=SyncRunItem.Action.POST, state=SyncRunItem.State.POSTED, trakt_id__in=targets[start:start + 500],
        ).exclude(run__mode=SyncRun.Mode.UNDO).values_list("kind", "trakt_id", "season", "number", "watched_at")
        for kind, trakt_id, season, number, watched_at in rows:
            key = ("movie", trakt_id, None, None, watched_at.replace(microsecond=0)) if kind == "movie" else (
                "episode", trakt_id, season, number, watched_at.replace(microsecond=0))
            if key in wanted:
                posted[key] += 1
    return {history_id for key, count in posted.items() for history_id in sorted(wanted[key])[:count]}
