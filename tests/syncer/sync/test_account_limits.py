"""Trakt's account limits before the 420, and the refusals that name what to do (issue 23):
`GET /users/settings` carries the limits (a free watchlist holds 250 items); 426 means VIP;
a deleted API app answers 403 to everything (trakt/trakt-api#897)."""

import html

import pytest

from syncer.models import SyncRun
from syncer.sync.services import sync_run
from tests.seeds import map_show

pytestmark = pytest.mark.django_db


@pytest.fixture
def fourteen_planned(fake_anilist, trakt_connected, settings):
    settings.SYNC_WATCHLIST = True
    for n in range(1, 15):
        trakt_connected.add_show(100 + n, seasons={1: 12})
        map_show(n, 100 + n)
        fake_anilist.add_entry(10 + n, n, status="PLANNING", progress=0, title=f"Planned {n}")
    trakt_connected.watchlist_limit = 250
    trakt_connected.watchlist.extend(("movie", 9000 + n) for n in range(248))  # the user's own
    return trakt_connected


def test_the_watchlist_stops_at_the_accounts_limit_before_any_420_and_the_dashboard_says_so(
        fourteen_planned, staff_client):
    trakt = fourteen_planned
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert len(trakt.watchlist) == 250
    assert len(trakt.requests_to(r"/sync/watchlist", method="POST")) == 1  # one POST, and no 420
    lines = list(run.items.filter(action="watchlist").order_by("position").values_list("state", "reason"))
    assert [state for state, _ in lines] == ["posted"] * 2 + ["failed"] * 12
    line = "Trakt's free watchlist holds 250 items; 12 PLANNING entries were not added"
    assert lines[-1][1] == f"not added: {line}"
    assert line in html.unescape(staff_client.get("/dashboard/connections/").content.decode())
    assert len(trakt.requests_to(r"/users/settings")) == 1


def test_a_426_says_vip_is_needed_in_one_line(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 3})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=3, episodes=3)
    trakt_connected.fail(r"/sync/watched/shows", status=426, body={"error": "vip only"}, times=None)
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.FAILED
    assert run.error.startswith("Trakt answered 426: this needs a Trakt VIP account") and "\n" not in run.error
    assert "Renew VIP" in run.error


def test_a_deleted_app_says_to_create_a_new_one_and_set_its_keys(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 3})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=3, episodes=3)
    trakt_connected.client_id = "an-app-trakt-deleted"  # every request now carries an unknown key
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.FAILED
    assert "deleted the API app" in run.error and "TRAKT_CLIENT_ID and TRAKT_CLIENT_SECRET" in run.error
    assert "Reconnect" not in run.error and "\n" not in run.error
