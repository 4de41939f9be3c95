"""A season list a run reads (its weekly refresh) re-checks the placements of that show's entries
before the run plans their plays: the plays of that very run land where the new air dates put
them. Whole runs, through the real clients against the loopback fakes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mappings.models import AiringScheduleCache, TraktSeasonCache
from syncer.models import SyncRun, SyncRunItem
from syncer.sync.services import sync_preview, sync_run
from tests.mappings.support import schedule
from tests.mappings.test_airdates_rechecks import (
    S3_AIRED_SO_FAR,
    aired_up_to,
    refiled_as_its_own_season,
)
from tests.mappings.test_airdates_resolution import (
    COURS,
    REZERO,
    REZERO_TMDB,
    S2_PART1,
    S2_PART2,
    S3,
    first_aired,
    fribb_says,
    prequel_mapped,
    rezero_on_trakt,
)


@pytest.fixture
def trakt(trakt_connected, settings):
    settings.SYNC_RECONCILE_DELAY_SECONDS = 0
    return trakt_connected


def planned(run: SyncRun) -> list[tuple[int, int]]:
    return [(i.season, i.number) for i in run.items.filter(action=SyncRunItem.Action.POST).order_by("position")]


def plays_on_rezero(trakt) -> list[tuple[int, int]]:
    return sorted((season, number) for show, season, number, _ in trakt.episode_plays() if show == REZERO)


def a_week_later(settings) -> None:
    """The cached season list is due for its weekly refresh, the short schedules for theirs."""
    TraktSeasonCache.objects.update(fetched_at=timezone.now() - timedelta(days=settings.TRAKT_SEASON_CACHE_DAYS + 1))
    AiringScheduleCache.objects.update(fetched_at=timezone.now() - timedelta(days=2))


def season_reads(trakt) -> int:
    return len(trakt.requests_to(rf"/shows/{REZERO}/seasons"))


@pytest.mark.django_db
def test_a_dataset_start_the_new_dates_correct_is_used_by_the_run_that_reads_them(fake_anilist, trakt_connected, settings):
    rezero_on_trakt(trakt_connected, aired={})  # Trakt has not dated the cour yet
    fribb_says(S2_PART1, 26)  # one late
    fake_anilist.schedules[S2_PART1] = schedule(COURS[1])
    fake_anilist.add_entry(1, S2_PART1, status="CURRENT", progress=3, episodes=13, title="Re:Zero S2 Part 1")
    preview = sync_preview(mode="watching")
    assert planned(preview) == [(1, 27), (1, 28), (1, 29)]

    trakt_connected.shows[REZERO]["aired"] = first_aired()
    a_week_later(settings)
    run = sync_run(mode="watching")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert planned(run) == [(1, 26), (1, 27), (1, 28)]
    assert plays_on_rezero(trakt_connected) == [(1, 26), (1, 27), (1, 28)]
    assert run.items.first().reason == "start fribb S1E27, corrected to S1E26 by air dates"
    assert season_reads(trakt_connected) == 2  # one read a run: the re-check reads nothing more from Trakt


@pytest.mark.django_db
@pytest.mark.parametrize("what, seasons, aired, plays, reason", [
    ("the rest of the cour aired where the dates placed it", {0: 11, 1: 66}, first_aired(),
     [(1, 51 + n) for n in range(8)], ""),
    ("TMDB filed the cour again as a season 2 and kept it in S1", {0: 11, 1: 66, 2: 16}, refiled_as_its_own_season(),
     [], f"air dates no longer place it on Trakt show {REZERO}: its air dates now match several runs of Trakt "
         "episodes equally (S1E51, S2E1); map it manually"),
])
def test_a_sequel_the_dates_placed_is_checked_again_by_the_run_that_reads_its_new_season_list(
        fake_anilist, trakt_connected, settings, what, seasons, aired, plays, reason):
    last = 50 + S3_AIRED_SO_FAR
    trakt_connected.add_show(REZERO, title="Re:ZERO -Starting Life in Another World-", ids={"tmdb": REZERO_TMDB},
                   seasons={0: 11, 1: last}, aired=aired_up_to(last))
    prequel_mapped()
    fake_anilist.schedules[S3] = schedule(COURS[3][:S3_AIRED_SO_FAR])
    fake_anilist.relations[S3] = [(S2_PART2, "PREQUEL")]
    entry = fake_anilist.add_entry(1, S3, status="CURRENT", progress=S3_AIRED_SO_FAR, episodes=16, title="Re:Zero S3")
    assert planned(sync_preview(mode="watching")) == [(1, 51 + n) for n in range(S3_AIRED_SO_FAR)]

    trakt_connected.shows[REZERO]["seasons"] = {n: list(range(1, count + 1)) for n, count in seasons.items()}
    trakt_connected.shows[REZERO]["aired"] = aired
    fake_anilist.schedules[S3] = schedule(COURS[3])
    entry["progress"] = 8
    a_week_later(settings)
    run = sync_run(mode="watching")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert plays_on_rezero(trakt_connected) == plays, what
    held = run.items.filter(action=SyncRunItem.Action.UNMAPPED)
    assert {i.reason for i in held} == ({reason} if reason else set()), what
