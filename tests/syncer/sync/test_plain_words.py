"""Log lines and errors people read name plays and runs, never the bookkeeping's batches, and
explain at one level (issue 25, item 8)."""

import re

from logs.models import LogEntry
from syncer.models import SyncRun
from syncer.sync.services import sync_run
from tests.seeds import map_show


def nesting(text: str) -> int:
    depth = deepest = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        deepest = max(deepest, depth)
    return deepest


def test_an_unconfirmed_post_and_its_check_are_told_in_plays(db, fake_anilist, trakt_connected, settings):
    settings.SYNC_RECONCILE_DELAY_SECONDS = 0
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=3, episodes=3)
    trakt_connected.fail(r"/sync/history", method="POST", status=502, apply=True)
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    lines = list(LogEntry.objects.filter(run=run).values_list("message", flat=True))
    told = [line for line in lines if "Trakt history" in line]
    assert len(told) >= 2, lines
    for line in told:
        assert not re.search(r"\bbatch\b|SyncBatch", line, re.IGNORECASE), line
        assert nesting(line) <= 1, line


def test_a_refused_refresh_token_is_explained_at_one_level(db, trakt_connected):
    from syncer.trakt_connection.tokens import trakt_token_refresh

    trakt_connected.fail(r"/oauth/token", status=400, times=None,
                         body={"error": "invalid_grant", "error_description": "The provided authorization grant is invalid"})
    try:
        trakt_token_refresh(reason="test")
    except Exception as exc:  # noqa: BLE001 - the message is what is checked
        message = str(exc)
    assert "refresh token" in message
    assert nesting(message) <= 1, message
