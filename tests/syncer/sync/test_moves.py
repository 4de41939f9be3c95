"""Moves (issue 22): a play this app posted whose place on Trakt changed (a corrected start, an
override, a remap) is taken off by its history id and posted where it belongs, once; an undo of
the run that moved it puts it back; a play the user put on Trakt is never removed."""

from collections import Counter

import pytest

from mappings.models import EpisodeOverride, Mapping
from syncer.models import LedgerItem, SyncRun, SystemConfig
from syncer.sync.services import sync_run
from syncer.sync.undo import undo_run
from tests.seeds import map_show

pytestmark = pytest.mark.django_db

CURSOR = 1_700_000_000


def plays(trakt):
    return Counter((show, s, n) for show, s, n, _ in trakt.episode_plays())


def succeeded(run: SyncRun) -> SyncRun:
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    return run


def moves(run: SyncRun) -> list[tuple[int, int, int]]:
    return list(run.items.filter(action="move").values_list("anilist_episode", "season", "number"))


def posts(run: SyncRun) -> list[tuple[int, int, int]]:
    return list(run.items.filter(action="post").values_list("anilist_episode", "season", "number"))


def start_corrected(anilist_id: int, episode: int) -> None:
    """What a dataset or air-date correction (or a person) does: the mapping is saved anew."""
    mapping = Mapping.objects.get(pk=anilist_id)
    mapping.start_episode = episode
    mapping.save()


@pytest.fixture
def twelve_posted(fake_anilist, trakt_connected):
    """AniList 1 (12 episodes, completed) posted at S1E1-12 of Trakt show 100 (24 episodes)."""
    trakt_connected.add_show(100, seasons={1: 24})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=12, episodes=12)
    first = succeeded(sync_run(mode="completed"))
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in range(1, 13)})
    return first


@pytest.mark.parametrize("start", [13, 2])
def test_a_start_corrected_after_twelve_episodes_were_posted_moves_them(twelve_posted, trakt_connected, start):
    start_corrected(1, start)
    new_place = {(100, 1, n): 1 for n in range(start, start + 12)}

    preview = succeeded(sync_run(mode="completed", dry_run=True))
    assert moves(preview) == [(n, 1, n) for n in range(1, 13)]
    assert posts(preview) == [(n, 1, start + n - 1) for n in range(1, 13)]
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in range(1, 13)})  # a preview moves nothing

    run = succeeded(sync_run(mode="completed"))
    assert len(moves(run)) == 12 and run.posted == 12
    assert sum(len(ids) for ids in trakt_connected.history_removes) == 12
    assert plays(trakt_connected) == Counter(new_place)
    again = succeeded(sync_run(mode="completed"))
    assert (again.posted, moves(again)) == (0, [])
    assert plays(trakt_connected) == Counter(new_place)


def test_an_override_added_after_episode_1_was_posted_moves_just_that_play(fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={0: 2, 1: 12})
    mapping = map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=3, episodes=3)
    succeeded(sync_run(mode="completed"))
    EpisodeOverride.objects.create(mapping=mapping, anilist_episode=1, season=0, episode=1)  # the pilot is a special

    run = succeeded(sync_run(mode="completed"))
    assert moves(run) == [(1, 1, 1)]
    assert posts(run) == [(1, 0, 1)]
    assert plays(trakt_connected) == Counter({(100, 0, 1): 1, (100, 1, 2): 1, (100, 1, 3): 1})
    assert succeeded(sync_run(mode="completed")).posted == 0


def test_a_move_killed_after_the_remove_and_before_the_post_ends_with_each_play_once_at_the_new_place(
        twelve_posted, trakt_connected):
    start_corrected(1, 13)

    def killed_once_the_plays_are_off(done, total, label):
        if label == "Reading AniList":
            raise RuntimeError("killed")

    killed = sync_run(mode="completed", progress=killed_once_the_plays_are_off)
    assert killed.state == SyncRun.State.FAILED
    assert plays(trakt_connected) == Counter()  # taken off; the ledger still wants them
    SystemConfig.objects.update_or_create(key="lastSyncTimestamp", defaults={"value": str(CURSOR + 10)})

    succeeded(sync_run(mode="incremental", trigger=SyncRun.Trigger.SCHEDULED))
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in range(13, 25)})
    assert succeeded(sync_run(mode="completed")).posted == 0
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in range(13, 25)})


def test_undoing_the_run_that_moved_plays_puts_them_back_and_the_next_run_does_not_move_them_again(
        twelve_posted, trakt_connected):
    dates = sorted(when for _, _, _, when in trakt_connected.episode_plays())
    start_corrected(1, 13)
    moving = succeeded(sync_run(mode="completed"))

    succeeded(undo_run(run_id=moving.pk))
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in range(1, 13)})
    assert sorted(when for _, _, _, when in trakt_connected.episode_plays()) == dates
    after = succeeded(sync_run(mode="completed"))
    assert (after.posted, moves(after)) == (0, [])
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in range(1, 13)})

    start_corrected(1, 13)  # the mapping changes again: now it moves
    assert len(moves(succeeded(sync_run(mode="completed")))) == 12
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in range(13, 25)})


@pytest.mark.parametrize("order", ["the moving run first", "the posting run first"])
def test_undoing_the_posting_and_the_moving_run_in_either_order_leaves_nothing_on_trakt(
        twelve_posted, trakt_connected, order):
    start_corrected(1, 13)
    moving = succeeded(sync_run(mode="completed"))
    runs = (moving, twelve_posted) if order == "the moving run first" else (twelve_posted, moving)
    for run in runs:
        succeeded(undo_run(run_id=run.pk))
    assert plays(trakt_connected) == Counter()
    assert set(LedgerItem.objects.values_list("state", "reason")) == {("wanted", "undone")}


def test_an_undone_play_is_posted_again_by_the_incremental_once_its_mapping_changed_and_not_before(
        fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 24})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=3, episodes=3, updated_at=CURSOR - 100)
    first = succeeded(sync_run(mode="completed"))
    succeeded(undo_run(run_id=first.pk))
    SystemConfig.objects.update_or_create(key="lastSyncTimestamp", defaults={"value": str(CURSOR)})

    assert succeeded(sync_run(mode="incremental")).posted == 0  # undone on purpose: left off
    start_corrected(1, 13)  # the user fixed what was wrong
    assert succeeded(sync_run(mode="incremental")).posted == 3
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in (13, 14, 15)})


def test_a_play_the_user_has_at_the_old_place_is_not_removed_and_the_new_place_is_posted(
        fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 24})
    map_show(1, 100)
    theirs = trakt_connected.add_play(show=100, season=1, number=1, watched_at="2023-01-01T00:00:00.000Z")
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=3, episodes=3)
    assert succeeded(sync_run(mode="completed")).posted == 2  # episode 1 was on Trakt already
    start_corrected(1, 13)

    run = succeeded(sync_run(mode="completed"))
    assert moves(run) == [(2, 1, 2), (3, 1, 3)]
    assert posts(run) == [(1, 1, 13), (2, 1, 14), (3, 1, 15)]
    assert theirs["id"] in {p["id"] for p in trakt_connected.history}
    assert plays(trakt_connected) == Counter({(100, 1, 1): 1, (100, 1, 13): 1, (100, 1, 14): 1, (100, 1, 15): 1})
    assert succeeded(sync_run(mode="completed")).posted == 0


def test_a_play_is_left_where_it_is_when_its_entry_is_unmapped_or_no_season_list_places_its_episode():
    from mappings.placement import MappingSpec
    from syncer.clients.trakt import Season
    from syncer.sync.moves import moved

    row = LedgerItem(anilist_id=1, episode=12, state="posted", kind="episode", trakt_id=100, season=1, number=12)
    start_2 = {1: MappingSpec(kind="show", trakt_id=100, start_season=1, start_episode=2)}
    short, full = [Season(1, list(range(1, 13)), {})], [Season(1, list(range(1, 25)), {})]
    assert moved([row], specs={}, seasons={100: full}, overrides={}).rows == []  # unmapped now
    assert moved([row], specs=start_2, seasons={}, overrides={}).rows == []  # no season list
    assert moved([row], specs=start_2, seasons={100: short}, overrides={}).rows == []  # S1E13 not in it
    found = moved([row], specs=start_2, seasons={100: full}, overrides={})
    assert [(r.episode, target.season, target.number) for r, target in found.ours] == [(12, 1, 13)]
    assert moved([row], specs=start_2, seasons={100: full}, overrides={1: {12: (1, 12)}}).unmoved == [row]
