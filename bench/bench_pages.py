"""Server time of the dashboard and the log pages with a realistic amount of data.

    .venv/bin/python bench/bench_pages.py                       # SQLite (in-memory test DB)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres TEST_DATABASE_NAME=bench_web \\
        .venv/bin/python bench/bench_pages.py                   # PostgreSQL (a throw-away DB)

Creates a throw-away test database (never the configured one), fills it with 10,000 log lines
and 5,000 sync-progress rows (plus runs and mappings), and times each page through the whole
Django stack (middleware, view, template) with the test client: median, 95th percentile and
worst of REPEAT requests, and the queries one request makes. Goal: dashboard and the logs
partial under 100 ms.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("ENV_FILE", "/dev/null")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

REPEAT = 30
LOG_ROWS = 10_000
PROGRESS_ROWS = 5_000
GOAL_MS = 100


def fill() -> int:
    from logs.models import LogEntry
    from mappings.models import Mapping
    from syncer.models import SyncProgress, SyncRun

    now = timezone.now()
    modes = ["incremental", "completed", "watching", "show"]
    runs = SyncRun.objects.bulk_create([
        SyncRun(mode=modes[n % 4], state="succeeded", dry_run=n % 3 == 0, found=n, posted=n // 2,
                finished_at=now) for n in range(200)
    ])
    levels = ["info", "info", "info", "debug", "warn", "error"]
    LogEntry.objects.bulk_create([
        LogEntry(message=f"Synced episode {n % 24 + 1} of show {n % 900}: posted to Trakt", level=levels[n % 6],
                 logger="syncer.sync", run=runs[n % 200] if n % 2 else None)
        for n in range(LOG_ROWS)
    ], batch_size=2000)
    SyncProgress.objects.bulk_create([
        SyncProgress(anilist_id=100_000 + n, title=f"Anime title number {n}", last_abs=n % 50)
        for n in range(PROGRESS_ROWS)
    ], batch_size=2000)
    Mapping.objects.bulk_create([
        Mapping(anilist_id=100_000 + n, title=f"Anime title number {n}", source="fribb", placed_by="fribb",
                trakt_id=None if n % 50 == 0 else 10_000 + n, type="show", start_season=1, start_episode=1,
                unmapped_reason="no source knows this entry" if n % 50 == 0 else "")
        for n in range(PROGRESS_ROWS)
    ], batch_size=2000)
    return LogEntry.objects.order_by("-id").values_list("id", flat=True).first()


def measure(client: Client, path: str) -> tuple[list[float], int]:
    for _ in range(3):  # warm caches (templates, connection)
        assert client.get(path).status_code == 200, path
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    return times, len(queries)


def main() -> int:
    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        last_id = fill()
        print(f"database: {connection.vendor}; filled {LOG_ROWS:,} log lines, {PROGRESS_ROWS:,} progress rows, "
              f"{PROGRESS_ROWS:,} mappings, 200 runs in {time.perf_counter() - started:.1f} s")
        user = get_user_model().objects.create_user(username="bench", password="x" * 16, is_staff=True)
        client = Client()
        client.force_login(user)
        pages = [
            ("dashboard /", "/", True),
            ("logs partial, no new lines (the usual poll)", f"/logs/tail/?after={last_id}", True),
            ("logs partial, 50 new lines", f"/logs/tail/?after={last_id - 50}", True),
            ("logs partial, level=warn filter", f"/logs/tail/?after={last_id - 500}&level=warn", True),
            ("logs page /logs/", "/logs/", False),
            ("dashboard progress search", "/dashboard/progress/?q=number%2049&page=2", False),
            ("mappings /mappings/?status=unmapped", "/mappings/?status=unmapped", False),
        ]
        failed = False
        print(f"{'page':<46} {'median':>8} {'p95':>8} {'max':>8} {'queries':>8}")
        for label, path, has_goal in pages:
            times, queries = measure(client, path)
            p95 = sorted(times)[int(len(times) * 0.95) - 1]
            median = statistics.median(times)
            mark = ""
            if has_goal:
                ok = p95 < GOAL_MS
                failed |= not ok
                mark = "  ok" if ok else f"  OVER {GOAL_MS} ms"
            print(f"{label:<46} {median:7.1f}ms {p95:7.1f}ms {max(times):7.1f}ms {queries:>8}{mark}")
        print(f"goal: dashboard and logs partial p95 < {GOAL_MS} ms ({REPEAT} requests each)")
        return 1 if failed else 0
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
