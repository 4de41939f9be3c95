"""Benchmark of the history doctor on a large Trakt history, against the loopback fake at the
real limits.

    .venv/bin/python bench/bench_doctor.py                    # 100,000 plays, 5 % duplicates
    .venv/bin/python bench/bench_doctor.py --plays 10000      # a smaller history
    .venv/bin/python bench/bench_doctor.py --no-repair        # the preview only

A generated history: shows of 50 episodes, each episode played once (some a second time days
later: rewatches), a few movies, and then duplicates: plays of a random episode 0 to 59 s after
one of its plays (other tools posting twice) until they are `--duplicates` (5 %) of all plays. Some duplicates
are recorded as posted by this app (they must stay). The fake enforces Trakt's limits the way
Cloudflare does: more than 500 GETs within 5 minutes ban the address (HTML 429, 300 s), one POST
a second; the client pacers are set to the same. Reported: reads and writes against the minimum,
wall time against the least time the limits allow for those requests, peak memory (process RSS,
the fake's 100,000 rows included; and Python allocations traced during the preview), and the
final history checked: every duplicate but ours gone, every other play there.
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
import tracemalloc
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

T0 = datetime(2020, 1, 1, tzinfo=UTC)


def setup_django(db_path: Path) -> None:
    os.environ.update({"ENV_FILE": "/dev/null", "DATABASE_URL": f"sqlite:///{db_path}", "DEBUG": "1",
                       "LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "config.settings"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def fast_fake():
    """The fake Trakt with its whole-history read sorted once per change of the history, not on
    every page (its sort of 100,000 rows per page would measure the fake, not the app)."""
    from tests.fakes.server import Response
    from tests.fakes.trakt import FakeTrakt, _iso

    class FastTrakt(FakeTrakt):
        _sorted: tuple = (None, None)

        def _history_get(self, request, kind, trakt_id):
            if kind or request.query.get("start_at") or request.query.get("end_at"):
                return super()._history_get(request, kind, trakt_id)
            with self.lock:
                stamp = (id(self.history), len(self.history), self.history_removes and len(self.history_removes))
                if self._sorted[0] != stamp:
                    ordered = sorted(self.history, key=lambda p: (_iso(p["watched_at"]), p["id"]), reverse=True)
                    self._sorted = (stamp, ordered)
                plays = self._sorted[1]
            limit = min(int(request.query.get("limit", 10)), 250)
            page = max(int(request.query.get("page", 1)), 1)
            pages = max(1, -(-len(plays) // limit))
            rows = [self._history_row(p) for p in plays[(page - 1) * limit: page * limit]]
            return Response(200, rows, {"X-Pagination-Page": str(page), "X-Pagination-Limit": str(limit),
                                        "X-Pagination-Page-Count": str(pages),
                                        "X-Pagination-Item-Count": str(len(plays))})

    return FastTrakt()


def generate(trakt, *, plays: int, share: float, seed: int = 26) -> dict:
    """Seed the history; returns what the doctor must find."""
    from syncer.models import SyncRun, SyncRunItem

    rng = random.Random(seed)
    duplicates = int(plays * share)
    originals = plays - duplicates
    movies = originals // 50
    episodes = originals - movies
    singles: list[dict] = []
    show = 0
    while len(singles) < episodes:
        show += 1
        trakt.add_show(show, title=f"Show {show}", seasons={1: 50})
        start = T0 + timedelta(days=show)
        for number in range(1, 51):
            if len(singles) >= episodes:
                break
            at = start + timedelta(minutes=25 * number)
            if rng.random() < 0.05 and len(singles) + 1 < episodes:  # a rewatch days later: never touched
                singles.append(trakt.add_play(show=show, season=1, number=number,
                                              watched_at=iso(at + timedelta(days=rng.randint(1, 400)))))
            singles.append(trakt.add_play(show=show, season=1, number=number, watched_at=iso(at)))
    for movie in range(1, movies + 1):
        trakt.add_movie(movie, title=f"Movie {movie}")
        singles.append(trakt.add_play(movie=movie, watched_at=iso(T0 + timedelta(days=movie, hours=20))))
    ours_run = SyncRun.objects.create(mode="completed", state="succeeded")
    ours, extra = [], []
    for n, original in enumerate(rng.sample(singles, duplicates)):
        when = datetime.fromisoformat(original["watched_at"].replace("Z", "+00:00")) + timedelta(
            seconds=rng.randint(0, 59))
        target = {"movie": original["movie"]} if original["type"] == "movie" else {
            "show": original["show"], "season": 1, "number": original["number"]}
        play = trakt.add_play(**target, watched_at=iso(when))
        if n % 25 == 0:  # 4 % of the duplicates were posted by this app: they stay
            # ... unless in the very second of the original: the two cannot be told apart, and
            # one play stays there either way.
            if when != datetime.fromisoformat(original["watched_at"].replace("Z", "+00:00")):
                ours.append(play)
            extra.append(SyncRunItem(
                run=ours_run, position=len(extra), anilist_id=n, anilist_episode=1, action="post", state="posted",
                kind=original["type"], trakt_id=original.get("movie") or original["show"],
                season=None if original["type"] == "movie" else 1, number=original.get("number"), watched_at=when))
    SyncRunItem.objects.bulk_create(extra, batch_size=1000)
    return {"plays": len(trakt.history), "duplicates": duplicates, "ours": len(ours), "ours_posted": len(extra),
            "shows": show,
            "movies": movies}


def read_bound(reads: int, limit: int, period: float = 300.0) -> float:
    """The least time from the first to the last of `reads` GETs when any `period` holds at most
    `limit` of them."""
    return ((reads - 1) // limit) * period if reads > 0 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plays", type=int, default=100_000)
    parser.add_argument("--duplicates", type=float, default=0.05, help="share of the plays that are duplicates")
    parser.add_argument("--no-repair", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-doctor-"))
    setup_django(tmp / "db.sqlite3")

    import socketserver

    from django.conf import settings

    from syncer.models import SyncRun
    from syncer.sync.doctor import doctor_run
    from syncer.trakt_connection.tokens import trakt_token_save

    socketserver.StreamRequestHandler.disable_nagle_algorithm = True  # see bench_sync.py
    with fast_fake() as trakt:
        trakt.write_interval = 1.0
        trakt.read_limit, trakt.read_window, trakt.ban_seconds = 500, 300.0, 300.0
        settings.TRAKT_API_URL = settings.TRAKT_AUTH_URL = trakt.url
        settings.TRAKT_CLIENT_ID, settings.TRAKT_CLIENT_SECRET = trakt.client_id, trakt.client_secret
        settings.TRAKT_WRITE_INTERVAL_SECONDS, settings.TRAKT_READS_PER_5_MINUTES = 1.0, 500
        trakt_token_save(payload=trakt.issue_token(), username=trakt.username)
        started = time.monotonic()
        seeded = generate(trakt, plays=args.plays, share=args.duplicates)
        print(f"history: {seeded['plays']:,} plays over {seeded['shows']:,} shows and {seeded['movies']:,} movies, "
              f"{seeded['duplicates']:,} duplicates ({args.duplicates:.0%}), {seeded['ours_posted']} of them posted by this "
              f"app ({seeded['ours']} not in the original's second; seeded in {time.monotonic() - started:.0f} s)")
        before = Counter((p.get("show"), p.get("number"), p.get("movie"), p["watched_at"]) for p in trakt.history)

        mark = len(trakt.requests)
        tracemalloc.start()
        started = time.monotonic()
        preview = doctor_run(dry_run=True)
        wall = time.monotonic() - started
        _, traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        reads = sum(1 for r in trakt.requests[mark:] if r.method == "GET")
        pages = math.ceil(seeded["plays"] / 250)
        expected = seeded["duplicates"] - seeded["ours"]
        print(f"preview #{preview.pk}: {preview.state} {preview.error}; {preview.found:,} duplicates to remove "
              f"(expected {expected:,}) in {preview.doctor.get('clusters'):,} clusters; history "
              f"{preview.doctor.get('history'):,} of {preview.doctor.get('limit'):,}")
        print(f"  reads {reads} (minimum {pages}), wall {wall:.1f} s against the read limit's "
              f"{read_bound(reads, 500):.0f} s for {reads} reads (500 per 5 min); Cloudflare bans {trakt.bans}")
        print(f"  peak Python allocations traced during the preview (the fake's page bodies included): "
              f"{traced / 2**20:.0f} MB")
        if args.no_repair:
            print(f"peak memory (RSS, fake and its {seeded['plays']:,} rows included): "
                  f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
            return

        mark = len(trakt.requests)
        started = time.monotonic()
        repair = doctor_run(dry_run=False, preview_id=preview.pk)
        wall = time.monotonic() - started
        requests = trakt.requests[mark:]
        reads = sum(1 for r in requests if r.method == "GET")
        writes = sum(1 for r in requests if r.method == "POST")
        # The repair's reads come right after the preview's: one read window holds both.
        bound = read_bound(reads + pages, 500)
        print(f"repair #{repair.pk}: {repair.state} {repair.error}; removed {repair.posted:,}, gone {repair.not_found}")
        print(f"  reads {reads}, removes {writes} (minimum {math.ceil(expected / settings.TRAKT_BATCH_SIZE)}), wall "
              f"{wall:.1f} s; the limits alone: writes {max(writes - 1, 0)} s, the preview's and the repair's "
              f"{reads + pages} reads {bound:.0f} s from the preview's first read; Cloudflare bans {trakt.bans}")
        after = Counter((p.get("show"), p.get("number"), p.get("movie"), p["watched_at"]) for p in trakt.history)
        removed = before - after
        print(f"  history after: {len(trakt.history):,} plays; removed {sum(removed.values()):,}, added "
              f"{sum((after - before).values())}; removed ids sent twice: "
              f"{sum(v - 1 for v in Counter(i for ids in trakt.history_removes for i in ids).values() if v > 1)}")
        left = SyncRun.objects.get(pk=repair.pk).doctor
        print(f"  history {left.get('history'):,} -> {len(trakt.history):,} of {left.get('limit'):,}")
    print(f"peak memory (RSS, fake and its {seeded['plays']:,} rows included): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
