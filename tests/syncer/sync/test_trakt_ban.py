"""A run that trips Cloudflare's ban on Trakt (issue 23) waits it out and finishes: no play
doubled, none missing, and the run page says until when Trakt paused it."""

from collections import Counter

from syncer.models import SyncRun
from syncer.sync.services import sync_run
from tests.seeds import map_show


def test_a_run_that_trips_the_ban_waits_it_out_with_no_duplicate_and_no_play_missing(
        db, fake_anilist, trakt_connected, settings):
    settings.TRAKT_BATCH_SIZE = 5
    settings.HTTP_MAX_RETRIES = 0  # the ban is waited out, not retried
    settings.HTTP_RETRY_BUDGET_SECONDS = 0.2
    trakt_connected.read_limit, trakt_connected.read_window, trakt_connected.ban_seconds = 3, 60, 2.5
    expected = Counter()
    for n in range(1, 6):
        trakt_connected.add_show(100 * n, seasons={1: 8})
        map_show(n, 100 * n)
        fake_anilist.add_entry(10 + n, n, status="COMPLETED", progress=8, episodes=8)
        expected.update({(100 * n, 1, e): 1 for e in range(1, 9)})
    labels = []

    def page_label(done, total, label):
        labels.append(SyncRun.objects.values_list("progress_label", flat=True).latest("pk"))

    run = sync_run(mode="completed", progress=page_label)
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert trakt_connected.bans >= 1
    plays = Counter((show, s, n) for show, s, n, _ in trakt_connected.episode_plays())
    assert plays == expected  # 0 duplicates, 0 missing
    assert run.posted == 40
    # Nothing is sent during a ban but what was already on its way (the reader's read and a post).
    assert trakt_connected.refused_in_ban <= 2 * trakt_connected.bans
    assert any(label.startswith("Trakt paused requests until ") for label in labels), labels
