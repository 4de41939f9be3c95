"""Undo a run: exactly the plays it posted leave Trakt, its progress comes back, nothing else moves."""

import re
from collections import Counter

import pytest
from django.utils import timezone

from mappings.models import Mapping
from syncer.models import LedgerItem, RemoveBatch, SyncBatch, SyncProgress, SyncRun, SyncRunItem
from syncer.sync.services import sync_run
from syncer.sync.undo import UndoRefused, undo_run
from tests.seeds import map_show

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(fake_anilist, trakt_connected, settings):
    """Show 100 (AniList 1, already synced to episode 2) and show 200 (AniList 2, never synced)."""
    settings.TRAKT_BATCH_SIZE = 4
    trakt_connected.add_show(100, seasons={1: 12})
    trakt_connected.add_show(200, seasons={1: 12})
    map_show(1, 100)
    map_show(2, 200)
    SyncProgress.objects.create(anilist_id=1, last_abs=2, title="Anime 1")
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=6, episodes=6)
    fake_anilist.add_entry(12, 2, status="COMPLETED", progress=3, episodes=3)
    return trakt_connected


def plays(trakt):
    return Counter((show, s, n) for show, s, n, _ in trakt.episode_plays())


def synced(trakt) -> SyncRun:
    run = sync_run(mode="completed")
    assert (run.state, run.posted) == (SyncRun.State.SUCCEEDED, 7), run.error
    return run


def test_undo_removes_exactly_the_plays_of_the_run_and_puts_progress_back(library):
    run = synced(library)
    undo = undo_run(run_id=run.pk)
    assert undo.state == SyncRun.State.SUCCEEDED, undo.error
    assert (undo.mode, undo.undo_of_id, undo.found, undo.posted, undo.not_found) == ("undo", run.pk, 7, 7, 0)
    assert plays(library) == Counter()
    assert SyncProgress.objects.get(anilist_id=1).last_abs == 2
    assert not SyncProgress.objects.filter(anilist_id=2).exists()  # it had none before the run
    assert set(run.items.filter(action="post").values_list("state", flat=True)) == {SyncRunItem.State.REMOVED}
    assert set(undo.items.values_list("action", "state")) == {("remove", SyncRunItem.State.REMOVED)}
    assert RemoveBatch.objects.filter(state="confirmed").count() == 2  # batches of 4


def test_after_an_undo_the_next_sync_posts_the_plays_again_once(library):
    undo_run(run_id=synced(library).pk)
    again = sync_run(mode="completed")
    assert again.posted == 7
    assert plays(library) == Counter({(100, 1, n): 1 for n in range(3, 7)} | {(200, 1, n): 1 for n in (1, 2, 3)})


def test_a_play_the_user_added_on_the_same_episode_is_left_alone(library):
    run = synced(library)
    mine = library.add_play(show=100, season=1, number=3, watched_at="2024-01-01T00:00:00.000Z")  # a rewatch
    undo_run(run_id=run.pk)
    assert [p["id"] for p in library.history] == [mine["id"]]
    assert all(mine["id"] not in ids for ids in library.history_removes)


def test_a_play_with_the_same_time_posted_by_another_run_is_not_taken(library, fake_anilist):
    """Plays with one target and time cannot be told apart: ours elsewhere are set aside first."""
    first = synced(library)
    second_items = list(first.items.filter(anilist_id=2).order_by("anilist_episode"))
    other = SyncRun.objects.create(mode="show", state="succeeded")
    for n, item in enumerate(second_items):  # as if another run had posted the same plays too
        SyncRunItem.objects.create(run=other, position=n, anilist_id=2, title=item.title,
                                   anilist_episode=item.anilist_episode, action="post", kind="episode",
                                   trakt_id=200, season=1, number=item.number, watched_at=item.watched_at,
                                   state="posted")
        library.add_play(show=200, season=1, number=item.number,
                         watched_at=item.watched_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    undo_run(run_id=first.pk)
    assert plays(library) == Counter({(200, 1, n): 1 for n in (1, 2, 3)})


def test_undo_after_a_run_whose_post_was_uncertain_removes_each_play_once(library):
    library.fail(r"/sync/history", method="POST", status=502, apply=True)  # applied, answer lost
    run = synced(library)
    assert SyncBatch.objects.filter(state=SyncBatch.State.RECONCILED).count() == 1
    undo = undo_run(run_id=run.pk)
    assert (undo.state, undo.posted) == (SyncRun.State.SUCCEEDED, 7), undo.error
    assert plays(library) == Counter()
    assert sum(len(ids) for ids in library.history_removes) == 7


def test_an_uncertain_remove_that_was_applied_is_checked_not_guessed(library, settings):
    settings.HTTP_MAX_RETRIES = 0
    run = synced(library)
    library.fail(r"/sync/history/remove", method="POST", status=502, apply=True)
    undo = undo_run(run_id=run.pk)
    assert (undo.state, undo.posted) == (SyncRun.State.SUCCEEDED, 7), undo.error
    assert plays(library) == Counter()
    assert RemoveBatch.objects.filter(state="reconciled").count() == 1
    assert len(library.history_removes) == 2  # the uncertain one was not sent again


def test_an_uncertain_remove_that_was_not_applied_is_sent_again(library, settings):
    settings.HTTP_MAX_RETRIES = 0
    run = synced(library)
    library.fail(r"/sync/history/remove", method="POST", status=502)
    undo = undo_run(run_id=run.pk)
    assert (undo.state, undo.posted) == (SyncRun.State.SUCCEEDED, 7), undo.error
    assert plays(library) == Counter()
    assert RemoveBatch.objects.filter(state="reconciled").count() == 1


def test_a_remove_left_uncertain_by_a_killed_undo_is_settled_by_the_next_one(library, settings):
    settings.HTTP_MAX_RETRIES = 0
    run = synced(library)
    library.fail(r"/sync/history/remove", method="POST", status=502, apply=True, times=None)
    library.fail(r"/sync/history/shows/\d+", method="GET", status=503, times=None)
    first = undo_run(run_id=run.pk)
    assert first.state == SyncRun.State.FAILED
    library.clear_faults()
    second = undo_run(run_id=run.pk)
    assert second.state == SyncRun.State.SUCCEEDED, second.error
    assert plays(library) == Counter()
    assert not RemoveBatch.objects.filter(state__in=["pending", "uncertain"]).exists()
    assert SyncProgress.objects.get(anilist_id=1).last_abs == 2


def test_a_preview_lists_the_plays_and_changes_nothing(library):
    run = synced(library)
    library.history = [p for p in library.history if not (p["show"] == 200 and p["number"] == 3)]  # user deleted it
    preview = undo_run(run_id=run.pk, dry_run=True)
    assert (preview.state, preview.dry_run, preview.found, preview.not_found) == ("succeeded", True, 7, 1)
    assert preview.items.filter(reason="").count() == 6
    assert len(library.history) == 6 and library.history_removes == []
    assert SyncProgress.objects.get(anilist_id=1).last_abs == 6
    assert undo_run(run_id=run.pk).posted == 6  # a preview does not count as undone


def test_progress_a_later_run_advanced_is_left_alone(library, fake_anilist):
    run = synced(library)
    entry = next(e for lst in fake_anilist.lists for e in lst["entries"] if e["id"] == 11)
    entry["progress"] = entry["media"]["episodes"] = 8  # two more episodes watched since
    Mapping.objects.filter(anilist_id=1).update(episodes=8)
    assert sync_run(mode="completed").posted == 2
    undo_run(run_id=run.pk)
    assert SyncProgress.objects.get(anilist_id=1).last_abs == 8
    assert plays(library) == Counter({(100, 1, 7): 1, (100, 1, 8): 1})


@pytest.mark.parametrize("case, message", [
    ("undo", "is itself an undo and cannot be undone"),
    ("twice", "was already undone"),
    ("preview", "was a preview"),
    ("nothing", "wrote no plays, ratings or watchlist adds"),
])
def test_what_cannot_be_undone_is_refused_with_a_reason(library, case, message):
    run = synced(library)
    if case == "undo":
        run = undo_run(run_id=run.pk)
    elif case == "twice":
        undo_run(run_id=run.pk)
    elif case == "preview":
        run = sync_run(mode="completed", dry_run=True)
    elif case == "nothing":
        run = sync_run(mode="completed")
    runs_before = SyncRun.objects.count()
    with pytest.raises(UndoRefused, match=message):
        undo_run(run_id=run.pk)
    assert SyncRun.objects.count() == runs_before


def test_a_run_with_a_post_still_unsettled_is_refused_until_a_sync_settles_it(library):
    library.fail(r"/sync/history", method="POST", status=502, apply=True, times=None)
    library.fail(r"/sync/history/shows/\d+", method="GET", status=503, times=None)
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.FAILED
    with pytest.raises(UndoRefused, match="still being checked against Trakt history"):
        undo_run(run_id=run.pk)
    library.clear_faults()
    assert sync_run(mode="completed").posted == 3  # settles the first batch, then posts show 200
    undo = undo_run(run_id=run.pk)
    assert (undo.state, undo.posted) == (SyncRun.State.SUCCEEDED, 4), undo.error
    assert plays(library) == Counter({(200, 1, n): 1 for n in (1, 2, 3)})  # the later run's plays stay
    assert SyncProgress.objects.get(anilist_id=1).last_abs == 2


def score(anilist, entry_id: int, value: int) -> None:
    next(e for lst in anilist.lists for e in lst["entries"] if e["id"] == entry_id)["score"] = value


def test_undo_takes_back_a_rating_the_run_set_where_trakt_had_none(library, fake_anilist, settings):
    settings.SYNC_RATINGS = True
    score(fake_anilist, 12, 80)
    run = synced(library)
    assert library.ratings == {"show:200": 8}
    preview = undo_run(run_id=run.pk, dry_run=True)
    assert list(preview.items.filter(action="rate").values_list("trakt_id", "rating", "state")) == [
        (200, None, "planned")]
    assert library.ratings == {"show:200": 8}  # a preview changes nothing
    undo = undo_run(run_id=run.pk)
    assert (undo.state, undo.found, undo.posted) == (SyncRun.State.SUCCEEDED, 7, 7), undo.error
    assert plays(library) == Counter() and library.ratings == {}
    assert run.items.get(action="rate").state == SyncRunItem.State.REMOVED
    row = LedgerItem.objects.get(what="rating", anilist_id=2)
    assert (row.state, row.reason) == ("wanted", "undone")


def test_undo_puts_back_the_rating_the_run_replaced(library, fake_anilist, settings):
    settings.SYNC_RATINGS = True
    score(fake_anilist, 12, 80)
    synced(library)
    score(fake_anilist, 12, 60)
    changed = sync_run(mode="completed")
    assert library.ratings == {"show:200": 6}
    undo = undo_run(run_id=changed.pk)
    assert undo.state == SyncRun.State.SUCCEEDED, undo.error
    assert library.ratings == {"show:200": 8}
    assert list(undo.items.filter(action="rate").values_list("rating", "state")) == [(8, "posted")]


@pytest.mark.parametrize("order", ["first run first", "second run first"])
def test_undoing_two_runs_that_rated_in_either_order_leaves_trakt_as_before_both(library, fake_anilist, settings,
                                                                                order):
    settings.SYNC_RATINGS = True
    library.ratings["show:100"] = 5  # the user's own, kept: only show 200 is this app's
    score(fake_anilist, 12, 80)
    first = synced(library)
    score(fake_anilist, 12, 60)
    second = sync_run(mode="completed")
    assert library.ratings == {"show:100": 5, "show:200": 6}
    for run in ([first, second] if order == "first run first" else [second, first]):
        undo = undo_run(run_id=run.pk)
        assert undo.state == SyncRun.State.SUCCEEDED, undo.error
    assert library.ratings == {"show:100": 5}


def test_a_rating_the_user_changed_since_is_left_alone_by_undo(library, fake_anilist, settings):
    settings.SYNC_RATINGS = True
    score(fake_anilist, 12, 80)
    run = synced(library)
    library.ratings["show:200"] = 3  # set by hand on Trakt since
    undo = undo_run(run_id=run.pk)
    assert undo.state == SyncRun.State.SUCCEEDED, undo.error
    assert library.ratings == {"show:200": 3}
    assert list(undo.items.filter(action="rate").values_list("state", flat=True)) == ["not_found"]


def test_an_undo_says_removed_on_its_page_its_tabs_and_the_api(db, staff_client, settings):
    settings.API_TOKEN = "api-token-for-undo-words-0123456789"
    done = SyncRun.objects.create(mode="completed", state="succeeded", finished_at=timezone.now(), posted=2)
    undo = SyncRun.objects.create(mode="undo", undo_of=done, state="succeeded", finished_at=timezone.now(),
                                  found=2, posted=2)
    preview = SyncRun.objects.create(mode="undo", undo_of=done, dry_run=True, state="succeeded",
                                     finished_at=timezone.now(), found=2)
    for run, state in ((undo, "removed"), (preview, "planned")):
        for n in range(2):
            SyncRunItem.objects.create(run=run, position=n, anilist_id=1, anilist_episode=n + 1, action="remove",
                                       state=state, kind="episode", trakt_id=7, season=1, number=n + 1)
    text = re.sub(r"<[^>]+>", "", staff_client.get(f"/runs/{undo.pk}/").content.decode())
    assert "2 plays found, 2 removed" in text and "posted" not in text.lower().split("undo of")[0]
    assert "Removed" in text and "Already synced" not in text and "Unmapped" not in text
    text = re.sub(r"<[^>]+>", "", staff_client.get(f"/runs/{preview.pk}/").content.decode())
    assert "2 plays found, 2 to remove" in text and "to post" not in text
    body = staff_client.get(f"/api/runs/{undo.pk}", HTTP_AUTHORIZATION=f"Bearer {settings.API_TOKEN}").json()
    assert body["counts"] == {"found": 2, "removed": 2, "alreadyGone": 0, "errors": 0}


# The watchlist adds a run made are taken off by its undo; the user's items stay.

@pytest.fixture
def planned(fake_anilist, trakt_connected, settings):
    """AniList 3 and 4 PLANNING (shows 300 and 400); the user has show 400 on the watchlist already."""
    settings.SYNC_WATCHLIST = True
    for n in (3, 4):
        trakt_connected.add_show(n * 100, seasons={1: 12})
        map_show(n, n * 100)
        fake_anilist.add_entry(10 + n, n, status="PLANNING", progress=0, episodes=12)
    trakt_connected.watchlist.append(("show", 400))
    return trakt_connected


def test_undo_takes_the_runs_watchlist_adds_off_and_leaves_the_users_items(planned):
    run = sync_run(mode="completed")
    assert planned.watchlist == [("show", 400), ("show", 300)]
    preview = undo_run(run_id=run.pk, dry_run=True)
    assert list(preview.items.values_list("action", "kind", "trakt_id", "state")) == [
        ("unwatchlist", "show", 300, "planned")]
    assert planned.watchlist == [("show", 400), ("show", 300)]  # a preview changes nothing
    undo = undo_run(run_id=run.pk)
    assert undo.state == SyncRun.State.SUCCEEDED, undo.error
    assert planned.watchlist == [("show", 400)]
    assert list(undo.items.values_list("action", "trakt_id", "state")) == [("unwatchlist", 300, "posted")]
    assert (undo.found, undo.posted) == (0, 0)  # plays only
    assert run.items.get(action="watchlist").state == SyncRunItem.State.REMOVED
    row = LedgerItem.objects.get(what="watchlist", anilist_id=3)
    assert (row.state, row.reason, row.params) == ("wanted", "undone", {"undo": undo.pk})


@pytest.mark.parametrize("order", ["first run first", "second run first"])
def test_undoing_a_watchlist_add_and_its_remap_in_either_order_ends_the_same(planned, order):
    first = sync_run(mode="completed")
    planned.add_show(500, seasons={1: 12})
    Mapping.objects.filter(anilist_id=3).update(trakt_id=500)
    second = sync_run(mode="completed")  # takes 300 off, adds 500
    assert planned.watchlist == [("show", 400), ("show", 500)]
    for run in ([first, second] if order == "first run first" else [second, first]):
        undo = undo_run(run_id=run.pk)
        assert undo.state == SyncRun.State.SUCCEEDED, undo.error
    assert planned.watchlist == [("show", 400)]
    assert LedgerItem.objects.get(what="watchlist", anilist_id=3).state == "wanted"
