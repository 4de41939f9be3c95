"""A token refresh that gets no answer (issue 23): refresh tokens are single-use
(trakt/trakt-api#888, #894), so the same one is sent again; only Trakt's refusal of it asks for a
reconnect, and the new pair is stored in the transaction that learns it."""

from collections import Counter

import pytest

from syncer.connections import trakt_client
from syncer.models import SyncRun, TraktToken
from syncer.sync.services import sync_run
from syncer.trakt_connection.crypto import decrypt
from syncer.trakt_connection.tokens import trakt_token_status
from tests.seeds import map_show

pytestmark = pytest.mark.django_db


def test_a_refresh_answered_502_is_sent_again_with_the_same_token_and_succeeds(trakt_connected):
    fake = trakt_connected
    fake.expire_tokens()
    fake.fail(r"/oauth/token", status=502, body="<html>Bad gateway</html>")  # never reached Trakt
    assert "episodes" in trakt_client().last_activities()
    first, second = fake.refresh_attempts[0], fake.refresh_attempts[-1]
    assert len(fake.requests_to(r"/oauth/token")) == 2 and first == second
    row = TraktToken.objects.get(id=1)
    assert row.state == TraktToken.State.CONNECTED
    assert decrypt(row.refresh_token) in fake.refresh_tokens  # the new pair, stored


def test_a_run_whose_refresh_times_out_once_finishes_with_every_play(db, fake_anilist, trakt_connected, settings):
    trakt_connected.add_show(100, seasons={1: 6})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=6, episodes=6)
    trakt_connected.expire_tokens()
    trakt_connected.fail(r"/oauth/token", status=504, body="<html>Gateway timeout</html>")
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert Counter((s, se, n) for s, se, n, _ in trakt_connected.episode_plays()) == Counter(
        {(100, 1, n): 1 for n in range(1, 7)})


def test_a_refresh_applied_but_unanswered_then_refused_asks_for_a_reconnect_in_one_line(
        db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 6})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=6, episodes=6)
    trakt_connected.expire_tokens()
    # Trakt rotates the pair, and the answer is lost on the way back.
    trakt_connected.fail(r"/oauth/token", status=502, body="<html>Bad gateway</html>", apply=True)
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.FAILED
    assert "refresh was lost" in run.error and "Reconnect Trakt" in run.error and "\n" not in run.error
    assert len(set(trakt_connected.refresh_attempts)) == 1 and len(trakt_connected.refresh_attempts) == 2
    status = trakt_token_status()
    assert status["state"] == TraktToken.State.NEEDS_RECONNECT
    assert trakt_connected.episode_plays() == []
