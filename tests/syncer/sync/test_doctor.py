"""The history doctor: duplicate plays other tools left on Trakt are found, previewed, removed
exactly once, and put back exactly by an undo; rewatches and this app's own plays stay."""

import socket
from collections import Counter

import pytest

from syncer.clients.trakt import TraktClient
from syncer.models import RemoveBatch, SyncBatch, SyncLease, SyncRun, SyncRunItem
from syncer.sync.doctor import DoctorRefused, Play, doctor_run, find_clusters
from syncer.sync.services import sync_run
from syncer.sync.undo import undo_run
from tests.seeds import T0, at, map_show, seed_duplicates

pytestmark = pytest.mark.django_db


def history(trakt) -> Counter:
    """Trakt history as a multiset of (target, watched_at): what an exact restore must match."""
    return Counter(("movie", p["movie"], p["watched_at"]) if p["type"] == "movie"
                   else (p["show"], p["season"], p["number"], p["watched_at"]) for p in trakt.history)


def ep(n: int, *, show: int = 100) -> tuple:
    return ("episode", show, 1, n)


# --- the pure clustering

def test_it_finds_clusters_0_30_and_59_seconds_apart_and_keeps_the_earliest():
    plays = [Play(1, ep(1), T0), Play(2, ep(1), T0),          # same second
             Play(3, ep(2), T0), Play(4, ep(2), T0 + 30),     # 30 s
             Play(5, ep(3), T0 + 59), Play(6, ep(3), T0)]     # 59 s, listed out of order
    clusters = find_clusters(plays, window=60)
    assert [(c.target, [p.history_id for p in c.keep], [p.history_id for p in c.remove]) for c in clusters] == [
        (ep(1), [1], [2]), (ep(2), [3], [4]), (ep(3), [6], [5])]


def test_plays_a_minute_or_a_day_apart_are_rewatches_and_never_touched():
    plays = [Play(1, ep(1), T0), Play(2, ep(1), T0 + 60), Play(3, ep(1), T0 + 86_400),
             Play(4, ("movie", 7, None, None), T0), Play(5, ("movie", 7, None, None), T0 + 86_400)]
    assert find_clusters(plays, window=60) == []


def test_a_cluster_is_measured_from_its_earliest_play_not_chained():
    """Plays 50 s apart in a row: each cluster spans less than the window from its first play."""
    plays = [Play(n, ep(1), T0 + 50 * n) for n in range(4)]  # 0, 50, 100, 150 s
    clusters = find_clusters(plays, window=60)
    assert [([p.history_id for p in c.keep], [p.history_id for p in c.remove]) for c in clusters] == [
        ([0], [1]), ([2], [3])]


def test_a_play_this_app_posted_stays_even_when_it_is_not_the_earliest():
    plays = [Play(1, ep(1), T0), Play(2, ep(1), T0 + 20), Play(3, ep(1), T0 + 40)]
    [cluster] = find_clusters(plays, window=60, ours={2})
    assert ([p.history_id for p in cluster.keep], [p.history_id for p in cluster.remove]) == ([1, 2], [3])
    assert find_clusters(plays[:2], window=60, ours={2}) == []  # nothing left to remove: no cluster


def test_a_wider_window_takes_plays_hours_apart():
    plays = [Play(1, ep(1), T0), Play(2, ep(1), T0 + 3 * 3600)]
    assert find_clusters(plays, window=60) == []
    assert len(find_clusters(plays, window=4 * 3600)) == 1


# --- on the fake Trakt

@pytest.fixture
def seeded(trakt_connected, settings):
    settings.TRAKT_BATCH_SIZE = 2
    seed_duplicates(trakt_connected)
    return trakt_connected


def removable(run: SyncRun) -> list[tuple]:
    return sorted(run.items.filter(action="remove").values_list("kind", "trakt_id", "number", "watched_at__second"))


def test_the_preview_lists_each_cluster_and_removes_nothing(seeded):
    before = history(seeded)
    preview = doctor_run(dry_run=True)
    assert preview.state == SyncRun.State.SUCCEEDED, preview.error
    assert (preview.mode, preview.dry_run, preview.found) == ("doctor", True, 4)
    assert removable(preview) == [("episode", 100, 1, 20), ("episode", 100, 2, 50), ("episode", 100, 3, 19),
                                  ("movie", 7, None, 0)]
    kept = list(preview.items.filter(action="keep").values_list("number", "reason"))
    assert kept == [(1, "earliest"), (2, "earliest"), (3, "earliest"), (None, "earliest")]
    assert preview.items.get(action="remove", kind="movie").title == "Your Name"
    assert preview.doctor == {"window": 60, "scope": "all", "history": 11, "limit": 100_000, "reads": 1,
                              "clusters": 4}
    assert history(seeded) == before and seeded.history_removes == []


def test_the_repair_removes_exactly_the_duplicates_and_keeps_the_rewatches(seeded):
    preview = doctor_run(dry_run=True)
    repair = doctor_run(dry_run=False, preview_id=preview.pk)
    assert repair.state == SyncRun.State.SUCCEEDED, repair.error
    assert (repair.found, repair.posted, repair.not_found) == (4, 4, 0)
    assert history(seeded) == Counter({
        (100, 1, 1, at(0)): 1, (100, 1, 1, at(86_400)): 1, (100, 1, 2, at(0)): 1, (100, 1, 3, at(0)): 1,
        (100, 1, 4, at(0)): 1, (100, 1, 4, at(60)): 1, ("movie", 7, at(100)): 1})
    assert set(repair.items.filter(action="remove").values_list("state", flat=True)) == {"removed"}
    assert RemoveBatch.objects.filter(run=repair, state="confirmed").count() == 2  # batches of 2


def test_nothing_is_removed_without_a_preview(seeded):
    with pytest.raises(DoctorRefused, match="preview first"):
        doctor_run(dry_run=False, preview_id=None)
    preview = doctor_run(dry_run=True)
    doctor_run(dry_run=False, preview_id=preview.pk)
    with pytest.raises(DoctorRefused, match="already carried out"):
        doctor_run(dry_run=False, preview_id=preview.pk)
    assert seeded.history_removes and len(seeded.history_removes) == 2


def test_the_repair_removes_only_what_the_preview_listed_and_only_while_its_kept_play_is_there(seeded):
    preview = doctor_run(dry_run=True)
    later = seeded.add_play(show=100, season=1, number=5, watched_at=at(0))
    seeded.add_play(show=100, season=1, number=5, watched_at=at(1))  # a new cluster since the preview
    kept_ep2 = next(p for p in seeded.history if p.get("number") == 2 and p["watched_at"] == at(0))
    seeded.history.remove(kept_ep2)  # the user deleted the play kept for episode 2 meanwhile
    repair = doctor_run(dry_run=False, preview_id=preview.pk)
    assert repair.state == SyncRun.State.SUCCEEDED, repair.error
    assert repair.posted == 3
    assert (100, 1, 2, at(30)) in history(seeded)  # episode 2's last play stays
    assert sum(1 for p in seeded.history if p.get("number") == 5) == 2 and later in seeded.history
    assert repair.items.get(action="keep", reason="changed").number == 2


def test_a_play_this_app_posted_is_kept(trakt_connected, fake_anilist, settings):
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=2, episodes=2)
    trakt_connected.add_play(show=100, season=1, number=1, watched_at=at(-20))  # another tool, earlier
    assert sync_run(mode="completed").posted == 1  # episode 1 was on Trakt already: only 2 posted
    trakt_connected.add_play(show=100, season=1, number=2, watched_at=at(-20))  # the tool again, earlier
    trakt_connected.add_play(show=100, season=1, number=2, watched_at=at(30))  # and later
    preview = doctor_run(dry_run=True)
    assert list(preview.items.values_list("action", "reason", "watched_at__second")) == [
        ("keep", "earliest", 0), ("keep", "posted_here", 20), ("remove", "", 50)]
    doctor_run(dry_run=False, preview_id=preview.pk)
    assert sorted(t for *_, n, t in trakt_connected.episode_plays() if n == 2) == [at(-20), at(0)]


def test_the_scope_can_be_the_shows_this_app_mirrors(seeded):
    map_show(1, 100)
    preview = doctor_run(dry_run=True, scope="mirrored")
    assert {kind for kind, *_ in removable(preview)} == {"episode"}


class Killed(BaseException):
    """The process dies here: nothing after this line of the run happens."""


def test_a_repair_killed_mid_remove_loses_nothing_and_removes_nothing_twice(seeded, monkeypatch):
    preview = doctor_run(dry_run=True)
    original = TraktClient.remove_from_history

    def dies_after_the_second(self, ids):
        answer = original(self, ids)  # Trakt applies it ...
        if len(seeded.history_removes) == 2:
            raise Killed()  # ... and the process dies before it hears the answer
        return answer

    monkeypatch.setattr(TraktClient, "remove_from_history", dies_after_the_second)
    with pytest.raises(Killed):
        doctor_run(dry_run=False, preview_id=preview.pk)
    monkeypatch.setattr(TraktClient, "remove_from_history", original)
    assert RemoveBatch.objects.filter(state="pending").count() == 1
    # Its lease is held by a process of this host that no longer exists.
    SyncLease.objects.update(holder=f"{socket.gethostname()}:999999999:dead")

    again = doctor_run(dry_run=False, preview_id=preview.pk)
    assert again.state == SyncRun.State.SUCCEEDED, again.error
    assert SyncRun.objects.filter(mode="doctor", dry_run=False, state="interrupted").count() == 1
    removed = [i for ids in seeded.history_removes for i in ids]
    assert len(removed) == len(set(removed)) == 4
    assert not RemoveBatch.objects.filter(state__in=["pending", "uncertain"]).exists()
    assert sum(history(seeded).values()) == 7


def test_undo_puts_back_exactly_the_removed_plays_with_their_dates(seeded):
    before = history(seeded)
    repair = doctor_run(dry_run=False, preview_id=doctor_run(dry_run=True).pk)
    preview = undo_run(run_id=repair.pk, dry_run=True)
    assert (preview.state, preview.found) == ("succeeded", 4), preview.error
    assert history(seeded) != before
    undo = undo_run(run_id=repair.pk)
    assert (undo.state, undo.posted) == (SyncRun.State.SUCCEEDED, 4), undo.error
    assert history(seeded) == before
    with pytest.raises(Exception, match="already undone"):
        undo_run(run_id=repair.pk)


def test_an_uncertain_put_back_beside_a_same_second_play_is_checked_not_guessed(seeded, settings):
    """The movie's duplicate has the kept play's key: the reconcile must not take one for the other."""
    settings.HTTP_MAX_RETRIES = 0
    settings.TRAKT_BATCH_SIZE = 100
    before = history(seeded)
    repair = doctor_run(dry_run=False, preview_id=doctor_run(dry_run=True).pk)
    seeded.fail(r"/sync/history", method="POST", status=502)  # not applied, answer lost
    undo = undo_run(run_id=repair.pk)
    assert (undo.state, undo.posted) == (SyncRun.State.SUCCEEDED, 4), undo.error
    assert history(seeded) == before
    assert SyncBatch.objects.filter(state="reconciled").count() == 1


def test_a_preview_of_an_undo_and_the_repair_lines_say_what_they_did(seeded):
    repair = doctor_run(dry_run=False, preview_id=doctor_run(dry_run=True).pk)
    undo = undo_run(run_id=repair.pk)
    assert set(undo.items.values_list("action", "state")) == {(SyncRunItem.Action.POST, SyncRunItem.State.POSTED)}
    assert sorted(undo.items.values_list("history_id", flat=True)) == sorted(
        repair.items.filter(action="remove").values_list("history_id", flat=True))


# --- the command line

def test_the_command_previews_then_repairs_and_sync_undo_puts_the_plays_back(seeded):
    from io import StringIO

    from django.core.management import CommandError, call_command

    before = history(seeded)
    with pytest.raises(CommandError, match="preview first"):
        call_command("doctor", stdout=StringIO())
    out = StringIO()
    call_command("doctor", "--dry-run", stdout=out)
    text = out.getvalue()
    preview = SyncRun.objects.get(mode="doctor", dry_run=True)
    assert "Frieren (show 100): 3 kept, 3 to remove" in text
    assert "S01E02 2023-11-14 22:13:50 remove [history id" in text
    assert "S01E02 2023-11-14 22:13:20 keep [history id" in text and "(the earliest play of its cluster)" in text
    assert "Your Name (movie 7): 1 kept, 1 to remove" in text
    assert "4 duplicate plays in 4 clusters; Trakt history holds 11 plays of the 100,000 Trakt allows" in text
    assert f"manage.py doctor --preview {preview.pk}" in text and seeded.history_removes == []
    out = StringIO()
    call_command("doctor", stdout=out)
    assert "4 duplicate plays removed, 0 gone already" in out.getvalue()
    repair = SyncRun.objects.get(mode="doctor", dry_run=False)
    assert repair.trigger == "cli"
    out = StringIO()
    call_command("sync", "undo", str(repair.pk), "--dry-run", stdout=out)
    assert "these 4 plays will be put back" in out.getvalue()
    call_command("sync", "undo", str(repair.pk), stdout=out)
    assert "4 plays put back in Trakt history" in out.getvalue()
    assert history(seeded) == before


def test_the_command_refuses_a_window_beyond_six_hours(seeded):
    from io import StringIO

    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="between 1 and 21600 seconds"):
        call_command("doctor", "--dry-run", "--window", "30000", stdout=StringIO())
    assert not SyncRun.objects.exists()


def test_an_undo_counts_the_plays_at_each_key_in_the_fewest_reads(seeded):
    """Two titles over a one-page history: the whole history is one read, each title's two."""
    before = history(seeded)
    repair = doctor_run(dry_run=False, preview_id=doctor_run(dry_run=True).pk)
    mark = len(seeded.requests)
    assert undo_run(run_id=repair.pk).posted == 4
    reads = [r.path for r in seeded.requests[mark:] if r.method == "GET"]
    assert reads == ["/sync/history"] and history(seeded) == before


def test_an_undo_of_a_repair_over_a_long_history_reads_each_title(seeded):
    before = history(seeded)
    repair = doctor_run(dry_run=False, preview_id=doctor_run(dry_run=True).pk)
    SyncRun.objects.filter(pk=repair.pk).update(doctor={**repair.doctor, "history": 100_000})  # 400 pages
    mark = len(seeded.requests)
    assert undo_run(run_id=repair.pk).posted == 4
    reads = sorted(r.path for r in seeded.requests[mark:] if r.method == "GET")
    assert reads == ["/sync/history/movies/7", "/sync/history/shows/100"] and history(seeded) == before
