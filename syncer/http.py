"""The one HTTP layer every client uses: typed errors, bounded retries, shared pacing.

Rules that matter for correctness:
- Error bodies are never assumed to be JSON (Cloudflare answers 403/520-522 with HTML).
- A non-idempotent request (a Trakt history POST) is never retried once it may have reached
  the server: a timeout or 5xx raises `UncertainWrite`, so the sync engine reconciles instead
  of posting the same play twice (Trakt does not deduplicate).
- Pacers are module-level per service, so every caller in the process shares one budget.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

logger = logging.getLogger("syncer.http")

# Trakt's Cloudflare answers an odd or missing User-Agent with a 403 HTML page: `<App>/<version>`.
USER_AGENT = "AniListTraktSync/0.1.0 (self-hosted)"


MiB = 1024 * 1024
# The largest answer read from a service unless its client says less (syncer/clients: AniList
# 16 MiB, Trakt 32 MiB, its OAuth host and TMDB 1 MiB): each far above a real answer.
MAX_ANSWER_BYTES = 32 * MiB

# Cloudflare's block lasts 5 minutes when its answer does not say (trakt/trakt-api#909, #922).
CLOUDFLARE_BAN_SECONDS = 300.0
# Bans met in a row by one request before it gives up: an hour of them is not a rate limit.
MAX_BANS = 12

# --- Errors ---------------------------------------------------------------------------------

# An answer can repeat what was sent (Trakt's `error_description` quoting the refresh token or
# the client secret), and error texts reach pages, the API and the database, not only the
# logs: every message is masked where the error is built. The masker is the logs'
# (`logs.redact.redact`), handed over in `syncer/apps.py`: this layer imports no app above it.
_mask_secrets: Callable[[str], str] = str


def mask_secrets_with(masker: Callable[[str], str]) -> None:
    global _mask_secrets
    _mask_secrets = masker


class ApiError(Exception):
    """An answer from (or failure to reach) a remote service. Messages never carry secrets."""

    # Not a bug: logged as one line, without a traceback (see `logs.redact.expected_failure`).
    expected = True
    # The message is a whole sentence saying what to do: shown as it is (`runs.failure_message`).
    says_what_to_do = False

    def __init__(self, service: str, status: int | None, message: str, *, method: str = "", path: str = ""):
        self.service = service
        self.status = status
        self.message = message = _mask_secrets(message)
        # Which request failed, so a message for people can say what was being done.
        self.method, self.path = method, path
        super().__init__(f"{service}: {message}" + (f" (HTTP {status})" if status else ""))


class AuthError(ApiError):
    """The token was refused (401/403, AniList 400 "Invalid token")."""


class RateLimited(ApiError):
    def __init__(self, service: str, status: int | None, message: str, retry_after: float = 0.0, **where: str):
        super().__init__(service, status, message, **where)
        self.retry_after = retry_after


class CloudflareBan(RateLimited):
    """Cloudflare's block after too many requests from this address (Trakt: more than 500 reads
    in 5 minutes, trakt/trakt-api#909): an HTML 429 without `X-Ratelimit`, `Retry-After: 300`.
    Until it ends every request from the address is refused the same way, writes included
    (trakt/trakt-api#922), so it is waited out by every caller, not retried into."""


class NotFound(ApiError):
    pass


class AccountLimit(ApiError):
    """Trakt 420 (account limit) or 426 (VIP required)."""


class Locked(ApiError):
    """Trakt 423: the user's account is locked."""


class ServiceUnavailable(ApiError):
    """5xx, HTML error pages, timeouts or connection errors, after the retries ran out."""


class BadResponse(ApiError):
    """A 4xx the caller cannot fix by waiting, or a body that is not what the API promises."""


class UncertainWrite(ApiError):
    """A non-idempotent request timed out or got a 5xx: it may or may not have been applied."""


# --- Pacing ---------------------------------------------------------------------------------

Number = float | Callable[[], float]


def _value(v: Number | None) -> float:
    return float(v() if callable(v) else (v or 0))


class Pacer:
    """Spaces requests: at least `interval` seconds apart and at most `max_calls` per `period`.

    Callers reserve a slot under the lock and sleep outside it, so concurrent callers queue
    fairly without holding the lock while asleep. `interval`/`max_calls` may be callables, so a
    setting changed at run time (tests) takes effect. `clock` and `sleep` are injectable.
    """

    def __init__(
        self,
        name: str,
        *,
        interval: Number = 0.0,
        max_calls: Number | None = None,
        period: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.name = name
        self.interval = interval
        self.max_calls = max_calls
        self.period = period
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._last: float | None = None
            self._slots: deque[float] = deque()
            self._blocked_until = 0.0
            self._notice = ""  # what the block is, for people ("Trakt paused requests until 14:05")
            self._limit_override: int | None = None

    def set_limit(self, max_calls: int | None) -> None:
        """Adopt a limit the server announced (AniList `X-RateLimit-Limit`)."""
        with self._lock:
            self._limit_override = max_calls if max_calls and max_calls > 0 else None

    def block_for(self, seconds: float, *, notice: str = "") -> None:
        """Make every caller wait (after a 429 or an exhausted quota); `notice` says why."""
        with self._lock:
            until = self.clock() + max(0.0, seconds)
            if until >= self._blocked_until:
                self._blocked_until = until
                self._notice = notice or self._notice

    def paused(self) -> str:
        """The notice of a block still running ("" when none, or when it said nothing)."""
        with self._lock:
            return self._notice if self._blocked_until > self.clock() else ""

    def _reserve(self) -> float:
        with self._lock:
            now = self.clock()
            slot = max(now, self._blocked_until)
            interval = _value(self.interval)
            if self._last is not None and interval > 0:
                slot = max(slot, self._last + interval)
            limit = self._limit_override or int(_value(self.max_calls))
            if limit > 0:
                while self._slots and self._slots[0] <= now - self.period:
                    self._slots.popleft()
                if len(self._slots) >= limit:
                    slot = max(slot, self._slots[-limit] + self.period)
                self._slots.append(slot)
            self._last = slot
            return slot - now

    def release(self) -> None:
        """A request finished: measure the next interval from now, so the server (which sees
        arrivals, not our send times) never gets two requests closer than `interval`."""
        with self._lock:
            now = self.clock()
            if self._last is None or now > self._last:
                self._last = now

    def blocked_for(self) -> float:
        """Seconds left of a block (`block_for`), 0 when none."""
        with self._lock:
            return max(0.0, self._blocked_until - self.clock())

    def wait(self) -> float:
        delay = self._reserve()
        told = False

        def tell() -> None:
            # This caller's progress line says why it waits, once: a block (a ban) it walks
            # into, or one that begins while it sleeps (another thread met it).
            nonlocal told
            if not told and (notice := self.paused()) and (listener := _retry_listener.get()):
                listener(notice)
                told = True

        if delay > 0:
            tell()
            logger.debug("Pacing %s: waiting %.2fs", self.name, delay)
            self.sleep(delay)
        # A block that began while this caller slept holds it too: nothing leaves until it ends.
        while (left := self.blocked_for()) > 0:
            tell()
            self.sleep(left)
            delay += left
        return delay


TRAKT_WINDOW_MARGIN_SECONDS = 2.0
_pacers: dict[str, Pacer] = {}
_pacers_lock = threading.Lock()


def _pacer_specs() -> dict[str, dict[str, Any]]:
    return {
        "anilist": {"max_calls": lambda: settings.ANILIST_REQUESTS_PER_MINUTE, "period": 60.0},
        # Every Trakt GET of the process, authenticated or not, shares this one budget: Cloudflare
        # counts the address, not the token (trakt/trakt-api#909, #922). The window is a little
        # longer than Trakt's 5 minutes, so a request's way there cannot bring two of them closer.
        "trakt-read": {"max_calls": lambda: settings.TRAKT_READS_PER_5_MINUTES,
                       "period": 300.0 + TRAKT_WINDOW_MARGIN_SECONDS},
        "trakt-write": {"interval": lambda: settings.TRAKT_WRITE_INTERVAL_SECONDS},
        "tmdb": {"max_calls": 40, "period": 1.0},
    }


def pacer(name: str) -> Pacer:
    """The process-wide pacer for one service (`anilist`, `trakt-read`, `trakt-write`, `tmdb`)."""
    with _pacers_lock:
        if name not in _pacers:
            _pacers[name] = Pacer(name, **_pacer_specs().get(name, {}))
        return _pacers[name]


def paused_notice() -> str:
    """What holds a service's requests right now (a Cloudflare ban), for a progress line that
    would otherwise show a run making no headway; "" when nothing does."""
    with _pacers_lock:
        pacers = list(_pacers.values())
    return next((notice for p in pacers if (notice := p.paused())), "")


def pacers_reset() -> None:
    """Forget every pacer's history (tests, so one test's requests do not slow the next)."""
    with _pacers_lock:
        for p in _pacers.values():
            p.reset()


# --- Response helpers -----------------------------------------------------------------------


def is_html(response: httpx.Response) -> bool:
    ctype = response.headers.get("content-type", "").lower()
    if "html" in ctype:
        return True
    head = response.content[:200].lstrip().lower()
    return head.startswith(b"<!doctype html") or head.startswith(b"<html")


def parse_json(response: httpx.Response, service: str) -> Any:
    """The answer's JSON, with every NUL removed from its strings (see `without_nul`)."""
    try:
        return without_nul(response.json())
    except (ValueError, UnicodeDecodeError):
        raise BadResponse(service, response.status_code, "the answer was not JSON") from None


def without_nul(value: Any) -> Any:
    """`value` with every NUL character removed from its strings, keys included.

    JSON may carry a NUL (`\\u0000`) in a title; PostgreSQL cannot store it in a text column
    and fails the whole transaction, so it never gets past this door (AniList, Trakt and TMDB
    all decode here).
    """
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    return value


def error_detail(response: httpx.Response) -> str:
    """A short, secret-free description of an error body (never the raw body)."""
    if is_html(response):
        return "HTML error page (Cloudflare or proxy)"
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return "non-JSON error body"
    if isinstance(body, dict):
        if isinstance(body.get("errors"), list) and body["errors"]:
            first = body["errors"][0]
            return str(first.get("message", "error"))[:200] if isinstance(first, dict) else "error"
        for key in ("error_description", "error", "status_message", "message"):
            if isinstance(body.get(key), str):
                return body[key][:200]
    return "error"


def retry_after_seconds(response: httpx.Response, *, now: float | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date) or a reset header."""
    now = time.time() if now is None else now
    value = response.headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError):
                pass
    reset = response.headers.get("x-ratelimit-reset")
    if reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            pass
    trakt = response.headers.get("x-ratelimit")
    if trakt:
        try:
            until = json.loads(trakt).get("until")
            if until:
                parsed = parse_datetime(until)
                if parsed:
                    return max(0.0, parsed.timestamp() - now)
        except (ValueError, AttributeError):
            pass
    return None


# --- The service ----------------------------------------------------------------------------

ResponseHook = Callable[[httpx.Response], None]
ErrorHook = Callable[[httpx.Response], "ApiError | None"]


class _TooLarge(Exception):
    """An answer went past `HttpService.max_bytes` while it was read."""


class HttpService:
    """One remote service: base URL, headers, timeouts, retries and pacing.

    `request()` returns the `httpx.Response` of a 2xx (or of a status listed in `accept`), and
    raises a typed `ApiError` otherwise. `idempotent` defaults to True for GET/PUT/DELETE/HEAD
    and False for POST; pass it explicitly for POSTs that are safe to repeat (GraphQL reads).
    """

    def __init__(
        self,
        name: str,
        *,
        base_url: str,
        client: httpx.Client | None = None,
        headers: dict[str, str] | None = None,
        read_pacer: Pacer | None = None,
        write_pacer: Pacer | None = None,
        error_hook: ErrorHook | None = None,
        response_hook: ResponseHook | None = None,
        max_retries: int | None = None,
        retry_budget: float | None = None,
        backoff: float | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_bytes: int = MAX_ANSWER_BYTES,
    ):
        self.name = name
        self.max_bytes = max_bytes
        self.base_url = base_url.rstrip("/")
        self.client = client or httpx.Client(timeout=settings.HTTP_TIMEOUT_SECONDS)
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
        self.read_pacer = read_pacer
        self.write_pacer = write_pacer or read_pacer
        self.error_hook = error_hook
        self.response_hook = response_hook
        self.max_retries = settings.HTTP_MAX_RETRIES if max_retries is None else max_retries
        self.retry_budget = settings.HTTP_RETRY_BUDGET_SECONDS if retry_budget is None else retry_budget
        self.backoff = settings.HTTP_RETRY_BACKOFF_SECONDS if backoff is None else backoff
        self.sleep = sleep or time.sleep
        self.clock = clock

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        idempotent: bool | None = None,
        accept: Iterable[int] = (),
        before_send: Callable[[], None] | None = None,
    ) -> httpx.Response:
        """`before_send` runs right before every attempt goes out (retries included), so a
        caller can stop a write it may no longer make: the sync engine checks it still holds its
        lease there, since a retried history POST that lands after another run has reconciled
        its batch would be a duplicate play."""
        try:
            response = self._request(method, path, params=params, json=json, headers=headers,
                                     idempotent=idempotent, accept=accept, before_send=before_send)
        except ApiError as failure:
            _observe(self.name, failure)
            raise
        _observe(self.name, None)
        return response

    def _request(self, method: str, path: str, *, params: dict[str, Any] | None, json: Any,
                 headers: dict[str, str] | None, idempotent: bool | None, accept: Iterable[int],
                 before_send: Callable[[], None] | None) -> httpx.Response:
        method = method.upper()
        if idempotent is None:
            idempotent = method != "POST"
        accept = frozenset(accept)
        started = self.clock()
        pacer_ = self.read_pacer if method in ("GET", "HEAD") else self.write_pacer
        attempt, bans = 0, 0
        while True:
            if pacer_:
                pacer_.wait()
            if before_send:
                try:
                    before_send()
                except BaseException:
                    if pacer_:
                        pacer_.release()
                    raise
            try:
                response = self._send(method, path, params=params, json=json, headers=headers)
            except _TooLarge:
                if pacer_:
                    pacer_.release()
                raise self._too_large(method, path, idempotent) from None
            except httpx.TransportError as exc:
                if pacer_:
                    pacer_.release()
                failure = self._transport_failure(exc, method, path, idempotent)
                self._backoff_or_raise(failure, attempt, started, None)
                attempt += 1
                continue
            if pacer_:
                pacer_.release()
            if self.response_hook:
                self.response_hook(response)
            if response.is_success or response.status_code in accept:
                return response
            failure = self._failure(response, method, path, idempotent)
            if isinstance(failure, CloudflareBan):
                # Not a retry: the request was refused before reaching the API, and waiting is
                # all there is to do. It never fails the request by itself (a ban that keeps
                # coming back MAX_BANS times does).
                bans += 1
                if bans > MAX_BANS:
                    raise failure
                self._wait_out_ban(failure)
                started = self.clock()
                continue
            if not self._retryable(failure, idempotent):
                raise failure
            wait = failure.retry_after if isinstance(failure, RateLimited) else None
            self._backoff_or_raise(failure, attempt, started, wait)
            attempt += 1

    def _send(self, method: str, path: str, *, params, json, headers) -> httpx.Response:
        """Send the request and read its answer streamed, at most `max_bytes` of it once
        decoded: a huge or endless answer (or a small gzip that inflates to one) is refused as
        it comes in, not after it has filled the process's memory."""
        request = self.client.build_request(method, self.url(path), params=params, json=json,
                                            headers={**self.headers, **(headers or {})})
        response = self.client.send(request, stream=True)
        try:
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise _TooLarge
                chunks.append(chunk)
            response._content = b"".join(chunks)  # what `Response.read()` keeps: `.json()` reads it
        finally:
            response.close()
        return response

    def _too_large(self, method: str, path: str, idempotent: bool) -> ApiError:
        where = {"method": method, "path": path}
        what = f"the answer was larger than {self.max_bytes // MiB} MiB, far more than a real one"
        if not idempotent:
            return UncertainWrite(self.name, None, f"{what}; the write may have been applied", **where)
        return BadResponse(self.name, None, f"{what}; it was not read", **where)

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        return parse_json(self.request(method, path, **kwargs), self.name)

    # --- classification

    def _transport_failure(self, exc: Exception, method: str, path: str, idempotent: bool) -> ApiError:
        where = {"method": method, "path": path}
        what = transport_reason(exc)
        # A connect error/timeout means the request never left: safe to retry even a POST.
        never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
        if not idempotent and not never_sent:
            return UncertainWrite(self.name, None, f"no answer ({what}); the write may have been applied", **where)
        return ServiceUnavailable(self.name, None, f"could not reach it ({what})", **where)

    def _failure(self, response: httpx.Response, method: str, path: str, idempotent: bool) -> ApiError:
        status = response.status_code
        if self.error_hook:
            custom = self.error_hook(response)
            if custom is not None:
                custom.method, custom.path = custom.method or method, custom.path or path
                return custom
        detail = error_detail(response)
        where = {"method": method, "path": path}
        if status == 429 and is_html(response) and "x-ratelimit" not in response.headers:
            retry = retry_after_seconds(response)
            return CloudflareBan(self.name, status, "requests refused by Cloudflare for a while (too many requests)",
                                 retry_after=retry if retry is not None else CLOUDFLARE_BAN_SECONDS, **where)
        if status == 429:
            retry = retry_after_seconds(response)
            return RateLimited(self.name, status, "too many requests (rate limited)",
                               retry_after=retry if retry is not None else 1.0, **where)
        if status >= 500:
            if not idempotent:
                return UncertainWrite(self.name, status, f"server error ({detail}); the write may have been applied",
                                      **where)
            return ServiceUnavailable(self.name, status, f"server error ({detail})", **where)
        if status == 403 and is_html(response):
            return ServiceUnavailable(self.name, status, "blocked by Cloudflare (an HTML 403 page)", **where)
        if status in (401, 403):
            return AuthError(self.name, status, f"the token was refused ({detail})", **where)
        if status == 404:
            return NotFound(self.name, status, "not found", **where)
        if status in (420, 426):
            what = "account limit reached" if status == 420 else "a VIP account is required"
            return AccountLimit(self.name, status, what, **where)
        if status == 423:
            return Locked(self.name, status, "the account is locked", **where)
        return BadResponse(self.name, status, f"the request was refused ({detail})", **where)

    @staticmethod
    def _retryable(failure: ApiError, idempotent: bool) -> bool:
        if isinstance(failure, RateLimited):
            return True  # a 429 was not applied, so even a POST may be repeated
        if isinstance(failure, ServiceUnavailable) and failure.status != 403:
            return True
        return False

    def _wait_out_ban(self, ban: CloudflareBan) -> None:
        """Every caller sharing these pacers (Trakt's reads, writes and OAuth calls alike) holds
        its requests until the ban ends; this one sleeps it out, saying until when."""
        wait = max(ban.retry_after, 1.0)
        shared = {self.read_pacer, self.write_pacer} - {None}
        notice = ban_notice(ban.service, wait=wait)
        for p in shared:
            p.block_for(wait, notice=notice)  # the next `wait()` sleeps it out and tells the listener
        logger.warning("%s", notice)
        if not shared:
            if listener := _retry_listener.get():
                listener(notice)
            self.sleep(wait)

    def _backoff_or_raise(self, failure: ApiError, attempt: int, started: float, wait: float | None) -> None:
        if isinstance(failure, UncertainWrite) or attempt >= self.max_retries:
            raise failure
        if wait is None:
            wait = self.backoff * (2**attempt) + random.uniform(0, self.backoff)
        if self.clock() - started + wait > self.retry_budget:
            raise failure
        notice = retry_notice(failure, wait=wait, retries_left=self.max_retries - attempt)
        logger.info("%s", notice)
        listener = _retry_listener.get()
        if listener:
            listener(notice)
        if isinstance(failure, RateLimited):
            # Every other caller sharing these pacers waits too, not just this one.
            for shared in {self.read_pacer, self.write_pacer} - {None}:
                shared.block_for(wait)
        self.sleep(wait)


# --- Saying it to people ---------------------------------------------------------------------

_observer: Callable[[str, ApiError | None], None] | None = None


def observe_outcomes(observer: Callable[[str, ApiError | None], None] | None) -> None:
    """Report the outcome of every request (service name, the failure or None) to `observer`:
    how the dashboard learns that a token was refused or a service is down."""
    global _observer
    _observer = observer


_observed: ContextVar[bool] = ContextVar("observed", default=True)


@contextmanager
def unobserved():
    """Requests made inside are not reported to the observer: for a thread that must not
    write to the database (the pipelined run's season reader; the observer stores its
    outcome in a row the run's own thread may hold locked)."""
    reset = _observed.set(False)
    try:
        yield
    finally:
        _observed.reset(reset)


def _observe(service: str, failure: ApiError | None) -> None:
    if _observer and _observed.get():
        _observer(service, failure)


_retry_listener: ContextVar[Callable[[str], None] | None] = ContextVar("retry_listener", default=None)


@contextmanager
def retry_notices(listener: Callable[[str], None]):
    """Tell `listener` (a progress line) each time a request waits to be retried, so a run
    that sits on one step while a service is down says so instead of looking stuck."""
    reset = _retry_listener.set(listener)
    try:
        yield
    finally:
        _retry_listener.reset(reset)


def transport_reason(exc: Exception) -> str:
    """A transport failure in words ("connection refused"), not an exception class name."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "no answer to the connection attempt"
    if isinstance(exc, httpx.ConnectError):
        text = str(exc).lower()
        if "name" in text and ("resolv" in text or "known" in text):
            return "the host name could not be resolved"
        return "connection refused"
    if isinstance(exc, httpx.TimeoutException):
        return "it did not answer in time"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return "the connection broke"
    return "network error"


def ban_notice(service: str, *, wait: float) -> str:
    """"Trakt paused requests until 14:05 …": the moment the ban ends, rounded up to the minute,
    in the app's time zone."""
    until = timezone.localtime(timezone.now() + timedelta(seconds=wait))
    if until.second or until.microsecond:
        until = until.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return (f"{service} paused requests until {until:%H:%M} (too many requests from this address; "
            "Cloudflare refuses every request until then); the run waits and carries on")


def retry_notice(failure: ApiError, *, wait: float, retries_left: int) -> str:
    """"Could not reach AniList (connection refused); retrying 3 more times…" """
    service = failure.service
    if isinstance(failure, RateLimited):
        return f"{service} asked to slow down (rate limit); waiting {wait:.0f} s…"
    times = "once more" if retries_left == 1 else f"{retries_left} more times"
    if failure.status and failure.status >= 500:
        what = f"{service} answered with a server error (HTTP {failure.status})"
    elif isinstance(failure, ServiceUnavailable) and failure.status == 403:
        what = f"{service} was blocked by Cloudflare"
    else:
        reason = failure.message.removeprefix("could not reach it ")
        what = f"Could not reach {service} {reason}"
    return f"{what}; retrying {times}…"
