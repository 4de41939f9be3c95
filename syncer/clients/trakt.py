"""Trakt API client: history writes and reads, seasons, search, summaries, OAuth calls."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
from django.conf import settings
from django.utils.dateparse import parse_datetime

from syncer.http import (
    AccountLimit,
    ApiError,
    AuthError,
    BadResponse,
    HttpService,
    MiB,
    ServiceUnavailable,
    UncertainWrite,
    is_html,
    pacer,
    parse_json,
)
from syncer.isotime import js_iso

HISTORY_PAGE_LIMIT = 250  # Trakt clamps larger limits to 250; always send one
WATCHED_PAGE_LIMIT = 100  # /sync/watched/* come in pages of 100 shows or movies
MAX_HISTORY_PAGES = 10_000
SEARCH_ID_TYPES = ("trakt", "tmdb", "tvdb", "imdb")
KINDS = ("show", "movie")


class TokenStore(Protocol):
    def access_token(self) -> str: ...

    def refresh(self, *, reason: str) -> str: ...


class StaticTokenStore:
    """A fixed token (tests, one-off scripts): it cannot refresh."""

    def __init__(self, token: str):
        self.token = token

    def access_token(self) -> str:
        return self.token

    def refresh(self, *, reason: str) -> str:
        raise AuthError("Trakt", 401, "the access token was refused and cannot be refreshed here")


@dataclass(frozen=True)
class EpisodePlay:
    show_trakt_id: int
    season: int
    number: int
    watched_at: datetime


@dataclass(frozen=True)
class MoviePlay:
    movie_trakt_id: int
    watched_at: datetime


@dataclass
class HistoryWriteResult:
    added_episodes: int = 0
    added_movies: int = 0
    not_found: list[EpisodePlay | MoviePlay] = field(default_factory=list)
    # Whether the answer carried `added` counts: Trakt may drop an unknown episode without
    # listing it in `not_found`, and then only a count short of what was sent tells.
    counted: bool = True


@dataclass(frozen=True)
class HistoryItem:
    id: int
    watched_at: datetime
    type: str  # "episode" | "movie"
    show_trakt_id: int | None = None
    season: int | None = None
    number: int | None = None
    movie_trakt_id: int | None = None
    title: str = ""  # the show's or the movie's


# A paginated read's progress: (page just read, pages in all, items in all); the counts are
# None when Trakt sent no pagination headers.
OnPage = Callable[[int, int | None, int | None], None]


@dataclass(frozen=True)
class Season:
    number: int
    episodes: tuple[int, ...]
    # (episode number, day of `first_aired` as `date.toordinal()`) for the episodes Trakt dates:
    # the air-date check of a mapping (mappings/airdates.py) reads them.
    aired: tuple[tuple[int, int], ...] = ()
    # TMDB's id of this season (`ids.tmdb`), when Trakt has one: through TMDB's own list of a
    # show's seasons it tells which TMDB show a Trakt show is, without another Trakt read.
    tmdb_id: int | None = None


def _aired_day(value) -> int | None:
    """`first_aired` ("2020-07-08T15:00:00.000Z", or null before it airs) as a day number."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).date().toordinal()
    except ValueError:
        return None


def _season(raw: dict) -> Season:
    episodes = raw.get("episodes") or []
    days = ((e["number"], _aired_day(e.get("first_aired"))) for e in episodes)
    tmdb = (raw.get("ids") or {}).get("tmdb")
    return Season(number=raw["number"], episodes=tuple(sorted(e["number"] for e in episodes)),
                  aired=tuple(sorted((n, d) for n, d in days if d is not None)),
                  tmdb_id=tmdb if isinstance(tmdb, int) and not isinstance(tmdb, bool) else None)


@dataclass(frozen=True)
class TraktTitle:
    """A show or a movie as Trakt names it: a search hit, or the summary of one id."""
    kind: str
    trakt_id: int
    slug: str | None
    title: str
    year: int | None
    ids: dict


def trakt_time(value: datetime) -> str:
    """Trakt's UTC form, `2014-09-01T09:10:11.000Z`. A naive datetime is refused: its zone is a
    guess, and a guessed date is a wrong play."""
    return js_iso(value)


def _title(kind: str, item: dict) -> TraktTitle:
    ids = item.get("ids") or {}
    if not ids.get("trakt"):
        raise BadResponse("Trakt", 200, f"a {kind} without a Trakt id")
    return TraktTitle(kind=kind, trakt_id=int(ids["trakt"]), slug=ids.get("slug"), title=item.get("title") or "",
                      year=item.get("year"), ids=ids)


def parse_time(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def history_payload(plays: Iterable[EpisodePlay | MoviePlay]) -> dict:
    shows: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    movies = []
    for play in plays:
        if isinstance(play, EpisodePlay):
            shows[play.show_trakt_id][play.season].append(
                {"number": play.number, "watched_at": trakt_time(play.watched_at)}
            )
        elif isinstance(play, MoviePlay):
            movies.append({"ids": {"trakt": play.movie_trakt_id}, "watched_at": trakt_time(play.watched_at)})
        else:
            raise TypeError(f"not a play: {play!r}")
    payload: dict[str, list] = {}
    if shows:
        payload["shows"] = [
            {"ids": {"trakt": show}, "seasons": [{"number": s, "episodes": eps} for s, eps in seasons.items()]}
            for show, seasons in shows.items()
        ]
    if movies:
        payload["movies"] = movies
    return payload


def _not_found_plays(body: dict, plays: Sequence[EpisodePlay | MoviePlay]) -> list:
    """Map Trakt's `not_found` back to the plays sent. A show listed without seasons means every
    play of that show; a season without episodes, every play of that season."""
    not_found = body.get("not_found") or {}
    missing_movies = {(m.get("ids") or {}).get("trakt") for m in not_found.get("movies") or []}
    missing_shows: set[int] = set()
    missing_seasons: set[tuple[int, int]] = set()
    missing_episodes: set[tuple[int, int, int]] = set()
    for show in not_found.get("shows") or []:
        show_id = (show.get("ids") or {}).get("trakt")
        seasons = show.get("seasons")
        if not seasons:
            missing_shows.add(show_id)
        for season in seasons or []:
            episodes = season.get("episodes")
            if not episodes:
                missing_seasons.add((show_id, season.get("number")))
            for ep in episodes or []:
                missing_episodes.add((show_id, season.get("number"), ep.get("number")))
    result = []
    for play in plays:
        if isinstance(play, MoviePlay):
            if play.movie_trakt_id in missing_movies:
                result.append(play)
        elif (play.show_trakt_id in missing_shows
              or (play.show_trakt_id, play.season) in missing_seasons
              or (play.show_trakt_id, play.season, play.number) in missing_episodes):
            result.append(play)
    return result


def parse_history_item(raw: dict) -> HistoryItem:
    kind = raw.get("type")
    watched_at = parse_time(raw.get("watched_at"))
    if watched_at is None:
        raise BadResponse("Trakt", 200, "a history item had no watched_at")
    if kind == "movie":
        movie = raw.get("movie") or {}
        return HistoryItem(id=raw["id"], watched_at=watched_at, type="movie",
                           movie_trakt_id=movie.get("ids", {}).get("trakt"), title=movie.get("title") or "")
    episode, show = raw.get("episode") or {}, raw.get("show") or {}
    return HistoryItem(
        id=raw["id"], watched_at=watched_at, type=kind or "episode",
        show_trakt_id=show.get("ids", {}).get("trakt"),
        season=episode.get("season"), number=episode.get("number"), title=show.get("title") or "",
    )


def _played(row: dict) -> bool:
    """A watched row counts unless it says it has no plays: listed but without a `plays` count
    is still watched (taking it for unwatched would post a duplicate play)."""
    plays = row.get("plays")
    return plays is None or not isinstance(plays, int) or plays > 0


@dataclass(frozen=True)
class TraktAccount:
    """What `GET /users/settings` says of the account: VIP or not (None: not said), its time
    zone (an IANA name, "" when not said) and its limits (`limits.<name>.item_count`, e.g.
    "watchlist": 250 on a free account)."""
    vip: bool | None
    timezone: str
    limits: dict[str, int]


def parse_account(body: Any) -> TraktAccount:
    body = body if isinstance(body, dict) else {}
    user, account, limits = (body.get(k) if isinstance(body.get(k), dict) else {} for k in ("user", "account", "limits"))
    counts = {name: value["item_count"] for name, value in limits.items()
              if isinstance(value, dict) and isinstance(value.get("item_count"), int)}
    vip = user.get("vip")
    zone = account.get("timezone")
    return TraktAccount(vip=vip if isinstance(vip, bool) else None, timezone=zone if isinstance(zone, str) else "",
                        limits=counts)


class AppRefused(ApiError):
    """Trakt refuses this app, whatever the user does: its key (403: the app was deleted;
    trakt/trakt-api#897) or its owner's plan (426: VIP required). The message says what to do."""

    says_what_to_do = True


APP_DELETED = ("Trakt refuses this app's key (HTTP 403 to every request): Trakt deleted the API app, as it does "
               "for apps whose owner has no VIP. Create a new app on trakt.tv (Settings, Your API Apps; needs "
               "VIP), set TRAKT_CLIENT_ID and TRAKT_CLIENT_SECRET to its keys, restart, then connect Trakt again")
VIP_REQUIRED = ("Trakt answered 426: this needs a Trakt VIP account (API apps are a VIP feature since July 2026). "
                "Renew VIP on the account that owns the API app, then run the sync again")


def trakt_error(response: httpx.Response) -> ApiError | None:
    """Trakt's own refusals, each in one line saying what to do: 420 (an account limit), 426
    (VIP required), a JSON 403 (the app's key refused; Cloudflare's 403 is an HTML page)."""
    if response.status_code == 426:
        return AppRefused("Trakt", 426, VIP_REQUIRED)
    if response.status_code == 403 and not is_html(response):
        return AppRefused("Trakt", 403, APP_DELETED)
    return account_limit_error(response)


def account_limit_error(response: httpx.Response) -> AccountLimit | None:
    """Trakt's 420: a free account reached one of its limits, named in `X-Account-Limit`. Never
    retried (the limit stays until the user acts), so the message says which limit and what to
    do; the POST was refused, so nothing of it is on Trakt."""
    if response.status_code != 420:
        return None
    limit = response.headers.get("X-Account-Limit", "").strip() or "not named by Trakt"
    where = f"{response.request.method} {response.request.url.path}"
    return AccountLimit("Trakt", 420, (
        f"{where} refused: the Trakt account reached a limit (X-Account-Limit: {limit}); nothing of "
        "this request was applied. Free accounts have lower limits: make room (or upgrade to Trakt "
        "VIP), then run the sync again"))


class RefreshRefused(AuthError):
    """Trakt refused a refresh token (`code`: the OAuth error, e.g. `invalid_grant`).
    `after_lost_answer`: an earlier try of the same refresh got no answer, so it was applied
    then and the pair it made is lost; otherwise the token was spent or revoked before."""

    def __init__(self, code: str, *, status: int, after_lost_answer: bool):
        super().__init__("Trakt", status, f"Trakt refused the refresh token ({code})", method="POST",
                         path="/oauth/token")
        self.code, self.after_lost_answer = code, after_lost_answer


def _oauth_error(response: httpx.Response) -> str:
    """The OAuth error code of a refused token request (`invalid_grant`), never its text."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return "no error code"
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) and code.isidentifier() else "no error code"


# The largest Trakt answers (a season list of a 1,100-episode show with `extended=full`, a page
# of 100 watched shows) are a few megabytes; a token answer is well under a kilobyte.
MAX_ANSWER_BYTES = 32 * MiB
MAX_TOKEN_ANSWER_BYTES = 1 * MiB


class TraktClient:
    def __init__(self, *, token_store: TokenStore | None = None, client: httpx.Client | None = None,
                 base_url: str | None = None, auth_url: str | None = None):
        self.token_store = token_store
        self._account: TraktAccount | None = None
        headers = {
            "Content-Type": "application/json",
            "trakt-api-key": settings.TRAKT_CLIENT_ID,
            "trakt-api-version": "2",
        }
        self.api = HttpService("Trakt", base_url=base_url or settings.TRAKT_API_URL, client=client,
                               headers=headers, read_pacer=pacer("trakt-read"),
                               write_pacer=pacer("trakt-write"), error_hook=trakt_error,
                               max_bytes=MAX_ANSWER_BYTES)
        # OAuth POSTs (a token refresh between a 401 and the retried history POST) share the
        # write pacer, so no two POSTs ever reach Trakt closer than its 1 write/s.
        self.auth = HttpService("Trakt", base_url=auth_url or settings.TRAKT_AUTH_URL,
                                client=self.api.client, headers=headers,
                                read_pacer=pacer("trakt-read"), write_pacer=pacer("trakt-write"),
                                max_bytes=MAX_TOKEN_ANSWER_BYTES)

    # --- plumbing

    def _request(self, method: str, path: str, *, authed: bool = True, **kwargs: Any) -> httpx.Response:
        """One API call; on a 401 the token is refreshed once and the call repeated (a 401 was
        not applied, so this is safe even for a POST)."""
        if not (authed and self.token_store):
            return self.api.request(method, path, **kwargs)
        token = self.token_store.access_token()
        try:
            return self.api.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        except AuthError as exc:
            if exc.status != 401:
                raise
            token = self.token_store.refresh(reason="401")
            return self.api.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return parse_json(self._request(method, path, **kwargs), "Trakt")

    # --- history

    def add_to_history(self, plays: Sequence[EpisodePlay | MoviePlay], *,
                       before_send: Callable[[], None] | None = None) -> HistoryWriteResult:
        """One POST /sync/history. Raises `UncertainWrite` when the POST may have been applied
        (timeout, 5xx): never call it again for the same plays without reconciling first.
        `before_send` runs before every attempt (see `HttpService.request`)."""
        if not plays:
            return HistoryWriteResult()
        body = self._json("POST", "/sync/history", json=history_payload(plays), before_send=before_send)
        body = body if isinstance(body, dict) else {}
        added = body.get("added")
        counts = added if isinstance(added, dict) else {}
        return HistoryWriteResult(
            added_episodes=int(counts.get("episodes") or 0),
            added_movies=int(counts.get("movies") or 0),
            not_found=_not_found_plays(body, plays),
            counted=isinstance(added, dict),
        )

    def remove_from_history(self, history_ids: Sequence[int]) -> dict:
        # Removing by history id twice removes nothing the second time: safe to retry.
        return self._json("POST", "/sync/history/remove", json={"ids": list(history_ids)}, idempotent=True)

    def history(self, *, kind: str | None = None, trakt_id: int | None = None,
                start_at: datetime | None = None, end_at: datetime | None = None) -> list[HistoryItem]:
        """Every history item (all pages). `kind`: "shows", "movies", "episodes" or None."""
        return list(self.history_items(kind=kind, trakt_id=trakt_id, start_at=start_at, end_at=end_at))

    def history_items(self, *, kind: str | None = None, trakt_id: int | None = None,
                      start_at: datetime | None = None, end_at: datetime | None = None,
                      on_page: OnPage | None = None) -> Iterator[HistoryItem]:
        """`history`, one item at a time as the pages arrive (a whole history need not be held
        as rows); `on_page` hears of each page read."""
        if kind not in (None, "shows", "movies", "episodes"):
            raise ValueError(f"unknown history kind {kind!r}")
        if trakt_id is not None and kind is None:
            raise ValueError("trakt_id needs a kind")
        path = "/sync/history" + (f"/{kind}" if kind else "") + (f"/{trakt_id}" if trakt_id else "")
        params: dict[str, Any] = {}
        if start_at:
            params["start_at"] = trakt_time(start_at)
        if end_at:
            params["end_at"] = trakt_time(end_at)
        for raw in self._pages(path, params, limit=HISTORY_PAGE_LIMIT, on_page=on_page):
            yield parse_history_item(raw)

    def _pages(self, path: str, params: dict[str, Any], *, limit: int, on_page: OnPage | None = None
               ) -> Iterator[dict]:
        """Every row of a paginated GET: pages until `X-Pagination-Page-Count` says it was the
        last (or, without that header, until a page comes back short or empty)."""
        params = {**params, "limit": limit}
        for page in range(1, MAX_HISTORY_PAGES + 1):
            response = self._request("GET", path, params={**params, "page": page})
            rows = parse_json(response, "Trakt") or []
            if not isinstance(rows, list):
                raise BadResponse("Trakt", response.status_code, f"{path} did not answer a list")
            page_count = response.headers.get("x-pagination-page-count")
            if on_page:
                on_page(page, _count(page_count), _count(response.headers.get("x-pagination-item-count")))
            yield from rows
            if page_count is not None:
                if page >= int(page_count):
                    return
            elif len(rows) < limit:
                return
            if not rows:
                return
        raise BadResponse("Trakt", 200, f"{path} still had more after {MAX_HISTORY_PAGES} pages")

    def watched_shows(self) -> set[tuple[int, int, int]]:
        """(show trakt id, season, number) of every episode the user has at least one play of.

        Per-episode `seasons` only come with `extended=progress` (since mid-2026), and season 0
        only with `specials=true` (trakt/trakt-api#792): without it a special watched on Trakt
        would be posted again. A show without `seasons` is left out rather than guessed (its
        episodes are then not known to be watched, and the plan decides on its own progress)."""
        watched: set[tuple[int, int, int]] = set()
        params = {"extended": "progress", "specials": "true"}
        for row in self._pages("/sync/watched/shows", params, limit=WATCHED_PAGE_LIMIT):
            show_id = ((row.get("show") or {}).get("ids") or {}).get("trakt")
            if show_id is None:
                continue
            for season in row.get("seasons") or []:
                for episode in season.get("episodes") or []:
                    if _played(episode) and episode.get("number") is not None:
                        watched.add((show_id, season.get("number"), episode["number"]))
        return watched

    def watched_movies(self) -> set[int]:
        """Trakt ids of every movie the user has at least one play of."""
        return {
            ((row.get("movie") or {}).get("ids") or {}).get("trakt")
            for row in self._pages("/sync/watched/movies", {}, limit=WATCHED_PAGE_LIMIT)
            if _played(row)
        } - {None}

    # --- catalogue

    def show_seasons(self, trakt_id: int, *, before_send: Callable[[], None] | None = None) -> list[Season]:
        """`before_send` runs before every attempt (see `HttpService.request`)."""
        # `full` with `episodes` adds each episode's `first_aired`, in the same one request.
        rows = self._json("GET", f"/shows/{trakt_id}/seasons", params={"extended": "full,episodes"}, authed=False,
                          before_send=before_send)
        return sorted((_season(s) for s in rows or []), key=lambda s: s.number)

    def search(self, *, id_type: str, external_id: str | int, kind: str) -> list[TraktTitle]:
        """Look up by external id. `kind` is always sent: a tvdb/tmdb id may also match an episode."""
        if id_type not in SEARCH_ID_TYPES:
            raise ValueError(f"unknown id type {id_type!r}")
        if kind not in KINDS:
            raise ValueError(f"kind must be 'show' or 'movie', not {kind!r}")
        rows = self._json("GET", f"/search/{id_type}/{external_id}", params={"type": kind}, authed=False)
        results = []
        for row in rows or []:
            item = row.get(kind) if row.get("type") == kind else None
            if not item:
                continue
            results.append(_title(kind, item))
        return results

    def search_title(self, *, query: str, kind: str, year: int | None = None, limit: int = 5) -> list[TraktTitle]:
        """Text search (`GET /search/{type}?query=&years=`), best match first: only for an entry
        no dataset knows, whose air dates must then match one run of the show uniquely."""
        if kind not in KINDS:
            raise ValueError(f"kind must be 'show' or 'movie', not {kind!r}")
        params = {"query": query, "limit": limit, **({"years": year} if year else {})}
        rows = self._json("GET", f"/search/{kind}", params=params, authed=False)
        out = []
        for row in rows or []:
            item = row.get(kind) if isinstance(row, dict) and row.get("type") == kind else None
            if item and (item.get("ids") or {}).get("trakt"):
                out.append(_title(kind, item))
        return out

    def show(self, trakt_id: int | str) -> TraktTitle:
        """The show with this Trakt id or slug; `NotFound` when Trakt has none."""
        return _title("show", self._json("GET", f"/shows/{trakt_id}", authed=False) or {})

    def movie(self, trakt_id: int | str) -> TraktTitle:
        """The movie with this Trakt id or slug; `NotFound` when Trakt has none."""
        return _title("movie", self._json("GET", f"/movies/{trakt_id}", authed=False) or {})

    # --- account

    def last_activities(self) -> dict:
        return self._json("GET", "/sync/last_activities")

    def user_settings(self) -> dict:
        return self._json("GET", "/users/settings")

    def account(self) -> TraktAccount:
        """The account's settings (`GET /users/settings`), read once for this client's life: a
        run builds one client, so once per run that needs them."""
        if self._account is None:
            self._account = parse_account(self.user_settings())
        return self._account

    def add_ratings(self, payload: dict) -> dict:
        """`payload` is Trakt's shape (`{"shows": [{"ids": ..., "rating": 8}], ...}`); setting
        the same rating twice changes nothing, so it may be retried."""
        return self._json("POST", "/sync/ratings", json=payload, idempotent=True)

    def remove_ratings(self, payload: dict) -> dict:
        """POST /sync/ratings/remove (`ratings_payload` without ratings): removing what is not
        there changes nothing, so it may be retried."""
        return self._json("POST", "/sync/ratings/remove", json=payload, idempotent=True)

    def add_to_watchlist(self, payload: dict) -> dict:
        return self._json("POST", "/sync/watchlist", json=payload, idempotent=True)

    # --- OAuth (on the auth host)

    def _oauth_body(self, **fields: Any) -> dict:
        return {"client_id": settings.TRAKT_CLIENT_ID, "client_secret": settings.TRAKT_CLIENT_SECRET, **fields}

    def oauth_refresh(self, refresh_token: str) -> dict:
        """The new token pair for `refresh_token` (single-use: trakt/trakt-api#888, #894).

        A refresh that gets no answer (5xx, timeout, dropped connection) is sent again with the
        same refresh token: either the first never took effect and this one works, or it did
        and Trakt answers `invalid_grant`, the new pair lost with the answer. Only Trakt's own
        refusal raises `RefreshRefused` (`after_lost_answer` tells the two apart); a refresh
        that never gets an answer raises the last failure, the stored pair untouched."""
        body = self._oauth_body(refresh_token=refresh_token, redirect_uri=settings.TRAKT_REDIRECT_URI,
                                grant_type="refresh_token")
        lost = 0
        while True:
            try:
                response = self.auth.request("POST", "/oauth/token", json=body, accept=(400, 401))
            except (UncertainWrite, ServiceUnavailable):
                lost += 1
                if lost > max(1, settings.HTTP_MAX_RETRIES):
                    raise
                self.auth.sleep(settings.HTTP_RETRY_BACKOFF_SECONDS * 2 ** (lost - 1))
                continue
            if response.is_success:
                return parse_json(response, "Trakt")
            raise RefreshRefused(_oauth_error(response), status=response.status_code, after_lost_answer=lost > 0)

    def oauth_exchange_code(self, code: str) -> dict:
        return parse_json(self.auth.request("POST", "/oauth/token", json=self._oauth_body(
            code=code, redirect_uri=settings.TRAKT_REDIRECT_URI,
            grant_type="authorization_code")), "Trakt")

    def oauth_device_code(self) -> dict:
        return parse_json(self.auth.request("POST", "/oauth/device/code",
                                            json={"client_id": settings.TRAKT_CLIENT_ID},
                                            idempotent=True), "Trakt")

    def oauth_device_token(self, device_code: str) -> tuple[int, dict | None]:
        """One poll: (status, token or None). 400 pending, 404, 409, 410, 418, 429 are answers."""
        response = self.auth.request("POST", "/oauth/device/token", json=self._oauth_body(code=device_code),
                                     accept=(400, 404, 409, 410, 418, 429))
        if response.is_success:
            return 200, parse_json(response, "Trakt")
        return response.status_code, None

    def oauth_revoke(self, token: str) -> None:
        self.auth.request("POST", "/oauth/revoke", json=self._oauth_body(token=token), idempotent=True)

    # --- ratings and watchlist (issue 13)

    def ratings(self) -> dict[str, int]:
        """The user's movie, show and season ratings, keyed like `rating_key` (all pages)."""
        found: dict[str, int] = {}
        for row in self._pages("/sync/ratings", {}, limit=HISTORY_PAGE_LIMIT):
            kind, rating = row.get("type"), row.get("rating")
            if kind not in ("movie", "show", "season") or not isinstance(rating, int):
                continue
            owner = row.get("movie") if kind == "movie" else row.get("show")
            trakt_id = ((owner or {}).get("ids") or {}).get("trakt")
            season = (row.get("season") or {}).get("number") if kind == "season" else None
            if trakt_id is not None and (kind != "season" or season is not None):
                found[rating_key(kind, trakt_id, season)] = rating
        return found

    def watchlist(self) -> set[tuple[str, int]]:
        """(kind, trakt id) of every show and movie on the user's watchlist (all pages)."""
        found: set[tuple[str, int]] = set()
        for row in self._pages("/sync/watchlist", {}, limit=HISTORY_PAGE_LIMIT):
            kind = row.get("type")
            trakt_id = (((row.get(kind) or {}) if kind in KINDS else {}).get("ids") or {}).get("trakt")
            if trakt_id is not None:
                found.add((kind, trakt_id))
        return found

    def watchlist_add(self, payload: dict) -> dict:
        """POST /sync/watchlist. A full watchlist (free accounts) raises `AccountLimit` naming the
        limit from `X-Account-Limit`; it is never retried (it cannot succeed until items go)."""
        response = self._request("POST", "/sync/watchlist", json=payload, idempotent=True, accept=(420,))
        if response.status_code == 420:
            limit = response.headers.get("x-account-limit")
            exc = AccountLimit("Trakt", 420, "the Trakt watchlist is full"
                               + (f" (this account's limit: {limit} items)" if limit else ""))
            exc.limit = int(limit) if (limit or "").isdigit() else None  # a reason parameter
            raise exc
        return parse_json(response, "Trakt") or {}

    def remove_from_watchlist(self, payload: dict) -> dict:
        # Removing what is not there changes nothing: safe to retry.
        return self._json("POST", "/sync/watchlist/remove", json=payload, idempotent=True)


def _count(header: str | None) -> int | None:
    return int(header) if header and header.isascii() and header.isdigit() else None


def rating_key(kind: str, trakt_id: int, season: int | None = None) -> str:
    """"movie:<id>", "show:<id>", "season:<show id>:<number>": one Trakt item that takes a rating."""
    return f"season:{trakt_id}:{season}" if kind == "season" else f"{kind}:{trakt_id}"


def ratings_payload(rows: Iterable[tuple[str, int, int | None, int | None]]) -> dict:
    """(kind, trakt id, season, rating) → the POST /sync/ratings body (rating None: the
    /sync/ratings/remove body). A season is rated through its show (`shows[].seasons[]`), which
    rates the season only, not the show."""
    movies, shows = [], {}
    for kind, trakt_id, season, rating in rows:
        value = {"rating": rating} if rating is not None else {}
        if kind == "movie":
            movies.append({"ids": {"trakt": trakt_id}, **value})
            continue
        show = shows.setdefault(trakt_id, {"ids": {"trakt": trakt_id}})
        if kind == "season":
            show.setdefault("seasons", []).append({"number": season, **value})
        else:
            show.update(value)
    return {k: v for k, v in (("movies", movies), ("shows", list(shows.values()))) if v}
