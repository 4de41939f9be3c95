from datetime import UTC, datetime

from mappings.placement import MappingSpec
from syncer.clients.trakt import Season
from syncer.sync import plan as p
from syncer.sync.events import Rewatched, WatchEvent

T = datetime(2024, 5, 1, tzinfo=UTC)
SEASONS = {100: [Season(1, tuple(range(1, 13))), Season(2, tuple(range(1, 13)))]}


def events(anilist_id, episodes, **kw):
    return [WatchEvent(anilist_id, n, T, f"Anime {anilist_id}", **kw) for n in episodes]


def plan(evs, *, mappings=None, unmapped=None, progress=None, seasons=SEASONS, overrides=None, rewatched=None):
    return p.build_plan(events=evs, mappings=mappings if mappings is not None else {1: MappingSpec("show", 100)},
                        unmapped=unmapped or {}, seasons=seasons, overrides=overrides or {},
                        progress=progress or {}, rewatched=rewatched)


def test_it_skips_episodes_at_or_below_the_stored_progress():
    items = plan(events(1, [3, 4, 5]), progress={1: 4})
    assert [(i.event.episode, i.action) for i in items] == [(3, p.ALREADY_SYNCED), (4, p.ALREADY_SYNCED), (5, p.POST)]


def test_it_walks_into_the_next_season():
    items = plan(events(1, [13]), mappings={1: MappingSpec("show", 100, 1, 1)})
    assert (items[0].target.season, items[0].target.number) == (2, 1)


def test_an_episode_past_the_show_is_unmapped_with_a_reason():
    items = plan(events(1, [30]))
    assert items[0].action == p.UNMAPPED and "does not exist on Trakt show 100" in items[0].reason


def test_unmapped_entries_carry_the_resolver_reason_or_a_default():
    items = plan(events(2, [1]) + events(3, [1]), mappings={}, unmapped={2: "Trakt search found nothing"})
    assert [(i.action, i.reason) for i in items] == [(p.UNMAPPED, "Trakt search found nothing"),
                                                     (p.UNMAPPED, p.NO_MAPPING)]


def test_an_episode_is_planned_once_per_run():
    items = plan(events(1, [1, 1]))
    assert [i.action for i in items] == [p.POST, p.ALREADY_SYNCED]


def test_two_entries_never_post_the_same_trakt_episode():
    mappings = {1: MappingSpec("show", 100), 2: MappingSpec("show", 100)}
    items = plan(events(1, [1]) + events(2, [1]), mappings=mappings)
    assert [i.action for i in items] == [p.POST, p.ALREADY_SYNCED]
    assert "AniList 1" in items[1].reason


def test_a_movie_is_one_play_when_its_last_episode_is_watched():
    mappings = {5: MappingSpec("movie", 900, episodes=2)}
    items = plan(events(5, [1, 2]), mappings=mappings, seasons={})
    assert [(i.event.episode, i.action, i.target.kind) for i in items] == [(2, p.POST, "movie")]
    assert plan(events(5, [2]), mappings=mappings, seasons={}, progress={5: 2})[0].action == p.ALREADY_SYNCED


def test_overrides_win():
    items = plan(events(1, [2]), overrides={1: {2: (0, 5)}})
    assert (items[0].target.season, items[0].target.number) == (0, 5)


def test_a_rewatch_ignores_progress_but_posts_once_per_cycle_and_episode():
    evs = events(1, [2], rewatch=True, activity_id=77, cycle=2)
    assert plan(evs, progress={1: 12})[0].action == p.POST
    assert plan(evs + evs, progress={1: 12})[1].action == p.ALREADY_SYNCED
    assert plan(evs, progress={1: 12}, rewatched={1: Rewatched(done={2: frozenset({2})})})[0].action == p.ALREADY_SYNCED
    assert plan(evs, progress={1: 12}, rewatched={1: Rewatched(whole=2)})[0].action == p.ALREADY_SYNCED
    assert plan(evs, progress={1: 12}, rewatched={1: Rewatched(whole=1, done={1: frozenset({2})})})[0].action == p.POST


def test_it_skips_a_first_play_trakt_already_has_and_says_so():
    on_trakt = frozenset({("episode", 100, 1, 2)})
    items = p.build_plan(events=events(1, [1, 2, 3]), mappings={1: MappingSpec("show", 100)}, unmapped={},
                         seasons=SEASONS, overrides={}, progress={}, on_trakt=on_trakt)
    assert [(i.action, i.on_trakt) for i in items] == [(p.POST, False), (p.ALREADY_SYNCED, True), (p.POST, False)]
    assert items[1].reason == p.ON_TRAKT and items[1].target.number == 2


def test_a_rewatch_posts_even_when_trakt_has_the_episode():
    items = p.build_plan(events=events(1, [2], rewatch=True, activity_id=77), mappings={1: MappingSpec("show", 100)},
                         unmapped={}, seasons=SEASONS, overrides={}, progress={1: 12},
                         on_trakt=frozenset({("episode", 100, 1, 2)}))
    assert items[0].action == p.POST


def test_a_movie_trakt_has_is_skipped():
    mappings = {5: MappingSpec("movie", 900)}
    items = p.build_plan(events=events(5, [1]), mappings=mappings, unmapped={}, seasons={}, overrides={},
                         progress={}, on_trakt=frozenset({("movie", 900, None, None)}))
    assert items[0].action == p.ALREADY_SYNCED and items[0].on_trakt


def test_an_unmapped_entry_is_logged_once_not_once_per_episode(caplog):
    from syncer.sync.services import _log_unmapped

    plan = p.build_plan(events=events(7, range(1, 13)), mappings={}, unmapped={7: "no source knows it"},
                        seasons={}, overrides={}, progress={})
    with caplog.at_level("INFO", logger="syncer.sync"):
        _log_unmapped(plan)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Unmapped")]
    assert lines == ["Unmapped: Anime 7 (AniList 7), 12 episodes (1-12): no source knows it"]
