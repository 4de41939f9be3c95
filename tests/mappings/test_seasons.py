from datetime import timedelta

import pytest
from django.utils import timezone

from mappings.models import TraktSeasonCache
from mappings.seasons import trakt_season_cache_clear, trakt_show_seasons
from syncer.http import NotFound

pytestmark = pytest.mark.django_db


def test_it_fetches_seasons_once_and_then_reads_the_cache(fake_trakt):
    fake_trakt.add_show(7, seasons={1: 3, 2: [1, 2]})
    first = trakt_show_seasons(trakt_id=7)
    second = trakt_show_seasons(trakt_id=7)
    assert first == second and [(s.number, s.episodes) for s in first] == [(1, (1, 2, 3)), (2, (1, 2))]
    assert len(fake_trakt.requests_to(r"/shows/7/seasons")) == 1


def test_it_refetches_after_the_time_to_live(fake_trakt, settings):
    settings.TRAKT_SEASON_CACHE_DAYS = 7
    fake_trakt.add_show(7, seasons={1: 3})
    trakt_show_seasons(trakt_id=7)
    TraktSeasonCache.objects.filter(trakt_id=7).update(fetched_at=timezone.now() - timedelta(days=8))
    fake_trakt.add_show(7, seasons={1: 4})
    assert trakt_show_seasons(trakt_id=7)[0].episodes == (1, 2, 3, 4)
    assert len(fake_trakt.requests_to(r"/shows/7/seasons")) == 2


def test_an_unknown_show_raises_and_caches_nothing(fake_trakt):
    with pytest.raises(NotFound):
        trakt_show_seasons(trakt_id=8)
    assert not TraktSeasonCache.objects.exists()


def test_the_cache_can_be_cleared(fake_trakt):
    fake_trakt.add_show(7)
    trakt_show_seasons(trakt_id=7)
    assert trakt_season_cache_clear(trakt_id=7) == 1
    trakt_show_seasons(trakt_id=7)
    assert len(fake_trakt.requests_to(r"/shows/7/seasons")) == 2
