"""The ledger: the engine's one truth about what this app writes to Trakt (`LedgerItem`).

A row per AniList episode of an entry and watch cycle (0: the first watch; n: the n-th rewatch)
that a real run planned, posted, found on Trakt already or could not place: where it belongs
now, where it is, and, while the two differ, why, as a reason code with parameters (`REASONS`).
Code reads codes; `reason_text` renders the words people read. Rewatch plays go through the
same states and the same writes as first-watch plays.

What the engine derives from it:
- **Progress**: an entry's episodes up to `SyncProgress.last_abs` (the original app's high-water
  mark, kept in step) are on Trakt unless the ledger has a `wanted` row below it: a run starts
  each entry from its first wanted episode (`progress_of`), and an episode above it that the
  ledger has on Trakt is "already synced" (`done_above`).
- **The incremental scope**: every row still wanted for a passing reason is due again (with a
  backoff), whatever the cursor says (`due_rows`).
- **Moves**: a play on Trakt whose entry's mapping or overrides were written after it may belong
  elsewhere now (`move_candidates`; `syncer.sync.moves` places it again): ours is taken off by
  its history id and posted where it belongs, the user's stays and the new place is posted.
- **Rewatches**: which cycles and episodes are on Trakt (`rewatched`): the cycle a rewatch
  activity's play goes to, and the plays an entry's `repeat` count still asks for. A row of
  episode 0 stands for a whole cycle (counted before the ledger had cycles, or finished while
  rewatches were off: `rewatches_skipped`).
- **Undo**: the plays a run posted become wanted again (`undone`), and `last_abs` follows; they
  are due again once their entry's mapping or overrides change after the undo (`due_rows`).

Only `apply` (the one write path) and the run's plan storage write here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Max, Min, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from mappings.models import EpisodeOverride, Mapping
from syncer.models import LedgerItem, SyncProgress
from syncer.sync.events import Rewatched

logger = logging.getLogger("syncer.sync")

PLAY = LedgerItem.What.PLAY
State = LedgerItem.State
# On Trakt (or being settled there, or never to be written): not planned again.
DONE = (State.POSTED, State.PENDING, State.PRESENT, State.SKIPPED)

# Reason codes: {code: (passing, words)}. A passing reason goes away by itself (Trakt back, a
# newer season list, a batch settled, a hold decided): its rows are retried by every run,
# the incremental included, with a backoff. The others wait for a person (a mapping) or a
# list run; their words say which.
REASONS: dict[str, tuple[bool, str]] = {
    "": (True, "not posted yet (the run stopped before it)"),
    "trakt_unavailable": (True, "Trakt did not answer while its mapping was resolved: retried by the next run"),
    "trakt_refused": (True, "Trakt refused the post ({error}): retried by the next run"),
    "season_list_stale": (True, "episode {episode} is not in the cached season list of Trakt {kind} {trakt_id}: "
                                "the next run reads the list again"),
    "episode_beyond_trakt": (True, "episode {episode} does not exist on Trakt {kind} {trakt_id}: retried in case "
                                   "Trakt adds it; check the mapping"),
    "held_overlap": (True, "Trakt S{season}E{number} is claimed by another entry too: held until you decide"),
    "resolved_late": (True, "resolved to Trakt {kind} {trakt_id} after this run had planned it: synced by the "
                            "next run"),
    "moved": (True, "its place on Trakt changed (a remap, a corrected start, an override): posted where it belongs "
                    "by the next run; a play of ours at the old place was taken off, one you put there stays"),
    "no_mapping": (False, "no mapping: resolve it or add a manual mapping"),
    "watchlist_limit": (False, "Trakt's watchlist holds {limit} items on this account: remove items there or "
                               "upgrade, then a run adds it"),
    "watchlist_full": (False, "the Trakt watchlist is full (Trakt answered 420): remove items there or upgrade, "
                              "then a run adds it"),
    "show_not_found": (False, "Trakt show {trakt_id} does not exist (any more): fix the mapping"),
    "trakt_not_found": (False, "Trakt does not know this episode: not counted as synced"),
    "same_target": (False, "the same Trakt episode as its episode {episode}: one play"),
    "shared_target": (False, "the same Trakt {kind} as AniList {anilist_id}: posted once, by that entry"),
    # Not a ledger row's: a list run's line for an entry's episodes up to its progress.
    "entry_on_trakt": (False, "already on Trakt up to episode {episodes}"),
    "undone": (False, "taken off Trakt by undo run #{undo}: posted again by a list run (completed, watching, "
                      "library) or a single-show run, or by any run once its mapping or episode overrides change"),
    "rewatches_off": (False, "rewatched while SYNC_REWATCHES was off: not posted"),
}
PASSING = frozenset(code for code, (passing, _) in REASONS.items() if passing)
BACKOFF_FIRST = timedelta(minutes=30)
BACKOFF_MAX = timedelta(days=1)


def reason_text(code: str, params: dict | None = None) -> str:
    """The words for a reason code, for people (pages, logs); no code reads them."""
    words = REASONS.get(code, (False, code))[1]
    try:
        return words.format(**(params or {}))
    except (KeyError, IndexError):
        return words.split(":")[0]


def backoff(attempts: int) -> timedelta:
    """How long a row waits before its next try: none after the first failure (the next run
    tries again), then 30 minutes, doubling, at most a day."""
    if attempts <= 1:
        return timedelta(0)
    return min(BACKOFF_FIRST * (2 ** (attempts - 2)), BACKOFF_MAX)


# --- reads

def progress_of(ids: Iterable[int]) -> dict[int, int]:
    """{AniList id: the episode before its first wanted one} for the entries among `ids` that
    have a wanted row at or below their `last_abs` (every other entry starts after `last_abs`)."""
    ids = list(ids)
    rows = (LedgerItem.objects.filter(what=PLAY, cycle=0, state=State.WANTED, anilist_id__in=ids)
            .values("anilist_id").annotate(first=Min("episode")).values_list("anilist_id", "first"))
    return {aid: first - 1 for aid, first in rows}


def gaps_all() -> dict[int, int]:
    """`progress_of` for every entry with a wanted row."""
    rows = (LedgerItem.objects.filter(what=PLAY, cycle=0, state=State.WANTED)
            .values("anilist_id").annotate(first=Min("episode")).values_list("anilist_id", "first"))
    return {aid: first - 1 for aid, first in rows}


def done_above(ids: Iterable[int], floors: dict[int, int], progress: dict[int, int]) -> dict[int, frozenset[int]]:
    """{AniList id: episodes above its progress (`progress`, the run's snapshot) the ledger has
    on Trakt (or settled)}: above `last_abs` (plays found on Trakt, merged episodes, a batch
    being settled), and above a floor the ledger lowered (`floors`: plays of a later run still
    there while an earlier one's are wanted). Rows seeded from `last_abs` are at or below it."""
    ids = list(ids)
    if not ids:
        return {}
    rows = LedgerItem.objects.filter(what=PLAY, cycle=0, state__in=DONE).filter(
        Q(anilist_id__in=[a for a in ids if a in floors])
        | (Q(anilist_id__in=ids, state__in=[State.PRESENT, State.SKIPPED, State.PENDING])
           & ~Q(params__has_key="seeded"))).values_list("anilist_id", "episode")
    out: dict[int, set[int]] = {}
    for aid, episode in rows:
        if episode > floors.get(aid, progress.get(aid, 0)):
            out.setdefault(aid, set()).add(episode)
    return {aid: frozenset(eps) for aid, eps in out.items()}


def due_rows(*, now=None) -> list[LedgerItem]:
    """Every run's scope: rows still wanted for a passing reason whose backoff is over, and rows
    an undo took off whose entry's mapping or overrides changed since (the user fixed what was
    wrong; without a change they wait for a list or single-show run: they were undone on purpose)."""
    now = now or timezone.now()
    wanted = LedgerItem.objects.filter(what=PLAY, state=State.WANTED)
    rows = [*wanted.filter(reason__in=PASSING).filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now)),
            *changed_after(wanted.filter(reason="undone"))]
    return sorted(rows, key=lambda r: (r.anilist_id, r.cycle, r.episode))


def stale_shows(rows: Iterable[LedgerItem]) -> set[int]:
    """The Trakt shows whose cached season list lacked a due row's episode: read again."""
    return {r.params.get("trakt_id") for r in rows if r.reason == "season_list_stale" and r.params.get("trakt_id")}


def rewatched(ids: Iterable[int] | None = None) -> dict[int, Rewatched]:
    """{AniList id: its rewatch cycles as the ledger has them} for `ids` (every entry when None).
    One query over the rewatch rows only."""
    rows = LedgerItem.objects.filter(what=PLAY, cycle__gt=0)
    if ids is not None:
        rows = rows.filter(anilist_id__in=list(set(ids)))
    whole: dict[int, int] = {}
    have: dict[int, dict[int, set[int]]] = {}
    done: dict[int, dict[int, set[int]]] = {}
    activities: dict[int, dict[tuple[int, int], int]] = {}
    for aid, cycle, episode, state, activity, params in rows.values_list(
            "anilist_id", "cycle", "episode", "state", "activity_id", "params"):
        if episode == 0:  # a whole cycle, and the activities posted in it before the ledger had cycles
            whole[aid] = max(whole.get(aid, 0), cycle)
            for act, ep in (params or {}).get("activities", ()):
                activities.setdefault(aid, {})[(act, ep)] = cycle
            continue
        have.setdefault(aid, {}).setdefault(cycle, set()).add(episode)
        if state in DONE:
            done.setdefault(aid, {}).setdefault(cycle, set()).add(episode)
        if activity:
            activities.setdefault(aid, {})[(activity, episode)] = cycle
    return {aid: Rewatched(
        whole=whole.get(aid, 0), rows={c: frozenset(e) for c, e in have.get(aid, {}).items()},
        done={c: frozenset(e) for c, e in done.get(aid, {}).items()}, activities=activities.get(aid, {}))
        for aid in set(whole) | set(have)}


def rewatches_wanted(ids: Iterable[int]) -> list[LedgerItem]:
    """The rewatch plays of these entries the ledger wants (undone, refused, moved, ...): a list
    or single-show run with rewatches on posts them, as it posts the entries' wanted first-watch
    plays."""
    return list(LedgerItem.objects.filter(what=PLAY, cycle__gt=0, episode__gt=0, state=State.WANTED,
                                          anilist_id__in=list(set(ids))).order_by("anilist_id", "cycle", "episode"))


def changed_after(rows):
    """Those of `rows` whose entry's mapping or an episode override of it was written after the
    row (a remap, a corrected start, an override added or edited): their place may have changed."""
    mapped = Mapping.objects.filter(anilist_id=OuterRef("anilist_id")).values("updated_at")[:1]
    overridden = EpisodeOverride.objects.filter(mapping_id=OuterRef("anilist_id"), updated_at__isnull=False
                                                ).order_by("-updated_at").values("updated_at")[:1]
    return rows.annotate(mapped_at=Subquery(mapped), overridden_at=Subquery(overridden)).filter(
        Q(mapped_at__gt=F("updated_at")) | Q(overridden_at__gt=F("updated_at")))


def move_candidates() -> list[LedgerItem]:
    """Plays on Trakt whose place may have changed since they were posted or found (one query):
    ours (posted, with the item that posted them) and the user's (present where a plan found
    them; not those seeded from `last_abs`, whose place is not known)."""
    rows = LedgerItem.objects.filter(what=PLAY, trakt_id__isnull=False).filter(
        Q(state=State.POSTED, item__isnull=False) | Q(state=State.PRESENT))
    return list(changed_after(rows).order_by("anilist_id", "cycle", "episode"))


# --- writes (apply and the plan storage call these inside their transactions)

def seed(anilist_ids: Iterable[int]) -> None:
    """Entries whose `last_abs` was written without the ledger (the original app, an adopted
    database, a person's edit) get their rows: episodes 1..last_abs are on Trakt (as the
    seeding migration does for the rows it finds)."""
    progress = dict(SyncProgress.objects.filter(anilist_id__in=list(set(anilist_ids)), last_abs__gt=0).values_list(
        "anilist_id", "last_abs"))
    if not progress:
        return
    have: dict[int, set[int]] = {}
    for aid, episode in LedgerItem.objects.filter(what=PLAY, cycle=0, anilist_id__in=list(progress)).values_list(
            "anilist_id", "episode"):
        have.setdefault(aid, set()).add(episode)
    # Present, not posted: where they are is not known, so they are never taken off Trakt.
    missing = [LedgerItem(what=PLAY, anilist_id=aid, episode=n, state=State.PRESENT, params={"seeded": "last_abs"})
               for aid, last in progress.items() for n in range(1, last + 1) if n not in have.get(aid, ())]
    if missing:
        LedgerItem.objects.bulk_create(missing, batch_size=1000, ignore_conflicts=True)


def _key(row: dict) -> tuple[int, int, int] | None:
    """A batch row's ledger key: (AniList id, episode, cycle). None for a play of no entry (a
    doctor's re-adds) and a rewatch written ahead before rewatches had cycles (no row is it)."""
    if row.get("anilist_id") is None or (row.get("rewatch") and not row.get("cycle")):
        return None
    return row["anilist_id"], row["episode"], row.get("cycle") or 0


def _rows(keys: Sequence[tuple[int, int, int]]) -> dict[tuple[int, int, int], LedgerItem]:
    """The play rows of `keys` ((AniList id, episode, cycle)), created (wanted) where missing."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return {}
    wanted = set(keys)
    ids = {aid for aid, _, _ in keys}
    seed(ids)

    def read() -> dict[tuple[int, int, int], LedgerItem]:
        return {(r.anilist_id, r.episode, r.cycle): r for r in LedgerItem.objects.filter(what=PLAY, anilist_id__in=ids)
                if (r.anilist_id, r.episode, r.cycle) in wanted}

    found = read()
    new = [LedgerItem(what=PLAY, anilist_id=aid, episode=ep, cycle=cycle) for aid, ep, cycle in keys
           if (aid, ep, cycle) not in found]
    if new:
        LedgerItem.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
        found = read()
    return found


def _save(rows: Iterable[LedgerItem]) -> None:
    """Write changed rows back. Deleted and inserted again, with their ids, in one transaction:
    nothing refers to a ledger row, and an UPDATE of many rows with different values is a
    CASE per column and row, a hundred times slower on the batches apply writes."""
    rows = list(rows)
    if not rows:
        return
    now = timezone.now()
    for row in rows:
        row.updated_at = now
    with transaction.atomic():
        LedgerItem.objects.filter(pk__in=[r.pk for r in rows]).delete()
        LedgerItem.objects.bulk_create(rows, batch_size=500)


def _target(row: LedgerItem, *, kind, trakt_id, season, number) -> None:
    row.kind, row.trakt_id, row.season, row.number = kind or "", trakt_id, season, number


def scope(events: Sequence) -> None:
    """A real run's plays (first-time plays, rewatches in their cycle), recorded as wanted before
    anything is posted: should the run stop before planning or posting some of them, the ledger
    still wants them and the next run (the incremental included) takes them up."""
    first: dict[tuple[int, int, int], object] = {}
    for event in events:
        first.setdefault(_event_key(event), event)
    if not first:
        return
    seed({aid for aid, _, _ in first})
    LedgerItem.objects.bulk_create([LedgerItem(
        what=PLAY, anilist_id=aid, episode=ep, cycle=cycle, title=e.title[:500], watched_at=e.watched_at,
        activity_id=e.activity_id if cycle else None) for (aid, ep, cycle), e in first.items()],
        batch_size=1000, ignore_conflicts=True)


def planned(*, run, items: Sequence, plan: Sequence) -> None:
    """A real run's plan, stored: what it will post is wanted (until posted), what it cannot
    place is wanted with the reason why, what Trakt holds already is present. A rewatch play is
    the row of its cycle."""
    chosen = [(item, p) for item, p in zip(items, plan, strict=True) if _writes(p)]
    rows = _rows([_event_key(p.event) for _, p in chosen])
    now = timezone.now()
    changed = []
    for item, p in chosen:
        row = rows[_event_key(p.event)]
        if row.state in (State.POSTED, State.PENDING):
            continue  # settled or being settled: a plan never takes it back
        row.title, row.watched_at = p.event.title[:500], p.event.watched_at
        if row.cycle and p.event.activity_id:  # read again, the activity finds this row
            row.activity_id = p.event.activity_id
        if p.target is not None:
            row.belongs = {"kind": p.target.kind, "trakt_id": p.target.trakt_id, "season": p.target.season,
                           "number": p.target.number}
        if p.action == "post":
            row.state, row.reason, row.params, row.retry_at, row.item = State.WANTED, "", {}, None, item
        elif p.on_trakt:
            row.state, row.reason, row.params, row.retry_at = State.PRESENT, "", {}, None
            _target(row, kind=p.target.kind, trakt_id=p.target.trakt_id, season=p.target.season, number=p.target.number)
        elif p.code in ("same_target", "shared_target"):
            row.state, row.reason, row.params, row.retry_at = State.SKIPPED, p.code, p.params, None
        else:  # unmapped: wanted, with the reason
            row.attempts = row.attempts + 1 if row.reason == p.code else 1
            row.state, row.reason, row.params = State.WANTED, p.code, p.params
            row.retry_at = now + backoff(row.attempts) if p.code in PASSING else None
        changed.append(row)
    _save(changed)
    # What `scope` recorded for these entries that the plan made no line of (a movie's earlier
    # episodes: a movie is one play) is not wanted.
    lines = {_event_key(p.event) for p in plan}
    unplanned = [r.pk for r in LedgerItem.objects.filter(
        what=PLAY, state=State.WANTED, reason="", item__isnull=True,
        anilist_id__in={aid for aid, _, _ in lines}).only("pk", "anilist_id", "episode", "cycle")
        if (r.anilist_id, r.episode, r.cycle) not in lines]
    if unplanned:
        LedgerItem.objects.filter(pk__in=unplanned).delete()


def _event_key(event) -> tuple[int, int, int]:
    return event.anilist_id, event.episode, event.cycle or 0


def _writes(p) -> bool:
    return p.action in ("post", "unmapped") or p.on_trakt or p.code in ("same_target", "shared_target")


def pending(rows: Sequence[dict], *, run_of: dict[int, int]) -> None:
    """A write-ahead batch is committed: its plays are being settled."""
    rows = [r for r in rows if _key(r)]
    found = _rows([_key(r) for r in rows])
    changed = []
    for r in rows:
        row = found.get(_key(r))
        if row is None or row.state == State.POSTED:
            continue
        row.state, row.item_id, row.run_id = State.PENDING, r.get("item"), run_of.get(r.get("item"))
        row.title = r.get("title") or row.title
        row.watched_at = parse_datetime(r["watched_at"])
        _target(row, kind=r["kind"], trakt_id=r["trakt_id"], season=r["season"], number=r["number"])
        changed.append(row)
    _save(changed)


def settled(*, posted: Sequence[dict], not_found: Sequence[dict] = (), wanted: Sequence[dict] = (),
            run_of: dict[int, int], error: str = "") -> None:
    """Trakt's answer (or its history) is known: `posted` are ours on Trakt, `not_found` Trakt
    does not know, `wanted` are not there (a reconciled batch's missing plays, a refused batch)."""
    found = _rows([_key(r) for r in [*posted, *not_found, *wanted] if _key(r)])
    changed = []
    now = timezone.now()
    for group, state in ((posted, State.POSTED), (not_found, State.SKIPPED), (wanted, State.WANTED)):
        for r in group:
            row = found.get(_key(r))
            if row is None:
                continue
            row.state = state
            row.item_id, row.run_id = r.get("item") or row.item_id, run_of.get(r.get("item"), row.run_id)
            row.watched_at = parse_datetime(r["watched_at"])
            _target(row, kind=r["kind"], trakt_id=r["trakt_id"], season=r["season"], number=r["number"])
            row.reason, row.params, row.retry_at = "", {}, None
            if state == State.SKIPPED:
                row.reason = "trakt_not_found"
            elif state == State.WANTED:
                row.run_id = None
                _target(row, kind="", trakt_id=None, season=None, number=None)
                if error:
                    row.attempts += 1
                    row.reason, row.params = "trakt_refused", {"error": error[:200]}
                    row.retry_at = now + backoff(row.attempts)
            changed.append(row)
    _save(changed)


def present(rows: Sequence[dict]) -> None:
    """Episodes the plan found on Trakt already (put there by the user or another app)."""
    found = _rows([_key(r) for r in rows])
    changed = []
    for row in found.values():
        if row.state == State.WANTED:
            row.state, row.reason, row.params, row.retry_at = State.PRESENT, "", {}, None
            changed.append(row)
    _save(changed)


def taken_off(*, rows: Sequence[LedgerItem], reason: str, params: dict) -> None:
    """Plays of ours removed from Trakt (an undo, a move): wanted again, with the reason."""
    for row in rows:
        row.state, row.reason, row.params, row.retry_at, row.attempts = State.WANTED, reason, params, None, 0
        row.history_id, row.run_id = None, None
        _target(row, kind="", trakt_id=None, season=None, number=None)
    _save(rows)
    progress_follow({r.anilist_id for r in rows})


def relocated(rows: Sequence[LedgerItem]) -> None:
    """Plays the user (or another app) has at a place their episode no longer belongs: left on
    Trakt, and wanted at the new place (`moved`)."""
    taken_off(rows=rows, reason="moved", params={})


def unmoved(rows: Sequence[LedgerItem]) -> None:
    """Plays found where they belong after their mapping changed: not checked again until it
    changes again."""
    LedgerItem.objects.filter(pk__in=[r.pk for r in rows], state__in=[State.POSTED, State.PRESENT]).update(
        updated_at=timezone.now())


def progress_follow(anilist_ids: Iterable[int]) -> None:
    """Keep `SyncProgress.last_abs` in step: the highest episode the ledger has on Trakt (the
    original app's meaning). An entry with nothing on Trakt loses its row."""
    ids = list(set(anilist_ids))
    highest = dict(LedgerItem.objects.filter(what=PLAY, cycle=0, anilist_id__in=ids, state__in=DONE).values(
        "anilist_id").annotate(top=Max("episode")).values_list("anilist_id", "top"))
    for progress in SyncProgress.objects.filter(anilist_id__in=ids):
        top = highest.get(progress.anilist_id, 0)
        if top == 0:
            progress.delete()
        elif progress.last_abs != top:
            SyncProgress.objects.filter(pk=progress.pk).update(last_abs=top, updated_at=timezone.now())


def rewatches_skipped(entries: Iterable) -> None:
    """With rewatches off: the rewatches AniList counts (`repeat`) are accounted for as whole
    cycles never to be posted (`rewatches_off`), so turning rewatches on later posts only the
    ones that come after. One read and one insert for every entry."""
    counts = {e.media.id: (e.repeat, e.media.title) for e in entries if e.repeat}
    if not counts:
        return
    whole = dict(LedgerItem.objects.filter(what=PLAY, episode=0, cycle__gt=0, anilist_id__in=list(counts)).values(
        "anilist_id").annotate(top=Max("cycle")).values_list("anilist_id", "top"))
    LedgerItem.objects.bulk_create([
        LedgerItem(what=PLAY, anilist_id=aid, episode=0, cycle=cycle, title=title[:500], state=State.SKIPPED,
                   reason="rewatches_off") for aid, (repeat, title) in counts.items()
        for cycle in range(whole.get(aid, 0) + 1, repeat + 1)], batch_size=1000, ignore_conflicts=True)


# --- ratings: each entry's wish (what its score asks of which Trakt item), so the rating of an
# item several entries share is the mean of all of them, whichever the run read.

RATING = LedgerItem.What.RATING


def rating_wishes(*, trakt_ids: Iterable[int], besides: Iterable[int]) -> list[LedgerItem]:
    """The recorded wishes on these Trakt shows/movies of entries other than `besides`."""
    return list(LedgerItem.objects.filter(what=RATING, trakt_id__in=list(set(trakt_ids))).exclude(
        anilist_id__in=list(set(besides))))


def ratings_wished(wishes: Sequence[tuple[int, str, str, int, int | None, int]], *, on_trakt: set[str]) -> None:
    """Record the run's wishes: (AniList id, title, kind, Trakt id, season, rating); those whose
    item holds the rating the ledger wants (`on_trakt`: keys) are there, the others wanted."""
    from syncer.clients.trakt import rating_key  # noqa: PLC0415 - keys only

    found = {r.anilist_id: r for r in LedgerItem.objects.filter(what=RATING, anilist_id__in=[w[0] for w in wishes])}
    new, changed = [], []
    for anilist_id, title, kind, trakt_id, season, rating in wishes:
        row = found.get(anilist_id) or LedgerItem(what=RATING, anilist_id=anilist_id)
        row.title, row.params = title[:500], {"rating": rating}
        _target(row, kind=kind, trakt_id=trakt_id, season=season, number=None)
        row.belongs = {"kind": kind, "trakt_id": trakt_id, "season": season, "rating": rating}
        row.state = State.POSTED if rating_key(kind, trakt_id, season) in on_trakt else State.WANTED
        (changed if row.pk else new).append(row)
    LedgerItem.objects.bulk_create(new, ignore_conflicts=True)
    _save(changed)


def ratings_undone(*, targets: Sequence[tuple[str, int, int | None]], undo_id: int) -> None:
    """Ratings an undo took back (their items hold what they held before): the wishes on them
    are wanted again (`undone`)."""
    if not targets:
        return
    wanted = set(targets)
    rows = [r for r in LedgerItem.objects.filter(what=RATING, trakt_id__in={t for _, t, _ in wanted})
            if (r.kind, r.trakt_id, r.season) in wanted]
    for row in rows:
        row.state, row.reason, row.params = State.WANTED, "undone", {**row.params, "undo": undo_id}
    _save(rows)


# --- the watchlist: a row per entry it concerns (`syncer.sync.watchlist` decides, these store).

WATCHLIST = LedgerItem.What.WATCHLIST


def watchlist_rows(*, planned: Iterable[int], left: Iterable[int] | None) -> dict[int, LedgerItem]:
    """{AniList id: row} of the PLANNING entries `planned`, and of the entries that left PLANNING
    with something still to settle (on the watchlist as ours, or wanted there): among `left`, or
    every other entry when `left` is None (a list run sees every PLANNING entry)."""
    planned = list(planned)
    settle = Q(state__in=[State.POSTED, State.WANTED]) | Q(state=State.PRESENT, belongs__isnull=False)
    gone = LedgerItem.objects.filter(settle, what=WATCHLIST).exclude(anilist_id__in=planned)
    if left is not None:
        gone = gone.filter(anilist_id__in=list(left))
    rows = [*LedgerItem.objects.filter(what=WATCHLIST, anilist_id__in=planned), *gone]
    return {r.anilist_id: r for r in rows}


def watchlist_settled(rows: Sequence[LedgerItem]) -> None:
    """Store the rows a run decided (new ones created)."""
    LedgerItem.objects.bulk_create([r for r in rows if r.pk is None], ignore_conflicts=True)
    _save([r for r in rows if r.pk is not None])


def watchlist_added_by(run) -> list[LedgerItem]:
    """The watchlist adds of `run` that are still its own (posted, not taken over or moved since)."""
    return list(LedgerItem.objects.filter(what=WATCHLIST, run=run, state=State.POSTED).order_by("anilist_id"))


def watchlist_undone(*, rows: Sequence[LedgerItem], undo_id: int) -> None:
    """Adds an undo took off the watchlist: wanted again (`undone`), so a list run adds them back
    while their entry is still PLANNING."""
    for row in rows:
        row.state, row.reason, row.params, row.run, row.item = State.WANTED, "undone", {"undo": undo_id}, None, None
        row.kind, row.trakt_id = "", None
    _save(rows)
