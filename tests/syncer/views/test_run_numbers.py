"""One set of numbers per run: whatever a page, the runs list, the API or the terminal says of a
run at one moment (live, finished or failed) is counted from its plan rows, so no two of them
name a different number of posted plays."""

import re
import time

import pytest
from django.utils import timezone

from syncer.models import SyncRun, SyncRunItem
from syncer.sync import pipeline
from syncer.sync.services import sync_run
from tests.seeds import three_shows_last_read_slow


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def posted_numbers(words: str) -> set[int]:
    """Every number a text gives as posted: "52 posted", "posted 52", "Posted 50/176"."""
    found = re.findall(r"(?i)(\d[\d,]*) posted\b|\bposted (\d[\d,]*)", words)
    return {int((a or b).replace(",", "")) for a, b in found}


def rows(run, **filters) -> int:
    return SyncRunItem.objects.filter(run=run, action="post", **filters).count()


@pytest.fixture
def three_shows(fake_anilist, trakt_connected, settings):
    settings.TRAKT_BATCH_SIZE = 5
    # The run posts the first shows while it reads the last, and says so on its page.
    three_shows_last_read_slow(fake_anilist, trakt_connected, seconds=1.2)
    return trakt_connected


def test_a_running_run_says_one_posted_number_on_its_page_the_runs_list_and_the_api(staff_client, api, three_shows):
    seen = []

    def look(done, total, label):
        if label != pipeline.POSTING or not done:
            return
        run = SyncRun.objects.latest("pk")
        seen.append((rows(run, state="posted"), rows(run), text(staff_client.get(f"/runs/{run.pk}/status/")),
                     text(staff_client.get("/dashboard/runs/")), api.get(f"/api/runs/{run.pk}").json()))

    run = sync_run(mode="completed", progress=look)
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert seen
    for posted, planned, page, runs_list, body in seen:
        assert posted_numbers(page) == {posted}, page
        assert f"posted {posted} of {planned} planned so far" in page
        assert posted_numbers(runs_list) == {posted}, runs_list
        assert (body["counts"]["posted"], body["counts"]["planned"]) == (posted, planned)
        assert not re.search(r"\d/\d", page + runs_list + body["progress"]["text"])
    # While a season list was still being read, the page named that phase, and the total it
    # guessed was labelled as a guess.
    assert any("Reading Trakt seasons" in page and "about 30 in all" in page for _, _, page, _, _ in seen)


def test_a_run_that_stopped_mid_post_says_where_in_words_and_the_numbers_of_its_counts(staff_client, three_shows,
                                                                                       settings):
    settings.HTTP_MAX_RETRIES = 0

    def fail_after_the_first_batch(done, total, label):
        if label == pipeline.POSTING and done >= 5:
            time.sleep(1.05)  # the next report is written to the run, as in a long run
            three_shows.fail(r"/sync/history", method="POST", status=503, times=None)

    run = sync_run(mode="completed", progress=fail_after_the_first_batch)
    assert run.state == SyncRun.State.FAILED
    page = text(staff_client.get(f"/runs/{run.pk}/"))
    # The phase it was in when it stopped, as words (not a stale earlier step, not a count).
    stopped = page.split("It stopped")[1].split("”")[0]
    assert stopped in (" at “Reading Trakt seasons", " at “Posting to Trakt"), stopped
    posted, planned = rows(run, state="posted"), rows(run)
    assert f"Before that it posted {posted} of the {planned} plays it planned" in page
    assert posted_numbers(page) == {posted}


def test_a_queued_run_says_it_waits_and_shows_no_number(staff_client):
    run = SyncRun.objects.create(mode="completed", state="queued")
    page = text(staff_client.get(f"/runs/{run.pk}/status/"))
    assert "Queued" in page and not posted_numbers(page)


def test_a_finished_run_shows_no_live_line(staff_client):
    run = SyncRun.objects.create(mode="completed", state="succeeded", finished_at=timezone.now(),
                                 progress_label="Posting to Trakt", expected_posts=30)
    page = text(staff_client.get(f"/runs/{run.pk}/"))
    assert "planned so far" not in page and "in all" not in page


@pytest.mark.parametrize("rows_in_plan", [3, 300])
def test_the_polled_parts_of_a_live_run_take_a_fixed_number_of_queries(staff_client, django_assert_num_queries,
                                                                       rows_in_plan):
    run = SyncRun.objects.create(mode="completed", state="running", progress_label="Posting to Trakt",
                                 expected_posts=rows_in_plan * 2, heartbeat_at=timezone.now())
    SyncRunItem.objects.bulk_create([SyncRunItem(run=run, position=n, anilist_id=n, anilist_episode=1, action="post",
                                                 state="posted" if n % 2 else "planned") for n in range(rows_in_plan)])
    staff_client.get(f"/runs/{run.pk}/status/")  # warm the session
    with django_assert_num_queries(4):  # session, user, the run, its counts (one grouped query)
        page = text(staff_client.get(f"/runs/{run.pk}/status/"))
    assert f"about {rows_in_plan * 2} in all" in page
    # session, user, last runs, active runs, their counts (one grouped query for both), schedules
    with django_assert_num_queries(6):
        staff_client.get("/dashboard/runs/")
