"""A `manage.py sync` process killed (SIGKILL) while it posts one show and still reads the
season list of the next (or, on a fresh install, still resolves the next entry), then rerun:
every play on Trakt once, none missing."""

import signal
import sys
import threading
import time
from collections import Counter

import pytest

from tests.fakes.anilist import FakeAniList
from tests.fakes.trakt import FakeTrakt
from tests.syncer.sync.test_killed_run import KILLED_RUN, manage, migrate_and_seed, subprocess_env

SEED = """
from mappings.models import Mapping
for aid, tid in ((1, 100), (2, 200), (3, 300)):
    Mapping.objects.create(anilist_id=aid, trakt_id=tid, type="show", is_manual=True, start_season=1,
                           start_episode=1, title=f"Anime {aid}", source="manual")
"""
FRESH_SEED = """
from mappings.models import FribbEntry
for aid, tid in ((1, 100), (2, 200), (3, 300)):
    FribbEntry.objects.create(anilist_id=aid, kind="TV", tmdb_tv=50_000 + tid, tmdb_season=1)
"""
EXPECTED = Counter({(100, 1, n): 1 for n in range(1, 25)} | {(200, 1, n): 1 for n in range(1, 13)}
                   | {(300, 1, n): 1 for n in range(1, 13)})


def kill_with_a_read_and_a_post_in_flight_then_rerun(tmp_path, *, seed: str, held_read: str, ids) -> None:
    """Three shows; `held_read` (a GET of the run) is held back while Trakt applies the third
    POST (show 100's third batch) and hangs before answering: the process is SIGKILLed with a
    read and a POST in flight. The next run must leave every play on Trakt once."""
    with FakeAniList() as anilist, FakeTrakt() as trakt:
        for show, episodes in ((100, 24), (200, 12), (300, 12)):
            trakt.add_show(show, seasons={1: episodes}, **ids(show))
        anilist.add_entry(11, 1, status="COMPLETED", progress=24, episodes=24)
        anilist.add_entry(12, 2, status="COMPLETED", progress=12)
        anilist.add_entry(13, 3, status="COMPLETED", progress=12)
        env = subprocess_env(tmp_path, anilist, trakt)
        migrate_and_seed(env, seed)

        original, reading = trakt.handle, threading.Event()

        def hold(request):
            if request.path == held_read:
                reading.set()
                time.sleep(30)
            response = original(request)
            if request.method == "POST" and request.path == "/sync/history" and len(trakt.history_posts) == 3:
                time.sleep(30)
            return response

        trakt.handle = hold
        victim = manage(env, "sync", "completed")
        deadline = time.monotonic() + 60
        while (len(trakt.history_posts) < 3 or not reading.is_set()) and time.monotonic() < deadline \
                and victim.poll() is None:
            time.sleep(0.05)
        assert len(trakt.history_posts) == 3 and reading.is_set(), victim.communicate()[0]
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        assert len(trakt.episode_plays()) == 18  # three batches of six applied, the third unconfirmed

        trakt.handle = original
        out, _ = manage(env, "sync", "completed").communicate(timeout=120)
        assert "succeeded" in out, out
        out, _ = manage(env, "shell", "-c", KILLED_RUN).communicate(timeout=120)
        assert "state=interrupted" in out and "logged=True" in out, out
        plays = Counter((show, season, number) for show, season, number, _ in trakt.episode_plays())
        assert plays == EXPECTED


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_run_killed_while_reading_and_posting_is_finished_by_the_next_run_without_duplicates(tmp_path):
    # Show 300's season list is the read held back.
    kill_with_a_read_and_a_post_in_flight_then_rerun(tmp_path, seed=SEED, held_read="/shows/300/seasons",
                                                     ids=lambda show: {})


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_fresh_install_killed_while_resolving_reading_and_posting_is_finished_by_the_next_run(tmp_path):
    # Entry 3's mapping is still being resolved: its TMDB-id search is the read held back.
    kill_with_a_read_and_a_post_in_flight_then_rerun(tmp_path, seed=FRESH_SEED, held_read="/search/tmdb/50300",
                                                     ids=lambda show: {"ids": {"tmdb": 50_000 + show}})
