"""How soon a new sync is accepted after the worker running one dies (issue 12).

    .venv/bin/python bench/bench_crash_recovery.py            # both scenarios, default settings
    .venv/bin/python bench/bench_crash_recovery.py --only kill

A real worker (`manage.py qcluster`, default SYNC_LEASE_SECONDS) runs a completed sync against
the loopback fakes (36 episodes, batches of 6); Trakt holds its answer to the third POST. Then:

- kill: the worker process running the sync gets SIGKILL (it was on this host);
- stop: it gets SIGSTOP, so its process exists but says nothing, as a worker on another host
  that died, or one cut off from the database, looks from here.

From that moment the Sync page's start (POST /sync/start/) is tried every 0.1 s; reported: the
seconds until it was accepted, the killed run's state, and whether the next run left every play
on Trakt exactly once. A throwaway SQLite database per scenario (its path is in the report).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django(db_path: Path) -> None:
    from tests.syncer.sync.worker import SECRET_KEY

    os.environ.update({"ENV_FILE": "/dev/null", "DATABASE_URL": f"sqlite:///{db_path}", "DEBUG": "1",
                       "LOG_LEVEL": "WARNING", "SECRET_KEY": SECRET_KEY, "DJANGO_SETTINGS_MODULE": "config.settings"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def scenario(how: str, workdir: Path) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from syncer.models import SyncRun
    from syncer.trakt_connection.tokens import trakt_token_save
    from tests.fakes.anilist import FakeAniList
    from tests.fakes.trakt import FakeTrakt
    from tests.syncer.sync import worker as w

    with FakeAniList() as anilist, FakeTrakt() as trakt:
        settings.ANILIST_ACCESS_TOKEN, settings.TRAKT_CLIENT_ID = anilist.token, trakt.client_id
        settings.TRAKT_CLIENT_SECRET = trakt.client_secret
        trakt_token_save(payload=trakt.issue_token(), username=trakt.username)
        w.library(anilist, trakt)
        staff = get_user_model().objects.create_user(username=f"bench-{how}", password="x", is_staff=True)
        page = Client()
        page.force_login(staff)

        def start():
            html = page.post("/sync/start/", {"mode": "completed"}, HTTP_HX_REQUEST="true").content.decode()
            return None if "A sync is already running" in html else SyncRun.objects.order_by("-id").first().pk

        release = w.hold_third_post(trakt)
        with w.Worker(anilist=anilist, trakt=trakt, log=workdir / f"qcluster-{how}.log") as q:
            first = start()
            w.wait_for(lambda: len(trakt.history_posts) >= 3, timeout=120, what="the third POST")
            pid = w.lease_holder_pid()
            os.kill(pid, signal.SIGKILL if how == "kill" else signal.SIGSTOP)
            waited, new = w.time_until_accepted(start, timeout=300)
            if how == "stop":
                os.kill(pid, signal.SIGKILL)  # it must not wake up later
            release.set()
            done = w.wait_for(lambda: SyncRun.objects.filter(pk=new, state__in=["succeeded", "failed"]).first(),
                              timeout=300, every=0.2, what="the next run")
            return {"scenario": how, "accepted_after_s": round(waited, 2),
                    "stopped_run": SyncRun.objects.get(pk=first).state, "next_run": done.state,
                    "plays_exactly_once": w.plays(trakt) == w.EXPECTED_PLAYS,
                    "lease_seconds": settings.SYNC_LEASE_SECONDS, "worker_log": str(q.log)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["kill", "stop"])
    args = parser.parse_args()
    if not args.only:  # each scenario in a process of its own, on a database of its own
        for how in ("kill", "stop"):
            subprocess.run([sys.executable, __file__, "--only", how], check=True)
        return
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-crash-{args.only}-"))
    setup_django(workdir / "db.sqlite3")
    print(scenario(args.only, workdir), flush=True)


if __name__ == "__main__":
    main()
