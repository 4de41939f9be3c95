from collections import Counter

from syncer.models import LedgerItem, SyncProgress, SyncRun, SystemConfig
from syncer.sync.services import sync_run
from tests.seeds import map_show


def plays(trakt):
    return Counter((s, n) for _, s, n, _ in trakt.episode_plays())


def setup(anilist, trakt, *, repeat=0):
    trakt.add_show(100, seasons={1: 3})
    map_show(1, 100)
    SyncProgress.objects.create(anilist_id=1, last_abs=3)
    SystemConfig.objects.create(key="lastSyncTimestamp", value="1700000000")
    anilist.add_entry(11, 1, status="REPEATING", progress=2, episodes=3, repeat=repeat, updated_at=1_700_000_200)
    anilist.add_activity(1, 1, status="rewatched episode", progress="1 - 2", created_at=1_700_000_100)


def test_rewatches_are_ignored_by_default(db, fake_anilist, trakt_connected):
    setup(fake_anilist, trakt_connected)
    assert sync_run(mode="incremental").state == SyncRun.State.SUCCEEDED
    assert plays(trakt_connected) == Counter()


def test_rewatched_episodes_add_plays_once_when_enabled(db, fake_anilist, trakt_connected, settings):
    settings.SYNC_REWATCHES = True
    setup(fake_anilist, trakt_connected)
    sync_run(mode="incremental")
    SystemConfig.objects.filter(key="lastSyncTimestamp").update(value="1700000000")  # re-read them
    sync_run(mode="incremental")
    assert plays(trakt_connected) == Counter({(1, 1): 1, (1, 2): 1})


def test_a_repeat_increase_finishes_the_rewatch_cycle(db, fake_anilist, trakt_connected, settings):
    settings.SYNC_REWATCHES = True
    setup(fake_anilist, trakt_connected, repeat=1)
    sync_run(mode="incremental")
    assert plays(trakt_connected) == Counter({(1, 1): 1, (1, 2): 1, (1, 3): 1})
    assert set(LedgerItem.objects.filter(cycle__gt=0).values_list("cycle", "episode", "state")) == {
        (1, n, "posted") for n in (1, 2, 3)}
