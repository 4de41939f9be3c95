import pytest

from mappings.models import Mapping
from tests.fakes.fixtures import point_at_anilist
from tests.sync.fakes import SyncFakeAniList


@pytest.fixture
def anilist(settings):
    with SyncFakeAniList() as fake:
        point_at_anilist(settings, fake)
        yield fake


@pytest.fixture
def trakt(trakt_connected, settings):
    settings.SYNC_RECONCILE_DELAY_SECONDS = 0
    settings.TRAKT_BATCH_SIZE = 100
    return trakt_connected


def map_show(anilist_id: int, trakt_id: int, *, season: int = 1, episode: int = 1, title: str = "") -> Mapping:
    return Mapping.objects.create(anilist_id=anilist_id, trakt_id=trakt_id, type="show", is_manual=True,
                                  start_season=season, start_episode=episode, title=title or f"Anime {anilist_id}",
                                  source="manual")


def map_movie(anilist_id: int, trakt_id: int, *, episodes: int = 1) -> Mapping:
    return Mapping.objects.create(anilist_id=anilist_id, trakt_id=trakt_id, type="movie", is_manual=True,
                                  episodes=episodes, title=f"Movie {anilist_id}", source="manual")
