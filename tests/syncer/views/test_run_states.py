"""A run's page says honestly what happened: a failure says what failed and what was done
before it, unreached rows say so, a single show not on the list says so, a second Run shows
the running run's progress."""

import re
import time

import pytest
from django.utils import timezone

from syncer.models import SyncRun, SyncRunItem
from syncer.sync.lease import lease_acquire

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def item(run, position, state, *, episode):
    return SyncRunItem.objects.create(run=run, position=position, anilist_id=21, title="One Piece",
                                      anilist_episode=episode, action="post", kind="episode", trakt_id=37696,
                                      season=1, number=episode, state=state, watched_at=timezone.now())


@pytest.fixture
def failed_run():
    run = SyncRun.objects.create(
        mode="completed", state="failed", finished_at=timezone.now(), found=3, posted=1,
        progress_label="Posting to Trakt", progress_done=1, progress_total=3,
        error="Could not reach Trakt (connection refused) while posting your plays; nothing was lost, "
              "the next run will finish it. Try again later.")
    item(run, 0, "posted", episode=1)
    item(run, 1, "planned", episode=2)
    item(run, 2, "planned", episode=3)
    return run


def test_a_failed_run_says_what_failed_and_what_it_did_before(staff_client, failed_run):
    html = staff_client.get(f"/runs/{failed_run.id}/").content.decode()
    assert "Could not reach Trakt (connection refused) while posting your plays" in html
    # Every number counted from the run's rows: no "(1 of 3)" progress beside a different count.
    assert ("It stopped at “Posting to Trakt”. Before that it posted 1 of the 3 plays it planned; the 2 it did not "
            "reach are marked “not reached”, and the next run picks them up.") in html
    assert "3 found, 1 posted, 2 not reached, 0 already synced" in re.sub(r"<[^>]+>", "", html)
    assert "Nothing to do" not in html


def test_rows_a_failed_run_did_not_reach_say_not_reached_not_planned(staff_client, failed_run):
    html = staff_client.get(f"/runs/{failed_run.id}/").content.decode()
    assert html.count(">not reached<") == 2 and ">Posted<" in html and "Planned" not in html


def test_a_run_that_failed_before_planning_does_not_claim_there_was_nothing_to_do(staff_client):
    run = SyncRun.objects.create(mode="completed", state="failed", finished_at=timezone.now(),
                                 progress_label="Reading AniList",
                                 error="AniList refused the token: check ANILIST_ACCESS_TOKEN in `.env`.")
    html = staff_client.get(f"/runs/{run.id}/").content.decode()
    assert "The run stopped before it had a plan" in html and "Nothing to do" not in html
    assert "It stopped before it had a plan." in html and "nothing was read" not in html
    assert "<code>.env</code>" in html and "`" not in html.split('role="alert"')[1].split("</p>")[0]


def test_a_trakt_reconnect_hint_links_to_the_trakt_page(staff_client):
    run = SyncRun.objects.create(mode="completed", state="failed", finished_at=timezone.now(),
                                 error="Trakt refused the token. Reconnect Trakt on the Trakt page (/trakt/) "
                                       "or run `manage.py trakt_auth`.")
    html = staff_client.get(f"/runs/{run.id}/").content.decode()
    assert '<a href="/trakt/">/trakt/</a>' in html and "<code>manage.py trakt_auth</code>" in html


def test_a_single_show_not_on_the_list_says_so_in_the_result(staff_client):
    run = SyncRun.objects.create(mode="show", anilist_id=999999999, state="succeeded", finished_at=timezone.now())
    html = staff_client.get(f"/runs/{run.id}/").content.decode()
    assert "AniList 999999999 is not on your AniList list, or none of its episodes is marked watched" in html
    assert "Nothing to do: every episode found is already synced" not in html


@pytest.fixture
def ready(settings):
    from syncer.trakt_connection.tokens import trakt_token_save

    settings.ANILIST_ACCESS_TOKEN = "anilist-token"
    settings.TRAKT_CLIENT_ID, settings.TRAKT_CLIENT_SECRET = "client-id", "client-secret"
    trakt_token_save(payload={"access_token": "acc", "refresh_token": "ref", "expires_in": 7 * 86400,
                              "created_at": int(time.time())}, username="kaori")


def posting(*, planned: int, posted: int) -> SyncRun:
    """A run posting its plan: `posted` of its `planned` plays are on Trakt."""
    run = SyncRun.objects.create(mode="incremental", state="running", progress_label="Posting to Trakt")
    SyncRunItem.objects.bulk_create([SyncRunItem(run=run, position=n, anilist_id=21, anilist_episode=n + 1,
                                                 action="post", state="posted" if n < posted else "planned")
                                     for n in range(planned)])
    return run


def test_pressing_run_while_a_run_is_running_shows_that_runs_live_progress(staff_client, ready, monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: None)
    running = posting(planned=120, posted=40)
    lease_acquire(run_id=running.pk)  # as every live run does
    html = staff_client.post("/sync/start/", {"mode": "completed"}, **HTMX).content.decode()
    assert "A sync is already running" in html and "Nothing new was started; its progress:" in html
    poll = re.search(r'hx-get="(/runs/\d+/status/[^"]*)"', html).group(1).replace("&amp;", "&")
    assert poll.startswith(f"/runs/{running.id}/status/?blocking=1") and "posted 40 of 120 planned so far" in html
    # Once it has finished, the same poll shows how it ended instead of a stale notice.
    SyncRun.objects.filter(pk=running.pk).update(state="succeeded", finished_at=timezone.now())
    status = staff_client.get(poll, **HTMX).content.decode()
    assert "Succeeded" in status and "already running" not in status
    assert "has ended: press Run again to start yours" in status
    # ... and the Sync page's Recent runs list changes in the same answer, not up to 3 s later.
    assert 'id="recent-runs" hx-swap-oob="true"' in status


def test_reloading_the_sync_page_mid_run_follows_the_run_in_the_result_panel(staff_client, ready):
    running = posting(planned=120, posted=40)
    html = staff_client.get("/sync/").content.decode()
    result = html.split('id="sync-result"')[1].split("</section>")[0]
    assert "Press Preview or Run above" not in result
    assert f'hx-get="/runs/{running.id}/status/?sync=1"' in result and "posted 40 of 120 planned so far" in result


def test_the_sync_page_no_longer_claims_a_preview_works_without_trakt(staff_client, ready):
    from syncer.models import TraktToken

    TraktToken.objects.filter(id=1).update(state=TraktToken.State.DISCONNECTED, access_token="")
    html = staff_client.get("/sync/").content.decode()
    assert "a preview works without it" not in html
    assert "a preview needs it too as soon as there is something to post" in html
