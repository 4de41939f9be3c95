"""A real django-q worker (`manage.py qcluster`) on the test's PostgreSQL database and the
loopback fakes, for the crash tests and `bench/bench_crash_recovery.py`.

The library: two completed shows, 24 + 12 episodes, posted in batches of 6 (six POSTs). Trakt
can be told to hold its answer to the third POST (applied, not yet answered), so the worker is
caught mid-run with a batch whose outcome it never learns.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]
# Production mode (what the worker runs in) refuses the development key.
SECRET_KEY = "crash-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
EXPECTED_PLAYS = Counter({(100, 1, n): 1 for n in range(1, 25)} | {(200, 1, n): 1 for n in range(1, 13)})


def library(anilist, trakt) -> None:
    from tests.seeds import map_show

    trakt.add_show(100, seasons={1: 24})
    trakt.add_show(200, seasons={1: 12})
    anilist.add_entry(11, 1, status="COMPLETED", progress=24, episodes=24)
    anilist.add_entry(12, 2, status="COMPLETED", progress=12)
    map_show(1, 100)
    map_show(2, 200)


def plays(trakt) -> Counter:
    return Counter((show, season, number) for show, season, number, _ in trakt.episode_plays())


def hold_third_post(trakt) -> threading.Event:
    """Trakt applies the third history POST and answers only once the returned event is set."""
    release = threading.Event()
    original = trakt.handle

    def handle(request):
        response = original(request)
        if request.method == "POST" and request.path == "/sync/history" and len(trakt.history_posts) == 3:
            release.wait(120)
        return response

    trakt.handle = handle
    return release


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """`manage.py qcluster` in its own process group, pointed at this test's database and fakes."""

    def __init__(self, *, anilist, trakt, log: Path, **env: str):
        self.log = log
        self.env = {
            **os.environ, "ENV_FILE": "/dev/null", "DATABASE_URL": database_url(),
            # Shared with the test process, which signs the tasks and encrypts the Trakt token.
            "SECRET_KEY": settings.SECRET_KEY, "TOKEN_ENCRYPTION_KEY": settings.TOKEN_ENCRYPTION_KEY,
            "ANILIST_API_URL": anilist.url, "ANILIST_ACCESS_TOKEN": anilist.token,
            "ANILIST_REQUESTS_PER_MINUTE": "1000", "TRAKT_API_URL": trakt.url, "TRAKT_AUTH_URL": trakt.url,
            "TRAKT_CLIENT_ID": trakt.client_id, "TRAKT_CLIENT_SECRET": trakt.client_secret,
            "TRAKT_BATCH_SIZE": "6", "TRAKT_WRITE_INTERVAL_SECONDS": "0.01", "SYNC_RECONCILE_DELAY_SECONDS": "0",
            "HTTP_TIMEOUT_SECONDS": "30", "HTTP_RETRY_BACKOFF_SECONDS": "0.05", "Q_WORKERS": "1",
            "CONN_MAX_AGE": "0", **env,
        }
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Worker:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=self.env,
                                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def lease_holder_pid() -> int | None:
    """The pid of the process holding the sync lease, when it is on this host."""
    from syncer.models import SyncLease

    holder = SyncLease.objects.filter(name="sync").values_list("holder", flat=True).first() or ""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    return int(pid) if host == socket.gethostname() and pid.isdigit() else None


def wait_for(condition, *, timeout: float, every: float = 0.05, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")


def time_until_accepted(start, *, timeout: float) -> tuple[float, object]:
    """Call `start()` until it returns something truthy (an accepted start); seconds it took."""
    began = time.monotonic()
    accepted = wait_for(start, timeout=timeout, every=0.1, what="a start to be accepted")
    return time.monotonic() - began, accepted
