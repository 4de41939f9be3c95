"""`manage.py sync` on a terminal: log lines above the progress line, never mixed into it; a
bar only once its total is known; failures as one line, a traceback only with --verbosity 2."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mappings.models import Mapping
from syncer.management.commands.sync import _console_handlers
from tests.seeds import map_show, three_shows_last_read_slow

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR) [\w.]+: ")


class Terminal(StringIO):
    def isatty(self):
        return True


def screen(output: str) -> list[str]:
    """What a terminal shows: a line cleared with CR + ESC[2K shows only what came after."""
    return [line.split("\r\x1b[2K")[-1] for line in output.split("\n")]


@pytest.fixture
def terminal(monkeypatch):
    """One terminal for the command's output and the log lines, as a person running it has."""
    term = Terminal()
    for handler in _console_handlers():
        monkeypatch.setattr(handler, "stream", term)
    return term


@pytest.fixture
def lib(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100, title="Show A")
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=3, title="Show A")
    fake_anilist.add_entry(12, 5, status="COMPLETED", progress=1, title="Nobody Knows")
    Mapping.objects.create(anilist_id=5, title="Nobody Knows", unmapped_reason="no source knows it", is_manual=True)
    return trakt_connected


def test_log_lines_are_printed_above_the_progress_line_never_inside_it(lib, terminal):
    call_command("sync", "completed", stdout=terminal)
    lines = screen(terminal.getvalue())
    log_lines = [line for line in lines if " syncer." in line]
    assert log_lines and all(LOG_LINE.match(line) for line in log_lines)
    assert not any("[" in line and "#" in line for line in log_lines)
    assert any(re.match(r"Sync #\d+ \(completed\): succeeded\.", line) for line in lines)


def test_a_bar_is_drawn_only_when_its_total_is_known(lib, terminal):
    call_command("sync", "completed", stdout=terminal)
    drawn = re.split(r"\r\x1b\[2K", terminal.getvalue())
    assert not any("0/0" in text for text in drawn)
    assert any(text.startswith("Posting to Trakt · posted 3 of 3 planned so far") for text in drawn)
    assert any(text.startswith("Reading AniList…") for text in drawn)


def test_a_wrong_token_is_one_line_with_no_traceback(lib, terminal, settings):
    settings.ANILIST_ACCESS_TOKEN = "wrong"
    with pytest.raises(CommandError, match="ANILIST_ACCESS_TOKEN") as exc:
        call_command("sync", "completed", stdout=terminal)
    shown = terminal.getvalue()
    assert "Traceback" not in shown and "AuthError" not in shown
    # Said once, as the command's error (not again as an ERROR log line above it).
    assert not [line for line in screen(shown) if " ERROR " in line]
    assert str(exc.value).count("ANILIST_ACCESS_TOKEN") == 1


def test_verbosity_2_shows_the_traceback_of_an_expected_failure(lib, terminal, settings):
    settings.ANILIST_ACCESS_TOKEN = "wrong"
    with pytest.raises(CommandError):
        call_command("sync", "completed", stdout=terminal, verbosity=2)
    assert "Traceback (most recent call last):" in terminal.getvalue()


def test_the_summary_counts_add_up_to_what_was_found_and_point_to_the_manual_page(lib):
    out = StringIO()
    call_command("sync", "completed", stdout=out)
    text = out.getvalue()
    assert "4 episodes found on AniList: 3 posted, 0 already synced, 1 unmapped." in text
    assert "Manual mapping page (/manual/" in text and "in the admin" not in text


def test_a_dry_run_summary_says_what_a_run_would_post(lib):
    out = StringIO()
    call_command("sync", "completed", "--dry-run", stdout=out)
    assert "4 episodes found on AniList: 3 a run would post, 0 already synced, 1 unmapped." in out.getvalue()


def test_a_failed_run_does_not_claim_there_was_nothing_to_sync(lib, settings):
    settings.ANILIST_ACCESS_TOKEN = "wrong"
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("sync", "completed", stdout=out)
    assert "It stopped before it knew what to sync: nothing was posted." in out.getvalue()
    assert "Nothing found" not in out.getvalue()


def test_a_resumed_run_says_which_posts_finished_an_earlier_run(db):
    from syncer.management.commands.sync import summary_counts
    from syncer.models import SyncRun, SyncRunItem

    run = SyncRun.objects.create(mode="completed", state="succeeded", found=84, posted=85, already_synced=80,
                                 unmapped=0)
    for n in range(84):
        SyncRunItem.objects.create(run=run, position=n, anilist_id=1, anilist_episode=n + 1,
                                   action="post" if n < 4 else "already_synced", state="posted" if n < 4 else "planned")
    assert summary_counts(run) == ("84 episodes found on AniList: 4 posted, 80 already synced, 0 unmapped. "
                                   "Also posted 81 plays left over from an earlier run.")


def test_a_retry_notice_replaces_the_step_name_without_a_doubled_ellipsis():
    from django.core.management.base import OutputWrapper

    from syncer.management.commands.sync import ProgressLine

    term = Terminal()
    line = ProgressLine(OutputWrapper(term))
    line(0, 0, "Could not reach AniList (connection refused); retrying 3 more times…")
    assert screen(term.getvalue())[-1] == "Could not reach AniList (connection refused); retrying 3 more times…"


def test_piped_output_says_each_step_once(lib, monkeypatch):
    logs = StringIO()
    for handler in _console_handlers():
        monkeypatch.setattr(handler, "stream", logs)
    out = StringIO()  # not a terminal: plain lines
    call_command("sync", "completed", stdout=out)
    shown = logs.getvalue() + out.getvalue()
    for step in ("Reading AniList", "Planning", "Posting to Trakt"):
        assert len(re.findall(rf"\b{step}\b(?!\w)", shown)) == 1, (step, shown)


def test_a_failure_is_printed_once(lib, terminal, settings):
    settings.ANILIST_ACCESS_TOKEN = "wrong"
    with pytest.raises(CommandError) as exc:
        call_command("sync", "completed", stdout=terminal)
    shown = terminal.getvalue() + str(exc.value)
    assert shown.count("AniList refused the token") == 1, shown
    assert "AniList refused the token" in str(exc.value)


def test_a_list_run_over_synced_entries_says_how_many_are_already_on_trakt(db, fake_anilist, trakt_connected):
    for n in range(1, 9):
        trakt_connected.add_show(100 * n, seasons={1: 12})
        map_show(n, 100 * n)
        fake_anilist.add_entry(10 + n, n, status="COMPLETED", progress=12, episodes=12)
    call_command("sync", "completed", stdout=StringIO())
    out = StringIO()
    call_command("sync", "completed", stdout=out)
    assert "96 episodes found on AniList: 0 posted, 96 already synced, 0 unmapped." in out.getvalue()
    assert "8 entries, 96 episodes already on Trakt: nothing to post." in out.getvalue()
    assert "Nothing new on AniList" not in out.getvalue()


def test_a_pipelined_run_on_a_terminal_says_the_posted_numbers_of_its_rows(db, fake_anilist, trakt_connected,
                                                                           terminal, settings, monkeypatch):
    from syncer.management.commands.sync import ProgressLine

    monkeypatch.setattr(ProgressLine, "EVERY", 0)  # every report drawn, not one a second
    settings.TRAKT_BATCH_SIZE = 5
    three_shows_last_read_slow(fake_anilist, trakt_connected, seconds=1.2)  # the first shows post meanwhile
    call_command("sync", "completed", stdout=terminal)
    drawn = re.split(r"\r\x1b\[2K", terminal.getvalue())
    assert not any(re.search(r"Posted \d|\d+/\d+", text) for text in drawn), drawn
    assert any(text.startswith("Posting to Trakt · posted 30 of 30 planned") for text in drawn), drawn
    # Once every season list is read the line says posting, and never flips back to reading.
    steps = [text.split(" · ")[0] for text in drawn if " · posted " in text]
    assert "Reading Trakt seasons · posted 20 of 20 planned so far, about 30 in all" in drawn, drawn
    assert "Reading Trakt seasons" not in steps[steps.index("Posting to Trakt"):], steps
