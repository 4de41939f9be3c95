"""Run bookkeeping: progress reporting, the original's status keys, the incremental cursor, and
failure messages that say what to do."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.db.models.functions import Now

from syncer.http import (
    AccountLimit,
    ApiError,
    AuthError,
    Locked,
    RateLimited,
    ServiceUnavailable,
    UncertainWrite,
    paused_notice,
)
from syncer.models import SyncRun
from syncer.status_keys import (
    CURSOR,
    LAST_RUN,
    LAST_RUN_AUTO,
    MODE_LAST_RUN,
    config_get,
    config_set,
    stamp,
)
from syncer.sync.apply import BatchFailed
from syncer.sync.lease import LeaseLost, lease_renew
from syncer.trakt_connection.tokens import RECONNECT

logger = logging.getLogger("syncer.sync")

MILLISECONDS_THRESHOLD = 100_000_000_000  # Unix seconds reach this in the year 5138


def cursor_get() -> int:
    """`lastSyncTimestamp`: Unix seconds (the original stored a number, sometimes JSON-quoted)."""
    raw = (config_get(CURSOR) or "0").strip().strip('"')
    try:
        value = int(float(raw))
    except ValueError:
        logger.warning("lastSyncTimestamp %r is not a Unix time: starting from 0", raw)
        return 0
    # A JavaScript `Date.now()` (milliseconds) would ask AniList for activities from the year
    # 50,000 and silently find none.
    return value // 1000 if value > MILLISECONDS_THRESHOLD else value


def cursor_set(value: int) -> None:
    config_set(CURSOR, str(int(value)))


def next_cursor(*, floor: int, seen: int, unhandled: list[int]) -> int:
    """Advance only past what was fully handled: just before the oldest unhandled event, else
    to the newest time read; never backwards."""
    if unhandled:
        return max(floor, min(unhandled) - 1)
    return max(floor, seen)


def status_mark_started(run: SyncRun) -> None:
    # Written at the start so the cron gate measures the interval between starts, not from the
    # end of a long run.
    if run.trigger == SyncRun.Trigger.SCHEDULED and run.mode == SyncRun.Mode.INCREMENTAL:
        stamp(LAST_RUN_AUTO)


def status_mark_finished(run: SyncRun) -> None:
    if run.mode != SyncRun.Mode.SHOW and run.trigger != SyncRun.Trigger.SCHEDULED:
        stamp(LAST_RUN)
    if run.mode in MODE_LAST_RUN:
        stamp(MODE_LAST_RUN[run.mode])


NEXT_RUN_FINISHES = "nothing was lost, the next run will finish it. Try again later"
RECONNECT_TRAKT = "Reconnect Trakt on the Trakt page (/trakt/) or run `manage.py trakt_auth`"

# What a request was doing, by (method, path prefix): the words a failure is explained in.
_DOING = (
    ("GET", "/sync/history", "checking what was already posted"),
    ("GET", "/sync/watched", "reading what you have watched on Trakt"),
    ("GET", "/shows/", "reading a show's seasons"),
    ("POST", "/sync/history/remove", "removing plays from your Trakt history"),
    ("POST", "/sync/history", "posting your plays"),
    ("POST", "/oauth/", "renewing the Trakt connection"),
)


def failure_message(exc: BaseException) -> str:
    """What went wrong and what to do about it, in one sentence a person can act on: no class
    names, no URLs, each hint once, no secrets."""
    cause = exc.__cause__ if isinstance(exc, BatchFailed) and exc.__cause__ else exc
    if isinstance(cause, LeaseLost):
        return ("Another sync took over this run's lease (it went too long without renewing it); "
                "this run stopped before posting more. Nothing was lost.")
    if not isinstance(cause, ApiError):
        # A bug, not a service problem: the traceback is on the Logs page.
        return f"Unexpected error ({type(cause).__name__}: {cause}); the details are on the Logs page."
    doing = _doing(cause)
    if cause.says_what_to_do:
        return f"{cause.message}."
    if isinstance(cause, AuthError):
        return _auth_failure(cause)
    if isinstance(cause, AccountLimit) and cause.status == 420:
        return f"{cause}."  # the client's message names the limit and what to do
    if isinstance(cause, AccountLimit):
        return (f"Trakt refused {doing or 'the request'}: {cause.message}. Trakt limits this account "
                "(VIP required, or too many apps connected).")
    if isinstance(cause, Locked):
        return "Trakt says the account is locked: contact Trakt support, then run the sync again."
    if isinstance(cause, RateLimited):
        return f"{cause.service} kept asking to slow down (rate limit){_while(doing)}; {NEXT_RUN_FINISHES}."
    if isinstance(cause, ServiceUnavailable):
        return f"{_unreachable(cause)}{_while(doing)}; {NEXT_RUN_FINISHES}."
    if isinstance(cause, UncertainWrite):
        return (f"Trakt did not confirm a post{_while(doing)}; it is checked against your Trakt history "
                f"first, so {NEXT_RUN_FINISHES}.")
    status = f" (HTTP {cause.status})" if cause.status else ""
    return (f"{cause.service} sent an answer that could not be used{_while(doing)}: {cause.message}{status}. "
            "The next run continues where this one stopped; if it keeps happening, see the Logs page.")


def _doing(cause: ApiError) -> str:
    if cause.service == "AniList":
        return "reading your AniList list"
    for method, prefix, words in _DOING:
        if cause.method == method and cause.path.startswith(prefix):
            return words
    return ""


def _while(doing: str) -> str:
    return f" while {doing}" if doing else ""


def _unreachable(cause: ApiError) -> str:
    if cause.message.startswith("could not reach it"):
        return f"Could not reach {cause.service} {cause.message.removeprefix('could not reach it ')}"
    if cause.status and cause.status >= 500:
        return f"{cause.service} answered with a server error (HTTP {cause.status})"
    if cause.status == 403:
        return f"{cause.service} was blocked by Cloudflare"
    return f"{cause.service} did not answer ({cause.message})"


def _auth_failure(cause: AuthError) -> str:
    if cause.service == "AniList":
        return ("AniList refused the token: check ANILIST_ACCESS_TOKEN in `.env` (a new token is made at "
                "anilist.co/settings/developer), then restart.")
    # The Trakt token store already says "reconnect"; say it once, with the real page.
    detail = cause.message.replace(RECONNECT, "").strip(" .") or "Trakt refused the token"
    if "must be set" in detail:
        return f"{detail} in `.env` (see README, Configuration), then restart."
    if detail == "Trakt is not connected":
        return f"{detail} yet: connect it on the Trakt page (/trakt/) or run `manage.py trakt_auth`."
    if detail.startswith("the token was refused"):
        detail = "Trakt refused the token"
    return f"{detail[0].upper()}{detail[1:]}. {RECONNECT_TRAKT}."


class RunProgress:
    """The one progress callback: writes the run's step (`SyncRun.progress_label`, in words) at
    once when it changes and its counters at most once a second, renews the lease, and forwards
    to the caller's callback (the CLI's progress line). What a run posted is not reported here:
    pages and the CLI count it from the run's rows (`syncer.selectors.RunCounts`).

    `lease_check()` renews the lease and raises `LeaseLost` when another run took it; apply
    calls it before every POST, so two runs never post at the same time."""

    def __init__(self, run: SyncRun, forward: Callable[[int, int, str], None] | None, lease_token: str | None):
        self.run, self.forward, self.lease_token = run, forward, lease_token
        self._last_write = 0.0
        self._written: tuple = ()
        self._labels: set[str] = set()
        self._done = self._total = 0
        # Set while a pipelined run reads and posts at once: the step both streams are in
        # ("Reading Trakt seasons" until every list is read), so the page does not flip between
        # the two; and the plays it expects to post in all (`SyncRun.expected_posts`).
        self.phase = ""
        self.expected = 0

    def __call__(self, done: int, total: int, label: str) -> None:
        self._done, self._total = done, total
        if label not in self._labels:
            # Logged once: the two streams of a pipelined run take turns all run long.
            logger.info("%s", label)
            self._labels.add(label)
        now = time.monotonic()
        # A ban met by the reading thread (which writes nothing) holds this run too: say so.
        step = (paused_notice() or self.phase or label)[:200]
        # Written at once when the step changes, or when the first guess of the plays to post
        # comes (a page would wait up to a second for it); the rest at most once a second.
        key = (step, bool(self.expected))
        if key != self._written or now - self._last_write >= 1.0 or done >= total:
            self._last_write, self._written = now, key
            SyncRun.objects.filter(pk=self.run.pk).update(
                progress_done=done, progress_total=total, progress_label=step, expected_posts=self.expected,
                heartbeat_at=Now())
            self.lease_check()
        if self.forward:
            self.forward(done, total, label)

    def note(self, text: str) -> None:
        """A wait or a retry (a service is down, a rate limit): shown in place of the step's
        label until the step moves on, so the page and the CLI do not look stuck."""
        SyncRun.objects.filter(pk=self.run.pk).update(progress_label=text[:200], heartbeat_at=Now())
        self._written = ()  # the step's next report puts its own label back at once
        if self.forward:
            self.forward(self._done, self._total, text)

    def lease_check(self) -> None:
        if self.lease_token and not lease_renew(token=self.lease_token):
            raise LeaseLost()
