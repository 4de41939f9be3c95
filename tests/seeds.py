"""Rows a test starts from: manual mappings of an AniList entry to a Trakt show or movie, and a
Trakt history with duplicate plays for the history doctor."""

import time
from datetime import UTC, datetime

from mappings.models import Mapping

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z, the fake AniList entries' updatedAt


def map_show(anilist_id: int, trakt_id: int, *, season: int = 1, episode: int = 1, title: str = "") -> Mapping:
    return Mapping.objects.create(anilist_id=anilist_id, trakt_id=trakt_id, type="show", is_manual=True,
                                  start_season=season, start_episode=episode, title=title or f"Anime {anilist_id}",
                                  source="manual")


def map_movie(anilist_id: int, trakt_id: int, *, episodes: int = 1) -> Mapping:
    return Mapping.objects.create(anilist_id=anilist_id, trakt_id=trakt_id, type="movie", is_manual=True,
                                  episodes=episodes, title=f"Movie {anilist_id}", source="manual")


def at(seconds: int) -> str:
    """Trakt's form of T0 + `seconds`."""
    return datetime.fromtimestamp(T0 + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def seed_duplicates(trakt) -> None:
    """Show 100 ("Frieren") with three clusters of two plays (0 s, 30 s and 59 s apart), a
    rewatch of episode 1 a day later, episode 4 twice a minute apart (a rewatch too), and movie
    7 ("Your Name") twice in the same second: 11 plays, 4 of them duplicates."""
    trakt.add_show(100, title="Frieren", seasons={1: 12})
    trakt.add_movie(7, title="Your Name")
    for number, gap in ((1, 0), (2, 30), (3, 59)):
        trakt.add_play(show=100, season=1, number=number, watched_at=at(0))
        trakt.add_play(show=100, season=1, number=number, watched_at=at(gap))
    trakt.add_play(show=100, season=1, number=1, watched_at=at(86_400))
    trakt.add_play(show=100, season=1, number=4, watched_at=at(0))
    trakt.add_play(show=100, season=1, number=4, watched_at=at(60))
    trakt.add_play(movie=7, watched_at=at(100))
    trakt.add_play(movie=7, watched_at=at(100))


def three_shows_last_read_slow(fake_anilist, trakt, *, seconds: float) -> None:
    """Three completed entries of ten episodes on Trakt shows 100, 200 and 300, whose last
    season list takes `seconds` to answer: a run posts the first shows (in batches of 5, the
    caller's setting) while it still reads the last one."""
    for n in (1, 2, 3):
        trakt.add_show(100 * n, seasons={1: 10})
        map_show(n, 100 * n)
        fake_anilist.add_entry(10 + n, n, status="COMPLETED", progress=10, episodes=10)
    answer = trakt.handle

    def slow_last_read(request):
        if request.path == "/shows/300/seasons":
            time.sleep(seconds)
        return answer(request)

    trakt.handle = slow_last_read
