"""Reads for the web pages (dashboard, sync page). Each is a fixed, small number of queries."""

from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, F, Max, OuterRef, Q, Subquery, Sum, Value, When
from django.utils import timezone
from django_q.models import Schedule, Task

from mappings.models import Mapping, SourceStatus
from mappings.provenance import AIR_DATES, MANUAL, PLACERS, words
from mappings.seasons import cached_show_seasons
from mappings.selectors import disputes, unmapped_mappings
from syncer import status_keys
from syncer.models import SyncProgress, SyncRun, SyncRunItem, SystemConfig
from syncer.refs import ascii_id
from syncer.sync.selectors import ENTRY_ON_TRAKT, run_items

PROGRESS_PER_PAGE = 25


# The original's names for its status keys, which the sync engine writes.
STATUS_KEYS = {
    "lastManualSync": status_keys.LAST_RUN,
    "lastAutomatedSync": status_keys.LAST_RUN_AUTO,
    "lastCompletedSync": status_keys.MODE_LAST_RUN["completed"],
    "lastWatchingSync": status_keys.MODE_LAST_RUN["watching"],
}


def sync_status() -> dict[str, str | None]:
    """When the last syncs ran, by the original's names (`lastManualSync`, `lastAutomatedSync`,
    `lastCompletedSync`, `lastWatchingSync`): each the stored text of its status key (the
    original kept JSON there), None while unset. One query."""
    values = dict(SystemConfig.objects.filter(key__in=STATUS_KEYS.values()).values_list("key", "value"))
    return {name: values.get(key) for name, key in STATUS_KEYS.items()}


def sync_progress_of(*, anilist_id: int) -> SyncProgress | None:
    return SyncProgress.objects.filter(anilist_id=anilist_id).first()


def sync_progress_recent(*, limit: int) -> list[SyncProgress]:
    """The `limit` most recently updated progress rows (never-updated rows last)."""
    return list(SyncProgress.objects.order_by(F("updated_at").desc(nulls_last=True), "-anilist_id")[:limit])


def last_runs_by_mode(*, dry_run: bool = False) -> dict[str, SyncRun | None]:
    """The newest run of each mode (real runs unless `dry_run`), in one query."""
    newest_ids = (
        SyncRun.objects.filter(dry_run=dry_run).values("mode").annotate(newest=Max("id")).values("newest")
    )
    runs = {run.mode: run for run in SyncRun.objects.filter(id__in=newest_ids)}
    # Undo and the history doctor are not sync modes: their runs are on their own pages.
    return {mode: runs.get(mode) for mode in SyncRun.Mode.values if mode not in (SyncRun.Mode.UNDO, SyncRun.Mode.DOCTOR)}


def active_runs() -> list[SyncRun]:
    """Runs queued or running now (the pages poll while there is one)."""
    return list(SyncRun.objects.filter(state__in=[SyncRun.State.QUEUED, SyncRun.State.RUNNING]))


def recent_runs(*, limit: int = 10) -> list[SyncRun]:
    return list(SyncRun.objects.order_by("-id")[:limit])


def scheduled_jobs() -> list[Schedule]:
    """Every django-q schedule, soonest first (a handful of rows)."""
    return list(Schedule.objects.order_by("next_run").only("id", "name", "func", "next_run", "cron"))


@dataclass(frozen=True)
class ProgressPage:
    page: Page
    query: str


def sync_progress_page(*, query: str = "", page: int | str = 1) -> ProgressPage:
    """One page of per-show sync progress, most recently updated first.

    `query` matches a title (case-insensitive substring) or, when it is a number, an AniList id.
    """
    query = query.strip()
    rows = SyncProgress.objects.order_by("-updated_at", "-anilist_id").annotate(**_placement_columns())
    if query:
        condition = Q(title__icontains=query)
        if (number := ascii_id(query)) is not None:
            condition |= Q(anilist_id=number)
        rows = rows.filter(condition)
    paginator = Paginator(rows, PROGRESS_PER_PAGE)
    return ProgressPage(page=_with_placed_by(paginator.get_page(page)), query=query)


def _placement_columns() -> dict:
    """The entry's mapping `placed_by`, `is_manual` and Trakt id, read in the page's own query."""
    mapping = Mapping.objects.filter(anilist_id=OuterRef("anilist_id"))
    return {f"mapping_{name}": Subquery(mapping.values(name)[:1]) for name in ("placed_by", "is_manual", "trakt_id")}


def _placed_by(*, placed_by: str, is_manual: bool) -> str:
    """The code of what placed a mapped entry: a person's mapping is `manual` whatever found it."""
    return MANUAL if is_manual else placed_by


def _with_placed_by(page: Page) -> Page:
    """Each row gets `placed_by`: what placed the entry, in words ("" if unmapped)."""
    page.object_list = list(page.object_list)
    for row in page.object_list:
        mapped = row.mapping_trakt_id is not None
        code = _placed_by(placed_by=row.mapping_placed_by or "", is_manual=bool(row.mapping_is_manual))
        row.placed_by = words(code) if mapped else ""
    return page


def run_get(*, run_id: int) -> SyncRun | None:
    return SyncRun.objects.filter(id=run_id).first()


# A page of a run's plan: 50 rows (a phone shows each in two lines; 100 made a 15,000 px page).
RUN_ITEMS_PER_PAGE = 50
FINISHED_STATES = {SyncRun.State.SUCCEEDED, SyncRun.State.FAILED, SyncRun.State.REFUSED,
                   SyncRun.State.INTERRUPTED}


def run_is_finished(run: SyncRun) -> bool:
    return run.state in FINISHED_STATES


def run_is_silent(run: SyncRun) -> bool:
    """A run still marked running (or queued) whose process has not been heard from for longer
    than a live one ever is: the next start will mark it interrupted (syncer/sync/liveness.py)."""
    limit = {SyncRun.State.RUNNING: settings.SYNC_LEASE_SECONDS,
             SyncRun.State.QUEUED: settings.SYNC_QUEUED_SECONDS}.get(run.state)
    return limit is not None and timezone.now() - run.last_alive_at > timedelta(seconds=limit)


def run_items_page(*, run: SyncRun, action: str = "", page: int | str = 1,
                   per_page: int = RUN_ITEMS_PER_PAGE) -> Page:
    """One page of a run's plan in plan order, optionally only one action (post, skip, unmapped),
    for the run page and the API alike. A page number past the end gives the last page
    (`page.number` says which one it is).

    Each item gets `trakt_title` and `trakt_slug` from its mapping (one query for the page) when
    the mapping still points at the item's Trakt id, so the plan names shows instead of ids.
    """
    items = run_items(run=run)
    if action in SyncRunItem.Action.values:
        items = items.filter(action=action)
    result = Paginator(items, per_page).get_page(page)
    result.object_list = _with_trakt_titles(list(result.object_list))
    return result


def _with_trakt_titles(items: list[SyncRunItem]) -> list[SyncRunItem]:
    """Each item gets `trakt_title` and `trakt_slug` of its target; an episode synced before
    (planned without a target) gets its entry's mapped show or movie (`mapped_*`) instead."""
    ids = {item.anilist_id for item in items if item.trakt_id or item.action == SyncRunItem.Action.ALREADY_SYNCED}
    targets = {
        row["anilist_id"]: row
        for row in Mapping.objects.filter(anilist_id__in=ids).values("anilist_id", "trakt_id", "trakt_title",
                                                                     "trakt_slug", "type")
    } if ids else {}
    for item in items:
        row = targets.get(item.anilist_id)
        same = row is not None and row["trakt_id"] == item.trakt_id
        item.trakt_title = row["trakt_title"] if same else ""
        item.trakt_slug = row["trakt_slug"] if same else ""
        untargeted = not item.trakt_id and row is not None and row["trakt_id"]
        item.mapped_title = (row["trakt_title"] or str(row["trakt_id"])) if untargeted else ""
        item.mapped_slug = row["trakt_slug"] if untargeted else ""
        item.mapped_id = row["trakt_id"] if untargeted else None
        item.mapped_type = (row["type"] or "show") if untargeted else ""
    return items


def run_planned_posts(*, run: SyncRun) -> int:
    """How many plays a preview would post (a dry run's `posted` count stays 0)."""
    return SyncRunItem.objects.filter(run=run, action=SyncRunItem.Action.POST).count()


@dataclass(frozen=True)
class RunCounts:
    """A run's numbers, every one counted from its plan rows, so the counts line, the tabs, the
    "it stopped" sentence and the CLI agree with the table below them.

    `found`: AniList episodes in the plan (a list run's line for an entry's episodes already on
    Trakt, `ENTRY_ON_TRAKT`, counts as that many); `planned`: its plays to post (or, for an undo, to
    remove); `posted`: plays Trakt confirmed (an undo: removed), `undone` of them taken back by an
    undo since; `not_reached`, `pending`,
    `failed`, `not_found`: the other ends of a play; `gone`: an undo's plays already off Trakt.
    `leftovers`: plays of an earlier, interrupted run this run posted (or found posted) while
    settling that run's unconfirmed batches, with `leftover_runs` the runs they belong to."""

    found: int = 0
    planned: int = 0
    posted: int = 0
    not_reached: int = 0
    pending: int = 0
    failed: int = 0
    not_found: int = 0
    already_synced: int = 0
    unmapped: int = 0
    gone: int = 0
    undone: int = 0
    leftovers: int = 0
    leftover_runs: tuple = ()
    errors: int = 0
    undo: bool = False
    dry_run: bool = False
    # An undo of a history doctor repair: its plays are put back on Trakt, not removed.
    puts_back: bool = False
    live: bool = False  # still queued or running: a play not posted yet is still to post

    @property
    def to_post(self) -> int:
        """What a preview would post (or an undo preview remove)."""
        return self.planned - self.gone


_PLAY_ACTIONS = (SyncRunItem.Action.POST, SyncRunItem.Action.REMOVE)
_EPISODE_ACTIONS = (*_PLAY_ACTIONS, SyncRunItem.Action.ALREADY_SYNCED, SyncRunItem.Action.UNMAPPED)
# A list run's line for an entry's episodes 1..`anilist_episode`, on Trakt before the run: it
# counts as that many episodes (`syncer.sync.services`, ENTRY_ON_TRAKT).
_EPISODES = Case(When(reason_code=ENTRY_ON_TRAKT, then=F("anilist_episode")), default=Value(1))


def runs_counts(runs: list[SyncRun]) -> dict[int, RunCounts]:
    """`RunCounts` of each run, by id: one grouped query for all of them (two with leftovers)."""
    ids = [run.pk for run in runs if run is not None]
    groups: dict[int, dict[tuple, int]] = {pk: {} for pk in ids}
    rows = (SyncRunItem.objects.filter(run_id__in=ids, action__in=_EPISODE_ACTIONS)
            .values_list("run_id", "action", "state", "reason").annotate(n=Sum(_EPISODES)).order_by())
    for run_id, action, state, reason, n in rows:
        # An undo line with a reason is a play already gone from Trakt; the other reasons say
        # why a line is what it is and change no count.
        key = (action, state, bool(reason) and action == SyncRunItem.Action.REMOVE)
        groups[run_id][key] = groups[run_id].get(key, 0) + n
    counts = {}
    for run in runs:
        if run is None:
            continue
        g = groups[run.pk]
        undo = run.mode == SyncRun.Mode.UNDO
        puts_back = undo and run.undo_of_id is not None and run.undo_of.mode == SyncRun.Mode.DOCTOR

        def n(action=None, state=None, gone=None, _g=g):
            return sum(v for (a, s, r), v in _g.items()
                       if (action is None or a == action) and (state is None or s == state)
                       and (gone is None or r == gone))

        play = SyncRunItem.Action.REMOVE if undo and not puts_back else SyncRunItem.Action.POST
        done_state = SyncRunItem.State.REMOVED if undo and not puts_back else SyncRunItem.State.POSTED
        # A play an undo took back off Trakt was still posted by this run (`undone` of them).
        undone = 0 if undo or run.dry_run else n(play, SyncRunItem.State.REMOVED)
        posted = 0 if run.dry_run else n(play, done_state) + undone
        gone = n(play, gone=True) if run.dry_run else n(play, SyncRunItem.State.NOT_FOUND) if undo else 0
        counts[run.pk] = RunCounts(
            found=n() , planned=n(play), posted=posted,
            not_reached=0 if run.dry_run else n(play, SyncRunItem.State.PLANNED),
            pending=n(play, SyncRunItem.State.PENDING), failed=n(play, SyncRunItem.State.FAILED),
            not_found=0 if undo else n(play, SyncRunItem.State.NOT_FOUND),
            already_synced=n(SyncRunItem.Action.ALREADY_SYNCED), unmapped=n(SyncRunItem.Action.UNMAPPED),
            gone=gone, undone=undone,
            # A history doctor repair's `posted` counts removed plays: none are left over.
            leftovers=0 if run.dry_run or undo or run.mode == SyncRun.Mode.DOCTOR else max(run.posted - posted, 0),
            errors=run.errors, undo=undo, dry_run=run.dry_run, puts_back=puts_back,
            live=not run_is_finished(run))
    for pk, c in counts.items():
        if c.leftovers:
            owners = (SyncRunItem.objects.filter(batch__run_id=pk).exclude(run_id=pk)
                      .values_list("run_id", flat=True).distinct().order_by("run_id"))
            counts[pk] = replace(c, leftover_runs=tuple(owners))
    return counts


def run_counts(run: SyncRun) -> RunCounts:
    return runs_counts([run])[run.pk]


def run_entries_on_trakt(run: SyncRun) -> int:
    """How many AniList entries a run found already on Trakt (its already synced lines')."""
    return (SyncRunItem.objects.filter(run=run, action=SyncRunItem.Action.ALREADY_SYNCED)
            .values("anilist_id").distinct().count())


@dataclass(frozen=True)
class LiveLine:
    """What a queued or running run is doing, for its page, the runs list, the API and the CLI:
    `text` names the step in words, then the plays as its rows count them (the counts panel's
    numbers), and what it expects to post in all only as a guess ("about 176 in all"); the bar
    is `done` of `total` (the plays planned, or the guess while it is larger)."""

    text: str
    done: int = 0
    total: int = 0


def run_live(run: SyncRun, counts: RunCounts) -> LiveLine:
    """The `LiveLine` of a queued or running run, from its step (`progress_label`, words only),
    its `counts` and its guess of the plays to post (`expected_posts`). No query."""
    step = run.progress_label
    if run.mode == SyncRun.Mode.DOCTOR:
        # The history doctor's numbers are its scan's (`_doctor_counts.html`), not plan rows.
        return LiveLine(step, run.progress_done, run.progress_total)
    plays, total = "", counts.planned
    if counts.undo and counts.planned:
        plays = (f"{counts.to_post} to {'put back' if counts.puts_back else 'remove'}" if counts.dry_run
                 else f"{'put back' if counts.puts_back else 'removed'} {counts.posted} of {counts.planned}")
    elif not counts.undo and counts.found:
        plays = (f"{counts.planned} to post so far" if counts.dry_run
                 else f"posted {counts.posted} of {counts.planned} planned so far")
        if run.expected_posts > counts.planned:
            plays += f", about {run.expected_posts} in all"
            total = run.expected_posts
    return LiveLine(" · ".join(part for part in (step, plays) if part),
                    done=0 if counts.dry_run else counts.posted, total=0 if counts.dry_run else total)


@dataclass(frozen=True)
class Extras:
    """What the ratings and the watchlist did in the newest finished real run that had either."""

    run_id: int | None = None
    rated: int = 0
    added: int = 0
    removed: int = 0
    failed: int = 0


_EXTRA_ACTIONS = (SyncRunItem.Action.RATE, SyncRunItem.Action.WATCHLIST, SyncRunItem.Action.UNWATCHLIST)


def extras_last_run() -> Extras:
    """Two queries: the run, then its extra lines by action and state."""
    run_id = (SyncRunItem.objects.filter(action__in=_EXTRA_ACTIONS, run__dry_run=False, run__state__in=FINISHED_STATES)
              .order_by("-run_id").values_list("run_id", flat=True).first())
    if run_id is None:
        return Extras()
    done: dict[str, int] = {}
    failed = 0
    for action, state, n in (SyncRunItem.objects.filter(run_id=run_id, action__in=_EXTRA_ACTIONS)
                             .values_list("action", "state").annotate(n=Count("id")).order_by()):
        if state == SyncRunItem.State.POSTED:
            done[action] = done.get(action, 0) + n
        elif state == SyncRunItem.State.FAILED:
            failed += n
    return Extras(run_id=run_id, rated=done.get(SyncRunItem.Action.RATE, 0),
                  added=done.get(SyncRunItem.Action.WATCHLIST, 0),
                  removed=done.get(SyncRunItem.Action.UNWATCHLIST, 0), failed=failed)


def run_superseded_by(run: SyncRun) -> SyncRun | None:
    """The first real run of the same sync that started after this preview and did not fail
    to start: the preview's "Run it" offer is stale once there is one."""
    return (SyncRun.objects.filter(id__gt=run.pk, dry_run=False, mode=run.mode, anilist_id=run.anilist_id)
            .exclude(state__in=[SyncRun.State.REFUSED]).order_by("id").first())


def sources_imported() -> bool:
    """Whether any mapping source holds rows; without one every entry resolves as unmapped."""
    return SourceStatus.objects.filter(row_count__gt=0).exists()


def task_finished(*, task_id: str) -> bool:
    """Whether django-q has recorded a result (success or failure) for a queued task."""
    return Task.objects.filter(id=task_id).exists()


UNMAPPED_SHOWN = 20


@dataclass(frozen=True)
class Unmapped:
    rows: list
    count: int


def unmapped_summary(*, limit: int = UNMAPPED_SHOWN) -> Unmapped:
    """The first unmapped entries (with their reasons) and how many there are in all."""
    queryset = unmapped_mappings().only("anilist_id", "title", "anilist_format", "unmapped_reason")
    rows = list(queryset[: limit + 1])
    count = len(rows) if len(rows) <= limit else queryset.count()
    return Unmapped(rows=rows[:limit], count=count)


def anything_mapped() -> bool:
    return Mapping.objects.filter(trakt_id__isnull=False).exists()


def disputed_episodes() -> list:
    """Pairs of entries that claim the same Trakt episodes (`mappings.selectors.Dispute`): those
    episodes are held for both until a person decides. Season lists come from the sync's cache
    only, so the dashboard never waits on Trakt."""
    return disputes(seasons_for=lambda ids: cached_show_seasons(trakt_ids=ids))


MAPPINGS_PER_PAGE = 50


@dataclass(frozen=True)
class MappingFilters:
    q: str = ""
    origin: str = ""  # manual | auto
    kind: str = ""  # show | movie
    source: str = ""
    status: str = ""  # mapped | unmapped


def mappings_page(*, filters: MappingFilters, page: int | str = 1) -> Page:
    """One page of mappings (manual and automatic together) matching the filters, by title.

    `q` matches a title, or any id when it is a number (AniList, Trakt, MAL, TMDB, TVDB) or an
    IMDb id (`tt…`).
    """
    rows = Mapping.objects.order_by("title", "anilist_id")
    q = filters.q.strip()
    if q:
        condition = Q(title__icontains=q) | Q(trakt_title__icontains=q)
        if (n := ascii_id(q)) is not None:
            condition |= Q(anilist_id=n) | Q(trakt_id=n) | Q(mal_id=n) | Q(tmdb_id=n) | Q(tvdb_id=n)
        elif q.lower().startswith("tt"):
            condition |= Q(imdb_id=q.lower())
        rows = rows.filter(condition)
    if filters.origin in ("manual", "auto"):
        rows = rows.filter(is_manual=filters.origin == "manual")
    if filters.kind in ("show", "movie"):
        rows = rows.filter(type=filters.kind)
    if filters.source == MANUAL:
        rows = rows.filter(Q(is_manual=True) | Q(placed_by=MANUAL))
    elif filters.source:
        rows = rows.filter(placed_by=filters.source, is_manual=False)
    if filters.status == "unmapped":
        rows = rows.filter(trakt_id__isnull=True)
    elif filters.status == "mapped":
        rows = rows.filter(trakt_id__isnull=False)
    return with_source_names(Paginator(rows, MAPPINGS_PER_PAGE).get_page(page))


SOURCE_NAMES = {"anibridge": "AniBridge", "fribb": "Fribb", "otaku": "Otaku", AIR_DATES: "air dates", MANUAL: "manual"}


def mapping_sources_used() -> list[tuple[str, str]]:
    """What may place a mapping, as (value, name) for the Source filter: the saved mappings'
    `source` texts are the resolver's notes, not names people choose from."""
    return [(key, SOURCE_NAMES[key]) for key in (*PLACERS, AIR_DATES, MANUAL)]


def with_source_names(page: Page) -> Page:
    """Each mapping gets `placed_by_name`: what placed it, as people call it."""
    page.object_list = list(page.object_list)
    for row in page.object_list:
        row.placed_by_name = SOURCE_NAMES.get(_placed_by(placed_by=row.placed_by, is_manual=row.is_manual), "")
    return page
