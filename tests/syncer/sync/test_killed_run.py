"""A `manage.py sync` process killed (SIGKILL) while Trakt is applying a POST, then rerun: the
final Trakt history is the same as an uninterrupted run's, no play twice, none missing."""

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.fakes.anilist import FakeAniList
from tests.fakes.trakt import FakeTrakt

ROOT = Path(__file__).resolve().parents[3]
SEED = """
from mappings.models import Mapping
for aid, tid in ((1, 100), (2, 200)):
    Mapping.objects.create(anilist_id=aid, trakt_id=tid, type="show", is_manual=True, start_season=1,
                           start_episode=1, title=f"Anime {aid}", source="manual")
"""

KILLED_RUN = """
from logs.models import LogEntry
from syncer.models import SyncRun
run = SyncRun.objects.get(pk=1)
print(f"state={run.state}", f"logged={LogEntry.objects.filter(run_id=1, message__contains='interrupted').exists()}")
"""


def manage(env, *args, **kwargs):
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)

def subprocess_env(tmp_path, anilist, trakt) -> dict:
    """The environment of a `manage.py` child pointed at the fakes, with its own SQLite file."""
    token = trakt.issue_token()
    env = {**os.environ, "ENV_FILE": "/dev/null", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "ANILIST_API_URL": anilist.url, "ANILIST_ACCESS_TOKEN": anilist.token,
           "TRAKT_API_URL": trakt.url, "TRAKT_AUTH_URL": trakt.auth_url, "TRAKT_CLIENT_ID": trakt.client_id,
           "TRAKT_CLIENT_SECRET": trakt.client_secret, "TRAKT_ACCESS_TOKEN": token["access_token"],
           "TRAKT_REFRESH_TOKEN": token["refresh_token"], "TRAKT_BATCH_SIZE": "6",
           "TRAKT_WRITE_INTERVAL_SECONDS": "0.01", "SYNC_RECONCILE_DELAY_SECONDS": "0",
           "HTTP_TIMEOUT_SECONDS": "30", "SECRET_KEY": "kill-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"}
    env.pop("TEST_DATABASE_NAME", None)
    return env


def migrate_and_seed(env, seed: str) -> None:
    for args in (("migrate", "--noinput"), ("shell", "-c", seed)):
        out = manage(env, *args).communicate(timeout=120)[0]
        assert "Error" not in out, out


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_run_killed_mid_post_is_finished_by_the_next_run_without_duplicates(tmp_path):
    with FakeAniList() as anilist, FakeTrakt() as trakt:
        trakt.add_show(100, seasons={1: 24})
        trakt.add_show(200, seasons={1: 12})
        anilist.add_entry(11, 1, status="COMPLETED", progress=24, episodes=24)
        anilist.add_entry(12, 2, status="COMPLETED", progress=12)
        env = subprocess_env(tmp_path, anilist, trakt)
        migrate_and_seed(env, SEED)

        # Trakt applies the third POST, then hangs before answering: the process dies not knowing.
        original = trakt.handle
        def slow_after_third(request):
            response = original(request)
            if request.method == "POST" and request.path == "/sync/history" and len(trakt.history_posts) == 3:
                time.sleep(30)
            return response
        trakt.handle = slow_after_third

        victim = manage(env, "sync", "completed")
        deadline = time.monotonic() + 60
        while len(trakt.history_posts) < 3 and time.monotonic() < deadline and victim.poll() is None:
            time.sleep(0.05)
        assert len(trakt.history_posts) == 3, victim.communicate()[0]
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        assert len(trakt.episode_plays()) == 18  # three batches of six applied, the third unconfirmed

        trakt.handle = original
        out, _ = manage(env, "sync", "completed").communicate(timeout=120)
        assert re.search(r"succeeded", out), out
        # The killed run is not left "running": the second run marked it, and logged it.
        out, _ = manage(env, "shell", "-c", KILLED_RUN).communicate(timeout=120)
        assert "state=interrupted" in out and "logged=True" in out, out
        plays = Counter((show, season, number) for show, season, number, _ in trakt.episode_plays())
        assert plays == Counter({(100, 1, n): 1 for n in range(1, 25)} | {(200, 1, n): 1 for n in range(1, 13)})
        # ... each with the date an uninterrupted run gives it (the entries' updatedAt: no completedAt).
        assert {at for *_, at in trakt.episode_plays()} == {"2023-11-14T22:13:20.000Z"}
        # Only the 18 unconfirmed-or-later plays were checked; the 18 missing ones posted once.
        assert sum(len(s["episodes"]) for p in trakt.history_posts for show in p.get("shows", [])
                   for s in show["seasons"]) == 36
