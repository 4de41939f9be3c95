"""What the air-date check costs: AniList requests for the schedules, Trakt requests with and
without it, for a library resolved from scratch against the loopback fakes.

    .venv/bin/python bench/bench_airdates.py                # 2,000 entries
    .venv/bin/python bench/bench_airdates.py --entries 200

A generated library: 70 % TV seasons a dataset (Fribb) places (one in ten a week off, which
the dates correct), 20 % movies, 10 % sequels no dataset knows whose prequel is mapped. Every
Trakt show dates its episodes. The library is resolved twice from an empty mapping table, once
with AIRDATES_ENABLED off and once on, then once more (what a later run costs), then once more
after every show's season list was read again (the weekly refresh: every placement is checked
again). Last, 100 long-running shows (1,100 aired episodes each, One Piece's length) ask for
their schedules.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_sync import setup_django, window_bound  # noqa: E402


def generate(anilist, trakt, entries: int, seed: int = 11):
    from mappings.models import FribbEntry
    from syncer.clients.anilist import AniListMedia, FuzzyDate

    rng = random.Random(seed)
    medias, prequels, fribb = [], [], []
    for n in range(1, entries + 1):
        roll = rng.random()
        fmt = "MOVIE" if roll < 0.2 else "TV"
        count = 1 if fmt == "MOVIE" else rng.randint(10, 26)
        medias.append(AniListMedia(id=n, id_mal=None, format=fmt, episodes=count, title_romaji=f"Anime {n}",
                                   title_english=None, title_native=None, start_date=FuzzyDate(), season_year=None))
        if fmt == "MOVIE":
            trakt.add_movie(50_000 + n, ids={"tmdb": 50_000 + n})
            fribb.append(FribbEntry(anilist_id=n, kind="MOVIE", tmdb_movies=str(50_000 + n)))
            continue
        first = datetime(2000, 1, 1, 14, tzinfo=UTC) + timedelta(days=rng.randint(0, 8000))
        lead = rng.randint(0, 24)  # the earlier seasons on the same Trakt season (Re:Zero-like)
        times = [first + timedelta(weeks=k) for k in range(lead)] + [
            first + timedelta(weeks=lead, days=90 + 7 * k) for k in range(count)]
        trakt.add_show(10_000 + n, seasons={1: lead + count}, ids={"tmdb": 10_000 + n},
                       aired={(1, k + 1): t.strftime("%Y-%m-%dT%H:%M:%S.000Z") for k, t in enumerate(times)})
        anilist.schedules[n] = {k + 1: int(t.timestamp()) for k, t in enumerate(times[lead:])}
        if roll < 0.3 and lead:  # a sequel no dataset knows; its prequel (mapped) is another entry
            prequels.append((n, lead))
            continue
        offset = lead + (1 if rng.random() < 0.1 else 0)
        fribb.append(FribbEntry(anilist_id=n, kind="TV", tmdb_tv=10_000 + n, tmdb_season=1, tmdb_offset=offset,
                                has_season_data=True))
    FribbEntry.objects.bulk_create(fribb, batch_size=1000)
    return medias, prequels


def seed_prequels(anilist, trakt, prequels):
    """The prequels, mapped and synced before: their show's season list is in the cache, as the
    sync that posted their plays left it (read through the client, so it counts as before)."""
    from mappings.models import Mapping
    from mappings.seasons import trakt_show_seasons

    for n, _lead in prequels:
        Mapping.objects.create(anilist_id=100_000 + n, type="show", trakt_id=10_000 + n, start_season=1,
                               start_episode=1, title=f"Prequel of {n}", source="fribb; start fribb")
        anilist.relations[n] = [(100_000 + n, "PREQUEL")]
        trakt_show_seasons(trakt_id=10_000 + n)


def counted(fakes, marks) -> Counter:
    out: Counter = Counter()
    for fake in fakes:
        for request in fake.requests[marks.get(id(fake), 0):]:
            if request.path == "/":
                query = (request.json() or {}).get("query") or ""
                out["AniList airingSchedule" if "airingSchedule" in query else "AniList other"] += 1
            else:
                path = "/shows/{id}/seasons" if request.path.endswith("/seasons") else request.path.rsplit("/", 1)[0]
                out[f"Trakt {request.method} {path}"] += 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=2000)
    args = parser.parse_args()
    setup_django(Path(tempfile.mkdtemp(prefix="bench-airdates-")) / "db.sqlite3")

    import socketserver

    from django.conf import settings
    from django.utils import timezone

    from mappings.models import AiringScheduleCache, Mapping, TraktSeasonCache
    from mappings.services import mapping_resolve_many
    from tests.fakes.anilist import FakeAniList
    from tests.fakes.trakt import FakeTrakt

    socketserver.StreamRequestHandler.disable_nagle_algorithm = True
    # With air dates off, the sequels no dataset knows are unmapped on purpose: their warnings
    # (one line each) would bury the figures.
    logging.getLogger("mappings.resolver").setLevel(logging.ERROR)
    with FakeAniList() as anilist, FakeTrakt() as trakt:
        settings.ANILIST_API_URL, settings.ANILIST_ACCESS_TOKEN = anilist.url, anilist.token
        settings.TRAKT_API_URL = settings.TRAKT_AUTH_URL = trakt.url
        settings.TRAKT_CLIENT_ID, settings.TRAKT_CLIENT_SECRET = trakt.client_id, trakt.client_secret
        # Counted here, not paced: the bounds the real limits impose are computed from the counts.
        settings.ANILIST_REQUESTS_PER_MINUTE, settings.TRAKT_READS_PER_5_MINUTES = 100_000, 1_000_000
        medias, prequels = generate(anilist, trakt, args.entries)
        print(f"library: {args.entries} entries ({sum(m.format == 'MOVIE' for m in medias)} movies, "
              f"{len(prequels)} sequels no dataset knows)")
        results = {}
        for enabled in (False, True):
            Mapping.objects.all().delete()
            TraktSeasonCache.objects.all().delete()
            AiringScheduleCache.objects.all().delete()
            seed_prequels(anilist, trakt, prequels)
            settings.AIRDATES_ENABLED = enabled
            marks = {id(anilist): len(anilist.requests), id(trakt): len(trakt.requests)}
            started = time.monotonic()
            rows = mapping_resolve_many(medias=medias)
            wall = time.monotonic() - started
            results[enabled] = counted([anilist, trakt], marks)
            mapped = sum(1 for r in rows.values() if r.trakt_id is not None)
            by_dates = sum(1 for r in rows.values() if r.placed_by_dates)
            held = sum(1 for r in rows.values() if "air dates" in r.unmapped_reason)
            print(f"air dates {'on ' if enabled else 'off'}: mapped {mapped}, placed/corrected by dates {by_dates}, "
                  f"held by dates {held}, {wall:.1f} s")
            for name, n in sorted(results[enabled].items()):
                print(f"  {name:<36} {n:>6}")
        schedules = results[True]["AniList airingSchedule"]
        trakt_off, trakt_on = (sum(v for k, v in results[e].items() if k.startswith("Trakt")) for e in (False, True))
        print(f"AniList schedule requests: {schedules}, at 30/min at least {window_bound(schedules, 30, 60):.0f} s; "
              f"Trakt requests off {trakt_off}, on {trakt_on} (at 1,000 reads per 5 minutes at least "
              f"{window_bound(trakt_off, 1000, 300):.0f} s / {window_bound(trakt_on, 1000, 300):.0f} s)")
        marks = {id(anilist): len(anilist.requests), id(trakt): len(trakt.requests)}
        mapping_resolve_many(medias=medias)
        print(f"a later run (mapped rows kept, unmapped ones retried): {dict(counted([anilist, trakt], marks))}")
        refreshed = timezone.now()
        TraktSeasonCache.objects.update(fetched_at=refreshed)  # every list read again this week
        marks = {id(anilist): len(anilist.requests), id(trakt): len(trakt.requests)}
        started = time.monotonic()
        rows = mapping_resolve_many(medias=medias)
        checked = Mapping.objects.filter(dates_checked_at__gt=refreshed).count()
        moved = sum(1 for r in rows.values() if r.unmapped_reason)
        print(f"after the weekly season refresh ({checked} placements checked again, {moved} unmapped or held, "
              f"{time.monotonic() - started:.1f} s): {dict(counted([anilist, trakt], marks))}")
        long_shows(anilist)


def long_shows(anilist) -> None:
    """Schedules of shows as long as One Piece cost what short ones do: the first episodes only."""
    from mappings.services import airing_cached

    first = datetime(1999, 10, 20, 1, tzinfo=UTC)
    ids = [900_000 + n for n in range(100)]
    for anilist_id in ids:
        anilist.schedules[anilist_id] = {k + 1: int((first + timedelta(weeks=k)).timestamp()) for k in range(1100)}
    mark = len(anilist.requests)
    airing_cached(anilist_ids=ids)
    asked = len(anilist.requests) - mark
    airing_cached(anilist_ids=ids)
    print(f"100 shows of 1,100 aired episodes: {asked} schedule requests, "
          f"then {len(anilist.requests) - mark - asked} (cached)")


if __name__ == "__main__":
    main()
