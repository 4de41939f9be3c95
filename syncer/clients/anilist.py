"""AniList GraphQL client: viewer, the anime list (all chunks, deduplicated), activities."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx
from django.conf import settings

from syncer.http import (
    ApiError,
    AuthError,
    BadResponse,
    HttpService,
    MiB,
    NotFound,
    RateLimited,
    pacer,
    retry_after_seconds,
)

ALL_STATUSES = ("CURRENT", "COMPLETED", "PAUSED", "DROPPED", "PLANNING", "REPEATING")
CHUNK_SIZE = 500  # AniList's maximum perChunk
PAGE_SIZE = 50  # AniList's maximum perPage
# Pagination guards: a server that always says "more" must not loop forever.
# (The collection is capped at 11,000 entries = 22 chunks.)
MAX_CHUNKS = 100
MAX_PAGES = 2000
TOKEN_HINT = "AniList rejected the token: check ANILIST_ACCESS_TOKEN"


@dataclass(frozen=True)
class FuzzyDate:
    year: int | None = None
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, raw: dict | None) -> FuzzyDate:
        raw = raw or {}
        return cls(raw.get("year"), raw.get("month"), raw.get("day"))

    @property
    def is_complete(self) -> bool:
        return None not in (self.year, self.month, self.day)


@dataclass(frozen=True)
class AniListMedia:
    id: int
    id_mal: int | None
    format: str | None
    episodes: int | None
    title_romaji: str | None
    title_english: str | None
    title_native: str | None
    start_date: FuzzyDate
    season_year: int | None

    @property
    def title(self) -> str:
        return self.title_english or self.title_romaji or self.title_native or f"AniList {self.id}"


@dataclass(frozen=True)
class ListEntry:
    id: int
    media: AniListMedia
    status: str
    progress: int
    repeat: int
    score: float | None  # POINT_100 (0-100, 0/None: unscored), whatever the user's own format
    started_at: FuzzyDate
    completed_at: FuzzyDate
    updated_at: int  # Unix seconds; 0 for some imported entries
    created_at: int


@dataclass(frozen=True)
class Activity:
    id: int
    status: str  # "watched episode", "rewatched episode", "completed", ...
    episodes: tuple[int, ...]
    created_at: int
    media: AniListMedia


@dataclass(frozen=True)
class Viewer:
    id: int
    name: str
    score_format: str | None


_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
_SINGLE = re.compile(r"^\s*(\d+)\s*$")


def parse_progress(text: str | None) -> tuple[int, ...]:
    """An activity's progress: "5" -> (5,), merged "10 - 12" -> (10, 11, 12), else ()."""
    if not text:
        return ()
    if m := _SINGLE.match(text):
        return (int(m.group(1)),)
    if m := _RANGE.match(text):
        low, high = sorted((int(m.group(1)), int(m.group(2))))
        return tuple(range(low, high + 1))
    return ()


# A list chunk of 500 entries or a page of 50 media is a few hundred kilobytes.
MAX_ANSWER_BYTES = 16 * MiB
MEDIA_FIELDS = """
  id idMal format episodes seasonYear
  title { romaji english native }
  startDate { year month day }
"""
ENTRY_FIELDS = f"""
  id mediaId status progress repeat score(format: POINT_100) updatedAt createdAt
  startedAt {{ year month day }}
  completedAt {{ year month day }}
  media {{ {MEDIA_FIELDS} }}
"""
VIEWER_QUERY = "query { Viewer { id name mediaListOptions { scoreFormat } } }"
LIST_QUERY = f"""
query ($userId: Int!, $statuses: [MediaListStatus], $chunk: Int, $perChunk: Int) {{
  MediaListCollection(userId: $userId, type: ANIME, status_in: $statuses, chunk: $chunk,
                      perChunk: $perChunk, forceSingleCompletedList: true) {{
    hasNextChunk
    lists {{ name isCustomList status entries {{ {ENTRY_FIELDS} }} }}
  }}
}}"""
ACTIVITY_QUERY = f"""
query ($userId: Int!, $since: Int, $page: Int, $perPage: Int) {{
  Page(page: $page, perPage: $perPage) {{
    pageInfo {{ hasNextPage }}
    activities(userId: $userId, type: ANIME_LIST, sort: ID_DESC, createdAt_greater: $since) {{
      ... on ListActivity {{ id status progress createdAt media {{ {MEDIA_FIELDS} }} }}
    }}
  }}
}}"""
MEDIA_QUERY = f"query ($id: Int!) {{ Media(id: $id, type: ANIME) {{ {MEDIA_FIELDS} }} }}"
# Air dates of several entries in one request (docs/mapping-decisions.md, "How many schedules a
# request asks"). SCHEDULE_BATCH: AniList's `Page` serves at most 50 items, so 50 entries a
# request. SCHEDULE_NODES: only the first aired episodes of each entry, which is what placing
# and verifying a start compares (a cour and a few), so a 1,100-episode show costs one slot of
# one request, like any other.
SCHEDULE_BATCH = 50
SCHEDULE_NODES = 16
# AniList refuses a query whose complexity is over 500 ("Max query complexity should be 500 but
# got 646"): `query_complexity` counts it the way that check does by default.
MAX_COMPLEXITY = 500
SCHEDULE_QUERY = f"""
query ($ids: [Int], $perPage: Int) {{
  Page(page: 1, perPage: $perPage) {{
    media(id_in: $ids, type: ANIME) {{
      id
      airingSchedule(notYetAired: false, page: 1, perPage: {SCHEDULE_NODES}) {{ nodes {{ episode airingAt }} }}
      relations {{ edges {{ relationType(version: 2) node {{ id type }} }} }}
    }}
  }}
}}"""


def query_complexity(query: str) -> int:
    """A query's complexity as graphql-php (AniList's GraphQL server library, whose wording its
    refusal has) counts it by default: every selected field costs one, plus what it selects;
    arguments, page sizes included, cost nothing. For queries without fragments (this client's)."""
    body = re.sub(r"\([^()]*\)", "", query)  # arguments
    body = body[body.index("{"):]  # the operation's name and variables are not fields
    return len(re.findall(r"[_A-Za-z][_0-9A-Za-z]*", body))


ENTRY_QUERY = f"""
query ($userId: Int!, $mediaId: Int!) {{
  MediaList(userId: $userId, mediaId: $mediaId) {{ {ENTRY_FIELDS} }}
}}"""


MAX_UPDATED_PAGES = 400
UPDATED_QUERY = f"""
query ($userId: Int!, $page: Int, $perPage: Int) {{
  Page(page: $page, perPage: $perPage) {{
    pageInfo {{ hasNextPage }}
    mediaList(userId: $userId, type: ANIME, sort: UPDATED_TIME_DESC) {{ {ENTRY_FIELDS} }}
  }}
}}"""


def parse_media(raw: dict) -> AniListMedia:
    title = raw.get("title") or {}
    return AniListMedia(
        id=raw["id"],
        id_mal=raw.get("idMal"),
        format=raw.get("format"),
        episodes=raw.get("episodes"),
        title_romaji=title.get("romaji"),
        title_english=title.get("english"),
        title_native=title.get("native"),
        start_date=FuzzyDate.parse(raw.get("startDate")),
        season_year=raw.get("seasonYear"),
    )


@dataclass(frozen=True)
class Airing:
    aired: dict[int, int] = field(default_factory=dict)  # episode -> airingAt (Unix s)
    related: tuple[tuple[int, str], ...] = ()  # (AniList id, relationType) of related anime


def parse_airing(raw: dict) -> Airing:
    nodes = (raw.get("airingSchedule") or {}).get("nodes") or []
    edges = (raw.get("relations") or {}).get("edges") or []
    return Airing(
        aired={n["episode"]: n["airingAt"] for n in nodes
               if isinstance(n.get("episode"), int) and isinstance(n.get("airingAt"), int)},
        related=tuple((e["node"]["id"], e.get("relationType") or "") for e in edges
                      if isinstance((e.get("node") or {}).get("id"), int) and (e["node"].get("type") or "ANIME") == "ANIME"),
    )


def parse_entry(raw: dict) -> ListEntry:
    score = raw.get("score")
    return ListEntry(
        id=raw["id"],
        media=parse_media(raw["media"]),
        status=raw.get("status") or "",
        progress=raw.get("progress") or 0,
        repeat=raw.get("repeat") or 0,
        score=float(score) if score else None,
        started_at=FuzzyDate.parse(raw.get("startedAt")),
        completed_at=FuzzyDate.parse(raw.get("completedAt")),
        updated_at=raw.get("updatedAt") or 0,
        created_at=raw.get("createdAt") or 0,
    )


def parse_activity(raw: dict) -> Activity:
    return Activity(
        id=raw["id"],
        status=raw.get("status") or "",
        episodes=parse_progress(raw.get("progress")),
        created_at=raw.get("createdAt") or 0,
        media=parse_media(raw["media"]),
    )


def _anilist_error(response: httpx.Response) -> ApiError | None:
    """AniList says "Invalid token" with a 400, which the generic rules would call a bad request."""
    if response.status_code in (400, 401):
        try:
            messages = " ".join(str(e.get("message", "")) for e in response.json().get("errors", []))
        except (ValueError, AttributeError, TypeError):
            messages = ""
        if response.status_code == 401 or "invalid token" in messages.lower():
            return AuthError("AniList", response.status_code, TOKEN_HINT)
    return None


def _adapt_pace(response: httpx.Response) -> None:
    """Follow the limit AniList announces (it has run degraded at 30/min) and stop at zero."""
    shared = pacer("anilist")
    try:
        limit = int(response.headers["x-ratelimit-limit"])
        shared.set_limit(min(limit, max(settings.ANILIST_REQUESTS_PER_MINUTE, 1)) if limit else None)
    except (KeyError, ValueError):
        pass
    try:
        remaining = int(response.headers["x-ratelimit-remaining"])
    except (KeyError, ValueError):
        return
    if remaining <= 0 and response.status_code != 429:
        shared.block_for(retry_after_seconds(response) or 60.0)


_viewer_cache: dict[str, Viewer] = {}
_viewer_lock = threading.Lock()


def viewer_cache_clear() -> None:
    with _viewer_lock:
        _viewer_cache.clear()


class AniListClient:
    def __init__(self, *, token: str | None = None, client: httpx.Client | None = None,
                 base_url: str | None = None, service: HttpService | None = None):
        self.token = settings.ANILIST_ACCESS_TOKEN if token is None else token
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self.service = service or HttpService(
            "AniList",
            base_url=base_url or settings.ANILIST_API_URL,
            client=client,
            headers=headers,
            read_pacer=pacer("anilist"),
            error_hook=_anilist_error,
            response_hook=_adapt_pace,
            max_bytes=MAX_ANSWER_BYTES,
        )

    def query(self, query: str, variables: dict | None = None) -> dict:
        """Run one GraphQL query; `errors` in a 200 answer are errors too."""
        body = self.service.request_json(
            "POST", "", json={"query": query, "variables": variables or {}}, idempotent=True
        )
        if not isinstance(body, dict):
            raise BadResponse("AniList", 200, "the answer was not a JSON object")
        errors = body.get("errors") or []
        if errors:
            first = errors[0] if isinstance(errors[0], dict) else {}
            message = str(first.get("message", "error"))[:200]
            status = first.get("status")
            if "invalid token" in message.lower() or status == 401:
                raise AuthError("AniList", status, TOKEN_HINT)
            if status == 404 or message.lower().startswith("not found"):
                raise NotFound("AniList", status, message)
            if status == 429:
                raise RateLimited("AniList", 429, message, retry_after=60.0)
            raise BadResponse("AniList", status, f"GraphQL error: {message}")
        if not isinstance(body.get("data"), dict):
            raise BadResponse("AniList", 200, "the answer had no data")
        return body["data"]

    def viewer(self) -> Viewer:
        key = hashlib.sha256((self.token or "").encode()).hexdigest()
        with _viewer_lock:
            if key in _viewer_cache:
                return _viewer_cache[key]
        raw = self.query(VIEWER_QUERY)["Viewer"]
        if not raw:
            raise AuthError("AniList", None, TOKEN_HINT)
        options = raw.get("mediaListOptions") or {}
        viewer = Viewer(id=raw["id"], name=raw.get("name") or "", score_format=options.get("scoreFormat"))
        with _viewer_lock:
            _viewer_cache[key] = viewer
        return viewer

    def list_entries(self, *, user_id: int, statuses=ALL_STATUSES,
                     on_page: Callable[[int], None] | None = None) -> list[ListEntry]:
        """Every entry with one of `statuses`, once each: entries repeat across status lists and
        custom lists, so they are deduplicated by list-entry id. `on_page(n)` is called after
        each chunk (a long read keeps the sync's lease and progress alive)."""
        seen: dict[int, ListEntry] = {}
        for chunk in range(1, MAX_CHUNKS + 1):
            data = self.query(LIST_QUERY, {"userId": user_id, "statuses": list(statuses),
                                           "chunk": chunk, "perChunk": CHUNK_SIZE})
            if on_page:
                on_page(chunk)
            collection = data.get("MediaListCollection") or {}
            for lst in collection.get("lists") or []:
                for raw in lst.get("entries") or []:
                    if raw and raw.get("id") not in seen and raw.get("media"):
                        seen[raw["id"]] = parse_entry(raw)
            if not collection.get("hasNextChunk"):
                return list(seen.values())
        raise BadResponse("AniList", 200, f"MediaListCollection still had more after {MAX_CHUNKS} chunks")

    def activities_since(self, *, user_id: int, since: int,
                         on_page: Callable[[int], None] | None = None) -> list[Activity]:
        """Every anime list activity created after `since` (Unix s), oldest first.

        Pages are read newest first (ID_DESC); a new activity arriving meanwhile shifts items to
        the next page, so items are deduplicated by id. `on_page(n)` is called after each page
        (a first sync can read hundreds at AniList's 30 requests a minute)."""
        seen: dict[int, Activity] = {}
        for page in range(1, MAX_PAGES + 1):
            data = self.query(ACTIVITY_QUERY, {"userId": user_id, "since": since, "page": page,
                                               "perPage": PAGE_SIZE})
            if on_page:
                on_page(page)
            page_data = data.get("Page") or {}
            for raw in page_data.get("activities") or []:
                # Other activity types come back as {} through the ListActivity fragment.
                if raw and raw.get("id") is not None and raw.get("media"):
                    seen.setdefault(raw["id"], parse_activity(raw))
            if not (page_data.get("pageInfo") or {}).get("hasNextPage"):
                return sorted(seen.values(), key=lambda a: (a.created_at, a.id))
        raise BadResponse("AniList", 200, f"activities still had more after {MAX_PAGES} pages")

    def entries_updated_since(self, *, user_id: int, since: int,
                              on_page: Callable[[int], None] | None = None) -> list[ListEntry]:
        """List entries updated after `since` (Unix s), newest first, reading pages only until
        older ones start (one request when nothing changed). `since` 0 reads the whole list."""
        found: dict[int, ListEntry] = {}
        for page in range(1, MAX_UPDATED_PAGES + 1):
            data = self.query(UPDATED_QUERY, {"userId": user_id, "page": page, "perPage": PAGE_SIZE})
            if on_page:
                on_page(page)
            page_data = data.get("Page") or {}
            older = False
            for raw in page_data.get("mediaList") or []:
                if not (raw and raw.get("media")):
                    continue
                entry = parse_entry(raw)
                if since and entry.updated_at <= since:
                    older = True
                    continue
                found.setdefault(entry.id, entry)
            if older or not (page_data.get("pageInfo") or {}).get("hasNextPage"):
                return list(found.values())
        raise BadResponse("AniList", 200, f"mediaList still had more after {MAX_UPDATED_PAGES} pages")

    def media(self, *, media_id: int) -> AniListMedia:
        raw = self.query(MEDIA_QUERY, {"id": media_id}).get("Media")
        if not raw:
            raise NotFound("AniList", 404, f"media {media_id} not found")
        return parse_media(raw)

    def airing(self, *, media_ids: Sequence[int]) -> dict[int, Airing]:
        """The first aired episodes and the related anime of each entry, SCHEDULE_BATCH entries
        per request. An entry AniList does not answer for has neither."""
        out: dict[int, Airing] = {}
        ids = list(dict.fromkeys(media_ids))
        for at in range(0, len(ids), SCHEDULE_BATCH):
            out.update(self._airing_batch(ids[at : at + SCHEDULE_BATCH]))
        return out

    def _airing_batch(self, chunk: list[int]) -> dict[int, Airing]:
        try:
            data = self.query(SCHEDULE_QUERY, {"ids": chunk, "perPage": len(chunk)})
        except BadResponse as exc:
            if "complexity" not in exc.message.lower() or len(chunk) == 1:
                raise
            # AniList weighs the query more than its default rule says (page sizes, perhaps):
            # the batch halves until it passes, rather than leaving every entry without dates.
            half = len(chunk) // 2
            return {**self._airing_batch(chunk[:half]), **self._airing_batch(chunk[half:])}
        out = {i: Airing() for i in chunk}
        for raw in ((data.get("Page") or {}).get("media") or []):
            if isinstance(raw, dict) and isinstance(raw.get("id"), int):
                out[raw["id"]] = parse_airing(raw)
        return out

    def list_entry(self, *, user_id: int, media_id: int) -> ListEntry | None:
        try:
            raw = self.query(ENTRY_QUERY, {"userId": user_id, "mediaId": media_id}).get("MediaList")
        except NotFound:
            return None
        return parse_entry(raw) if raw else None
