"""Reads for the web pages (dashboard, sync page). Each is a fixed, small number of queries."""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Max, Q
from django_q.models import Schedule

from syncer.models import SyncProgress, SyncRun, SyncRunItem

PROGRESS_PER_PAGE = 25


def last_runs_by_mode(*, dry_run: bool = False) -> dict[str, SyncRun | None]:
    """The newest run of each mode (real runs unless `dry_run`), in one query."""
    newest_ids = (
        SyncRun.objects.filter(dry_run=dry_run).values("mode").annotate(newest=Max("id")).values("newest")
    )
    runs = {run.mode: run for run in SyncRun.objects.filter(id__in=newest_ids)}
    return {mode: runs.get(mode) for mode in SyncRun.Mode.values if mode != SyncRun.Mode.UNDO}


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
    rows = SyncProgress.objects.order_by("-updated_at", "-anilist_id")
    if query:
        condition = Q(title__icontains=query)
        if query.isdigit():
            condition |= Q(anilist_id=int(query))
        rows = rows.filter(condition)
    paginator = Paginator(rows, PROGRESS_PER_PAGE)
    return ProgressPage(page=paginator.get_page(page), query=query)


def run_get(*, run_id: int) -> SyncRun | None:
    return SyncRun.objects.filter(id=run_id).first()


RUN_ITEMS_PER_PAGE = 100
FINISHED_STATES = {SyncRun.State.SUCCEEDED, SyncRun.State.FAILED, SyncRun.State.REFUSED}


def run_is_finished(run: SyncRun) -> bool:
    return run.state in FINISHED_STATES


def run_items_page(*, run: SyncRun, action: str = "", page: int | str = 1) -> Page:
    """One page of a run's plan in plan order, optionally only one action (post, skip, unmapped).

    Each item gets `trakt_title` and `trakt_slug` from its mapping (one query for the page) when
    the mapping still points at the item's Trakt id, so the plan names shows instead of ids.
    """
    items = SyncRunItem.objects.filter(run=run).order_by("position")
    if action in SyncRunItem.Action.values:
        items = items.filter(action=action)
    result = Paginator(items, RUN_ITEMS_PER_PAGE).get_page(page)
    result.object_list = _with_trakt_titles(list(result.object_list))
    return result


def _with_trakt_titles(items: list[SyncRunItem]) -> list[SyncRunItem]:
    from mappings.models import Mapping

    ids = {item.anilist_id for item in items if item.trakt_id}
    targets = {
        row["anilist_id"]: row
        for row in Mapping.objects.filter(anilist_id__in=ids).values("anilist_id", "trakt_id", "trakt_title", "trakt_slug")
    } if ids else {}
    for item in items:
        row = targets.get(item.anilist_id)
        same = row is not None and row["trakt_id"] == item.trakt_id
        item.trakt_title = row["trakt_title"] if same else ""
        item.trakt_slug = row["trakt_slug"] if same else ""
    return items


def run_planned_posts(*, run: SyncRun) -> int:
    """How many plays a preview would post (a dry run's `posted` count stays 0)."""
    return SyncRunItem.objects.filter(run=run, action=SyncRunItem.Action.POST).count()


def sources_imported() -> bool:
    """Whether any mapping source holds rows; without one every entry resolves as unmapped."""
    from mappings.models import SourceStatus

    return SourceStatus.objects.filter(row_count__gt=0).exists()


def task_finished(*, task_id: str) -> bool:
    """Whether django-q has recorded a result (success or failure) for a queued task."""
    from django_q.models import Task

    return Task.objects.filter(id=task_id).exists()


UNMAPPED_SHOWN = 20


@dataclass(frozen=True)
class Unmapped:
    rows: list
    count: int


def unmapped_summary(*, limit: int = UNMAPPED_SHOWN) -> Unmapped:
    """The first unmapped entries (with their reasons) and how many there are in all."""
    from mappings.selectors import unmapped_mappings

    queryset = unmapped_mappings().only("anilist_id", "title", "anilist_format", "unmapped_reason")
    rows = list(queryset[: limit + 1])
    count = len(rows) if len(rows) <= limit else queryset.count()
    return Unmapped(rows=rows[:limit], count=count)


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
    from mappings.models import Mapping

    rows = Mapping.objects.order_by("title", "anilist_id")
    q = filters.q.strip()
    if q:
        condition = Q(title__icontains=q) | Q(trakt_title__icontains=q)
        if q.isdigit():
            n = int(q)
            condition |= Q(anilist_id=n) | Q(trakt_id=n) | Q(mal_id=n) | Q(tmdb_id=n) | Q(tvdb_id=n)
        elif q.lower().startswith("tt"):
            condition |= Q(imdb_id=q.lower())
        rows = rows.filter(condition)
    if filters.origin in ("manual", "auto"):
        rows = rows.filter(is_manual=filters.origin == "manual")
    if filters.kind in ("show", "movie"):
        rows = rows.filter(type=filters.kind)
    if filters.source:
        rows = rows.filter(source=filters.source)
    if filters.status == "unmapped":
        rows = rows.filter(trakt_id__isnull=True)
    elif filters.status == "mapped":
        rows = rows.filter(trakt_id__isnull=False)
    return Paginator(rows, MAPPINGS_PER_PAGE).get_page(page)


def mapping_sources_used() -> list[str]:
    """The distinct `source` values of saved mappings (for the filter's choices)."""
    from mappings.models import Mapping

    return sorted(s for s in Mapping.objects.values_list("source", flat=True).distinct() if s)
