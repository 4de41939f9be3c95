import pytest

from mappings.manual import mapping_set_manual
from mappings.models import EpisodeOverride, LegacyEpisodeOverride, Mapping
from mappings.selectors import overrides_for, unmapped_mappings
from mappings.services import (
    mapping_reset_progress,
    mapping_resolve,
    mapping_resolve_many,
    overrides_legacy_convert,
)
from syncer.models import SyncProgress
from tests.mappings.support import media, place


@pytest.mark.django_db
def test_a_manual_mapping_always_wins_and_is_never_overwritten(real_sources, resolver, trakt_double):
    mapping_set_manual(anilist_id=104578, trakt_id=1420, kind="show", start_season=3, start_episode=13, title="AoT")
    got = mapping_resolve(media=media(104578, format="TV", episodes=10), force=True, resolver=resolver)
    assert (got.is_manual, got.source, got.start_season, got.start_episode) == (True, "manual", 3, 13)
    assert trakt_double.calls == []


@pytest.mark.django_db
def test_resolving_many_reuses_saved_rows_with_one_query(real_sources, resolver, trakt_double,
                                                        django_assert_num_queries):
    medias = [media(i, format="TV", episodes=12) for i in (16498, 20958, 99147)]
    mapping_resolve_many(medias=medias, resolver=resolver)
    trakt_double.calls.clear()
    with django_assert_num_queries(1):
        again = mapping_resolve_many(medias=medias, resolver=resolver)
    assert sorted(again) == [16498, 20958, 99147] and trakt_double.calls == []


@pytest.mark.django_db
def test_unmapped_rows_are_listed_and_retried(real_sources, resolver):
    mapping_resolve(media=media(190327, format="TV", episodes=12), resolver=resolver)
    assert [m.anilist_id for m in unmapped_mappings()] == [190327]
    mapping_set_manual(anilist_id=190327, trakt_id=45537, kind="show", start_season=7)
    assert list(unmapped_mappings()) == []


@pytest.mark.django_db
def test_legacy_overrides_convert_only_where_one_mapping_owns_them(real_sources, resolver):
    for anilist_id, episodes in ((99147, 12), (104578, 10), (16498, 25)):
        mapping_resolve(media=media(anilist_id, format="TV", episodes=episodes), resolver=resolver)
    # S1 and S3 Part 1 both have an episode 11; only S3 Part 1 starts in the target's season.
    LegacyEpisodeOverride.objects.create(trakt_id=1420, abs=11, season=3, episode=11)
    LegacyEpisodeOverride.objects.create(trakt_id=1420, abs=20, season=1, episode=20)  # only S1 has 20 episodes
    LegacyEpisodeOverride.objects.create(trakt_id=1420, abs=3, season=0, episode=1)  # three entries have 3: unclear
    LegacyEpisodeOverride.objects.create(trakt_id=999, abs=1, season=1, episode=1)  # no mapping of that show
    assert overrides_legacy_convert() == {"converted": 2, "already": 0, "left": 2}
    assert overrides_for(anilist_ids=[99147, 16498]) == {99147: {11: (3, 11)}, 16498: {20: (1, 20)}}
    assert overrides_legacy_convert()["already"] == 2
    assert LegacyEpisodeOverride.objects.count() == 4  # the original's rows stay, visible in the admin


@pytest.mark.django_db
def test_overrides_are_applied_by_placement(real_sources, resolver):
    mapping = mapping_resolve(media=media(16498, format="TV", episodes=25), resolver=resolver)
    EpisodeOverride.objects.create(mapping=mapping, anilist_episode=25, season=0, episode=1)
    overrides = overrides_for(anilist_ids=[16498])[16498]
    assert place(mapping, 25, overrides=overrides) == (1420, 0, 1)
    assert place(mapping, 24, overrides=overrides) == (1420, 1, 24)


@pytest.mark.django_db
def test_resetting_sync_progress_deletes_the_rows():
    SyncProgress.objects.create(anilist_id=5, last_abs=12)
    SyncProgress.objects.create(anilist_id=6, last_abs=3)
    assert mapping_reset_progress(anilist_ids=[5]) == 1
    assert list(SyncProgress.objects.values_list("anilist_id", flat=True)) == [6]


@pytest.mark.django_db
def test_it_resolves_through_the_real_clients_against_the_loopback_fakes(fake_trakt, fake_tmdb, real_sources):
    # AoT S3 Part 2 with no Otaku Trakt id: Fribb's TMDB tv id 1429 -> Trakt search -> S3E13.
    fake_trakt.add_show(1420, title="Attack on Titan", ids={"tmdb": 1429, "tvdb": 267440},
                        seasons={0: 10, 1: 25, 2: 12, 3: 22, 4: 28})
    mapping = mapping_resolve(media=media(104578, format="TV", episodes=10))
    assert (mapping.trakt_id, mapping.start_season, mapping.start_episode) == (1420, 3, 13)
    assert mapping.source == "fribb tmdb 1429; start fribb"
    assert fake_trakt.requests_to(r"/search/tmdb/1429")
    # A movie: Otaku's Trakt movie id, confirmed on Trakt (its TMDB id agrees with Otaku's).
    fake_trakt.add_movie(224301, title="Your Name", ids={"tmdb": 372058})
    movie = mapping_resolve(media=media(21519, format="MOVIE", episodes=1))
    assert (movie.type, movie.trakt_id, movie.source) == ("movie", 224301, "otaku trakt_id")
    assert fake_trakt.requests_to(r"/movies/224301")
    fake_trakt.shows.clear()
    gone = mapping_resolve(media=media(99147, format="TV", episodes=12))
    assert gone.trakt_id is None and "Trakt search found nothing" in gone.unmapped_reason
    assert Mapping.objects.get(pk=104578).trakt_id == 1420


@pytest.mark.django_db
def test_a_trakt_outage_saves_nothing_and_the_entry_is_retried(real_sources, resolver, trakt_double, monkeypatch):
    from syncer.http import ServiceUnavailable

    def down(**kwargs):
        raise ServiceUnavailable("Trakt", 503, "down")

    monkeypatch.setattr(trakt_double, "search", down)
    got = mapping_resolve_many(medias=[media(104578, format="TV", episodes=10)], resolver=resolver)[104578]
    assert got.trakt_id is None and "try again" in got.unmapped_reason
    assert not Mapping.objects.filter(pk=104578).exists()
    monkeypatch.undo()
    assert mapping_resolve(media=media(104578, format="TV", episodes=10), resolver=resolver).trakt_id == 1420


@pytest.mark.django_db
def test_sequels_of_one_show_ask_trakt_about_that_show_once(real_sources, resolver, trakt_double):
    medias = [media(i, format="TV", episodes=n) for i, n in ((16498, 25), (20958, 12), (99147, 12), (104578, 10))]
    got = mapping_resolve_many(medias=medias, resolver=resolver)
    assert {row.trakt_id for row in got.values()} == {1420}
    asked = trakt_double.calls
    assert asked and sorted(asked) == sorted(set(asked)), asked
