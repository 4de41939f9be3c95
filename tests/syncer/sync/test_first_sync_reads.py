"""A first sync with the fewest Trakt reads (issue 23): where a dataset gives the show's Trakt id
(Otaku), the season list placement needs is the only Trakt read; TMDB, off Trakt's budget, tells
that it is the show the other datasets name. Where it cannot tell, the summary is read as before."""

from collections import Counter

import pytest

from mappings.models import FribbEntry, Mapping, OtakuEntry
from syncer.models import SyncRun
from syncer.sync.services import sync_run

pytestmark = pytest.mark.django_db


def entry_on(trakt, tmdb, anilist, n: int, *, season_tmdb_on_tmdb: int | None = None) -> None:
    """AniList entry n, season 1 of Trakt show 100+n (TMDB 5000+n); Otaku names the Trakt id, Fribb
    the TMDB show and season."""
    show, tmdb_show = 100 + n, 5000 + n
    trakt.add_show(show, seasons={1: 4}, ids={"tmdb": tmdb_show}, season_tmdb={1: 90_000 + n})
    tmdb.add_tv(tmdb_show, season_ids={1: season_tmdb_on_tmdb or 90_000 + n})
    OtakuEntry.objects.create(anilist_id=n, trakt_id=show, global_media_type="show", media_type="TV",
                              tmdb_ids=str(tmdb_show))
    FribbEntry.objects.create(anilist_id=n, kind="TV", tmdb_tv=tmdb_show, tmdb_season=1)
    anilist.add_entry(10 + n, n, status="COMPLETED", progress=4, episodes=4)


def test_a_dataset_trakt_id_costs_one_trakt_read_per_show(fake_anilist, trakt_connected, fake_tmdb):
    for n in range(1, 4):
        entry_on(trakt_connected, fake_tmdb, fake_anilist, n)
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    reads = Counter(r.path for r in trakt_connected.requests if r.method == "GET")
    assert reads == Counter({"/shows/101/seasons": 1, "/shows/102/seasons": 1, "/shows/103/seasons": 1,
                             "/sync/watched/shows": 1})
    assert set(Mapping.objects.values_list("anilist_id", "trakt_id", "start_season", "start_episode")) == {
        (1, 101, 1, 1), (2, 102, 1, 1), (3, 103, 1, 1)}
    assert len(trakt_connected.episode_plays()) == 12


def test_a_dataset_trakt_id_whose_seasons_tmdb_does_not_list_is_checked_by_its_summary(
        fake_anilist, trakt_connected, fake_tmdb):
    entry_on(trakt_connected, fake_tmdb, fake_anilist, 1, season_tmdb_on_tmdb=12345)  # TMDB lists another season
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert len(trakt_connected.requests_to(r"/shows/101")) == 1  # the summary, as before
    assert Mapping.objects.get(anilist_id=1).trakt_id == 101
