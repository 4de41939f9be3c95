"""Benchmark of the sync ledger (issue 22) at 2,000 entries / ~24,000 episodes / 100,000 rows.

    .venv/bin/python bench/bench_ledger.py                 # 2,000 entries, 100,000 ledger rows
    .venv/bin/python bench/bench_ledger.py --entries 200   # a typical library

A generated library of COMPLETED entries (1-24 episodes each) mapped manually, every one of its
episodes already on Trakt in the ledger (`posted`), plus rows of other entries (no longer on
the list) up to `--rows` in all; `--wanted` entries have their episodes wanted again (as after
an undo). The season lists are cached and the fakes run without rate limits, so what is
measured is the engine's own cost: planning a library run over the ledger (the preview, which
plans exactly what the run posts), the run that posts the wanted plays, a library run with
nothing to post, a no-op incremental run (requests and time), and memory (Python's peak
allocation during the library preview, and the process's peak RSS, fakes included).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_sync import count, generate, setup_django  # noqa: E402 - after the path is set


def fill_ledger(rows: int, wanted: int) -> tuple[int, int]:
    """Every episode of the library on Trakt, plus filler rows of entries not on the list, up to
    `rows`; the first `wanted` entries' episodes wanted again. Returns (rows, wanted rows)."""
    from mappings.models import Mapping
    from syncer.models import LedgerItem, SyncProgress

    when = datetime(2020, 1, 1, tzinfo=UTC)
    ledger, progress = [], []
    for m in Mapping.objects.order_by("anilist_id"):
        episodes = m.episodes or 0
        progress.append(SyncProgress(anilist_id=m.anilist_id, last_abs=episodes, title=m.title))
        for n in range(1, episodes + 1):
            again = m.anilist_id <= wanted
            ledger.append(LedgerItem(
                anilist_id=m.anilist_id, episode=n, title=m.title, watched_at=when,
                state="wanted" if again else "posted", reason="undone" if again else "",
                kind="" if again else "episode", trakt_id=None if again else m.trakt_id,
                season=None if again else m.start_season, number=None if again else n))
    other = 1_000_000
    while len(ledger) < rows:
        other += 1
        ledger += [LedgerItem(anilist_id=other, episode=n, title="gone", watched_at=when, state="posted",
                              kind="episode", trakt_id=other, season=1, number=n) for n in range(1, 13)]
    LedgerItem.objects.bulk_create(ledger, batch_size=2000)
    SyncProgress.objects.bulk_create(progress, batch_size=2000)
    return len(ledger), sum(1 for r in ledger if r.state == "wanted")


def timed(label: str, run_it, fakes):
    marks = {id(f): len(f.requests) for f in fakes}
    started = time.monotonic()
    run = run_it()
    wall = time.monotonic() - started
    requests = count(fakes, marks)
    print(f"{label}: {run.state} {run.error} found {run.found}, posted {run.posted}, {wall:.2f} s, "
          f"requests {sum(requests.values())} {dict(requests)}")
    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--wanted", type=int, default=200, help="entries whose plays are wanted again")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    setup_django(tmp / "db.sqlite3")

    import socketserver

    from django.conf import settings

    from mappings.models import Mapping
    from mappings.seasons import show_seasons_store
    from syncer.clients.anilist import viewer_cache_clear
    from syncer.clients.trakt import Season
    from syncer.models import SystemConfig
    from syncer.sync.services import sync_run
    from syncer.trakt_connection.tokens import trakt_token_save
    from tests.fakes.anilist import FakeAniList
    from tests.fakes.trakt import FakeTrakt

    socketserver.StreamRequestHandler.disable_nagle_algorithm = True
    with FakeAniList() as anilist, FakeTrakt() as trakt:
        settings.ANILIST_API_URL, settings.ANILIST_ACCESS_TOKEN = anilist.url, anilist.token
        settings.TRAKT_API_URL = settings.TRAKT_AUTH_URL = trakt.url
        settings.TRAKT_CLIENT_ID, settings.TRAKT_CLIENT_SECRET = trakt.client_id, trakt.client_secret
        settings.ANILIST_REQUESTS_PER_MINUTE, settings.TRAKT_WRITE_INTERVAL_SECONDS = 10_000, 0.0
        trakt.write_interval = 0.0
        trakt_token_save(payload=trakt.issue_token(), username=trakt.username)
        episodes = generate(anilist, trakt, args.entries, args.entries)
        counts = {e["mediaId"]: e["media"]["episodes"] for lst in anilist.lists for e in lst["entries"]}
        for m in Mapping.objects.all():
            m.episodes = counts[m.anilist_id]
            m.save(update_fields=["episodes"])
            show = trakt.shows[m.trakt_id]
            show_seasons_store(trakt_id=m.trakt_id, seasons=[Season(n, eps, {}) for n, eps in show["seasons"].items()])
        rows, wanted = fill_ledger(args.rows, args.wanted)
        SystemConfig.objects.create(key="lastSyncTimestamp", value=str(1_700_000_000))
        print(f"library: {args.entries} entries, {episodes} episodes; ledger {rows:,} rows, {wanted:,} wanted "
              f"({args.wanted} entries)")
        fakes = [anilist, trakt]

        tracemalloc.start()
        preview = timed("library preview (plans the run)", lambda: sync_run(mode="library", dry_run=True), fakes)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"  Python peak allocation during the preview: {peak / 2**20:.1f} MB; "
              f"post lines {preview.items.filter(action='post').count()}")
        timed("library run (posts the wanted plays)", lambda: sync_run(mode="library"), fakes)
        timed("library run with nothing to post", lambda: sync_run(mode="library"), fakes)
        viewer_cache_clear()
        timed("no-op incremental", lambda: sync_run(mode="incremental"), fakes)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS, fakes included): {peak_rss:.0f} MB")


if __name__ == "__main__":
    main()
