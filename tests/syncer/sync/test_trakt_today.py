"""Trakt as it works today (issue 10): specials in the watched list, the OAuth host, 420."""

import subprocess
import sys
from collections import Counter
from pathlib import Path

from syncer.models import SyncBatch, SyncProgress, SyncRun, SyncRunItem
from syncer.sync.plan import ON_TRAKT
from syncer.sync.services import sync_run
from syncer.trakt_connection.oauth import trakt_authorize_url, trakt_device_start
from tests.seeds import map_show

ROOT = Path(__file__).resolve().parents[3]


def plays(trakt):
    return Counter((show, s, n) for show, s, n, _ in trakt.episode_plays())


def test_a_special_watched_on_trakt_by_hand_is_not_posted_again(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={0: 6, 1: 12})
    map_show(1, 100, season=0, episode=5)  # an OVA: Trakt special S0E5
    trakt_connected.add_play(show=100, season=0, number=5, watched_at="2022-05-01T00:00:00.000Z")
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=1, episodes=1, fmt="OVA")
    run = sync_run(mode="library")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert plays(trakt_connected) == Counter({(100, 0, 5): 1})
    item = SyncRunItem.objects.get(run=run)
    assert (item.action, item.reason) == ("already_synced", ON_TRAKT)
    assert trakt_connected.requests_to(r"/sync/watched/shows")[0].query["specials"] == "true"
    assert SyncProgress.objects.get(anilist_id=1).last_abs == 1


def test_a_420_stops_the_run_naming_the_limit_retries_nothing_and_records_nothing_as_posted(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=3)
    trakt_connected.fail(r"/sync/history", method="POST", status=420, body={"error": "limit"},
               headers={"X-Account-Limit": "history-items"}, times=None)
    run = sync_run(mode="library")
    assert run.state == SyncRun.State.FAILED
    assert "X-Account-Limit: history-items" in run.error and "run the sync again" in run.error
    assert "\n" not in run.error
    assert len(trakt_connected.requests_to(r"/sync/history", method="POST")) == 1  # never retried
    assert plays(trakt_connected) == Counter()
    assert run.posted == 0 and not SyncProgress.objects.exists()
    assert list(SyncBatch.objects.values_list("state", flat=True)) == [SyncBatch.State.FAILED]
    assert set(SyncRunItem.objects.filter(run=run).values_list("state", flat=True)) == {SyncRunItem.State.FAILED}


def test_oauth_calls_go_to_the_auth_host_and_the_api_host_answers_none_of_them(db, fake_anilist, trakt_connected, settings):
    assert settings.TRAKT_AUTH_URL == trakt_connected.auth_url != trakt_connected.url
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=2)
    trakt_connected.expire_tokens()  # the run refreshes first
    run = sync_run(mode="library")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    [refresh] = trakt_connected.requests_to(r"/oauth/token")
    assert refresh.headers.get("x-fake-host") == "auth"
    device = trakt_device_start()
    assert device.user_code and trakt_connected.requests_to(r"/oauth/device/code")[0].headers.get("x-fake-host") == "auth"
    assert trakt_authorize_url().startswith(f"{trakt_connected.auth_url}/oauth/authorize?")


def test_the_oauth_host_defaults_to_trakts_auth_host_and_can_be_overridden():
    def setting(env):
        code = ("import os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; "
                "from django.conf import settings; print(settings.TRAKT_AUTH_URL)")
        base = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "ENV_FILE": "/dev/null"}
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    assert setting({}) == "https://auth.trakt.tv"
    assert setting({"TRAKT_AUTH_URL": "https://api.trakt.tv"}) == "https://api.trakt.tv"


def test_an_unknown_sync_status_stops_the_app_at_start_with_a_clear_error():
    code = "import os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; from django.conf import settings; settings.DEBUG"
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "ENV_FILE": "/dev/null", "SYNC_STATUSES": "CURRENT,WATCHED"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "SYNC_STATUSES: unknown status(es) WATCHED" in out.stderr
