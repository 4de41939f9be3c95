"""Placements derived again when things change, through the real clients against the loopback
fakes: a season list read with new air dates, a dataset that later gives the start. Only the
cached season lists and schedules are used, and plays already posted are never contradicted."""

import pytest

from mappings.manual import mapping_set_manual
from mappings.models import FribbEntry, Mapping
from mappings.services import mapping_resolve_many
from syncer.models import SyncProgress
from tests.mappings.support import media, schedule
from tests.mappings.test_airdates_resolution import (
    COURS,
    REZERO,
    REZERO_TMDB,
    S2_PART1,
    S3,
    first_aired,
    fribb_says,
    rezero_on_trakt,
)


def s2_part1():
    return media(S2_PART1, format="TV", episodes=13)


def season_list_refreshed_with_dates(fake_trakt) -> None:
    """What a sync's reading thread does once the cached list is old: read it (now with
    `first_aired` on every episode) and cache it."""
    from mappings.seasons import show_seasons_store
    from syncer.connections import trakt_client

    fake_trakt.shows[REZERO]["aired"] = first_aired()
    show_seasons_store(trakt_id=REZERO, seasons=trakt_client(authenticated=False).show_seasons(REZERO))


@pytest.fixture
def mapped_before_trakt_had_dates(fake_trakt, fake_anilist):
    """Fribb's off-by-one S1E27 for Re:Zero S2 Part 1, taken while Trakt dated no episode."""
    rezero_on_trakt(fake_trakt, aired={})
    fribb_says(S2_PART1, 26)
    fake_anilist.schedules[S2_PART1] = schedule(COURS[1])
    row = mapping_resolve_many(medias=[s2_part1()])[S2_PART1]
    assert (row.trakt_id, row.start_season, row.start_episode) == (REZERO, 1, 27)
    season_list_refreshed_with_dates(fake_trakt)
    return row


def trakt_requests(fake_trakt) -> int:
    return len(fake_trakt.requests_to(r"/.*"))


@pytest.mark.django_db
def test_a_start_taken_before_trakt_had_dates_is_corrected_once_the_season_list_brings_them(
        fake_trakt, fake_anilist, mapped_before_trakt_had_dates):
    before = trakt_requests(fake_trakt)
    row = mapping_resolve_many(medias=[s2_part1()])[S2_PART1]
    assert (row.trakt_id, row.start_season, row.start_episode) == (REZERO, 1, 26)
    assert row.source == f"fribb tmdb {REZERO_TMDB}; start fribb S1E27, corrected to S1E26 by air dates"
    assert Mapping.objects.get(pk=S2_PART1).start_episode == 26
    # The cached season list and one schedule request: Trakt is not asked again.
    assert trakt_requests(fake_trakt) == before
    assert len(fake_anilist.graphql_requests("airingSchedule")) == 1


@pytest.mark.django_db
def test_a_start_that_moves_after_plays_were_posted_takes_the_new_start_for_the_sync_to_move_them(
        fake_trakt, fake_anilist, mapped_before_trakt_had_dates):
    SyncProgress.objects.create(anilist_id=S2_PART1, last_abs=3)
    row = mapping_resolve_many(medias=[s2_part1()])[S2_PART1]
    assert (row.trakt_id, row.start_season, row.start_episode, row.unmapped_reason) == (REZERO, 1, 26, "")
    assert Mapping.objects.get(pk=S2_PART1).start_episode == 26


@pytest.mark.django_db
def test_an_entry_an_older_version_held_for_a_moved_start_is_resolved_again(
        fake_trakt, fake_anilist, mapped_before_trakt_had_dates):
    SyncProgress.objects.create(anilist_id=S2_PART1, last_abs=3)
    Mapping.objects.filter(pk=S2_PART1).update(trakt_id=None, held_trakt_id=REZERO, unmapped_reason=(
        f"its start moved from S1E27 of Trakt show {REZERO} to S1E26 after plays were posted at the old start: held"))
    row = mapping_resolve_many(medias=[s2_part1()])[S2_PART1]
    assert (row.trakt_id, row.start_season, row.start_episode, row.unmapped_reason) == (REZERO, 1, 26, "")


@pytest.mark.django_db
def test_a_manual_mapping_is_never_derived_again_when_the_season_list_brings_dates(fake_trakt, fake_anilist):
    rezero_on_trakt(fake_trakt, aired={})
    fribb_says(S2_PART1, 26)
    fake_anilist.schedules[S2_PART1] = schedule(COURS[1])
    mapping_set_manual(anilist_id=S2_PART1, trakt_id=REZERO, kind=Mapping.Type.SHOW, start_season=1, start_episode=27)
    season_list_refreshed_with_dates(fake_trakt)
    row = mapping_resolve_many(medias=[s2_part1()])[S2_PART1]
    assert (row.trakt_id, row.start_season, row.start_episode, row.source) == (REZERO, 1, 27, "manual")
    assert not fake_anilist.graphql_requests("airingSchedule")


@pytest.mark.django_db
def test_nothing_is_asked_again_when_nothing_changed_since_the_last_check(
        fake_trakt, fake_anilist, mapped_before_trakt_had_dates):
    mapping_resolve_many(medias=[s2_part1()])
    trakt_before, anilist_before = trakt_requests(fake_trakt), len(fake_anilist.requests)
    row = mapping_resolve_many(medias=[s2_part1()])[S2_PART1]
    assert (row.start_season, row.start_episode) == (1, 26)
    assert (trakt_requests(fake_trakt), len(fake_anilist.requests)) == (trakt_before, anilist_before)


@pytest.mark.django_db
def test_a_season_list_read_again_without_dates_changes_nothing(fake_trakt, fake_anilist):
    from mappings.seasons import show_seasons_store
    from syncer.connections import trakt_client

    rezero_on_trakt(fake_trakt, aired={})
    fribb_says(S2_PART1, 26)
    fake_anilist.schedules[S2_PART1] = schedule(COURS[1])
    mapping_resolve_many(medias=[s2_part1()])
    show_seasons_store(trakt_id=REZERO, seasons=trakt_client(authenticated=False).show_seasons(REZERO))
    row = mapping_resolve_many(medias=[s2_part1()])[S2_PART1]
    assert (row.start_season, row.start_episode) == (1, 27)
    assert not fake_anilist.graphql_requests("airingSchedule")


# --- a dataset that later gives the start of an entry the dates placed on its show -------------

def s3():
    return media(S3, format="TV", episodes=16)


@pytest.fixture
def placed_by_dates_on_fribbs_show(fake_trakt, fake_anilist):
    rezero_on_trakt(fake_trakt)
    FribbEntry.objects.create(anilist_id=S3, kind="TV", tmdb_tv=REZERO_TMDB)  # the show, no season yet
    fake_anilist.schedules[S3] = schedule(COURS[3])
    row = mapping_resolve_many(medias=[s3()])[S3]
    assert row.source == f"fribb tmdb {REZERO_TMDB}; start air dates S1E51"
    return row


@pytest.mark.django_db
def test_a_start_the_dates_gave_yields_to_the_dataset_once_it_gives_one(fake_trakt, placed_by_dates_on_fribbs_show):
    FribbEntry.objects.filter(anilist_id=S3).update(tmdb_season=1, tmdb_offset=50, has_season_data=True)
    before = trakt_requests(fake_trakt)
    row = mapping_resolve_many(medias=[s3()])[S3]
    assert (row.trakt_id, row.start_season, row.start_episode) == (REZERO, 1, 51)
    assert row.source == f"fribb tmdb {REZERO_TMDB}; start fribb"
    assert trakt_requests(fake_trakt) == before


@pytest.mark.django_db
def test_a_dataset_start_the_dates_correct_to_the_same_place_keeps_the_plays_flowing(
        fake_trakt, placed_by_dates_on_fribbs_show):
    SyncProgress.objects.create(anilist_id=S3, last_abs=4)
    FribbEntry.objects.filter(anilist_id=S3).update(tmdb_season=1, tmdb_offset=51, has_season_data=True)
    row = mapping_resolve_many(medias=[s3()])[S3]
    assert (row.trakt_id, row.start_season, row.start_episode, row.unmapped_reason) == (REZERO, 1, 51, "")
    assert row.source == f"fribb tmdb {REZERO_TMDB}; start fribb S1E52, corrected to S1E51 by air dates"


@pytest.mark.django_db
def test_a_dataset_start_that_moves_an_entry_with_plays_takes_it(fake_trakt, fake_anilist,
                                                                  placed_by_dates_on_fribbs_show):
    SyncProgress.objects.create(anilist_id=S3, last_abs=4)
    # The dates now say nothing (AniList's schedule is gone from the cache and from AniList),
    # so the dataset's S1E53 is taken as at a first resolution: a different start.
    from mappings.models import AiringScheduleCache

    AiringScheduleCache.objects.all().delete()
    fake_anilist.schedules.pop(S3)
    FribbEntry.objects.filter(anilist_id=S3).update(tmdb_season=1, tmdb_offset=52, has_season_data=True)
    row = mapping_resolve_many(medias=[s3()])[S3]
    assert (row.trakt_id, row.start_season, row.start_episode, row.unmapped_reason) == (REZERO, 1, 53, "")


@pytest.mark.django_db
def test_a_sequel_the_dates_placed_alone_takes_the_start_a_dataset_gives_after_plays(fake_trakt, fake_anilist):
    from mappings.models import AiringScheduleCache
    from tests.mappings.test_airdates_resolution import S2_PART2, prequel_mapped

    rezero_on_trakt(fake_trakt)
    prequel_mapped()
    fake_anilist.schedules[S3] = schedule(COURS[3])
    fake_anilist.relations[S3] = [(S2_PART2, "PREQUEL")]
    assert mapping_resolve_many(medias=[s3()])[S3].source == f"air dates S1E51 (prequel AniList {S2_PART2})"
    SyncProgress.objects.create(anilist_id=S3, last_abs=4)
    AiringScheduleCache.objects.all().delete()
    fake_anilist.schedules.pop(S3)  # the dates say nothing now: the dataset's start is taken as it is
    fribb_says(S3, 52)
    row = mapping_resolve_many(medias=[s3()])[S3]
    assert (row.trakt_id, row.start_season, row.start_episode, row.unmapped_reason) == (REZERO, 1, 53, "")


@pytest.mark.django_db
def test_new_dates_that_decide_nothing_leave_a_dataset_start_as_it_was(fake_trakt, fake_anilist):
    rezero_on_trakt(fake_trakt, aired={})
    fribb_says(S2_PART1, 25)  # AniList has no schedule for it: the dates cannot tell anything
    mapping_resolve_many(medias=[s2_part1()])
    FribbEntry.objects.all().delete()  # a dataset refresh without the row: not a reason to unmap it
    season_list_refreshed_with_dates(fake_trakt)
    row = mapping_resolve_many(medias=[s2_part1()])[S2_PART1]
    assert (row.trakt_id, row.start_season, row.start_episode, row.unmapped_reason) == (REZERO, 1, 26, "")
    assert Mapping.objects.get(pk=S2_PART1).trakt_id == REZERO


# --- a start the dates alone gave, when its show's season list is read again -----------------

S3_AIRED_SO_FAR = 5


def aired_up_to(last: int) -> dict[tuple[int, int], str]:
    return {k: v for k, v in first_aired().items() if k[1] <= last}


def season_list_read_again(fake_trakt, *, seasons: dict[int, int], aired: dict) -> None:
    """The weekly refresh of a sync: Trakt's list as it is now, read and cached."""
    from mappings.seasons import show_seasons_store
    from syncer.connections import trakt_client

    fake_trakt.shows[REZERO]["seasons"] = {n: list(range(1, count + 1)) for n, count in seasons.items()}
    fake_trakt.shows[REZERO]["aired"] = aired
    show_seasons_store(trakt_id=REZERO, seasons=trakt_client(authenticated=False).show_seasons(REZERO))


@pytest.fixture
def s3_placed_by_dates_while_airing(fake_trakt, fake_anilist):
    """Re:Zero S3 five weeks into its run: no dataset has it yet, its prequel is mapped, Trakt
    lists (and dates) the episodes aired so far."""
    from tests.mappings.test_airdates_resolution import S2_PART2, prequel_mapped

    last = 50 + S3_AIRED_SO_FAR
    fake_trakt.add_show(REZERO, title="Re:ZERO -Starting Life in Another World-", ids={"tmdb": REZERO_TMDB},
                        seasons={0: 11, 1: last}, aired=aired_up_to(last))
    prequel_mapped()
    fake_anilist.schedules[S3] = schedule(COURS[3][:S3_AIRED_SO_FAR])
    fake_anilist.relations[S3] = [(S2_PART2, "PREQUEL")]
    row = mapping_resolve_many(medias=[s3()])[S3]
    assert (row.trakt_id, row.start_season, row.start_episode) == (REZERO, 1, 51)
    assert row.source == f"air dates S1E51 (prequel AniList {S2_PART2})"
    return row


def the_rest_of_s3_aired(fake_anilist) -> None:
    """AniList's schedule has every episode now; the cached short one is a day old."""
    from datetime import timedelta

    from django.utils import timezone

    from mappings.models import AiringScheduleCache

    AiringScheduleCache.objects.filter(pk=S3).update(fetched_at=timezone.now() - timedelta(days=2))
    fake_anilist.schedules[S3] = schedule(COURS[3])


def refiled_as_its_own_season() -> dict[tuple[int, int], str]:
    """TMDB files S3 again as a season 2 of its own and keeps it in S1 too: two equal runs."""
    aired = first_aired()
    return {**aired, **{(2, n): aired[(1, 50 + n)] for n in range(1, 17)}}


def with_a_recap_before_s3() -> dict[tuple[int, int], str]:
    """TMDB inserts the recap aired the week before S3 as S1E51: S3 is S1E52-67 now."""
    from datetime import UTC, timedelta

    aired = {k: v for k, v in first_aired().items() if k[1] <= 50}
    recap = COURS[3][0] - timedelta(days=7)
    s3_days = {(1, n + 1): day for (_, n), day in first_aired().items() if n > 50}
    return {**aired, (1, 51): recap.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"), **s3_days}


@pytest.mark.django_db
def test_a_sequel_the_dates_placed_stays_put_when_its_season_list_brings_more_aired_episodes(
        fake_trakt, fake_anilist, s3_placed_by_dates_while_airing):
    the_rest_of_s3_aired(fake_anilist)
    season_list_read_again(fake_trakt, seasons={0: 11, 1: 66}, aired=first_aired())
    before = trakt_requests(fake_trakt)
    row = mapping_resolve_many(medias=[s3()])[S3]
    assert (row.trakt_id, row.start_season, row.start_episode, row.unmapped_reason) == (REZERO, 1, 51, "")
    assert row.source == s3_placed_by_dates_while_airing.source
    saved = Mapping.objects.get(pk=S3)
    assert saved.dates_checked_at > s3_placed_by_dates_while_airing.dates_checked_at  # checked, not skipped
    # The cached list, and the day-old short schedule asked once more: nothing else.
    assert trakt_requests(fake_trakt) == before
    assert len(fake_anilist.graphql_requests("airingSchedule")) == 2


@pytest.mark.django_db
def test_a_sequel_the_dates_placed_is_held_with_the_reason_when_its_run_is_no_longer_unique(
        fake_trakt, fake_anilist, s3_placed_by_dates_while_airing):
    the_rest_of_s3_aired(fake_anilist)
    season_list_read_again(fake_trakt, seasons={0: 11, 1: 66, 2: 16}, aired=refiled_as_its_own_season())
    row = mapping_resolve_many(medias=[s3()])[S3]
    assert row.trakt_id is None and row.held_trakt_id == REZERO
    assert row.unmapped_reason == (
        f"air dates no longer place it on Trakt show {REZERO}: its air dates now match several runs of Trakt "
        "episodes equally (S1E51, S2E1); map it manually")
    assert Mapping.objects.get(pk=S3).trakt_id is None


@pytest.mark.django_db
def test_a_sequel_the_dates_placed_with_plays_on_trakt_is_unmapped_when_its_start_stops_being_unique(
        fake_trakt, fake_anilist, s3_placed_by_dates_while_airing):
    SyncProgress.objects.create(anilist_id=S3, last_abs=S3_AIRED_SO_FAR)
    the_rest_of_s3_aired(fake_anilist)
    season_list_read_again(fake_trakt, seasons={0: 11, 1: 66, 2: 16}, aired=refiled_as_its_own_season())
    row = mapping_resolve_many(medias=[s3()])[S3]
    # Unmapped: nothing says where its plays belong, so the sync moves none of them.
    assert row.trakt_id is None and row.held_trakt_id == REZERO
    assert row.unmapped_reason.startswith(f"air dates no longer place it on Trakt show {REZERO}")


@pytest.mark.django_db
@pytest.mark.parametrize("posted", [0, S3_AIRED_SO_FAR])
def test_a_sequel_the_dates_place_elsewhere_now_takes_the_new_start_whether_or_not_plays_were_posted(
        fake_trakt, fake_anilist, s3_placed_by_dates_while_airing, posted):
    from tests.mappings.test_airdates_resolution import S2_PART2

    if posted:
        SyncProgress.objects.create(anilist_id=S3, last_abs=posted)
    the_rest_of_s3_aired(fake_anilist)
    season_list_read_again(fake_trakt, seasons={0: 11, 1: 67}, aired=with_a_recap_before_s3())
    row = mapping_resolve_many(medias=[s3()])[S3]
    assert (row.trakt_id, row.start_season, row.start_episode, row.unmapped_reason) == (REZERO, 1, 52, "")
    assert row.source == f"air dates S1E52 (prequel AniList {S2_PART2})"


@pytest.mark.django_db
def test_a_manual_mapping_of_a_sequel_is_never_rechecked_by_the_dates(
        fake_trakt, fake_anilist, s3_placed_by_dates_while_airing):
    mapping_set_manual(anilist_id=S3, trakt_id=REZERO, kind=Mapping.Type.SHOW, start_season=1, start_episode=51)
    asked = len(fake_anilist.graphql_requests("airingSchedule"))
    the_rest_of_s3_aired(fake_anilist)
    season_list_read_again(fake_trakt, seasons={0: 11, 1: 66, 2: 16}, aired=refiled_as_its_own_season())
    row = mapping_resolve_many(medias=[s3()])[S3]
    assert (row.trakt_id, row.start_season, row.start_episode, row.source, row.is_manual) == (
        REZERO, 1, 51, "manual", True)
    assert len(fake_anilist.graphql_requests("airingSchedule")) == asked
