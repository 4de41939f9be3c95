"""Parse and validate the downloaded mapping sources into plain rows (dicts of model fields).

Pure apart from reading the given file: no Django, no network. Each parser raises
`SourceError` with a message a person can act on (shown on the dashboard and in the logs).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path


class SourceError(Exception):
    """A downloaded source is unusable; the previous import stays in use."""


SQLITE_HEADER = b"SQLite format 3\x00"
# ASCII digits only: `\d` would also take "²" or "١", which `int()` then rejects or misreads.
# At most 18 of them: no id or episode is longer, and `int()` refuses over 4,300 digits.
_RANGE = re.compile(r"^\s*([0-9]{1,18})\s*(?:-\s*([0-9]{1,18})\s*)?$")
MAX_DIGITS = 18


def as_int(value) -> int | None:
    """SQLite and JSON hold ids as ints, digit strings, "" or markers: only real ints pass."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS else None


def parse_range(value) -> tuple[int | None, int | None]:
    """Otaku's episode columns: '13 - 22', '5', 5 or NULL."""
    if value is None:
        return None, None
    if isinstance(value, int):
        return value, value
    match = _RANGE.match(str(value))
    if not match:
        return None, None
    start = int(match.group(1))
    return start, int(match.group(2) or start)


def reject_html(data: bytes, what: str) -> None:
    head = data[:512].lstrip().lower()
    if head.startswith(b"<"):  # no JSON or SQLite file starts with a tag
        raise SourceError(f"{what}: got an HTML page instead of the data file (wrong URL or an error page)")


# --- Otaku-Mappings SQLite -------------------------------------------------------------------


def otaku_rows(path: Path) -> tuple[list[dict], datetime | None]:
    """Rows of the `anime` table and the upstream last-updated time (`activities`)."""
    with open(path, "rb") as fh:
        data_head = fh.read(512)
    if not data_head:
        raise SourceError("Otaku: the downloaded file is empty")
    reject_html(data_head, "Otaku")
    if not data_head.startswith(SQLITE_HEADER):
        raise SourceError("Otaku: the downloaded file is not an SQLite database")
    _check_sqlite_size(data_head, Path(path).stat().st_size)
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise SourceError(f"Otaku: cannot open the SQLite file: {exc}") from exc
    try:
        check = conn.execute("PRAGMA quick_check").fetchone()
        if not check or check[0] != "ok":
            raise SourceError(f"Otaku: the SQLite file is damaged (truncated download?): {check and check[0]}")
        rows = list(_otaku_anime(conn))
        updated = _otaku_updated(conn)
    except sqlite3.DatabaseError as exc:
        raise SourceError(f"Otaku: the SQLite file is damaged (truncated download?): {exc}") from exc
    finally:
        conn.close()
    if not rows:
        raise SourceError("Otaku: the `anime` table is empty")
    return rows, updated


def _check_sqlite_size(head: bytes, size: int) -> None:
    """A download cut short inside the last page still opens and may pass `quick_check` (the
    missing bytes read as zeros): the file must be whole pages, as many as its header says."""
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    pages = int.from_bytes(head[28:32], "big")
    header_valid = pages > 0 and head[24:28] == head[92:96]  # SQLite's own validity rule
    if len(head) < 100 or page < 512 or size % page or (header_valid and size < pages * page):
        raise SourceError(f"Otaku: the SQLite file is damaged (truncated download?): {size} bytes")


def _otaku_anime(conn: sqlite3.Connection) -> Iterator[dict]:
    columns = {r[1] for r in conn.execute("PRAGMA table_info(anime)")}
    if not columns:
        raise SourceError("Otaku: the file has no `anime` table")
    # Newer files fixed the column's spelling; accept either.
    global_col = "global_media_episodes" if "global_media_episodes" in columns else "globel_media_episodes"
    wanted = [
        "mal_id", "anilist_id", "anidb_id", "thetvdb_id", "themoviedb_id", "imdb_id", "trakt_id",
        "thetvdb_season", "thetvdb_part", "anime_media_type", "global_media_type",
        "anime_media_episodes", global_col,
    ]  # fmt: skip
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise SourceError(f"Otaku: the `anime` table lacks columns {', '.join(missing)}")
    # Files since Dec 2024 carry the MAL title: kept so a source row can be recognised.
    title = "mal_title" if "mal_title" in columns else "NULL"
    query = f"SELECT {', '.join(wanted)}, {title} FROM anime"  # noqa: S608 - names from a fixed list
    for row in conn.execute(query):
        yield {**otaku_row(*row[:-1]), "title": str(row[-1]).strip() if row[-1] is not None else ""}


def otaku_row(mal, anilist, anidb, tvdb, tmdb, imdb, trakt, season, part, mtype, gtype, eps, geps) -> dict:
    anime_start, anime_end = parse_range(eps)
    global_start, global_end = parse_range(geps)
    tvdb_id = as_int(tvdb)
    return {
        "mal_id": as_int(mal),
        "anilist_id": as_int(anilist),
        "anidb_id": as_int(anidb),
        "tvdb_id": tvdb_id,
        "tvdb_marker": "" if tvdb_id is not None or tvdb is None else str(tvdb).strip(),
        "tmdb_ids": ",".join(p.strip() for p in str(tmdb).split(",") if p.strip().isdigit()) if tmdb is not None else "",
        "imdb_id": str(imdb).strip() if imdb else "",
        "trakt_id": as_int(trakt),
        "tvdb_season": as_int(season),
        "tvdb_absolute": str(season).strip().lower() == "a" if season is not None else False,
        "tvdb_part": as_int(part),
        "media_type": (mtype or "").strip(),
        "global_media_type": (gtype or "").strip().lower(),
        "anime_start": anime_start,
        "anime_end": anime_end,
        "global_start": global_start,
        "global_end": global_end,
    }


def _otaku_updated(conn: sqlite3.Connection) -> datetime | None:
    try:
        row = conn.execute("SELECT last_updated FROM activities ORDER BY sync_id DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:
        return None  # no `activities` table: the upstream date is simply unknown
    stamp = as_int(row[0]) if row else None
    return datetime.fromtimestamp(stamp, tz=UTC) if stamp else None


# --- Fribb anime-lists JSON ------------------------------------------------------------------


def load_json(data: bytes, what: str):
    if not data.strip():
        raise SourceError(f"{what}: the downloaded file is empty")
    reject_html(data, what)
    try:
        return json.loads(data)
    except ValueError as exc:
        raise SourceError(f"{what}: not valid JSON (truncated download?): {exc}") from exc
    except RecursionError as exc:
        raise too_deep(what) from exc


def too_deep(what: str) -> SourceError:
    # Python's JSON decoder recurses once per nesting level: 100,000 `[` exhaust the stack.
    # No mapping file nests more than a few levels.
    return SourceError(f"{what}: not valid JSON: nested too deep to be a mapping file")


def fribb_rows(data: bytes) -> list[dict]:
    entries = load_json(data, "Fribb")
    if not isinstance(entries, list):
        raise SourceError("Fribb: expected a JSON list of entries")
    if not entries:
        raise SourceError("Fribb: the list is empty")
    rows = [row for e in entries if isinstance(e, dict) and (row := fribb_row(e))]
    if not rows:
        raise SourceError("Fribb: no entry carries an AniList, MAL or AniDB id")
    return rows


def fribb_row(entry: dict) -> dict | None:
    """One entry of any generation: flat ids (≤2025); + `tvdb_id`, `season` (Jan 2026);
    + `themoviedb_id{tv,movie[]}`, `imdb_id[]`, `episode_offset` (Jun 2026)."""
    anilist, mal, anidb = (as_int(entry.get(k)) for k in ("anilist_id", "mal_id", "anidb_id"))
    if anilist is None and mal is None and anidb is None:
        return None
    season = entry.get("season") if isinstance(entry.get("season"), dict) else {}
    offset = entry.get("episode_offset") if isinstance(entry.get("episode_offset"), dict) else {}
    tmdb_tv, tmdb_movies = _fribb_tmdb(entry.get("themoviedb_id"), kind=entry.get("type"), season=season)
    imdb = entry.get("imdb_id")
    imdb_ids = imdb if isinstance(imdb, list) else str(imdb or "").split(",")
    return {
        "anilist_id": anilist,
        "mal_id": mal,
        "anidb_id": anidb,
        "kind": str(entry.get("type") or ""),
        "tvdb_id": as_int(entry.get("tvdb_id", entry.get("thetvdb_id"))),
        "tmdb_tv": tmdb_tv,
        "tmdb_movies": ",".join(str(m) for m in tmdb_movies),
        "imdb_ids": ",".join(i.strip() for i in imdb_ids if isinstance(i, str) and i.strip()),
        "tmdb_season": as_int(season.get("tmdb")),
        "tmdb_offset": as_int(offset.get("tmdb")),
        "tvdb_season": as_int(season.get("tvdb")),
        "tvdb_offset": as_int(offset.get("tvdb")),
        "has_season_data": "season" in entry or "tvdb_id" in entry,
    }


def _fribb_tmdb(value, *, kind, season: dict) -> tuple[int | None, list[int]]:
    if isinstance(value, dict):  # current format
        movies = value.get("movie") or []
        movies = movies if isinstance(movies, list) else [movies]
        return as_int(value.get("tv")), [m for m in (as_int(x) for x in movies) if m is not None]
    ids = [i for i in (as_int(p) for p in str(value or "").split(",")) if i is not None]
    if not ids:
        return None, []
    # Older generations had one bare id: Anime-Lists' `tmdbid` (movies and one-offs), unless
    # the entry also carries a TMDB season, which only a TV id can have.
    if "tmdb" in season and kind != "MOVIE":
        return ids[0], []
    return None, ids


# --- AniBridge v3 mappings -------------------------------------------------------------------
# The published file is one JSON object of `provider:id[:scope]` source descriptors, each
# mapping target descriptors to {source range: target range | null}. Grammar (v3 schema):
#   source range  x[-y]            "5", "1-13", "14-" (open-ended)
#   target range  x[-y][|ratio][,x2[-y2][|ratio2]...]   comma pieces skip target episodes; a
#                 piece's `|n`: each source episode spans n of its target episodes, `|-n`: n
#                 source episodes share one; a piece without a ratio is one for one.
# Only `anilist:` sources are read, and only targets the resolver uses (mal/anidb are ids we
# already have from AniList itself).

PLACEMENT_TARGETS = frozenset({"tmdb_show", "tmdb_movie", "tvdb_show", "tvdb_movie", "imdb_movie", "imdb_show"})
_DESCRIPTOR = re.compile(r"^(?P<provider>[a-z_]+):(?P<id>[^:]+)(?::(?P<scope>[A-Za-z0-9]+))?$")
_SPAN = re.compile(r"^\s*([0-9]{1,18})\s*(?:-\s*([0-9]{0,18})\s*)?(?:\|\s*(-?[0-9]{1,18})\s*)?$")
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class AniBridgeFile:
    """The rows of an AniBridge v3 file, decoded one top-level descriptor at a time.

    Iterating yields row dicts; `generated_on` (the file's `$meta.generated_on`) is known once
    the iteration has passed it. Decoding member by member keeps only one descriptor's objects
    alive at a time: `json.loads` of the whole file would hold every descriptor at once (several
    times the file's size in memory)."""

    def __init__(self, text: str):
        text = text.removeprefix("\ufeff")
        if not text.strip():
            raise SourceError("AniBridge: the downloaded file is empty")
        if text[:512].lstrip().startswith("<"):
            raise SourceError("AniBridge: got an HTML page instead of the data file (wrong URL or an error page)")
        self.text = text
        self.generated_on: datetime | None = None

    def __iter__(self) -> Iterator[dict]:
        found = False
        for key, value in top_level_members(self.text, "AniBridge"):
            if key == "$meta" and isinstance(value, dict):
                self.generated_on = _iso_datetime(value.get("generated_on"))
                continue
            for row in anibridge_descriptor_rows(key, value):
                found = True
                yield row
        if not found:
            raise SourceError("AniBridge: no `anilist:` entries found (empty or a different format)")


def anibridge_rows(data: bytes) -> list[dict]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"AniBridge: not UTF-8 text (truncated download?): {exc}") from exc
    return list(AniBridgeFile(text))


def top_level_members(text: str, what: str) -> Iterator[tuple[str, object]]:
    """(key, value) of the JSON object `text` holds, decoding one member at a time."""
    def bad(reason: str) -> SourceError:
        return SourceError(f"{what}: not valid JSON (truncated download?): {reason}")

    pos = _WHITESPACE.match(text, 0).end()
    if not text.startswith("{", pos):
        raise SourceError(f"{what}: expected a JSON object of `provider:id` descriptors")
    pos = _WHITESPACE.match(text, pos + 1).end()
    if text.startswith("}", pos):
        return
    while True:
        try:
            key, pos = _DECODER.raw_decode(text, pos)
            pos = _WHITESPACE.match(text, pos).end()
            if not text.startswith(":", pos) or not isinstance(key, str):
                raise bad(f"expected a key and ':' at character {pos}")
            value, pos = _DECODER.raw_decode(text, _WHITESPACE.match(text, pos + 1).end())
        except ValueError as exc:
            raise bad(str(exc)) from exc
        except RecursionError as exc:
            raise too_deep(what) from exc
        yield key, value
        pos = _WHITESPACE.match(text, pos).end()
        if text.startswith(",", pos):
            pos = _WHITESPACE.match(text, pos + 1).end()
        elif text.startswith("}", pos):
            break
        else:
            raise bad(f"expected ',' or '}}' at character {pos}")
    if text[pos + 1 :].strip():
        raise bad(f"extra data after character {pos}")


def _iso_datetime(value) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def anibridge_descriptor_rows(key: str, targets) -> Iterator[dict]:
    """Rows of one `anilist:X` source descriptor; anything else yields nothing."""
    source = _DESCRIPTOR.match(key)
    if not source or source["provider"] != "anilist" or not isinstance(targets, dict):
        return
    anilist_id = as_int(source["id"])
    if anilist_id is None:
        return
    for descriptor, spans in targets.items():
        target = _DESCRIPTOR.match(descriptor)
        if not target or target["provider"] not in PLACEMENT_TARGETS or not isinstance(spans, dict):
            continue
        scope = target["scope"] or ""
        base = {
            "anilist_id": anilist_id,
            "target_kind": target["provider"],
            "target_id": target["id"],
            "season": as_int(scope[1:]) if scope[:1] == "s" else None,
        }
        for src, dst in spans.items():
            yield from anibridge_range_rows(base, src, dst)


def anibridge_range_rows(base: dict, src: str, dst) -> list[dict]:
    """One range of a target (`base`: its anilist_id, target_kind, target_id, season) as rows:
    one per target piece, each in AniList numbering.

    `"1-12": "1-6,8-13"` becomes 1-6 -> 1-6 and 7-12 -> 8-13, so placement can use each piece
    as it uses any range. Pieces that do not add up to the source range (or an open piece that
    is not the last) cannot be split: one row with ratio 0 keeps them visible and tells the
    resolver the range is not one for one."""
    source = _span(str(src))
    if source is None:
        return []
    start, end, source_ratio = source
    row = {**base, "source_start": start, "source_end": end, "target_start": None, "target_end": None, "ratio": 1}
    if dst is None:  # `null`: this range is explicitly unmapped
        return [row]
    pieces = [_span(piece) for piece in str(dst).split(",")]
    if None in pieces:
        return []
    # Each piece carries its own ratio (the schema's target pattern puts `|n` after any piece):
    # in "1-7,8|-2" only episode 8 is shared, 1-7 stay one for one.
    ratios = [p[2] or source_ratio or 1 for p in pieces]
    row["target_start"], row["target_end"] = pieces[0][0], pieces[0][1]
    if len(pieces) == 1:
        row["ratio"] = ratios[0]
        return [row]
    split = _split_pieces(start, end, pieces, ratios)
    if split is None:
        row["ratio"] = 0
        return [row]
    return [{**base, "source_start": s, "source_end": e, "target_start": ts, "target_end": te, "ratio": r}
            for s, e, ts, te, r in split]


@lru_cache(maxsize=65536)
def _span(text: str) -> tuple[int, int | None, int | None] | None:
    """`x[-y][|ratio]` as (x, y or None when open, ratio or None); None if it is not one.
    Cached: the same few spans ("1-12", "1") make up most of the file."""
    match = _SPAN.match(text)
    if not match:
        return None
    ratio = int(match.group(3)) if match.group(3) else None
    if ratio == 0:
        return None
    return int(match.group(1)), _span_end(match), ratio


def _split_pieces(start: int, end: int | None, pieces: list[tuple], ratios: list[int]):
    """[(source_start, source_end, target_start, target_end, ratio)] or None if they do not fit."""
    out, current = [], start
    for index, ((first, last, _), ratio) in enumerate(zip(pieces, ratios, strict=True)):
        if last is None:  # open-ended: only the last piece may be, and it takes the rest
            if index != len(pieces) - 1:
                return None
            out.append((current, end, first, None, ratio))
            return out
        length = last - first + 1
        if length < 1:
            return None
        used, rest = divmod(length, ratio) if ratio > 0 else (length * -ratio, 0)
        if rest or used < 1:
            return None
        out.append((current, current + used - 1, first, last, ratio))
        current += used
    if end is not None and current - 1 != end:
        return None
    return out


def _span_end(match: re.Match) -> int | None:
    if match.group(2) is None:  # "5": a single episode
        return int(match.group(1))
    return int(match.group(2)) if match.group(2) else None  # "1089-": open-ended
