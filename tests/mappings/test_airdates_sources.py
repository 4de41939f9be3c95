"""Where the dates come from: Trakt's season list (no extra request) and AniList's schedules
(batched, the first episodes only, so a long show costs what a short one does)."""

from datetime import date

import pytest

from mappings.models import TraktSeasonCache
from mappings.seasons import cached_show_seasons, trakt_show_seasons
from syncer.clients.anilist import SCHEDULE_BATCH, SCHEDULE_NODES
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
