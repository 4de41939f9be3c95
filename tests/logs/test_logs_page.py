"""The log page and its live tail (`/logs/`, `/logs/tail/`)."""

import re
from datetime import UTC, datetime

import pytest

from logs.models import LogEntry
from syncer.models import SyncRun

pytestmark = pytest.mark.django_db


def log(message, level="info", run=None):
    return LogEntry.objects.create(message=message, level=level, run=run)


def test_it_lists_the_newest_lines_first_with_level_and_run(staff_client):
    run = SyncRun.objects.create(mode="completed")
    log("first line")
    log("second line", level="warn", run=run)
    html = staff_client.get("/logs/").content.decode()
    assert html.index("second line") < html.index("first line")
    assert f'href="/logs/?run={run.id}"' in html
    assert 'class="level level-warn"' in html


def test_it_shows_times_in_the_configured_time_zone_with_its_name(staff_client, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    entry = log("hello")
    LogEntry.objects.filter(id=entry.id).update(created_at=datetime(2024, 7, 1, 10, 0, tzinfo=UTC))
    html = staff_client.get("/logs/").content.decode()
    assert "2024-07-01 12:00:00 CEST" in html
    assert "Times are in Europe/Berlin" in html


def test_the_level_filter_keeps_that_level_and_more_severe_ones(staff_client):
    log("just info")
    log("a warning", level="warn")
    log("an error", level="error")
    html = staff_client.get("/logs/?level=warn").content.decode()
    assert "a warning" in html and "an error" in html
    assert "just info" not in html


def test_the_run_filter_keeps_only_that_runs_lines(staff_client):
    run = SyncRun.objects.create(mode="watching")
    log("outside")
    log("inside", run=run)
    html = staff_client.get(f"/logs/?run={run.id}").content.decode()
    assert "inside" in html and "outside" not in html


def test_invalid_filters_show_everything_instead_of_failing(staff_client):
    log("still shown")
    response = staff_client.get("/logs/?level=loud&run=abc")
    assert response.status_code == 200
    assert "still shown" in response.content.decode()


def test_the_page_polls_for_lines_after_the_newest_one_only_while_visible(staff_client):
    log("old")
    newest = log("new")
    html = staff_client.get("/logs/").content.decode()
    poller = re.search(r'<tbody id="log-poller"[^>]*>', html).group(0)
    assert f"after={newest.id}" in poller
    # Paused in a hidden tab by static/app.js: a trigger filter would need eval, which the CSP forbids.
    assert 'hx-trigger="every 2s"' in poller and "data-poll-hidden" not in poller


def test_the_tail_returns_only_lines_newer_than_after_and_moves_the_cursor(staff_client):
    old = log("already shown")
    fresh = log("brand new")
    html = staff_client.get(f"/logs/tail/?after={old.id}").content.decode()
    assert "brand new" in html and "already shown" not in html
    assert f"after={fresh.id}" in html
    # A plain poll leaves the pause button alone (no out-of-band swap).
    assert "hx-swap-oob" not in html


def test_the_tail_keeps_the_filters_in_the_next_poll(staff_client):
    run = SyncRun.objects.create(mode="watching")
    first = log("x", run=run)
    log("other run")
    html = staff_client.get(f"/logs/tail/?after={first.id - 1}&level=info&run={run.id}").content.decode()
    assert "other run" not in html
    assert f"level=info&amp;run={run.id}" in html


def test_a_burst_is_delivered_oldest_first_without_a_gap(staff_client, monkeypatch):
    monkeypatch.setattr("logs.selectors.PAGE_ROWS", 3)
    start = log("start")
    lines = [log(f"line {n}") for n in range(5)]
    first = staff_client.get(f"/logs/tail/?after={start.id}").content.decode()
    assert "line 0" in first and "line 2" in first and "line 3" not in first
    second = staff_client.get(f"/logs/tail/?after={lines[2].id}").content.decode()
    assert "line 3" in second and "line 4" in second


def test_pausing_stops_the_polling_and_resuming_restarts_it_from_the_same_line(staff_client):
    shown = log("shown")
    paused = staff_client.get(f"/logs/tail/?after={shown.id}&paused=1&toggle=1").content.decode()
    poller = re.search(r'<tbody id="log-poller"[^>]*>', paused).group(0)
    assert "hx-trigger" not in poller
    assert "Resume live tail" in paused and 'hx-swap-oob="true"' in paused
    log("arrived while paused")
    resumed = staff_client.get(f"/logs/tail/?after={shown.id}&toggle=1").content.decode()
    assert "arrived while paused" in resumed
    assert "Pause" in resumed


def test_the_log_page_and_tail_take_a_fixed_number_of_queries(staff_client, django_assert_num_queries):
    run = SyncRun.objects.create(mode="completed")
    for n in range(50):
        log(f"line {n}", run=run if n % 2 else None)
    staff_client.get("/logs/")  # warm the session
    # session + user + the lines
    with django_assert_num_queries(3):
        staff_client.get("/logs/")
    with django_assert_num_queries(3):
        staff_client.get("/logs/tail/?after=1")


def test_older_lines_are_a_page_away_and_that_page_does_not_tail(staff_client, django_assert_num_queries):
    from logs.selectors import PAGE_ROWS

    LogEntry.objects.bulk_create([LogEntry(message=f"line {n:03d}", level="warn" if n % 2 else "info")
                                  for n in range(2 * PAGE_ROWS + 30)])
    lines = list(LogEntry.objects.order_by("id"))
    html = staff_client.get("/logs/?level=warn").content.decode()
    oldest_shown = min(int(i) for i in re.findall(r'data-log-id="(\d+)"', html))
    assert f'href="/logs/?level=warn&amp;before={oldest_shown}">Older lines' in html
    with django_assert_num_queries(3):  # session + user + the lines
        older = staff_client.get(f"/logs/?level=warn&before={oldest_shown}").content.decode()
    shown = {int(i) for i in re.findall(r'data-log-id="(\d+)"', older)}
    expected = {e.id for e in lines if e.id < oldest_shown and e.level == "warn"}
    assert shown == expected and expected  # the rest of the warnings, nothing newer, no info lines
    assert "Older lines →" not in older  # nothing older than that
    assert 'hx-trigger="every 2s' not in older and "Back to the newest lines" in older
    assert 'href="/logs/?level=warn">Back to the newest lines' in older


def test_an_empty_log_says_what_will_write_to_it(staff_client):
    # A run's season-reading thread logs through a connection of its own: on PostgreSQL its
    # lines from an earlier test are committed outside that test's transaction and stay.
    LogEntry.objects.all().delete()
    html = staff_client.get("/logs/").content.decode()
    assert "No log lines yet. A sync, a source refresh or a Trakt connection writes here." in html
    assert "Older lines" not in html


def test_a_line_shows_commands_as_code_and_the_trakt_page_as_a_link(staff_client):
    log("Trakt refused the token. Reconnect Trakt on the Trakt page (/trakt/) or run `manage.py trakt_auth`.")
    html = staff_client.get("/logs/").content.decode()
    assert "`" not in html.split('id="log-table"')[1]
    assert "<code>manage.py trakt_auth</code>" in html
    assert '<a href="/trakt/">/trakt/</a>' in html


def test_each_row_shows_the_time_without_repeating_the_zone_the_page_names(staff_client, settings):
    settings.TIME_ZONE = "UTC"
    entry = log("hello")
    LogEntry.objects.filter(id=entry.id).update(created_at=datetime(2024, 7, 1, 10, 0, tzinfo=UTC))
    html = staff_client.get("/logs/").content.decode()
    assert "Times are in UTC" in html
    assert ">2024-07-01 10:00:00</time>" in html
