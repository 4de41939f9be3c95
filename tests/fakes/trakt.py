"""A loopback fake of the Trakt API and its OAuth endpoints (device flow included)."""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections import deque
from datetime import UTC, datetime

from tests.fakes.server import CLOUDFLARE_HTML, FakeServer, Request, Response

CLIENT_ID = "fake-trakt-client-id-0001"
# The page Cloudflare answers a banned address with (shortened; trakt/trakt-api#922 quotes it).
CLOUDFLARE_BAN_HTML = (
    "<!DOCTYPE html><html><head><title>Access denied | api.trakt.tv used Cloudflare to restrict access"
    "</title></head><body><h1>Error 1015</h1><h2>You are being rate limited</h2><p>The owner of this "
    "website (api.trakt.tv) has banned you temporarily from accessing this website.</p></body></html>"
)
CLIENT_SECRET = "fake-trakt-client-secret-0001"


def _iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class FakeTrakt(FakeServer):
    def __init__(self, *, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET,
                 token_lifetime: int = 7 * 86400):
        super().__init__()
        self.client_id, self.client_secret = client_id, client_secret
        self.token_lifetime = token_lifetime
        self.username = "fake-user"
        # OAuth state
        self.access_tokens: dict[str, float] = {}  # token -> expiry (Unix s)
        self.refresh_tokens: set[str] = set()  # still valid (single use)
        self.refresh_attempts: list[str] = []  # every refresh token presented, in order
        self.refresh_delay = 0.0  # seconds /oauth/token takes for a refresh (race tests)
        self.auth_codes: set[str] = set()
        self.revoked: list[str] = []
        self.devices: dict[str, dict] = {}  # device_code -> {"user_code", "status", "expires"}
        self.device_interval = 0
        self.device_expires_in = 600
        self.device_approve_after: int | None = None  # approve by itself after N pending polls
        # Catalogue and history
        self.shows: dict[int, dict] = {}
        self.movies: dict[int, dict] = {}
        self.history: list[dict] = []  # every play Trakt holds, oldest first
        self.history_posts: list[dict] = []  # bodies of POST /sync/history that were applied
        self.report_missing_episodes = True  # False: unknown episodes vanish silently
        self.history_removes: list[list[int]] = []  # history ids of every applied remove
        self.ratings_posts: list[dict] = []
        self.ratings_removes: list[dict] = []  # POST /sync/ratings/remove bodies
        self.watchlist_posts: list[dict] = []
        self.ratings: dict[str, int] = {}  # "movie:1" / "show:1" / "season:1:2" -> 1..10
        self.watchlist: list[tuple[str, int]] = []  # (kind, trakt id), oldest first
        self.watchlist_limit: int | None = None  # free accounts: 420 past it
        self.vip = False
        self.timezone = "UTC"  # the account's time zone (/users/settings)
        self.limits_in_settings = True  # False: /users/settings leaves `limits` out
        # Cloudflare in front of the API (trakt/trakt-api#909, #922): with `read_limit` set, more
        # GETs than that within `read_window` seconds from this address ban it for `ban_seconds`;
        # meanwhile every request (writes and OAuth included) is refused with an HTML 429.
        self.read_limit: int | None = None
        self.read_window = 300.0
        self.ban_seconds = 300.0
        self.read_times: deque[float] = deque()
        self.banned_until = 0.0
        self.bans = 0  # bans handed out
        self.refused_in_ban = 0  # requests that arrived during a ban (each one refused)
        # Behaviour
        self.require_user_agent = True
        self.write_interval: float | None = None  # enforce Trakt's 1 POST/s when set
        self.write_times: list[float] = []
        self.write_violations = 0
        self._ids = itertools.count(1_000_000)
        # Trakt's OAuth host (auth.trakt.tv) is a second loopback server sharing this state;
        # when set, /oauth/* on the API host answers 404, so a test proves which host was used.
        self.auth_host: FakeServer | None = None
        self.oauth_only_on_auth_host = False
        self._routes_setup()

    def start(self) -> FakeTrakt:
        super().start()
        self.auth_host = _AuthHost(self).start()
        return self

    def stop(self) -> None:
        if self.auth_host is not None:
            self.auth_host.stop()
        super().stop()

    @property
    def auth_url(self) -> str:
        return self.auth_host.url

    # --- seeding / inspection helpers

    def issue_token(self, *, lifetime: int | None = None, created_at: int | None = None) -> dict:
        """A fresh token pair, as /oauth/token would answer."""
        access, refresh = f"fake-access-{secrets.token_hex(12)}", f"fake-refresh-{secrets.token_hex(12)}"
        lifetime = self.token_lifetime if lifetime is None else lifetime
        created = int(time.time()) if created_at is None else created_at
        with self.lock:
            self.access_tokens[access] = created + lifetime
            self.refresh_tokens.add(refresh)
        return {"access_token": access, "token_type": "bearer", "expires_in": lifetime,
                "refresh_token": refresh, "scope": "public", "created_at": created}

    def expire_tokens(self) -> None:
        """Every access token now answers 401 (refresh tokens stay valid)."""
        with self.lock:
            for token in self.access_tokens:
                self.access_tokens[token] = 0

    def add_auth_code(self, code: str = "fake-auth-code-1234") -> str:
        self.auth_codes.add(code)
        return code

    def set_device_status(self, status: str, device_code: str | None = None) -> None:
        """`pending`, `approved`, `denied`, `expired` or `used` (latest device code by default)."""
        with self.lock:
            code = device_code or list(self.devices)[-1]
            self.devices[code]["status"] = status

    def add_show(self, trakt_id: int, *, title: str = "Show", year: int = 2020, ids: dict | None = None,
                 seasons: dict[int, int | list[int]] | None = None,
                 aired: dict[tuple[int, int], str] | None = None,
                 season_tmdb: dict[int, int] | None = None) -> dict:
        """`seasons` maps a season number to an episode count or a list of episode numbers;
        `aired` maps (season, episode) to its `first_aired` (ISO UTC), sent with `extended=full`;
        `season_tmdb` maps a season number to its TMDB season id (`ids.tmdb`)."""
        seasons = seasons if seasons is not None else {1: 12}
        show = {
            "title": title, "year": year,
            "ids": {"trakt": trakt_id, "slug": f"show-{trakt_id}", **(ids or {})},
            "seasons": {n: list(range(1, e + 1)) if isinstance(e, int) else list(e) for n, e in seasons.items()},
            "aired": dict(aired or {}),
            "season_tmdb": dict(season_tmdb or {}),
        }
        self.shows[trakt_id] = show
        return show

    def add_movie(self, trakt_id: int, *, title: str = "Movie", year: int = 2020, ids: dict | None = None) -> dict:
        movie = {"title": title, "year": year, "ids": {"trakt": trakt_id, "slug": f"movie-{trakt_id}", **(ids or {})}}
        self.movies[trakt_id] = movie
        return movie

    def episode_plays(self) -> list[tuple[int, int, int, str]]:
        """(show trakt id, season, number, watched_at) of every episode play, oldest first."""
        with self.lock:
            return [(p["show"], p["season"], p["number"], p["watched_at"]) for p in self.history if p["type"] == "episode"]

    def movie_plays(self) -> list[tuple[int, str]]:
        with self.lock:
            return [(p["movie"], p["watched_at"]) for p in self.history if p["type"] == "movie"]

    def add_play(self, *, show: int | None = None, season: int | None = None, number: int | None = None,
                 movie: int | None = None, watched_at: str = "2024-01-01T00:00:00.000Z") -> dict:
        """Seed a play already on Trakt (as if posted earlier)."""
        play = {"id": next(self._ids), "watched_at": watched_at}
        play.update({"type": "movie", "movie": movie} if movie else
                    {"type": "episode", "show": show, "season": season, "number": number})
        with self.lock:
            self.history.append(play)
        return play

    # --- common checks

    def cloudflare_ban(self) -> None:
        """Ban the address now, as Cloudflare does past the read limit."""
        with self.lock:
            self.bans += 1
            self.banned_until = time.monotonic() + self.ban_seconds

    def _ban_answer(self) -> Response:
        return Response(429, CLOUDFLARE_BAN_HTML, {
            "Content-Type": "text/html; charset=UTF-8", "Server": "cloudflare",
            "Retry-After": f"{self.ban_seconds:g}"})

    def _cloudflare(self, request: Request) -> Response | None:
        now = time.monotonic()
        with self.lock:
            if now < self.banned_until:
                self.refused_in_ban += 1
                return self._ban_answer()
            if self.read_limit is None or request.method != "GET":
                return None
            while self.read_times and self.read_times[0] <= now - self.read_window:
                self.read_times.popleft()
            if len(self.read_times) >= self.read_limit:
                self.bans += 1
                self.banned_until = now + self.ban_seconds
                self.read_times.clear()  # the count starts again once the ban ends
                return self._ban_answer()
            self.read_times.append(now)
        return None

    def before(self, request: Request) -> Response | None:
        if (banned := self._cloudflare(request)) is not None:
            return banned
        agent = request.headers.get("user-agent", "")
        if self.require_user_agent and (not agent or agent.startswith("python-httpx")):
            return Response(403, CLOUDFLARE_HTML.format(status=403))
        on_auth_host = request.headers.get("x-fake-host") == "auth"
        if on_auth_host and not request.path.startswith("/oauth/"):
            return Response(404, {"error": "not found"})
        if request.path.startswith("/oauth/"):
            if self.oauth_only_on_auth_host and not on_auth_host:
                return Response(404, {"error": "not found"})
            return None
        if request.headers.get("trakt-api-key") != self.client_id or request.headers.get("trakt-api-version") != "2":
            return Response(403, {"error": "invalid api key or version"})
        if request.method != "GET":
            if (denied := self._pace_write()) is not None:
                return denied
        if request.path.startswith(("/sync", "/users")) or request.method != "GET":
            if not self._authorized(request):
                return Response(401, {"error": "invalid_token"})
        return None

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        with self.lock:
            return self.access_tokens.get(token, 0) > time.time()

    def _pace_write(self) -> Response | None:
        now = time.monotonic()
        with self.lock:
            if self.write_interval and self.write_times and now - self.write_times[-1] < self.write_interval:
                self.write_violations += 1
                until = datetime.fromtimestamp(time.time() + self.write_interval, UTC).isoformat()
                return Response(429, {"error": "rate limited"}, {
                    "Retry-After": f"{self.write_interval:g}",
                    "X-Ratelimit": json.dumps({"name": "AUTHED_API_POST_LIMIT", "period": 1, "limit": 1,
                                               "remaining": 0, "until": until}),
                })
            self.write_times.append(now)
        return None

    # --- routes

    def _routes_setup(self) -> None:
        r = self.route
        r("POST", r"/oauth/token", self._oauth_token)
        r("POST", r"/oauth/device/code", self._device_code)
        r("POST", r"/oauth/device/token", self._device_token)
        r("POST", r"/oauth/revoke", self._revoke)
        r("POST", r"/sync/history", self._history_add)
        r("POST", r"/sync/history/remove", self._history_remove)
        r("GET", r"/sync/history(?:/(shows|movies|episodes)(?:/(\d+))?)?", self._history_get)
        r("GET", r"/sync/watched/shows", self._watched_shows)
        r("GET", r"/sync/watched/movies", self._watched_movies)
        r("GET", r"/sync/last_activities", self._last_activities)
        r("GET", r"/users/settings", self._settings)
        r("GET", r"/shows/(\d+)/seasons", self._seasons)
        r("GET", r"/shows/([\w-]+)", lambda req, i: self._summary(self.shows, i))
        r("GET", r"/movies/([\w-]+)", lambda req, i: self._summary(self.movies, i))
        r("GET", r"/search/(trakt|tmdb|tvdb|imdb)/([\w-]+)", self._search)
        r("GET", r"/search/(show|movie)", self._search_text)
        r("POST", r"/sync/ratings", self._ratings_add)
        r("GET", r"/sync/ratings", self._ratings_get)
        r("POST", r"/sync/ratings/remove", self._ratings_remove)
        r("POST", r"/sync/watchlist", self._watchlist_add)
        r("POST", r"/sync/watchlist/remove", self._watchlist_remove)
        r("GET", r"/sync/watchlist", self._watchlist_get)

    def _settings(self, request: Request) -> Response:
        """Like Trakt's: the user, the account's time zone and, per limited list, its item count."""
        body = {"user": {"username": self.username, "vip": self.vip}, "account": {"timezone": self.timezone}}
        if self.limits_in_settings:
            body["limits"] = {"list": {"count": 2, "item_count": 100},
                              **({"watchlist": {"item_count": self.watchlist_limit}} if self.watchlist_limit else {})}
        return Response(200, body)

    def _client_ok(self, body: dict, *, secret: bool = True) -> bool:
        return body.get("client_id") == self.client_id and (not secret or body.get("client_secret") == self.client_secret)

    def _oauth_token(self, request: Request) -> Response:
        body = request.json() or {}
        if not self._client_ok(body):
            return Response(401, {"error": "invalid_client"})
        grant = body.get("grant_type")
        if grant == "refresh_token":
            presented = body.get("refresh_token") or ""
            with self.lock:
                self.refresh_attempts.append(presented)
                valid = presented in self.refresh_tokens
                self.refresh_tokens.discard(presented)  # single use, even if the answer is lost
            if self.refresh_delay:
                time.sleep(self.refresh_delay)
        elif grant == "authorization_code":
            with self.lock:
                valid = body.get("code") in self.auth_codes
                self.auth_codes.discard(body.get("code"))
        else:
            valid = False
        if not valid:
            return Response(400, {"error": "invalid_grant",
                                  "error_description": "The provided authorization grant is invalid"})
        return Response(200, self.issue_token())

    def _device_code(self, request: Request) -> Response:
        if not self._client_ok(request.json() or {}, secret=False):
            return Response(401, {"error": "invalid_client"})
        code, user_code = f"fake-device-{secrets.token_hex(16)}", secrets.token_hex(4).upper()
        with self.lock:
            self.devices[code] = {"user_code": user_code, "status": "pending",
                                  "expires": time.time() + self.device_expires_in}
        return Response(200, {"device_code": code, "user_code": user_code,
                              "verification_url": f"{self.url}/activate",
                              "expires_in": self.device_expires_in, "interval": self.device_interval})

    def _device_token(self, request: Request) -> Response:
        body = request.json() or {}
        if not self._client_ok(body):
            return Response(401, {"error": "invalid_client"})
        with self.lock:
            device = self.devices.get(body.get("code"))
            if device is None:
                return Response(404, b"")
            status = "expired" if device["expires"] < time.time() else device["status"]
            if status == "pending" and self.device_approve_after is not None:
                device["polls"] = device.get("polls", 0) + 1
                if device["polls"] > self.device_approve_after:
                    status = "approved"
            if status == "approved":
                device["status"] = "used"
        codes = {"pending": 400, "denied": 418, "expired": 410, "used": 409}
        if status == "approved":
            return Response(200, self.issue_token())
        return Response(codes[status], b"")  # Trakt sends no JSON body here

    def _revoke(self, request: Request) -> Response:
        body = request.json() or {}
        with self.lock:
            self.revoked.append(body.get("token"))
            self.access_tokens.pop(body.get("token"), None)
        return Response(200, {})

    def _find_show(self, ids: dict) -> dict | None:
        for show in self.shows.values():
            if any(ids.get(k) is not None and show["ids"].get(k) == ids.get(k) for k in ("trakt", "slug", "tvdb", "tmdb", "imdb")):
                return show
        return None

    def _history_add(self, request: Request) -> Response:
        body = request.json() or {}
        added = {"movies": 0, "episodes": 0}
        not_found = {"movies": [], "shows": [], "seasons": [], "episodes": []}
        with self.lock:
            self.history_posts.append(body)
            for item in body.get("shows") or []:
                show = self._find_show(item.get("ids") or {})
                if show is None:
                    not_found["shows"].append({"ids": item.get("ids")})
                    continue
                missing = []
                for season in item.get("seasons") or []:
                    known = show["seasons"].get(season.get("number"), [])
                    for ep in season.get("episodes") or []:
                        if ep.get("number") in known:
                            self.history.append({"id": next(self._ids), "type": "episode", "show": show["ids"]["trakt"],
                                                 "season": season["number"], "number": ep["number"],
                                                 "watched_at": ep.get("watched_at")})
                            added["episodes"] += 1
                        else:
                            missing.append((season.get("number"), ep.get("number")))
                if missing and self.report_missing_episodes:
                    not_found["shows"].append({"ids": item.get("ids"), "seasons": [
                        {"number": s, "episodes": [{"number": n}]} for s, n in missing]})
            for item in body.get("movies") or []:
                trakt_id = (item.get("ids") or {}).get("trakt")
                if trakt_id in self.movies:
                    self.history.append({"id": next(self._ids), "type": "movie", "movie": trakt_id,
                                         "watched_at": item.get("watched_at")})
                    added["movies"] += 1
                else:
                    not_found["movies"].append({"ids": item.get("ids")})
        return Response(201, {"added": added, "not_found": not_found})

    def _history_remove(self, request: Request) -> Response:
        ids = set((request.json() or {}).get("ids") or [])
        with self.lock:
            self.history_removes.append(sorted(ids))
            gone = [p for p in self.history if p["id"] in ids]
            self.history = [p for p in self.history if p["id"] not in ids]
        deleted = {"episodes": sum(p["type"] == "episode" for p in gone), "movies": sum(p["type"] == "movie" for p in gone)}
        unknown = sorted(ids - {p["id"] for p in gone})
        return Response(200, {"deleted": deleted, "not_found": {"movies": [], "shows": [], "seasons": [],
                                                              "episodes": [], "ids": unknown}})

    def _history_row(self, play: dict) -> dict:
        row = {"id": play["id"], "watched_at": play["watched_at"], "action": "watch", "type": play["type"]}
        if play["type"] == "movie":
            movie = self.movies.get(play["movie"], {"ids": {"trakt": play["movie"]}})
            row["movie"] = {k: v for k, v in movie.items()}
        else:
            show = self.shows.get(play["show"], {"ids": {"trakt": play["show"]}})
            row["episode"] = {"season": play["season"], "number": play["number"], "ids": {}}
            row["show"] = {k: v for k, v in show.items() if k not in ("seasons", "aired", "season_tmdb")}
        return row

    def _history_get(self, request: Request, kind: str | None, trakt_id: str | None) -> Response:
        start, end = _iso(request.query.get("start_at")), _iso(request.query.get("end_at"))
        with self.lock:
            plays = list(self.history)
        if kind == "movies":
            plays = [p for p in plays if p["type"] == "movie" and (not trakt_id or p["movie"] == int(trakt_id))]
        elif kind in ("shows", "episodes"):
            plays = [p for p in plays if p["type"] == "episode" and (not trakt_id or p["show"] == int(trakt_id))]
        plays = [p for p in plays if (not start or _iso(p["watched_at"]) >= start) and (not end or _iso(p["watched_at"]) <= end)]
        plays.sort(key=lambda p: (_iso(p["watched_at"]), p["id"]), reverse=True)  # newest first, like Trakt
        limit = min(int(request.query.get("limit", 10)), 250)  # Trakt's default is 10; it clamps at 250
        page = max(int(request.query.get("page", 1)), 1)
        pages = max(1, -(-len(plays) // limit))
        rows = [self._history_row(p) for p in plays[(page - 1) * limit: page * limit]]
        return Response(200, rows, {"X-Pagination-Page": str(page), "X-Pagination-Limit": str(limit),
                                    "X-Pagination-Page-Count": str(pages), "X-Pagination-Item-Count": str(len(plays))})

    def _watched_shows(self, request: Request) -> Response:
        """Built from the recorded plays. Like Trakt since mid-2026, per-episode `seasons` only
        with `extended=progress`, season 0 only with `specials=true`; pages of at most 100 shows."""
        specials = request.query.get("specials") == "true"
        with self.lock:
            plays = [p for p in self.history if p["type"] == "episode" and (specials or p["season"] != 0)]
        shows: dict[int, dict] = {}
        for play in plays:
            show = shows.setdefault(play["show"], {})
            show.setdefault(play["season"], {}).setdefault(play["number"], []).append(play["watched_at"])
        rows = []
        for trakt_id, seasons in shows.items():
            times = [t for eps in seasons.values() for ts in eps.values() for t in ts]
            info = self.shows.get(trakt_id, {"ids": {"trakt": trakt_id}})
            row = {"plays": len(times), "last_watched_at": max(times), "last_updated_at": max(times),
                   "reset_at": None, "show": {k: v for k, v in info.items() if k not in ("seasons", "aired", "season_tmdb")}}
            if "progress" in request.query.get("extended", "").split(","):
                row["seasons"] = [
                    {"number": n, "episodes": [{"number": e, "plays": len(ts), "last_watched_at": max(ts)}
                                               for e, ts in sorted(eps.items())]}
                    for n, eps in sorted(seasons.items())
                ]
            rows.append(row)
        rows.sort(key=lambda r: r["last_watched_at"], reverse=True)
        return self._paged(request, rows)

    def _watched_movies(self, request: Request) -> Response:
        with self.lock:
            plays = [p for p in self.history if p["type"] == "movie"]
        movies: dict[int, list[str]] = {}
        for play in plays:
            movies.setdefault(play["movie"], []).append(play["watched_at"])
        rows = [{"plays": len(ts), "last_watched_at": max(ts), "last_updated_at": max(ts),
                 "movie": self.movies.get(trakt_id, {"ids": {"trakt": trakt_id}})}
                for trakt_id, ts in movies.items()]
        rows.sort(key=lambda r: r["last_watched_at"], reverse=True)
        return self._paged(request, rows)

    @staticmethod
    def _paged(request: Request, rows: list, *, max_limit: int = 100) -> Response:
        limit = min(int(request.query.get("limit", max_limit)), max_limit)
        page = max(int(request.query.get("page", 1)), 1)
        pages = max(1, -(-len(rows) // limit))
        return Response(200, rows[(page - 1) * limit: page * limit], {
            "X-Pagination-Page": str(page), "X-Pagination-Limit": str(limit),
            "X-Pagination-Page-Count": str(pages), "X-Pagination-Item-Count": str(len(rows))})

    def _last_activities(self, request: Request) -> Response:
        with self.lock:
            latest = max((p["watched_at"] for p in self.history), default="2000-01-01T00:00:00.000Z")
        return Response(200, {"all": latest, "episodes": {"watched_at": latest}, "movies": {"watched_at": latest}})

    def _seasons(self, request: Request, trakt_id: str) -> Response:
        show = self.shows.get(int(trakt_id))
        if show is None:
            return Response(404, {"error": "not found"})
        full = "full" in request.query.get("extended", "").split(",")
        aired = show.get("aired") or {}

        def episode(n, e):
            row = {"season": n, "number": e, "title": f"Episode {e}", "ids": {}}
            return {**row, "first_aired": aired.get((n, e))} if full else row

        return Response(200, [
            {"number": n, "ids": {"trakt": int(trakt_id) * 100 + n, "tmdb": show.get("season_tmdb", {}).get(n)},
             "episodes": [episode(n, e) for e in eps]}
            for n, eps in sorted(show["seasons"].items())
        ])

    def _summary(self, catalogue: dict, key: str) -> Response:
        for item in catalogue.values():
            if str(item["ids"]["trakt"]) == key or item["ids"].get("slug") == key:
                return Response(200, {k: v for k, v in item.items() if k not in ("seasons", "aired", "season_tmdb")})
        return Response(404, {"error": "not found"})

    def _search(self, request: Request, id_type: str, value: str) -> Response:
        kind = request.query.get("type")
        results = []
        for k, catalogue in (("show", self.shows), ("movie", self.movies)):
            if kind and kind != k:
                continue
            for item in catalogue.values():
                if str(item["ids"].get(id_type)) == value:
                    results.append({"type": k, "score": None, k: {x: y for x, y in item.items() if x not in ("seasons", "aired", "season_tmdb")}})
        return Response(200, results)

    def _search_text(self, request: Request, kind: str) -> Response:
        """Titles containing every word of `query` (case-insensitive), of `years` when given."""
        words = request.query.get("query", "").lower().split()
        year = request.query.get("years")
        catalogue = self.shows if kind == "show" else self.movies
        results = [{"type": kind, "score": 100.0, kind: {x: y for x, y in item.items() if x not in ("seasons", "aired", "season_tmdb")}}
                   for item in catalogue.values()
                   if words and all(w in item["title"].lower() for w in words) and (not year or str(item["year"]) == year)]
        return Response(200, results[: int(request.query.get("limit", 10))])

    def _record(self, store: list, request: Request) -> Response:
        with self.lock:
            store.append(request.json())
        return Response(201, {"added": {}, "not_found": {}})

    # --- ratings and watchlist (issue 13)

    def _ratings_add(self, request: Request) -> Response:
        body = request.json() or {}
        added = {"movies": 0, "shows": 0, "seasons": 0, "episodes": 0}
        not_found = {"movies": [], "shows": [], "seasons": [], "episodes": []}
        with self.lock:
            self.ratings_posts.append(body)
            for item in body.get("movies") or []:
                trakt_id = (item.get("ids") or {}).get("trakt")
                if trakt_id not in self.movies:
                    not_found["movies"].append({"ids": item.get("ids")})
                    continue
                self.ratings[f"movie:{trakt_id}"] = item["rating"]
                added["movies"] += 1
            for item in body.get("shows") or []:
                show = self._find_show(item.get("ids") or {})
                if show is None:
                    not_found["shows"].append({"ids": item.get("ids")})
                    continue
                trakt_id = show["ids"]["trakt"]
                if item.get("rating"):
                    self.ratings[f"show:{trakt_id}"] = item["rating"]
                    added["shows"] += 1
                for season in item.get("seasons") or []:
                    self.ratings[f"season:{trakt_id}:{season['number']}"] = season["rating"]
                    added["seasons"] += 1
        return Response(201, {"added": added, "not_found": not_found})

    def _ratings_remove(self, request: Request) -> Response:
        body = request.json() or {}
        with self.lock:
            self.ratings_removes.append(body)
            for item in body.get("movies") or []:
                self.ratings.pop(f"movie:{(item.get('ids') or {}).get('trakt')}", None)
            for item in body.get("shows") or []:
                trakt_id = (item.get("ids") or {}).get("trakt")
                for season in item.get("seasons") or []:
                    self.ratings.pop(f"season:{trakt_id}:{season['number']}", None)
                if not item.get("seasons"):
                    self.ratings.pop(f"show:{trakt_id}", None)
        return Response(200, {"deleted": {}, "not_found": {"movies": [], "shows": []}})

    def _ratings_get(self, request: Request) -> Response:
        rows = []
        with self.lock:
            ratings = dict(self.ratings)
        for key, rating in ratings.items():
            kind, trakt_id, *season = key.split(":")
            row = {"rated_at": "2024-01-01T00:00:00.000Z", "rating": rating, "type": kind}
            if kind == "movie":
                row["movie"] = {"ids": {"trakt": int(trakt_id)}}
            else:
                row["show"] = {"ids": {"trakt": int(trakt_id)}}
            if season:
                row["season"] = {"number": int(season[0]), "ids": {}}
            rows.append(row)
        return self._paged(request, rows, max_limit=250)

    def _watch_items(self, body: dict) -> list[tuple[str, int]]:
        return ([("movie", (m.get("ids") or {}).get("trakt")) for m in body.get("movies") or []]
                + [("show", (s.get("ids") or {}).get("trakt")) for s in body.get("shows") or []])

    def _watchlist_add(self, request: Request) -> Response:
        body = request.json() or {}
        with self.lock:
            self.watchlist_posts.append(body)
            items = [i for i in self._watch_items(body) if i not in self.watchlist]
            if self.watchlist_limit is not None and len(self.watchlist) + len(items) > self.watchlist_limit:
                return Response(420, {"error": "account limit"}, {"X-Account-Limit": str(self.watchlist_limit)})
            self.watchlist += items
        return Response(201, {"added": {"movies": sum(k == "movie" for k, _ in items),
                                        "shows": sum(k == "show" for k, _ in items)},
                              "existing": {}, "not_found": {"movies": [], "shows": []}})

    def _watchlist_remove(self, request: Request) -> Response:
        body = request.json() or {}
        gone = set(self._watch_items(body))
        with self.lock:
            self.watchlist = [i for i in self.watchlist if i not in gone]
        return Response(200, {"deleted": {"movies": 0, "shows": 0}, "not_found": {"movies": [], "shows": []}})

    def _watchlist_get(self, request: Request) -> Response:
        with self.lock:
            rows = [{"type": k, k: {"ids": {"trakt": i}}} for k, i in self.watchlist]
        return self._paged(request, rows, max_limit=250)


class _AuthHost(FakeServer):
    """The OAuth host: every request is handed to the API fake (same tokens, request log and
    faults), marked `X-Fake-Host: auth` so it can answer 404 to anything but /oauth/*."""

    def __init__(self, trakt: FakeTrakt):
        super().__init__()
        self.trakt = trakt

    def _dispatch(self, h) -> None:
        h.headers["X-Fake-Host"] = "auth"
        self.trakt._dispatch(h)
