"""The days people gave AniList (issue 23): `completedAt` is a day of the user's own calendar, so
it is posted as that day in their Trakt time zone (`/users/settings`), not as UTC midnight, which
is the evening before for anyone west of UTC."""

import pytest

from syncer.models import SyncRun
from syncer.sync.services import sync_run
from tests.seeds import map_show

pytestmark = pytest.mark.django_db


def test_a_completion_day_west_of_utc_is_posted_as_that_day_there(fake_anilist, trakt_connected):
    trakt_connected.timezone = "America/Los_Angeles"
    trakt_connected.add_show(100, seasons={1: 2})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=2, episodes=2,
                           completed_at={"year": 2021, "month": 3, "day": 5})
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    # Midnight of 5 March in Los Angeles (PST, UTC-8): Trakt shows 5 March there, not the 4th.
    assert {w for *_, w in trakt_connected.episode_plays()} == {"2021-03-05T08:00:00.000Z"}


def test_a_completion_day_east_of_utc_is_that_day_there_too(fake_anilist, trakt_connected):
    trakt_connected.timezone = "Asia/Tokyo"
    trakt_connected.add_show(100, seasons={1: 3})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=3, episodes=3,
                           started_at={"year": 2021, "month": 7, "day": 1},
                           completed_at={"year": 2021, "month": 7, "day": 20})
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert {w for *_, w in trakt_connected.episode_plays()} == {"2021-07-19T15:00:00.000Z"}


def test_entries_without_a_day_do_not_read_the_account_settings(fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 2})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=2, episodes=2)
    assert sync_run(mode="completed").state == SyncRun.State.SUCCEEDED
    assert trakt_connected.requests_to(r"/users/settings") == []
