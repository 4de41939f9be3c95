from datetime import UTC, datetime

import pytest

from config.statuses import parse_statuses
from syncer.clients.anilist import Activity, AniListMedia, FuzzyDate, ListEntry, parse_progress
from syncer.sync import events as ev

NOW = datetime(2025, 1, 1, tzinfo=UTC)
NO_DATE = FuzzyDate()


def media(media_id=1, episodes=12, fmt="TV"):
    return AniListMedia(media_id, None, fmt, episodes, f"Anime {media_id}", None, None, FuzzyDate(), 2020)


def entry(media_id=1, *, status="COMPLETED", progress=12, completed=NO_DATE, updated=1_700_000_000,
          episodes=12, repeat=0):
    return ListEntry(media_id * 10, media(media_id, episodes), status, progress, repeat, None, FuzzyDate(),
                     completed, updated, 0)


def activity(activity_id, media_id, progress, *, status="watched episode", at=1_700_000_000):
    return Activity(activity_id, status, parse_progress(progress), at, media(media_id))


def test_it_expands_a_merged_range_into_every_episode():
    events = ev.activity_events([activity(1, 1, "10 - 12")], rewatches=False)
    assert [e.episode for e in events] == [10, 11, 12]
    assert {e.watched_at for e in events} == {datetime.fromtimestamp(1_700_000_000, UTC)}


def test_it_orders_activities_oldest_first():
    events = ev.activity_events([activity(2, 1, "2", at=20), activity(1, 1, "1", at=10)], rewatches=False)
    assert [e.episode for e in events] == [1, 2]


def test_it_ignores_rewatches_unless_they_are_on():
    acts = [activity(1, 1, "3", status="rewatched episode")]
    assert ev.activity_events(acts, rewatches=False) == []
    events = ev.activity_events(acts, rewatches=True)
    assert [(e.episode, e.rewatch) for e in events] == [(3, True)]


def test_a_completed_activity_without_progress_stands_for_the_whole_entry():
    events = ev.activity_events([activity(1, 1, None, status="completed")], rewatches=False)
    assert [e.episode for e in events] == list(range(1, 13))


def test_partial_dates_become_the_first_of_the_month_or_year():
    assert ev.fuzzy_to_datetime(FuzzyDate(2021, 3, None)) == datetime(2021, 3, 1, tzinfo=UTC)
    assert ev.fuzzy_to_datetime(FuzzyDate(2021, None, None)) == datetime(2021, 1, 1, tzinfo=UTC)
    assert ev.fuzzy_to_datetime(FuzzyDate(2021, 2, 30)) == datetime(2021, 2, 1, tzinfo=UTC)
    assert ev.fuzzy_to_datetime(FuzzyDate(None, 5, 5)) is None


def test_completed_entries_use_completed_at_then_updated_at_then_now():
    assert ev.entry_watched_at(entry(completed=FuzzyDate(2020, 6, 7)), now=NOW) == datetime(2020, 6, 7, tzinfo=UTC)
    assert ev.entry_watched_at(entry(updated=1_600_000_000), now=NOW) == datetime.fromtimestamp(1_600_000_000, UTC)
    assert ev.entry_watched_at(entry(updated=0), now=NOW) == NOW
    watching = entry(status="CURRENT", completed=FuzzyDate(2020, 6, 7), updated=1_600_000_000)
    assert ev.entry_watched_at(watching, now=NOW) == datetime.fromtimestamp(1_600_000_000, UTC)


def test_the_completed_mode_posts_above_stored_progress_and_uses_episode_count_for_zero_progress():
    entries = [entry(1, progress=12), entry(2, progress=0, episodes=24), entry(3, status="CURRENT", progress=5)]
    events = ev.list_events(entries, statuses=("COMPLETED",), progress={1: 10}, now=NOW)
    assert [(e.anilist_id, e.episode) for e in events] == [(1, 11), (1, 12)] + [(2, n) for n in range(1, 25)]


def test_reconciliation_adds_what_activities_missed_for_entries_changed_since_the_cursor():
    acts = ev.activity_events([activity(1, 1, "4", at=1_000)], rewatches=False)
    entries = [entry(1, status="CURRENT", progress=6, updated=1_100),  # activity for 5 and 6 missing
               entry(2, status="CURRENT", progress=3, updated=500)]  # not changed since the cursor
    extra = ev.reconcile_events(entries, events=acts, progress={1: 3}, since=900, now=NOW)
    assert [(e.anilist_id, e.episode, e.created_at) for e in extra] == [(1, 5, 1_100), (1, 6, 1_100)]


def test_a_repeat_increase_finishes_the_cycle_in_progress_then_adds_whole_rewatches():
    on_trakt = {1: ev.Rewatched(rows={1: frozenset({1, 2})}, done={1: frozenset({1, 2})})}
    events = ev.rewatch_cycle_events([entry(1, repeat=2, episodes=3)], rewatched=on_trakt, events=[], now=NOW)
    assert [(e.episode, e.cycle) for e in events] == [(3, 1), (1, 2), (2, 2), (3, 2)]
    assert all(e.rewatch for e in events)


def test_a_repeat_increase_leaves_out_cycles_accounted_whole_and_plays_this_run_brings():
    brought = [ev.WatchEvent(1, 1, NOW, "Anime 1", rewatch=True, cycle=3, activity_id=9)]
    events = ev.rewatch_cycle_events([entry(1, repeat=3, episodes=2)], rewatched={1: ev.Rewatched(whole=2)},
                                     events=brought, now=NOW)
    assert [(e.episode, e.cycle) for e in events] == [(2, 3)]


def test_a_rewatch_activity_goes_to_the_cycle_of_its_row_else_the_first_without_the_episode():
    acts = ev.activity_events([activity(5, 1, "1 - 2", status="rewatched episode"),
                               activity(6, 1, "1", status="rewatched episode", at=1_700_000_100)], rewatches=True)
    ledger = {1: ev.Rewatched(whole=1, rows={2: frozenset({1})}, activities={(5, 1): 2})}
    events = ev.rewatch_cycles(acts, rewatched=ledger)
    assert [(e.activity_id, e.episode, e.cycle) for e in events] == [(5, 1, 2), (5, 2, 2), (6, 1, 3)]


def started_entry(media_id=1, *, started, status="CURRENT", progress=5):
    return ListEntry(media_id * 10, media(media_id), status, progress, 0, None, started, NO_DATE, 1_700_000_000, 0)


def test_whole_entries_fills_every_episode_below_a_play_above_stored_progress_lowest_first():
    acts = ev.activity_events([activity(1, 1, "4 - 5", at=2_000), activity(2, 2, "1", at=2_500)], rewatches=False)
    events = ev.whole_entries(acts, entries=[], progress={1: 1})
    assert [(e.anilist_id, e.episode, e.activity_id) for e in events] == [
        (1, 2, None), (1, 3, None), (1, 4, 1), (1, 5, 1), (2, 1, 2)]
    # No startedAt: the first dated later episode's date, and its activity time for the cursor.
    assert {e.watched_at for e in events[:2]} == {datetime.fromtimestamp(2_000, UTC)}
    assert {e.created_at for e in events[:2]} == {2_000}


def test_a_filled_in_episode_takes_started_at_only_when_not_later_than_the_next_episode():
    acts = ev.activity_events([activity(1, 1, "3", at=1_700_000_000)], rewatches=False)
    early = started_entry(started=FuzzyDate(2023, 5, None))
    late = started_entry(started=FuzzyDate(2030, 1, 1))
    assert [e.watched_at for e in ev.whole_entries(acts, entries=[early], progress={})][:2] == [
        datetime(2023, 5, 1, tzinfo=UTC)] * 2
    assert [e.watched_at for e in ev.whole_entries(acts, entries=[late], progress={})][:2] == [
        datetime.fromtimestamp(1_700_000_000, UTC)] * 2


def test_rewatch_events_keep_their_place_and_are_never_filled_below():
    acts = ev.activity_events([activity(1, 1, "7", status="rewatched episode", at=100),
                               activity(2, 2, "2", at=200)], rewatches=True)
    events = ev.whole_entries(acts, entries=[], progress={})
    assert [(e.anilist_id, e.episode, e.rewatch) for e in events] == [(1, 7, True), (2, 1, False), (2, 2, False)]


def test_scope_leaves_out_planning_and_statuses_not_synced_with_the_reason():
    acts = ev.activity_events([activity(1, 1, "2"), activity(2, 2, "3"), activity(3, 3, "1")], rewatches=False)
    entries = [entry(1, status="DROPPED", progress=2), entry(2, status="PLANNING", progress=0)]
    kept, left_out = ev.scope_events(acts, entries, statuses=("CURRENT", "COMPLETED"))
    assert kept == []  # AniList 3 is not on the list, and not every status is synced
    assert {k: v[1] for k, v in left_out.items()} == {
        1: "status DROPPED is not in SYNC_STATUSES", 2: "status PLANNING: planned, not watched",
        3: "no longer on your AniList list, and SYNC_STATUSES leaves some statuses out"}
    kept, _ = ev.scope_events(acts, entries, statuses=ev.RECONCILED_STATUSES)
    assert [e.anilist_id for e in kept] == [1, 3]


def test_sync_statuses_parse_in_any_case_and_order_and_refuse_unknown_values():
    assert parse_statuses(" dropped,Current ") == ("CURRENT", "DROPPED")
    assert parse_statuses(("COMPLETED",)) == ("COMPLETED",)
    with pytest.raises(ValueError, match="unknown status"):
        parse_statuses("CURRENT,PLANNING")
