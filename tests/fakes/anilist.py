"""A loopback fake of AniList's GraphQL endpoint.

It does not parse GraphQL: it recognises the root field a query asks for (`Viewer`,
`MediaListCollection`, `Page { activities }`, `MediaList`, `Media`), answers with every field
the real API could return for it, and checks the variables the real API insists on.
"""

from __future__ import annotations

import math
import re
import time

from tests.fakes.server import FakeServer, Request, Response

TOKEN = "fake-anilist-token-0001"


def media_obj(media_id: int, *, title: str | None = None, episodes: int | None = 12, fmt: str = "TV",
              id_mal: int | None = None, year: int | None = 2020, **extra) -> dict:
    return {
        "id": media_id, "idMal": id_mal, "format": fmt, "episodes": episodes, "seasonYear": year,
        "title": {"romaji": title or f"Anime {media_id}", "english": title, "native": None},
        "startDate": {"year": year, "month": 4, "day": 1}, **extra,
    }


class FakeAniList(FakeServer):
    def __init__(self, *, token: str = TOKEN, user_id: int = 4242, name: str = "fake-viewer"):
        super().__init__()
        self.token = token
        self.viewer = {"id": user_id, "name": name, "mediaListOptions": {"scoreFormat": "POINT_10"}}
        self.lists: list[dict] = []  # {"name", "isCustomList", "status", "entries": [entry, ...]}
        self.activities: list[dict] = []  # any order; served ID_DESC
        self.medias: dict[int, dict] = {}
        self.schedules: dict[int, dict[int, int]] = {}  # media id -> {episode: airingAt (Unix s)}
        self.relations: dict[int, list[tuple[int, str]]] = {}  # media id -> [(related id, relationType)]
        self.requests_per_minute: int | None = None  # requests per minute; None: unlimited
        self.rate_limit_reset = 60  # seconds until the window resets (sent in X-RateLimit-Reset)
        self._window: list[float] = []
        self.route("POST", r"/", self._graphql)

    # --- seeding

    def add_entry(self, entry_id: int, media_id: int, *, status: str = "COMPLETED", progress: int = 12,
                  custom_lists: tuple[str, ...] = (), in_status_list: bool = True, repeat: int = 0,
                  score: float = 0, started_at: dict | None = None, completed_at: dict | None = None,
                  updated_at: int = 1_700_000_000, media: dict | None = None, **media_kwargs) -> dict:
        """Put one list entry in its status list and/or custom lists (AniList repeats it there)."""
        media = media or self.medias.get(media_id) or media_obj(media_id, **media_kwargs)
        self.medias[media_id] = media
        entry = {
            "id": entry_id, "mediaId": media_id, "status": status, "progress": progress, "repeat": repeat,
            "score": score, "updatedAt": updated_at, "createdAt": updated_at - 1000,
            "startedAt": started_at or {"year": None, "month": None, "day": None},
            "completedAt": completed_at or {"year": None, "month": None, "day": None},
            "media": media,
        }
        names = ([(status.title(), False, status)] if in_status_list else []) + [(c, True, None) for c in custom_lists]
        for name, custom, list_status in names:
            target = next((lst for lst in self.lists if lst["name"] == name), None)
            if target is None:
                target = {"name": name, "isCustomList": custom, "status": list_status, "entries": []}
                self.lists.append(target)
            target["entries"].append(entry)
        return entry

    def add_activity(self, activity_id: int, media_id: int, *, status: str = "watched episode",
                     progress: str | None = "1", created_at: int = 1_700_000_000) -> dict:
        media = self.medias.setdefault(media_id, media_obj(media_id))
        activity = {"id": activity_id, "status": status, "progress": progress, "createdAt": created_at,
                    "media": media, "type": "ANIME_LIST"}
        self.activities.append(activity)
        return activity

    def graphql_requests(self, root: str) -> list[Request]:
        """The requests whose query asks for `root` (e.g. "MediaListCollection")."""
        return [r for r in self.requests if root in ((r.json() or {}).get("query") or "")]

    # --- behaviour

    def before(self, request: Request) -> Response | None:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            message = "Invalid token" if request.headers.get("authorization") else "Unauthorized."
            status = 400 if request.headers.get("authorization") else 401
            return Response(status, {"data": None, "errors": [{"message": message, "status": status}]})
        return self._limit()

    def _limit(self) -> Response | None:
        if not self.requests_per_minute:
            return None
        now = time.monotonic()
        with self.lock:
            self._window = [t for t in self._window if now - t < 60]
            if len(self._window) >= self.requests_per_minute:
                return Response(429, {"data": None, "errors": [{"message": "Too Many Requests.", "status": 429}]},
                                {"Retry-After": "0.01", "X-RateLimit-Limit": str(self.requests_per_minute),
                                 "X-RateLimit-Remaining": "0",
                                 "X-RateLimit-Reset": str(int(time.time()) + self.rate_limit_reset)})
            self._window.append(now)
        return None

    def after(self, request: Request, response: Response) -> Response:
        if self.requests_per_minute:
            with self.lock:
                remaining = max(0, self.requests_per_minute - len(self._window))
            response.headers.setdefault("X-RateLimit-Limit", str(self.requests_per_minute))
            response.headers.setdefault("X-RateLimit-Remaining", str(remaining))
            if remaining == 0:
                with self.lock:
                    oldest = self._window[0] if self._window else time.monotonic()
                reset = time.time() + max(0.0, 60 - (time.monotonic() - oldest))
                response.headers.setdefault("X-RateLimit-Reset", str(int(reset) + 1))
        return response

    def _graphql(self, request: Request) -> Response:
        body = request.json() or {}
        query, variables = body.get("query") or "", body.get("variables") or {}
        if "airingSchedule" in query:
            return self._schedules(query, variables)
        if "Viewer" in query:
            return Response(200, {"data": {"Viewer": self.viewer}})
        if "MediaListCollection" in query:
            return self._collection(variables)
        if "mediaList(" in query:
            return self._updated_entries(variables)
        if "activities" in query:
            return self._activities(variables)
        if "MediaList(" in query:
            return self._entry(variables)
        if "Media(" in query:
            media = self.medias.get(variables.get("id"))
            if media is None:
                return _error(404, "Not Found.")
            return Response(200, {"data": {"Media": media}})
        return _error(400, "Unknown query (fake)")

    def _schedules(self, query: str, v: dict) -> Response:
        """Aired episodes in order, the first `perPage` of each (read from the query, like the
        real API applies it); unknown ids are left out, like `id_in` does."""
        match = re.search(r"airingSchedule\([^)]*perPage:\s*(\d+)", query)
        limit = int(match.group(1)) if match else 25
        media = [{"id": i, "airingSchedule": {"nodes": [
            {"episode": e, "airingAt": t} for e, t in sorted(self.schedules.get(i, {}).items())[:limit]]},
            "relations": {"edges": [{"relationType": kind, "node": {"id": r, "type": "ANIME"}}
                                    for r, kind in self.relations.get(i, [])]}}
            for i in v.get("ids") or [] if i in self.schedules or i in self.relations]
        return Response(200, {"data": {"Page": {"media": media}}})

    def _collection(self, v: dict) -> Response:
        if not v.get("userId"):
            return _error(400, "Variable \"$userId\" of required type \"Int!\" was not provided.")
        statuses = v.get("statuses")
        chunk, per = v.get("chunk") or 1, min(v.get("perChunk") or 500, 500)
        # A chunk holds `perChunk` distinct entries; each list shows those of its entries that fall
        # in the chunk, so an entry in a status list and a custom list comes back twice.
        distinct: dict[int, dict] = {}
        for lst in self.lists:
            for e in lst["entries"]:
                if not statuses or e["status"] in statuses:
                    distinct.setdefault(e["id"], e)
        start, end = (chunk - 1) * per, chunk * per
        chosen_ids = set(list(distinct)[start:end])
        lists = [{**{k: lst[k] for k in ("name", "isCustomList", "status")},
                  "entries": [e for e in lst["entries"] if e["id"] in chosen_ids]} for lst in self.lists]
        entries = distinct
        return Response(200, {"data": {"MediaListCollection": {
            "hasNextChunk": end < len(entries), "lists": lists, "user": {"id": v["userId"]}}}})

    def _activities(self, v: dict) -> Response:
        if not v.get("userId"):
            return _error(400, "userId is required (the fake refuses to default to the viewer)")
        since, page, per = v.get("since") or 0, v.get("page") or 1, min(v.get("perPage") or 50, 50)
        items = sorted((a for a in self.activities if a["createdAt"] > since), key=lambda a: a["id"], reverse=True)
        window = items[(page - 1) * per: page * per]
        return Response(200, {"data": {"Page": {
            "pageInfo": {"hasNextPage": page * per < len(items), "currentPage": page,
                         "lastPage": math.ceil(len(items) / per) if items else 1},
            "activities": window}}})

    def _updated_entries(self, v: dict) -> Response:
        """`Page { mediaList(userId, type: ANIME, sort: UPDATED_TIME_DESC) }`: each entry once."""
        if not v.get("userId"):
            return _error(400, "userId is required (the fake refuses to default to the viewer)")
        page, per = v.get("page") or 1, min(v.get("perPage") or 50, 50)
        distinct: dict[int, dict] = {}
        for lst in self.lists:
            for e in lst["entries"]:
                distinct.setdefault(e["id"], e)
        items = sorted(distinct.values(), key=lambda e: (e["updatedAt"], e["id"]), reverse=True)
        return Response(200, {"data": {"Page": {
            "pageInfo": {"hasNextPage": page * per < len(items), "currentPage": page},
            "mediaList": items[(page - 1) * per: page * per]}}})

    def _entry(self, v: dict) -> Response:
        for lst in self.lists:
            for e in lst["entries"]:
                if e["mediaId"] == v.get("mediaId"):
                    return Response(200, {"data": {"MediaList": e}})
        return _error(404, "Not Found.")


def _error(status: int, message: str) -> Response:
    return Response(status, {"data": None, "errors": [{"message": message, "status": status}]})
