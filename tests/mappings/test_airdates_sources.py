"""Where the dates come from: Trakt's season list (no extra request) and AniList's schedules
(batched, the first episodes only, so a long show costs what a short one does)."""

from datetime import date

import pytest

from mappings.models import TraktSeasonCache
from mappings.seasons import cached_show_seasons, trakt_show_seasons
from syncer.clients.anilist import (
    MAX_COMPLEXITY,
    SCHEDULE_BATCH,
    SCHEDULE_NODES,
    SCHEDULE_QUERY,
    query_complexity,
)
from syncer.clients.trakt import TraktClient
from syncer.connections import anilist_client
from tests.mappings.support import broadcasts, schedule


def test_the_season_list_brings_each_episodes_first_aired_day(fake_trakt):
    fake_trakt.add_show(7, seasons={0: 1, 1: 3}, aired={(1, 1): "2020-07-08T13:30:00.000Z",
                                                       (1, 2): "2020-07-15T13:30:00.000Z"})
    got = TraktClient().show_seasons(7)
    assert [(s.number, s.episodes, s.aired) for s in got] == [
        (0, (1,), ()),
        (1, (1, 2, 3), ((1, date(2020, 7, 8).toordinal()), (2, date(2020, 7, 15).toordinal())))]
    assert fake_trakt.requests_to(r"/shows/7/seasons")[0].query["extended"] == "full,episodes"


@pytest.mark.django_db
def test_the_season_cache_keeps_the_days_and_reads_rows_cached_before_dates(fake_trakt):
    fake_trakt.add_show(7, seasons={1: 2}, aired={(1, 1): "2020-07-08T13:30:00.000Z"})
    first = trakt_show_seasons(trakt_id=7)
    assert trakt_show_seasons(trakt_id=7) == first  # from the cache, dates included
    assert len(fake_trakt.requests_to(r"/shows/7/seasons")) == 1
    assert TraktSeasonCache.objects.get(pk=7).seasons == [
        {"number": 1, "episodes": [1, 2], "aired": [[1, date(2020, 7, 8).toordinal()]]}]
    TraktSeasonCache.objects.filter(pk=7).update(seasons=[{"number": 1, "episodes": [1, 2]}])  # an old row
    assert cached_show_seasons(trakt_ids={7})[7][0].aired == ()


@pytest.mark.django_db
def test_schedules_come_in_batches_and_a_long_show_costs_one_slot(fake_anilist):
    one_piece = broadcasts("1999-10-20", 1100)
    fake_anilist.schedules[21] = schedule(one_piece)
    for i in range(1, SCHEDULE_BATCH + 5):
        fake_anilist.schedules[1000 + i] = schedule(broadcasts("2024-01-06", 12))
    got = anilist_client().airing(media_ids=[21] + [1000 + i for i in range(1, SCHEDULE_BATCH + 5)])
    assert len(fake_anilist.graphql_requests("airingSchedule")) == 2
    assert sorted(got[21].aired) == list(range(1, SCHEDULE_NODES + 1))
    assert got[21].aired[1] == int(one_piece[0].timestamp())
    assert len(got[1001].aired) == 12


def test_an_entry_anilist_does_not_answer_for_has_no_dates_and_no_relatives(fake_anilist):
    fake_anilist.relations[5] = [(6, "SEQUEL")]
    got = anilist_client().airing(media_ids=[5, 404])
    assert (got[5].aired, got[5].related) == ({}, ((6, "SEQUEL"),))
    assert (got[404].aired, got[404].related) == ({}, ())


# AniList's `Page` serves at most 50 items: a larger batch would silently lose entries.
ANILIST_PAGE_MAX = 50


def test_the_schedule_query_of_a_full_batch_stays_within_anilists_complexity_limit():
    assert SCHEDULE_BATCH <= ANILIST_PAGE_MAX
    assert query_complexity(SCHEDULE_QUERY) == 13  # Page media id airingSchedule nodes episode airingAt ...
    assert query_complexity(SCHEDULE_QUERY) <= MAX_COMPLEXITY


@pytest.mark.parametrize("query, cost", [
    ("query { Media(id: 1) { id } }", 2),
    ("query ($ids: [Int]) { Page(page: 1, perPage: 50) { media(id_in: $ids) { id title { romaji english } } } }", 6),
    ("query { Viewer { id name mediaListOptions { scoreFormat } } }", 5),
])
def test_complexity_counts_each_selected_field_once_whatever_the_page_size(query, cost):
    assert query_complexity(query) == cost


@pytest.mark.django_db
def test_a_long_show_costs_one_slot_once_and_is_never_asked_again(fake_anilist):
    from mappings.models import AiringScheduleCache
    from mappings.services import airing_cached

    fake_anilist.schedules[21] = schedule(broadcasts("1999-10-20", 1122))  # One Piece, still airing
    others = [1000 + i for i in range(1, SCHEDULE_BATCH)]
    for i in others:
        fake_anilist.schedules[i] = schedule(broadcasts("2024-01-06", 12))
    got = airing_cached(anilist_ids=[21, *others])
    assert len(fake_anilist.graphql_requests("airingSchedule")) == 1
    assert len(got[21].aired) == SCHEDULE_NODES
    assert len(AiringScheduleCache.objects.get(pk=21).aired) == SCHEDULE_NODES
    airing_cached(anilist_ids=[21, *others])
    assert len(fake_anilist.graphql_requests("airingSchedule")) == 1


def test_a_batch_anilist_finds_too_complex_halves_until_it_passes(fake_anilist):
    from tests.fakes.server import Response

    refused, original = [], fake_anilist.handle

    def handle(request):
        ids = ((request.json() or {}).get("variables") or {}).get("ids") or []
        if len(ids) > 20:  # as if AniList weighed each entry at 25
            refused.append(len(ids))
            return Response(400, {"data": None, "errors": [
                {"message": f"Max query complexity should be 500 but got {25 * len(ids)}.", "status": 400}]})
        return original(request)

    fake_anilist.handle = handle
    ids = [1000 + i for i in range(SCHEDULE_BATCH)]
    for i in ids:
        fake_anilist.schedules[i] = schedule(broadcasts("2024-01-06", 12))
    got = anilist_client().airing(media_ids=ids)
    assert refused == [50, 25, 25]
    assert all(len(got[i].aired) == 12 for i in ids)
    assert len(fake_anilist.graphql_requests("airingSchedule")) == 7  # 50 -> 2 x 25 -> 4 x 12/13
