"""The pipelined run: shows are posted while later season lists are still being read, each
distinct show's list is read once, and a preview lists exactly what the run then stores."""

import threading
import time
from collections import Counter

import pytest

from mappings.models import Mapping
from mappings.seasons import trakt_show_seasons
from syncer.models import SyncRun, SyncRunItem
from syncer.sync import pipeline
from syncer.sync.services import sync_preview, sync_run
from tests.seeds import map_movie, map_show, three_shows_last_read_slow


def plays(trakt):
    return Counter((show, s, n) for show, s, n, _ in trakt.episode_plays())


def season_reads(trakt) -> Counter:
    return Counter(r.path for r in trakt.requests if r.method == "GET" and r.path.startswith("/shows/"))


def test_posting_starts_while_the_last_season_list_is_still_being_read(db, fake_anilist, trakt_connected, settings):
    settings.TRAKT_BATCH_SIZE = 5
    for n in (1, 2, 3):
        trakt_connected.add_show(100 * n, seasons={1: 10})
        map_show(n, 100 * n)
        fake_anilist.add_entry(10 + n, n, status="COMPLETED", progress=10, episodes=10)
    events, posted = [], threading.Event()
    original = trakt_connected.handle

    def handle(request):
        if request.path == "/shows/300/seasons":
            posted.wait(10)  # answered only once a POST came in, or after 10 s when none comes
        response = original(request)
        if request.method == "POST" and request.path == "/sync/history":
            events.append("post")
            posted.set()
        elif request.path.endswith("/seasons"):
            events.append(request.path)
        return response

    trakt_connected.handle = handle
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert events.index("post") < events.index("/shows/300/seasons")
    assert plays(trakt_connected) == Counter({(100 * n, 1, e): 1 for n in (1, 2, 3) for e in range(1, 11)})


def test_the_run_says_it_reads_seasons_until_the_last_list_is_read_then_posting_never_back(db, fake_anilist,
                                                                                             trakt_connected, settings):
    settings.TRAKT_BATCH_SIZE = 5
    three_shows_last_read_slow(fake_anilist, trakt_connected, seconds=2.5)
    stored = []

    def page_label(done, total, label):
        if label in pipeline.STEPS:
            stored.append(SyncRun.objects.values_list("progress_label", "expected_posts").latest("pk"))

    run = sync_run(mode="completed", progress=page_label)
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    steps = [label for label, _ in stored]
    # Words only: the numbers are the rows' (pages and the CLI count them), the guess is apart.
    assert ("Reading Trakt seasons", 30) in stored and steps[-1] == "Posting to Trakt"
    assert "Reading Trakt seasons" not in steps[steps.index("Posting to Trakt"):]


def test_each_distinct_show_is_read_once_and_a_fresh_cached_one_not_at_all(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 12, 2: 12})
    trakt_connected.add_show(200, seasons={1: 6})
    map_show(1, 100)
    map_show(2, 100, season=2)  # the sequel is season 2 of the same Trakt show
    map_show(3, 200)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=12, episodes=12)
    fake_anilist.add_entry(12, 2, status="COMPLETED", progress=12, episodes=12)
    fake_anilist.add_entry(13, 3, status="COMPLETED", progress=6, episodes=6)
    trakt_show_seasons(trakt_id=200)  # cached, as after an earlier sync
    trakt_connected.requests.clear()

    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert season_reads(trakt_connected) == Counter({"/shows/100/seasons": 1})
    assert run.posted == 30


def item_rows(run):
    return list(SyncRunItem.objects.filter(run=run).order_by("position").values_list(
        "position", "anilist_id", "anilist_episode", "action", "kind", "trakt_id", "season", "number", "reason"))


def test_a_preview_lists_exactly_the_items_the_run_stores(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(700, seasons={1: 50})
    trakt_connected.add_show(800, seasons={1: 4})
    trakt_connected.add_movie(900)
    map_show(1, 700, episode=27)
    map_show(2, 700, episode=39)  # claims S1E39 too: held for both
    Mapping.objects.filter(pk=1).update(episodes=13)
    Mapping.objects.filter(pk=2).update(episodes=12)
    map_show(3, 800)
    map_movie(4, 900)
    map_show(5, 404)  # a show Trakt does not know
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=13, episodes=13)
    fake_anilist.add_entry(13, 3, status="COMPLETED", progress=6, episodes=6)  # two episodes past Trakt's
    fake_anilist.add_entry(14, 4, status="COMPLETED", progress=1, episodes=1)
    fake_anilist.add_entry(15, 5, status="COMPLETED", progress=2, episodes=2)
    fake_anilist.add_entry(12, 2, status="COMPLETED", progress=12, episodes=12)

    preview = sync_preview(mode="completed")
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert item_rows(preview) == item_rows(run)
    assert (run.found, run.already_synced, run.unmapped) == (preview.found, preview.already_synced, preview.unmapped)
    assert SyncRunItem.objects.filter(run=preview, reason__contains="claimed by AniList").count() == 2
    assert run.posted == 12 + 11 + 4 + 1


def test_entries_of_one_trakt_show_are_planned_together_in_the_order_of_their_first_event(
        db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 2, 2: 2})
    trakt_connected.add_show(200, seasons={1: 1})
    trakt_connected.add_movie(900)
    map_show(1, 100)
    map_show(2, 200)
    map_show(3, 100, season=2)  # the sequel is season 2 of entry 1's show
    map_movie(4, 900)
    # Listed in this order (entry 9: no mapping, no dataset): entry 3 after entry 2's show.
    for n, (entry, episodes) in enumerate(((1, 2), (2, 1), (9, 1), (3, 2), (4, 1))):
        fake_anilist.add_entry(11 + n, entry, status="COMPLETED", progress=episodes, episodes=episodes)

    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert [(a, e) for _, a, e, *_ in item_rows(run)] == [(1, 1), (1, 2), (3, 1), (3, 2), (2, 1), (9, 1), (4, 1)]
    assert run.posted == 6


def test_the_step_is_the_reading_streams_while_it_reads_and_posting_after():
    assert pipeline.step(read=812, to_read=2000) == "Reading Trakt seasons"
    assert pipeline.step(read=3, to_read=9, reading=pipeline.RESOLVING) == "Resolving mappings"
    assert pipeline.step(read=2000, to_read=2000) == pipeline.step(read=0, to_read=0) == "Posting to Trakt"


def test_the_season_reader_thread_reports_no_outcome_to_the_database(db, fake_anilist, trakt_connected, monkeypatch):
    """The run's thread may hold the service-status row locked while it waits for a season
    list: a reader that wrote that row would wait for the run, and the run for the reader."""
    from syncer import http

    seen = []
    monkeypatch.setattr(http, "_observer", lambda service, failure: seen.append(threading.current_thread().name))
    for n in (1, 2):
        trakt_connected.add_show(100 * n, seasons={1: 3})
        map_show(n, 100 * n)
        fake_anilist.add_entry(10 + n, n, status="COMPLETED", progress=3, episodes=3)
    assert sync_run(mode="completed").state == SyncRun.State.SUCCEEDED
    assert len(season_reads(trakt_connected)) == 2  # both lists were read by the reader thread
    assert seen and set(seen) == {threading.main_thread().name}


def test_a_stopped_reader_sends_no_further_request_and_ends_with_the_run():
    """A run that ends (or fails) while a season list is being retried leaves no thread
    behind still asking Trakt and logging its retries."""
    stop_after_first = threading.Event()
    attempts = []

    def read(trakt_id, *, before_send):
        while True:  # a read that keeps being retried, as against a Trakt answering 503
            before_send()
            attempts.append(trakt_id)
            stop_after_first.set()
            time.sleep(0.01)

    reader = pipeline.SeasonReader([100, 200], read=read)
    with reader:
        assert stop_after_first.wait(5)
    assert not reader._thread.is_alive()
    sent = len(attempts)
    time.sleep(0.05)
    assert len(attempts) == sent and set(attempts) == {100}


@pytest.mark.django_db(transaction=True)  # the reader thread's connection must see the run's row
def test_the_season_readers_log_lines_belong_to_the_run(postgres_only, fake_anilist, trakt_connected):
    from logs.models import LogEntry

    trakt_connected.add_show(100, seasons={1: 3})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=3, episodes=3)
    trakt_connected.fail(r"/shows/\d+/seasons", status=503, times=1)
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED
    retries = LogEntry.objects.filter(message__contains="retrying")
    assert retries.exists() and set(retries.values_list("run_id", flat=True)) == {run.pk}
