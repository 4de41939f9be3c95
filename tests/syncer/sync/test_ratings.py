"""Ratings: AniList scores become Trakt ratings, only the difference is sent, a hand-set Trakt
rating stays (unless SYNC_RATINGS_OVERWRITE)."""

import pytest

from mappings.placement import MappingSpec
from syncer.clients.trakt import Season
from syncer.models import RatingSent, SyncRun
from syncer.sync.ratings import (
    KEPT,
    RATE,
    SAME,
    RatingTarget,
    Wanted,
    decide,
    holding,
    rating_target,
    trakt_rating,
)
from syncer.sync.services import sync_run
from tests.seeds import map_movie, map_show

# --- the score (pure)

# AniList answers `score(format: POINT_100)` in 0-100 whatever the user's own format; each case
# is named by the user's format and score that AniList gives as that POINT_100 value.
@pytest.mark.parametrize("point_100, rating", [
    pytest.param(85, 9, id="POINT_100 85"), pytest.param(84, 8, id="POINT_100 84"),
    pytest.param(5, 1, id="POINT_100 5"), pytest.param(100, 10, id="POINT_100 100"),
    pytest.param(85, 9, id="POINT_10_DECIMAL 8.5"), pytest.param(74, 7, id="POINT_10_DECIMAL 7.4"),
    pytest.param(1, 1, id="POINT_10_DECIMAL 0.1"),
    pytest.param(80, 8, id="POINT_10 8"), pytest.param(10, 1, id="POINT_10 1"),
    pytest.param(80, 8, id="POINT_5 4 stars"), pytest.param(20, 2, id="POINT_5 1 star"),
    pytest.param(35, 4, id="POINT_3 sad"), pytest.param(60, 6, id="POINT_3 neutral"),
    pytest.param(85, 9, id="POINT_3 happy"),
])
def test_every_anilist_score_format_rounds_half_up_to_a_trakt_rating(point_100, rating):
    assert trakt_rating(point_100) == rating


@pytest.mark.parametrize("unscored", [0, 0.0, None])
def test_an_unscored_entry_has_no_rating(unscored):
    assert trakt_rating(unscored) is None


# --- what is rated (pure)

SEQUEL_SHOW = [Season(1, tuple(range(1, 13))), Season(2, tuple(range(1, 13)))]


def test_a_movie_mapping_rates_the_movie():
    assert rating_target(MappingSpec("movie", 9), None) == RatingTarget("movie", 9)


def test_a_sequel_on_one_season_of_a_longer_show_rates_that_season():
    spec = MappingSpec("show", 5, start_season=2, start_episode=1, episodes=12)
    assert rating_target(spec, SEQUEL_SHOW) == RatingTarget("season", 5, 2)


def test_an_entry_spanning_the_whole_series_rates_the_show():
    spec = MappingSpec("show", 5, start_season=1, start_episode=1, episodes=24)
    assert rating_target(spec, SEQUEL_SHOW) == RatingTarget("show", 5)


def test_the_only_season_of_a_show_rates_the_show():
    spec = MappingSpec("show", 5, episodes=12)
    assert rating_target(spec, [Season(0, (1,)), Season(1, tuple(range(1, 13)))]) == RatingTarget("show", 5)


def test_an_entry_of_specials_only_rates_nothing():
    spec = MappingSpec("show", 5, start_season=0, start_episode=1, episodes=1)
    assert rating_target(spec, [Season(0, (1, 2)), *SEQUEL_SHOW]) is None


# --- what is sent (pure)

SEASON = RatingTarget("season", 5, 2)


def test_split_cours_on_one_trakt_item_get_the_mean_rounded_half_up():
    [d] = decide(wanted=[Wanted(1, "Part 1", SEASON, 8), Wanted(2, "Part 2", SEASON, 9)],
                 on_trakt={}, ours={}, overwrite=False)
    assert (d.rating, d.action, d.anilist_ids, d.title) == (9, RATE, (1, 2), "Part 1 + Part 2")
    assert "mean of 2 entries (8, 9)" in d.reason
    [d] = decide(wanted=[Wanted(1, "A", SEASON, 7), Wanted(2, "B", SEASON, 8), Wanted(3, "C", SEASON, 8)],
                 on_trakt={}, ours={}, overwrite=False)
    assert d.rating == 8


@pytest.mark.parametrize("on_trakt, ours, overwrite, action", [
    (None, None, False, RATE),   # not rated on Trakt
    (8, None, False, SAME),      # already the same
    (7, 7, False, RATE),         # AniList changed since we sent 7
    (5, 7, False, KEPT),         # the user changed it on Trakt: theirs
    (5, None, False, KEPT),      # rated by hand before we ever sent one
    (5, 7, True, RATE),          # ... unless overwriting is asked for
])
def test_only_a_changed_score_is_sent_and_a_hand_set_rating_stays(on_trakt, ours, overwrite, action):
    key = SEASON.key
    [d] = decide(wanted=[Wanted(1, "A", SEASON, 8)], on_trakt={key: on_trakt} if on_trakt else {},
                 ours={key: ours} if ours else {}, overwrite=overwrite)
    assert (d.action, d.rating, d.on_trakt) == (action, 8, on_trakt)


# --- runs (loopback fakes)

@pytest.fixture
def scored(db, fake_anilist, trakt_connected, settings):
    settings.SYNC_RATINGS = True
    trakt_connected.add_show(100, seasons={1: 12, 2: 12})
    trakt_connected.add_movie(300)
    map_show(1, 100, season=2)  # a sequel: season 2
    map_show(2, 100, season=1)  # the first season, unscored
    map_movie(3, 300)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=12, episodes=12, score=85)
    fake_anilist.add_entry(12, 2, status="COMPLETED", progress=12, episodes=12, score=0)  # unscored
    fake_anilist.add_entry(13, 3, status="COMPLETED", progress=1, episodes=1, score=70, fmt="MOVIE")
    return trakt_connected


def test_a_run_sends_the_ratings_once_and_a_second_run_sends_nothing(scored):
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert scored.ratings == {"season:100:2": 9, "movie:300": 7}
    assert scored.ratings_posts == [{"movies": [{"ids": {"trakt": 300}, "rating": 7}],
                                     "shows": [{"ids": {"trakt": 100}, "seasons": [{"number": 2, "rating": 9}]}]}]
    assert set(run.items.filter(action="rate").values_list("kind", "trakt_id", "season", "rating", "state")) == {
        ("season", 100, 2, 9, "posted"), ("movie", 300, None, 7, "posted")}
    assert len(scored.requests_to(r"/sync/ratings", method="GET")) == 1
    again = sync_run(mode="completed")
    assert not again.items.filter(action="rate").exists()
    assert len(scored.ratings_posts) == 1


def test_the_score_is_asked_for_in_point_100(scored, fake_anilist):
    sync_run(mode="completed")
    assert all("score(format: POINT_100)" in r.json()["query"] for r in fake_anilist.graphql_requests("MediaList"))


def test_the_preview_lists_the_ratings_and_sends_none(scored):
    preview = sync_run(mode="completed", dry_run=True)
    assert preview.items.filter(action="rate", state="planned").count() == 2
    assert scored.ratings_posts == [] and scored.ratings == {}


def test_a_rating_set_on_trakt_by_hand_is_kept_and_a_changed_score_is_sent(scored, fake_anilist, settings):
    scored.ratings["movie:300"] = 3  # the user's own rating
    RatingSent.objects.create(target="season:100:2", rating=6)
    scored.ratings["season:100:2"] = 6  # ours, from an earlier run: AniList moved to 85 since
    sync_run(mode="completed")
    assert scored.ratings == {"season:100:2": 9, "movie:300": 3}
    settings.SYNC_RATINGS_OVERWRITE = True
    sync_run(mode="completed")
    assert scored.ratings == {"season:100:2": 9, "movie:300": 7}


def test_the_watching_mode_sends_ratings_too(scored, fake_anilist):
    fake_anilist.add_entry(14, 4, status="CURRENT", progress=2, episodes=12, score=60)
    map_show(4, 100, season=1)
    sync_run(mode="watching")
    assert scored.ratings == {"season:100:1": 6}


def test_the_library_mode_rates_every_status_it_syncs(scored, fake_anilist):
    fake_anilist.add_entry(15, 5, status="DROPPED", progress=3, episodes=12, score=40)
    map_show(5, 100, season=1)
    sync_run(mode="library")
    assert scored.ratings == {"season:100:2": 9, "movie:300": 7, "season:100:1": 4}


def test_ratings_are_off_by_default(scored, settings):
    settings.SYNC_RATINGS = False
    run = sync_run(mode="completed")
    assert scored.requests_to(r"/sync/ratings") == [] and not run.items.filter(action="rate").exists()


def test_a_ratings_failure_does_not_stop_the_plays(scored):
    scored.fail(r"/sync/ratings", method="POST", status=423, times=None)
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED and run.posted == 25  # every play of the three entries
    assert run.items.filter(action="rate", state="failed").count() == 2 and run.errors == 2


# --- where the ratings show

def test_the_command_preview_lists_the_ratings(scored):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("sync", "completed", "--dry-run", stdout=out)
    assert "Anime 1 -> Trakt show 100 season 2: rate 9/10" in out.getvalue()
    assert "-> Trakt movie 300: rate 7/10" in out.getvalue()


def test_the_api_lists_rating_lines_and_the_originals_preview_leaves_them_out(scored, api, q_sync):
    run = sync_run(mode="completed", dry_run=True)
    body = api.get(f"/api/runs/{run.pk}/items?action=rate").json()
    assert {(i["kind"], i["traktId"], i["rating"]) for i in body["items"]} == {("season", 100, 9), ("movie", 300, 7)}
    preview = api.get("/api/completed-sync?preview=1").json()
    assert {i["anilistShowId"] for i in preview["items"]} == {1, 2, 3}
    assert all(i["progress"] > 0 for i in preview["items"])


def test_the_run_page_shows_rating_lines(scored, staff_client):
    run = sync_run(mode="completed")
    html = staff_client.get(f"/runs/{run.pk}/?action=rate").content.decode()
    assert "rate 9/10: Posted" in html and "season 2" in html


# --- what an undo leaves on a Trakt item (pure): only which writes are undone matters

# Run A rated 7 where Trakt had none, run B changed it to 8.
A, B = (7, 0), (8, 7)


@pytest.mark.parametrize("undone, left", [
    ((False, False), 8), ((True, False), 8), ((False, True), 7), ((True, True), 0),
])
def test_what_our_rating_writes_leave_depends_only_on_which_are_undone(undone, left):
    assert holding([(*A, undone[0]), (*B, undone[1])]) == left


def test_a_replaced_rating_that_was_not_recorded_is_not_guessed():
    assert holding([(8, None, True)]) is None
