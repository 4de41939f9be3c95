"""Each mode end to end against the loopback fakes."""

from collections import Counter

from syncer.models import SyncProgress, SyncRun, SyncRunItem, SystemConfig
from syncer.sync.services import sync_preview, sync_run
from tests.seeds import map_movie, map_show


def plays(trakt):
    return Counter((show, s, n) for show, s, n, _ in trakt.episode_plays())


def ok(run):
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    return run


def test_incremental_reads_every_page_of_activities_and_posts_each_episode_once(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 200})
    map_show(1, 100)
    # The entry first, so the activities share its 200-episode media (placement stops at the count).
    fake_anilist.add_entry(11, 1, status="CURRENT", progress=120, updated_at=1_700_000_120, episodes=200)
    for n in range(1, 121):  # 120 activities: three pages of 50
        fake_anilist.add_activity(n, 1, progress=str(n), created_at=1_700_000_000 + n)
    run = ok(sync_run(mode="incremental"))
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in range(1, 121)})
    assert len(fake_anilist.graphql_requests("activities")) == 3
    assert run.posted == 120 and SyncProgress.objects.get(anilist_id=1).last_abs == 120
    assert SystemConfig.objects.get(key="lastSyncTimestamp").value == "1700000120"
    assert SystemConfig.objects.filter(key="status:sync:last-run").exists()


def test_incremental_expands_merged_ranges_with_the_activity_time(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 24})
    map_show(1, 100)
    SyncProgress.objects.create(anilist_id=1, last_abs=9)  # 1-9 synced before (whole entries: they would post too)
    fake_anilist.add_activity(1, 1, progress="10 - 12", created_at=1_700_000_000)
    ok(sync_run(mode="incremental"))
    assert [(n, at) for _, _, n, at in trakt_connected.episode_plays()] == [
        (10, "2023-11-14T22:13:20.000Z"), (11, "2023-11-14T22:13:20.000Z"), (12, "2023-11-14T22:13:20.000Z")]


def test_incremental_reconciles_progress_without_activities(db, fake_anilist, trakt_connected, settings):
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    SystemConfig.objects.create(key="lastSyncTimestamp", value="1700000000")
    fake_anilist.add_entry(11, 1, status="CURRENT", progress=4, updated_at=1_700_000_500)  # no activities
    ok(sync_run(mode="incremental"))
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in range(1, 5)})


def test_a_second_incremental_run_with_nothing_new_costs_three_requests_or_fewer(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    fake_anilist.add_activity(1, 1, progress="1", created_at=1_700_000_000)
    fake_anilist.add_entry(11, 1, status="CURRENT", progress=1, updated_at=1_700_000_000)
    ok(sync_run(mode="incremental"))
    from syncer.clients.anilist import viewer_cache_clear

    viewer_cache_clear()  # as in a new process (the CLI)
    a_before, t_before = len(fake_anilist.requests), len(trakt_connected.requests)
    run = ok(sync_run(mode="incremental"))
    assert len(fake_anilist.requests) - a_before + len(trakt_connected.requests) - t_before <= 3
    assert run.posted == 0 and len(trakt_connected.episode_plays()) == 1


def test_completed_mode_uses_completed_at_and_posts_movies_once(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 12})
    trakt_connected.add_movie(900)
    map_show(1, 100)
    map_movie(2, 900)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=12, completed_at={"year": 2021, "month": 3, "day": None})
    fake_anilist.add_entry(12, 2, status="COMPLETED", progress=1, episodes=1, fmt="MOVIE")
    fake_anilist.add_entry(13, 3, status="CURRENT", progress=2)  # not completed: left alone
    run = ok(sync_run(mode="completed"))
    assert {at for _, _, _, at in trakt_connected.episode_plays()} == {"2021-03-01T00:00:00.000Z"}
    assert len(trakt_connected.episode_plays()) == 12 and [m for m, _ in trakt_connected.movie_plays()] == [900]
    assert run.posted == 13
    ok(sync_run(mode="completed"))
    assert len(trakt_connected.episode_plays()) == 12 and len(trakt_connected.movie_plays()) == 1
    assert SystemConfig.objects.filter(key="status:sync:completed:last-run").exists()


def test_watching_mode_takes_current_and_repeating_entries(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 12})
    trakt_connected.add_show(200, seasons={1: 12})
    map_show(1, 100)
    map_show(2, 200)
    fake_anilist.add_entry(11, 1, status="CURRENT", progress=2)
    fake_anilist.add_entry(12, 2, status="REPEATING", progress=1)
    fake_anilist.add_entry(13, 3, status="COMPLETED", progress=12)
    ok(sync_run(mode="watching"))
    assert plays(trakt_connected) == Counter({(100, 1, 1): 1, (100, 1, 2): 1, (200, 1, 1): 1})
    assert SystemConfig.objects.filter(key="status:sync:watching:last-run").exists()


def test_a_single_show_by_url_posts_its_unsynced_episodes(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    SyncProgress.objects.create(anilist_id=1, last_abs=8)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=12)
    from syncer.refs import parse_anilist_id

    ok(sync_run(mode="show", anilist_id=parse_anilist_id("https://anilist.co/anime/1/Some-Title/")))
    assert plays(trakt_connected) == Counter({(100, 1, n): 1 for n in range(9, 13)})


def test_a_dry_run_posts_nothing_changes_nothing_and_lists_the_plan(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    SyncProgress.objects.create(anilist_id=1, last_abs=10)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=12)
    fake_anilist.add_entry(12, 5, status="COMPLETED", progress=1, title="Nobody Knows")
    from mappings.models import Mapping

    Mapping.objects.create(anilist_id=5, title="Nobody Knows", unmapped_reason="no source knows it", is_manual=True)
    run = ok(sync_preview(mode="completed"))
    assert trakt_connected.requests_to(r"/sync/history", "POST") == []
    assert SyncProgress.objects.get(anilist_id=1).last_abs == 10
    rows = list(run.items.values_list("anilist_episode", "action", "season", "number", "reason"))
    # Episodes 1-10, on Trakt before the run: one line, then the plan.
    assert rows[:3] == [(10, "already_synced", None, None, "already on Trakt up to episode 10"),
                        (11, "post", 1, 11, ""), (12, "post", 1, 12, "")]
    assert rows[3][:2] == (1, "unmapped") and rows[3][4] == "no source knows it"
    assert set(run.items.values_list("state", flat=True)) == {SyncRunItem.State.PLANNED}
    assert not SystemConfig.objects.filter(key__startswith="status:sync").exists()


def test_a_long_anilist_read_reports_each_page_and_renews_the_lease(db, fake_anilist, trakt_connected, monkeypatch):
    from syncer.sync import runs as runs_module

    trakt_connected.add_show(100, seasons={1: 200})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="CURRENT", progress=120, updated_at=1_700_000_120, episodes=200)
    for n in range(1, 121):  # three pages of activities, then one page of updated entries
        fake_anilist.add_activity(n, 1, progress=str(n), created_at=1_700_000_000 + n)
    renewals = []
    real_renew = runs_module.lease_renew
    monkeypatch.setattr(runs_module, "lease_renew", lambda **kw: renewals.append(kw) or real_renew(**kw))
    reports = []
    ok(sync_run(mode="incremental", progress=lambda done, total, label: reports.append((done, label))))
    reading = [done for done, label in reports if label == "Reading AniList"]
    assert reading == [0, 1, 2, 3, 4]
    assert len(renewals) >= len(reading)


def test_reading_the_season_lists_reports_progress_per_show(db, fake_anilist, trakt_connected):
    for n in (1, 2, 3):
        trakt_connected.add_show(100 + n, seasons={1: 12})
        map_show(n, 100 + n)
        fake_anilist.add_entry(10 + n, n, status="COMPLETED", progress=2, episodes=12)
    reports = []
    ok(sync_run(mode="completed", progress=lambda done, total, label: reports.append((done, total, label))))
    assert [(d, t) for d, t, label in reports if label == "Reading Trakt seasons"] == [(0, 3), (1, 3), (2, 3)]


def test_a_failed_preview_is_logged_as_a_failed_preview(db, fake_anilist, trakt_connected, caplog):
    from syncer.sync.services import sync_run

    fake_anilist.fail(r"/", status=500, times=None)
    with caplog.at_level("ERROR", logger="syncer.sync"):
        run = sync_run(mode="incremental", dry_run=True)
    assert run.state == "failed"
    [line] = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert line.startswith(f"Preview {run.pk} (incremental) failed: "), line


def test_a_single_show_already_synced_says_so_with_its_count_not_that_it_is_missing(db, fake_anilist, trakt_connected,
                                                                                   staff_client):
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    SyncProgress.objects.create(anilist_id=1, last_abs=12)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=12)
    run = ok(sync_preview(mode="show", anilist_id=1))
    assert (run.found, run.already_synced) == (12, 12)
    html = staff_client.get(f"/runs/{run.pk}/").content.decode()
    assert "AniList 1 is on your list and all 12 watched episodes are already on Trakt: nothing to post." in html
    assert "not on your AniList list" not in html
    # An id that is not on the list (or does not exist) still says so.
    unknown = ok(sync_preview(mode="show", anilist_id=999999))
    html = staff_client.get(f"/runs/{unknown.pk}/").content.decode()
    assert "AniList 999999 is not on your AniList list" in html


def synced_library(fake_anilist, trakt, *, entries: int, episodes: int) -> None:
    """`entries` completed entries of `episodes` episodes each, every play logged as an activity."""
    for n in range(1, entries + 1):
        trakt.add_show(100 * n, seasons={1: episodes})
        map_show(n, 100 * n)
        fake_anilist.add_entry(10 + n, n, status="COMPLETED", progress=episodes, episodes=episodes,
                               updated_at=1_700_000_000)
        for e in range(1, episodes + 1):
            fake_anilist.add_activity(1000 * n + e, n, progress=str(e), created_at=1_600_000_000 + 1000 * n + e)


def test_a_list_run_over_synced_entries_counts_them_already_synced_as_the_incremental_does(db, fake_anilist,
                                                                                         trakt_connected):
    from syncer.selectors import run_counts

    synced_library(fake_anilist, trakt_connected, entries=2, episodes=6)
    ok(sync_run(mode="completed"))  # every play posted
    posts = len(trakt_connected.history_posts)
    counted = {}
    for mode in ("completed", "watching", "library", "incremental"):
        SystemConfig.objects.filter(key="lastSyncTimestamp").delete()  # the incremental reads every activity
        c = run_counts(ok(sync_run(mode=mode)))
        counted[mode] = (c.found, c.posted, c.already_synced, c.unmapped)
    assert counted["completed"] == counted["library"] == counted["incremental"] == (12, 0, 12, 0)
    assert counted["watching"] == (0, 0, 0, 0)  # no entry is being watched
    assert len(trakt_connected.history_posts) == posts


def test_a_list_run_stores_one_line_per_synced_entry_not_one_per_episode(db, fake_anilist, trakt_connected,
                                                                         staff_client):
    synced_library(fake_anilist, trakt_connected, entries=3, episodes=12)
    ok(sync_run(mode="completed"))
    run = ok(sync_preview(mode="completed"))
    assert run.items.count() == 3 and (run.found, run.already_synced) == (36, 36)
    html = staff_client.get(f"/runs/{run.pk}/").content.decode()
    assert "3 entries, 36 episodes already on Trakt: nothing to post." in html
