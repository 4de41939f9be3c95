"""Benchmark of a full sync against the loopback fakes enforcing the real limits.

    .venv/bin/python bench/bench_sync.py                # 2,000 entries, ~25,000 episodes
    .venv/bin/python bench/bench_sync.py --entries 200  # a scaled-down run

A generated library of COMPLETED entries (1-26 episodes each, ~12.5 on average) over generated
Trakt shows, each entry mapped manually (the resolver is benchmarked by the mappings issue).
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


def generate(anilist, trakt, entries: int, seed: int = 7) -> int:
    from mappings.models import Mapping

    rng = random.Random(seed)
    rows, episodes = [], 0
    for n in range(1, entries + 1):
        count = rng.randint(1, 24)
        episodes += count
        trakt.add_show(10_000 + n, seasons={1: count})
        anilist.add_entry(n, n, status="COMPLETED", progress=count, episodes=count,
                          updated_at=1_600_000_000 + n, completed_at={"year": 2020, "month": 1 + n % 12, "day": None})
        rows.append(Mapping(anilist_id=n, trakt_id=10_000 + n, type="show", is_manual=True, start_season=1,
                            start_episode=1, title=f"Anime {n}", source="manual"))
    Mapping.objects.bulk_create(rows, batch_size=1000)
    return episodes


def endpoint(request) -> str:
    if request.path == "/":
        query = (request.json() or {}).get("query") or ""
        for root in ("Viewer", "MediaListCollection", "activities", "mediaList("):
            if root in query:
                return f"AniList {root.rstrip('(')}"
        return "AniList other"
    path = request.path
    if path.startswith("/shows/"):
        path = "/shows/{id}/seasons"
    return f"Trakt {request.method} {path}"


def count(fakes, since: dict) -> Counter:
    out: Counter = Counter()
    for fake in fakes:
        for request in fake.requests[since.get(id(fake), 0):]:
            out[endpoint(request)] += 1
    return out


def window_bound(count: int, limit: int, period: float) -> float:
    """The least time from the first to the last of `count` requests when any `period` may hold
    at most `limit` of them: request k+limit comes at least `period` after request k, so the
    last one waits floor((count - 1) / limit) whole periods (2,000 reads at 1,000 per 5 minutes:
    300 s; 2,001: 600 s)."""
    return ((count - 1) // limit) * period if count > 0 else 0.0


def bound_seconds(c: Counter, settings) -> float:
    """The least time those requests can take under the limits, phase after phase as the
    engine runs them (read AniList, read Trakt while planning, then write)."""
    anilist = sum(v for k, v in c.items() if k.startswith("AniList"))
    reads = sum(v for k, v in c.items() if k.startswith("Trakt GET"))
    writes = c.get("Trakt POST /sync/history", 0)
    return (window_bound(anilist, settings.ANILIST_REQUESTS_PER_MINUTE, 60)
            + window_bound(reads, settings.TRAKT_READS_PER_5_MINUTES, 300)
            + max(0, writes - 1) * settings.TRAKT_WRITE_INTERVAL_SECONDS)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=2000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    setup_django(tmp / "db.sqlite3")

    # The fakes' http.server writes headers and body separately; with Nagle's algorithm on,
    # delayed ACKs add ~40 ms to every loopback request, which no real API has.
    import socketserver

    from django.conf import settings

    from syncer.clients.anilist import viewer_cache_clear
    from syncer.sync.services import sync_run
    from syncer.trakt_auth import trakt_token_save
    from tests.fakes.trakt import FakeTrakt
    from tests.sync.fakes import SyncFakeAniList

    socketserver.StreamRequestHandler.disable_nagle_algorithm = True
    with SyncFakeAniList() as anilist, FakeTrakt() as trakt:
        anilist.rate_limit = 30
        trakt.write_interval = 1.0
        settings.ANILIST_API_URL, settings.ANILIST_ACCESS_TOKEN = anilist.url, anilist.token
        settings.TRAKT_API_URL = settings.TRAKT_AUTH_URL = trakt.url
        settings.TRAKT_CLIENT_ID, settings.TRAKT_CLIENT_SECRET = trakt.client_id, trakt.client_secret
        settings.ANILIST_REQUESTS_PER_MINUTE, settings.TRAKT_WRITE_INTERVAL_SECONDS = 30, 1.0
        trakt_token_save(payload=trakt.issue_token(), username=trakt.username)
        episodes = generate(anilist, trakt, args.entries)
        print(f"library: {args.entries} entries, {episodes} episodes, {args.entries} Trakt shows")

        started = time.monotonic()
        phases: dict[str, float] = {}

        def phase(done, total, label):
            phases.setdefault(label, time.monotonic() - started)

        run = sync_run(mode="completed", progress=phase)
        wall = time.monotonic() - started
        first = count([anilist, trakt], {})
        plays = Counter((s, se, n) for s, se, n, _ in trakt.episode_plays())
        print(f"completed run: {run.state} {run.error}; posted {run.posted}, plays on Trakt {sum(plays.values())}, "
              f"duplicates {sum(v - 1 for v in plays.values())}, 429s from the fakes: "
              f"Trakt writes {trakt.write_violations}")
        minimum = {
            "AniList Viewer": 1,
            "AniList MediaListCollection": math.ceil(args.entries / 500),
            "Trakt GET /shows/{id}/seasons": args.entries,  # one per show, nothing cached yet
            "Trakt GET /sync/watched/shows": 1,  # once per run with plays to post (Trakt has none yet)
            "Trakt POST /sync/history": math.ceil(episodes / settings.TRAKT_BATCH_SIZE),
        }
        for name in sorted(set(first) | set(minimum)):
            print(f"  {name:<36} {first.get(name, 0):>6}  (minimum {minimum.get(name, 0)})")
        print("  phases started at: " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()))
        bound = bound_seconds(first, settings)
        print(f"  wall {wall:.1f} s, rate-limit bound {bound:.1f} s, ratio {wall / bound if bound else float('nan'):.2f}")

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
