"""Benchmark of a full sync against the loopback fakes enforcing the real limits.

    .venv/bin/python bench/bench_sync.py                          # 2,000 entries, ~25,000 episodes
    .venv/bin/python bench/bench_sync.py --shows 800              # the same over 800 shows (sequels)
    .venv/bin/python bench/bench_sync.py --entries 200            # a typical library
    .venv/bin/python bench/bench_sync.py --fresh                  # mappings resolved from the datasets
    .venv/bin/python bench/bench_sync.py --fresh --trakt-ids      # ... which give Trakt ids (Otaku), TMDB on
    .venv/bin/python bench/bench_sync.py --time-scale 5           # every limit's period divided by 5

Trakt's limits as they are now (issue 23) are enforced by the fake: 500 reads per 5 minutes
per address, past which Cloudflare bans it for 5 minutes (an HTML 429 to every request, writes
included), and 1 write a second. `--time-scale N` divides every period by N (5-minute windows,
the ban, the write interval; AniList's limit is multiplied by N), so a run that would take 40
minutes takes 4: the counts and the ratios are what they would be, the wall time is scaled.

A generated library of COMPLETED entries (1-24 episodes each, ~12.5 on average) over generated
Trakt shows, each entry mapped manually (the resolver is benchmarked by the mappings issue).
With `--shows N` below the entry count, entries share shows as sequels do: entry n is season
k of show n mod N. With `--fresh` nothing is mapped yet (a new install): each entry is a Fribb
dataset row naming its show's TMDB id and season, and the run resolves it through Trakt's
TMDB-id search (those reads count in the GET bound).
The fakes enforce 1 POST/s (Trakt) and 30 requests/min (AniList); the client pacers are set to
the same limits. Reported: requests per endpoint against the minimum, wall time against the
bound the limits impose for those requests, peak memory (process RSS, fakes included), and a
second no-op incremental run's requests and time.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django(db_path: Path) -> None:
    os.environ.update({"ENV_FILE": "/dev/null", "DATABASE_URL": f"sqlite:///{db_path}", "DEBUG": "1",
                       "LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "config.settings"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def generate(anilist, trakt, entries: int, shows: int, *, fresh: bool = False, tmdb=None, seed: int = 7) -> int:
    """With `tmdb` (a fake TMDB), a fresh install's datasets also carry the show's Trakt id
    (an Otaku row), which TMDB's season ids confirm without another Trakt read."""
    from mappings.models import FribbEntry, Mapping, OtakuEntry

    rng = random.Random(seed)
    rows, episodes, seasons, otaku = [], 0, {}, []
    for n in range(1, entries + 1):
        count = rng.randint(1, 24)
        episodes += count
        show, season = 10_000 + (n - 1) % shows + 1, (n - 1) // shows + 1
        seasons.setdefault(show, {})[season] = count
        anilist.add_entry(n, n, status="COMPLETED", progress=count, episodes=count,
                          updated_at=1_600_000_000 + n, completed_at={"year": 2020, "month": 1 + n % 12, "day": None})
        rows.append(FribbEntry(anilist_id=n, kind="TV", tmdb_tv=50_000 + show, tmdb_season=season) if fresh else
                    Mapping(anilist_id=n, trakt_id=show, type="show", is_manual=True, start_season=season,
                            start_episode=1, title=f"Anime {n}", source="manual"))
        if fresh and tmdb is not None:
            otaku.append(OtakuEntry(anilist_id=n, trakt_id=show, global_media_type="show", media_type="TV",
                                    tmdb_ids=str(50_000 + show)))
    for show, numbers in seasons.items():
        season_tmdb = {number: show * 100 + number for number in numbers}
        trakt.add_show(show, seasons=numbers, ids={"tmdb": 50_000 + show}, season_tmdb=season_tmdb)
        if tmdb is not None:
            tmdb.add_tv(50_000 + show, season_ids=season_tmdb)
    (FribbEntry if fresh else Mapping).objects.bulk_create(rows, batch_size=1000)
    OtakuEntry.objects.bulk_create(otaku, batch_size=1000)
    return episodes


def endpoint(request) -> str:
    if request.path == "/":
        query = (request.json() or {}).get("query") or ""
        for root in ("Viewer", "MediaListCollection", "activities", "mediaList("):
            if root in query:
                return f"AniList {root.rstrip('(')}"
        return "AniList other"
    path = re.sub(r"/\d+", "/{id}", request.path)
    return f"Trakt {request.method} {path}"


def count(fakes, since: dict) -> Counter:
    out: Counter = Counter()
    for fake in fakes:
        for request in fake.requests[since.get(id(fake), 0):]:
            out[endpoint(request)] += 1
    return out


READ_WINDOW = 300.0  # Trakt's read limit counts 5 minutes (trakt/trakt-api#909)


def window_bound(count: int, limit: int, period: float) -> float:
    """The least time from the first to the last of `count` requests when any `period` may hold
    at most `limit` of them: request k+limit comes at least `period` after request k, so the
    last one waits floor((count - 1) / limit) whole periods (2,000 reads at 1,000 per 5 minutes:
    300 s; 2,001: 600 s)."""
    return ((count - 1) // limit) * period if count > 0 else 0.0


def trakt_reads(c: Counter) -> int:
    return sum(v for k, v in c.items() if k.startswith("Trakt GET"))


def limit_bounds(c: Counter, settings, scale: float = 1.0) -> dict[str, float]:
    """The least time each limit alone needs for those requests: AniList's, Trakt's reads
    (every GET: resolution, watched list, season lists) and Trakt's writes (scaled time)."""
    anilist = sum(v for k, v in c.items() if k.startswith("AniList"))
    writes = c.get("Trakt POST /sync/history", 0)
    return {"AniList": window_bound(anilist, settings.ANILIST_REQUESTS_PER_MINUTE, 60),
            "Trakt reads": window_bound(trakt_reads(c), settings.TRAKT_READS_PER_5_MINUTES, READ_WINDOW / scale),
            "Trakt writes": max(0, writes - 1) * settings.TRAKT_WRITE_INTERVAL_SECONDS}


def bound_seconds(c: Counter, settings, scale: float = 1.0) -> float:
    """The phases one after the other (read AniList, read Trakt, then write): the bound of an
    engine that does not overlap them."""
    return sum(limit_bounds(c, settings, scale).values())


def slowest_limit_seconds(c: Counter, settings, scale: float = 1.0) -> float:
    """The slowest single limit: the bound of an engine that overlaps the phases."""
    return max(limit_bounds(c, settings, scale).values())


def one_read_per_show_seconds(c: Counter, settings, shows: int, scale: float = 1.0) -> float:
    """The goal's bound: the slowest limit had Trakt been read once per distinct show (plus the
    watched list's pages), with the same AniList reads and writes."""
    bounds = limit_bounds(c, settings, scale)
    bounds["Trakt reads"] = window_bound(shows + c.get("Trakt GET /sync/watched/shows", 0),
                                         settings.TRAKT_READS_PER_5_MINUTES, READ_WINDOW / scale)
    return max(bounds.values())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--shows", type=int, default=0, help="distinct Trakt shows (default: one per entry)")
    parser.add_argument("--fresh", action="store_true", help="no saved mappings: resolve them from a dataset")
    parser.add_argument("--trakt-ids", action="store_true",
                        help="with --fresh: the datasets also give each show's Trakt id (Otaku), a TMDB key is set")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="divide every limit's period by this (10: a 5-minute window lasts 30 s)")
    args = parser.parse_args()
    scale = args.time_scale
    shows = args.shows or args.entries
    tmp = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    setup_django(tmp / "db.sqlite3")

    # The fakes' http.server writes headers and body separately; with Nagle's algorithm on,
    # delayed ACKs add ~40 ms to every loopback request, which no real API has.
    import socketserver

    from django.conf import settings

    from syncer.clients.anilist import viewer_cache_clear
    from syncer.http import TRAKT_WINDOW_MARGIN_SECONDS, pacer
    from syncer.sync.services import sync_run
    from syncer.trakt_connection.tokens import trakt_token_save
    from tests.fakes.anilist import FakeAniList
    from tests.fakes.tmdb import FakeTmdb
    from tests.fakes.trakt import FakeTrakt

    socketserver.StreamRequestHandler.disable_nagle_algorithm = True
    with FakeAniList() as anilist, FakeTrakt() as trakt, FakeTmdb() as tmdb:
        if args.trakt_ids:
            settings.TMDB_API_URL, settings.TMDB_API_KEY = tmdb.url, tmdb.api_key
        anilist.requests_per_minute = round(30 * scale)
        trakt.write_interval = 1.0 / scale
        # Cloudflare: 500 GETs per 5 minutes, then a 5-minute ban of every request.
        trakt.read_limit, trakt.read_window, trakt.ban_seconds = 500, READ_WINDOW / scale, READ_WINDOW / scale
        settings.ANILIST_API_URL, settings.ANILIST_ACCESS_TOKEN = anilist.url, anilist.token
        settings.TRAKT_API_URL = settings.TRAKT_AUTH_URL = trakt.url
        settings.TRAKT_CLIENT_ID, settings.TRAKT_CLIENT_SECRET = trakt.client_id, trakt.client_secret
        settings.ANILIST_REQUESTS_PER_MINUTE = round(30 * scale)
        settings.TRAKT_WRITE_INTERVAL_SECONDS = 1.0 / scale
        settings.TRAKT_READS_PER_5_MINUTES = 500  # the app's default, as shipped
        pacer("trakt-read").period = (READ_WINDOW + TRAKT_WINDOW_MARGIN_SECONDS) / scale
        trakt_token_save(payload=trakt.issue_token(), username=trakt.username)
        episodes = generate(anilist, trakt, args.entries, shows, fresh=args.fresh,
                            tmdb=tmdb if args.trakt_ids else None)
        print(f"library: {args.entries} entries, {episodes} episodes, {shows} Trakt shows, "
              + (("mappings resolved from datasets giving " + ("Trakt ids (Otaku) and " if args.trakt_ids else "")
                  + "TMDB ids (fresh install)") if args.fresh else "mappings saved"))

        started = time.monotonic()
        phases: dict[str, float] = {}

        def phase(done, total, label):
            phases.setdefault(label, time.monotonic() - started)
            if label == "Reading Trakt seasons":
                phases["last season list asked for"] = time.monotonic() - started

        run = sync_run(mode="completed", progress=phase)
        wall = time.monotonic() - started
        first = count([anilist, trakt], {})
        plays = Counter((s, se, n) for s, se, n, _ in trakt.episode_plays())
        print(f"completed run: {run.state} {run.error}; posted {run.posted}, plays on Trakt {sum(plays.values())}, "
              f"duplicates {sum(v - 1 for v in plays.values())}, 429s from the fakes: "
              f"Trakt writes {trakt.write_violations}, Cloudflare bans {trakt.bans} "
              f"({trakt.refused_in_ban} requests refused during them)")
        minimum = {
            "AniList Viewer": 1,
            "AniList MediaListCollection": math.ceil(args.entries / 500),
            "Trakt GET /shows/{id}/seasons": shows,  # one per distinct show, nothing cached yet
            # one search per show, none where a dataset gives the Trakt id
            **({"Trakt GET /search/tmdb/{id}": shows} if args.fresh and not args.trakt_ids else {}),
            "Trakt GET /sync/watched/shows": 1,  # once per run with plays to post (Trakt has none yet)
            "Trakt POST /sync/history": math.ceil(episodes / settings.TRAKT_BATCH_SIZE),
        }
        for name in sorted(set(first) | set(minimum)):
            print(f"  {name:<36} {first.get(name, 0):>6}  (minimum {minimum.get(name, 0)})")
        print("  phases started at: " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()))
        reads = trakt_reads(first)
        print(f"  Trakt reads {reads} for {shows} distinct shows: {reads / shows:.2f} per show; "
              f"{math.ceil(reads / 500)} windows of 500 reads, the run spanned {wall / (READ_WINDOW / scale):.2f} "
              f"windows of 5 minutes{' (scaled)' if scale != 1 else ''}; bans {trakt.bans}")
        print("  limits alone: " + ", ".join(f"{k} {v:.1f} s" for k, v in limit_bounds(first, settings, scale).items()))
        for name, bound in (("sum of the phases", bound_seconds(first, settings, scale)),
                            ("slowest single limit", slowest_limit_seconds(first, settings, scale)),
                            ("slowest limit with one read per show",
                             one_read_per_show_seconds(first, settings, shows, scale))):
            print(f"  wall {wall:.1f} s against the {name} {bound:.1f} s: ratio "
                  f"{wall / bound if bound else float('nan'):.3f}"
                  + (f" (unscaled: {wall * scale:.0f} s against {bound * scale:.0f} s)" if scale != 1 else ""))

        marks = {id(anilist): len(anilist.requests), id(trakt): len(trakt.requests)}
        catch_up = sync_run(mode="incremental")  # first incremental: reads the list once, sets the cursor
        print(f"first incremental (cursor 0): {catch_up.state}, posted {catch_up.posted}, "
              f"requests {sum(count([anilist, trakt], marks).values())}")
        viewer_cache_clear()  # as in a new process
        marks = {id(anilist): len(anilist.requests), id(trakt): len(trakt.requests)}
        started = time.monotonic()
        noop = sync_run(mode="incremental")
        noop_wall = time.monotonic() - started
        noop_requests = count([anilist, trakt], marks)
        print(f"no-op incremental: {noop.state}, posted {noop.posted}, requests {sum(noop_requests.values())} "
              f"{dict(noop_requests)}, {noop_wall:.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS, fakes included): {peak:.0f} MB")


if __name__ == "__main__":
    main()
