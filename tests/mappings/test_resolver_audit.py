"""Resolver decisions that would otherwise post wrong plays, on small hand-made source facts."""

from types import SimpleNamespace

import pytest

from mappings.models import AniBridgeRange
from mappings.placement import MappingSpec, place_episode
from mappings.resolver import Resolver, SourceFacts
from syncer.http import NotFound
from tests.mappings.support import TmdbDouble, TraktDouble, media, seasons

AOT = 1420
AOT_SEASONS = seasons(s0=range(1, 38), s1=range(1, 26), s2=range(1, 13), s3=range(1, 23), s4=range(1, 29))


def fribb(**kw):
    base = dict(tmdb_tv=None, tmdb_movies="", imdb_ids="", tvdb_id=None, tmdb_season=None, tmdb_offset=None,
                tvdb_season=None, tvdb_offset=None, has_season_data=True)
    return SimpleNamespace(**{**base, **kw})


def otaku(**kw):
    base = dict(trakt_id=None, global_media_type="", media_type="TV", tvdb_marker="", tmdb_ids="", imdb_id="",
                tvdb_id=None, tvdb_season=None, tvdb_absolute=False, anime_start=None, anime_end=None,
                global_start=None, global_end=None)
    return SimpleNamespace(**{**base, **kw})


def bridge(anilist_id, target, season, src, dst):
    start, _, end = src.partition("-")
    row = dict(anilist_id=anilist_id, target_kind="tmdb_show", target_id=str(target), season=season,
               source_start=int(start), source_end=int(end) if end else int(start), ratio=1)
    if dst is not None:
        t_start, _, t_end = dst.partition("-")
        row.update(target_start=int(t_start), target_end=int(t_end) if t_end else int(t_start))
    return AniBridgeRange(**row)


def resolver(trakt=None, layout=None):
    trakt = trakt or TraktDouble()
    layouts = {AOT: AOT_SEASONS, **(layout or {})}
    return Resolver(trakt=trakt, tmdb=TmdbDouble(), seasons=layouts.get, not_found=(NotFound,))


def placed(res, episode, layout=AOT_SEASONS):
    from mappings.placement import EpisodeRange

    spec = MappingSpec("show", res.trakt_id, res.start_season, res.start_episode,
                       ranges=tuple(EpisodeRange(r.first, r.last, r.season, r.first_episode) for r in res.ranges))
    target = place_episode(spec=spec, seasons=layout, overrides={}, episode=episode)
    return None if target is None else (target.season, target.number)


def test_an_episode_anibridge_leaves_unmapped_is_not_walked_onto_the_next_trakt_episode():
    facts = SourceFacts(anibridge=(bridge(104578, 1429, 3, "1-9", "13-21"), bridge(104578, 1429, 3, "10", None)))
    res = resolver().resolve(media(104578, format="TV", episodes=10), facts)
    assert res.unmapped_reason == "" and res.trakt_id == AOT
    assert placed(res, 1) == (3, 13) and placed(res, 9) == (3, 21)
    assert placed(res, 10) is None  # AniBridge says: no Trakt equivalent


def test_more_anilist_episodes_than_anibridge_maps_leaves_the_rest_unplaced():
    facts = SourceFacts(anibridge=(bridge(104578, 1429, 3, "1-10", "13-22"),))
    res = resolver().resolve(media(104578, format="TV", episodes=11), facts)
    assert placed(res, 10) == (3, 22) and placed(res, 11) is None


def test_a_fribb_offset_two_seasons_past_the_end_is_refused_not_counted_on():
    # Trakt S1 has 25: "S1E38" would count through S2 (12) into S3E1 -- not a split season.
    facts = SourceFacts(fribb=fribb(tmdb_tv=1429, tmdb_season=1, tmdb_offset=37))
    res = resolver().resolve(media(99147, format="TV", episodes=12), facts)
    assert res.trakt_id == AOT and res.start_season is None
    assert "fribb: S1E38 does not exist on Trakt" in res.unmapped_reason


def test_a_split_trakt_season_still_moves_the_start_into_the_next_season():
    facts = SourceFacts(fribb=fribb(tmdb_tv=1429, tmdb_season=1, tmdb_offset=25))
    res = resolver().resolve(media(20958, format="TV", episodes=12), facts)
    assert (res.start_season, res.start_episode, res.unmapped_reason) == (2, 1, "")


def test_otaku_tvdb_data_that_disagrees_with_trakts_seasons_is_unmapped_with_the_reason():
    # Only Otaku knows the start: TVDB S3 13-22, but this Trakt show's S3 has 12 episodes.
    layout = {AOT: seasons(s1=range(1, 26), s2=range(1, 13), s3=range(1, 13), s4=range(1, 11))}
    facts = SourceFacts(fribb=fribb(tmdb_tv=1429), otaku=otaku(tvdb_season=3, anime_start=1, anime_end=10,
                                                                global_start=13, global_end=22))
    res = resolver(layout=layout).resolve(media(104578, format="TV", episodes=10), facts)
    assert res.start_season is None
    assert res.unmapped_reason == "otaku (TVDB season): S3E13 does not agree with Trakt's seasons"


def test_an_anilist_movie_is_never_mapped_to_a_specials_episode():
    # The only data is a TMDB-specials range of a show: the movie stays unmapped, not S0E5.
    facts = SourceFacts(anibridge=(bridge(20691, 1429, 0, "1", "5"),))
    res = resolver().resolve(media(20691, format="MOVIE", episodes=1), facts)
    assert res.kind == "movie" and res.trakt_id is None and res.start_season is None
    assert res.unmapped_reason == "no source knows this entry"


def test_an_otaku_trakt_id_is_read_in_its_own_namespace():
    # Otaku says Trakt 1420 is a movie id; the TV entry's show is found by TMDB instead.
    trakt = TraktDouble()
    facts = SourceFacts(fribb=fribb(tmdb_tv=1429, tmdb_season=3, tmdb_offset=12),
                        otaku=otaku(trakt_id=1420, global_media_type="movie", tmdb_ids="1429"))
    facts = SourceFacts(fribb=facts.fribb, otaku=facts.otaku, anibridge=(bridge(104578, 1429, 3, "1-10", "13-22"),))
    res = resolver(trakt).resolve(media(104578, format="TV", episodes=10), facts)
    assert res.trakt_id == AOT and ("movie", 1420) not in trakt.calls
    assert ("search", "tmdb", 1429, "show") in trakt.calls


def test_an_otaku_trakt_id_trakt_cannot_check_against_tmdb_comes_after_the_tmdb_search():
    trakt = TraktDouble()
    trakt.shows[777] = {"title": "Some other listing", "year": 2019, "ids": {"trakt": 777, "slug": "other"}}
    facts = SourceFacts(fribb=fribb(tmdb_tv=1429, tmdb_season=3, tmdb_offset=12),
                        otaku=otaku(trakt_id=777, global_media_type="show"))
    res = resolver(trakt).resolve(media(104578, format="TV", episodes=10), facts)
    assert (res.trakt_id, res.start_season, res.start_episode) == (AOT, 3, 13)
    assert trakt.calls.index(("show", 777)) < trakt.calls.index(("search", "tmdb", 1429, "show"))


@pytest.mark.parametrize(("facts", "reason"), [
    (SourceFacts(), "no source knows this entry"),
    (SourceFacts(fribb=fribb(tmdb_tv=424242)), "Trakt search found nothing for tmdb 424242 (fribb)"),
])
def test_an_entry_nobody_finds_is_unmapped_with_a_reason_a_person_can_act_on(facts, reason):
    res = resolver().resolve(media(5, format="TV", episodes=12), facts)
    assert (res.trakt_id, res.unmapped_reason) == (None, reason)
