"""What a failed run says: what happened and what to do, in plain words, each hint once."""

import socket

import pytest

from syncer.http import AuthError, BadResponse, RateLimited, ServiceUnavailable, UncertainWrite
from syncer.models import SyncRun
from syncer.sync.apply import BatchFailed
from syncer.sync.runs import failure_message
from syncer.sync.services import sync_run
from tests.seeds import map_show


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lib(db, fake_anilist, trakt_connected, settings):
    settings.HTTP_MAX_RETRIES, settings.HTTP_RETRY_BACKOFF_SECONDS = 3, 0
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100, title="Show A")
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=2, title="Show A")
    return trakt_connected


def test_anilist_down_is_said_as_a_person_would_with_no_class_name(lib, settings):
    settings.ANILIST_API_URL = f"http://127.0.0.1:{closed_port()}/"
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.FAILED
    assert run.error.startswith("Could not reach AniList (connection refused) while reading your AniList list")
    assert "nothing was lost" in run.error and "ConnectError" not in run.error and "POST" not in run.error


def test_the_retries_show_in_the_progress_line_while_a_service_is_down(lib, settings):
    settings.ANILIST_API_URL = f"http://127.0.0.1:{closed_port()}/"
    labels = []
    sync_run(mode="completed", progress=lambda done, total, label: labels.append(label))
    notices = [label for label in labels if "retrying" in label]
    assert notices == ["Could not reach AniList (connection refused); retrying 3 more times…",
                       "Could not reach AniList (connection refused); retrying 2 more times…",
                       "Could not reach AniList (connection refused); retrying once more…"]


def test_trakt_failing_while_checking_history_says_nothing_was_lost():
    exc = ServiceUnavailable("Trakt", 503, "server error (error)", method="GET", path="/sync/history/shows/30991")
    message = failure_message(exc)
    assert message == ("Trakt answered with a server error (HTTP 503) while checking what was already posted; "
                       "nothing was lost, the next run will finish it. Try again later.")


def test_a_refused_anilist_token_gives_the_hint_once(lib, settings):
    settings.ANILIST_ACCESS_TOKEN = "wrong"
    run = sync_run(mode="completed")
    assert run.error.count("ANILIST_ACCESS_TOKEN") == 1 and "HTTP" not in run.error


def test_a_revoked_trakt_connection_links_to_the_trakt_page_and_names_the_command(lib):
    lib.expire_tokens()
    lib.refresh_tokens.clear()
    run = sync_run(mode="completed")
    assert "Reconnect Trakt on the Trakt page (/trakt/) or run `manage.py trakt_auth`" in run.error
    assert run.error.count("reconnect") + run.error.count("Reconnect") == 1 and "Settings" not in run.error


def test_a_refused_post_names_what_was_being_done():
    cause = AuthError("Trakt", 401, "the token was refused (invalid)", method="POST", path="/sync/history")
    try:
        raise BatchFailed(str(cause)) from cause
    except BatchFailed as exc:
        message = failure_message(exc)
    assert message == "Trakt refused the token. Reconnect Trakt on the Trakt page (/trakt/) or run `manage.py trakt_auth`."


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (RateLimited("AniList", 429, "too many requests (rate limited)", retry_after=60),
         "AniList kept asking to slow down (rate limit) while reading your AniList list; nothing was lost"),
        (UncertainWrite("Trakt", None, "no answer (it did not answer in time); the write may have been applied",
                        method="POST", path="/sync/history"),
         "Trakt did not confirm a post while posting your plays; it is checked against your Trakt history first"),
        (BadResponse("Trakt", 200, "a history item had no watched_at", method="GET", path="/sync/history"),
         "Trakt sent an answer that could not be used while checking what was already posted: a history item had no"),
        (KeyError("season"), "Unexpected error (KeyError: 'season'); the details are on the Logs page."),
    ],
)
def test_each_kind_of_failure_says_what_happened(exc, expected):
    assert failure_message(exc).startswith(expected)


def test_the_run_page_reads_the_retry_notice_from_the_run_while_it_waits(lib, settings):
    """The page shows `progress_label`: while a retry waits, that is the notice."""
    settings.ANILIST_API_URL = f"http://127.0.0.1:{closed_port()}/"
    stored = []

    def progress(done, total, label):
        if "retrying" in label:
            stored.append(SyncRun.objects.values_list("progress_label", flat=True).get())

    sync_run(mode="completed", progress=progress)
    assert stored[0] == "Could not reach AniList (connection refused); retrying 3 more times…"


def test_trakt_never_connected_says_connect_not_reconnect():
    message = failure_message(AuthError("Trakt", None, "Trakt is not connected"))
    assert message == ("Trakt is not connected yet: connect it on the Trakt page (/trakt/) or run "
                       "`manage.py trakt_auth`.")
