"""Rows adopted from the original app's `mappings` table: a Trakt id and type, never a season.

The original worked the season out when it posted; the rewrite keeps the Trakt id and finds the
start from the same sources as for a new entry, and never places such a row at S1E1 by default.
"""

import pytest

from mappings.models import Mapping
from mappings.selectors import mapping_spec, unmapped_mappings
from mappings.services import mapping_resolve, mapping_resolve_many
from syncer.http import ServiceUnavailable
from tests.mappings.support import media, place, resolver_for

AOT = 1420


def adopt(anilist_id: int, trakt_id: int | None, kind: str | None, **extra) -> Mapping:
    """A row as the original app left it: no start, no source, no episode count."""
    return Mapping.objects.create(anilist_id=anilist_id, trakt_id=trakt_id, type=kind, **extra)


@pytest.mark.django_db
def test_an_adopted_row_is_never_placed_at_s1e1_by_default():
    row = adopt(104578, AOT, "show", tmdb_id=1429)
    assert mapping_spec(row) is None
    assert mapping_spec(adopt(5, 77, None)) is None  # show or movie namespace unknown


@pytest.mark.django_db
def test_an_adopted_sequel_cour_keeps_its_trakt_id_and_gets_its_start_from_the_sources(real_sources, resolver):
    adopt(104578, AOT, "show", tmdb_id=1429)
    row = mapping_resolve(media=media(104578, format="TV", episodes=10), resolver=resolver)
    assert (row.trakt_id, row.start_season, row.start_episode) == (AOT, 3, 13)
    assert row.source.startswith("original app trakt_id; start ") and row.episodes == 10
    assert place(row, 1) == (AOT, 3, 13) and place(row, 10) == (AOT, 3, 22) and place(row, 11) is None


@pytest.mark.django_db
def test_an_adopted_first_season_starts_at_s1e1_because_a_source_says_so(real_sources, resolver):
    adopt(16498, AOT, "show", tmdb_id=1429)
    row = mapping_resolve(media=media(16498, format="TV", episodes=25), resolver=resolver)
    assert (row.trakt_id, row.start_season, row.start_episode, row.unmapped_reason) == (AOT, 1, 1, "")
    assert "start " in row.source and place(row, 25) == (AOT, 1, 25)


@pytest.mark.django_db
def test_an_adopted_movie_is_kept_as_it_is_and_learns_its_episode_count(real_sources, resolver, trakt_double):
    adopt(21519, 224301, "movie", tmdb_id=372058)
    row = mapping_resolve(media=media(21519, format="MOVIE", episodes=1), resolver=resolver)
    assert (row.trakt_id, row.type, row.episodes) == (224301, "movie", 1)
    assert place(row, 1) == ("movie", 224301) and trakt_double.calls == []


@pytest.mark.django_db
def test_an_adopted_show_no_source_places_is_unmapped_with_its_id_kept_and_retried(real_sources, resolver,
                                                                                   trakt_double):
    adopt(190327, 1420, "show")
    row = mapping_resolve(media=media(190327, format="TV", episodes=12), resolver=resolver)
    assert (row.trakt_id, row.held_trakt_id, row.start_season) == (None, AOT, None)
    assert "original app's mapping to Trakt show 1420 has no start season/episode" in row.unmapped_reason
    assert "map it manually" in row.unmapped_reason
    assert [m.anilist_id for m in unmapped_mappings()] == [190327] and mapping_spec(row) is None
    trakt_double.calls.clear()
    again = mapping_resolve(media=media(190327, format="TV", episodes=12), resolver=resolver_for(trakt_double))
    assert ("show", 1420) in trakt_double.calls  # the next run tries the kept id again, not forgotten
    assert (again.trakt_id, again.held_trakt_id) == (None, AOT)


@pytest.mark.django_db
def test_an_adopted_manual_row_keeps_its_id_and_flag_and_only_gains_a_start(real_sources, resolver):
    adopt(104578, AOT, "show", is_manual=True)
    row = mapping_resolve(media=media(104578, format="TV", episodes=10), resolver=resolver)
    assert (row.is_manual, row.trakt_id, row.start_season, row.start_episode) == (True, AOT, 3, 13)
    again = mapping_resolve(media=media(104578, format="TV", episodes=10), force=True, resolver=resolver)
    assert (again.is_manual, again.trakt_id, again.start_season, again.start_episode) == (True, AOT, 3, 13)


@pytest.mark.django_db
def test_an_adopted_manual_row_is_never_replaced_by_the_sources_choice(real_sources, resolver):
    # The person chose Trakt show 30857 for AoT S3 Part 2; the sources' season data is for TMDB
    # 1429, not that show, so no start is found: unmapped, the person's id kept and still manual.
    adopt(104578, 30857, "show", is_manual=True)
    row = mapping_resolve(media=media(104578, format="TV", episodes=10), resolver=resolver)
    assert (row.is_manual, row.trakt_id, row.held_trakt_id) == (True, None, 30857)
    assert "manual mapping to Trakt show 30857" in row.unmapped_reason


@pytest.mark.django_db
def test_an_adopted_id_that_is_gone_from_trakt_is_resolved_like_a_new_entry(real_sources, resolver):
    adopt(104578, 99999999, "show")
    row = mapping_resolve(media=media(104578, format="TV", episodes=10), resolver=resolver)
    assert (row.trakt_id, row.start_season, row.start_episode) == (AOT, 3, 13)
    assert not row.source.startswith("original app")


@pytest.mark.django_db
def test_an_adopted_show_id_for_an_anilist_movie_is_replaced_by_the_trakt_movie(real_sources, resolver):
    adopt(21519, AOT, "show")  # the original filed the movie as a show's special
    row = mapping_resolve(media=media(21519, format="MOVIE", episodes=1), resolver=resolver)
    assert (row.type, row.trakt_id, row.start_season) == ("movie", 224301, None)


@pytest.mark.django_db
def test_an_adopted_row_is_not_placed_while_trakt_is_down(real_sources, resolver, trakt_double, monkeypatch):
    adopt(104578, AOT, "show")

    def down(trakt_id):
        raise ServiceUnavailable("Trakt", 503, "down")

    monkeypatch.setattr(trakt_double, "show", down)
    rows = mapping_resolve_many(medias=[media(104578, format="TV", episodes=10)], resolver=resolver)
    assert mapping_spec(rows[104578]) is None and "try again later" in rows[104578].unmapped_reason
    saved = Mapping.objects.get(pk=104578)
    assert (saved.trakt_id, saved.start_season, saved.source) == (AOT, None, "")  # completed next time
