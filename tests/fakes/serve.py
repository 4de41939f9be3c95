"""Run the loopback fakes as standalone servers with a demo library, for trying the app by hand.

    .venv/bin/python -m tests.fakes.serve --env-file /tmp/demo.env
    set -a; . /tmp/demo.env; set +a
    DEBUG=true .venv/bin/python manage.py migrate && .venv/bin/python manage.py ensure_admin
    .venv/bin/python manage.py runserver & .venv/bin/python manage.py qcluster

It starts fake AniList, Trakt and TMDB servers and a mapping-file server (a Fribb list that
knows every demo entry but one) on 127.0.0.1, seeds a dozen real titles (shows with several
seasons, two movies, entries being watched with recent activity, scores, two planned titles,
one entry no source knows),
prints the environment variables that point the app at them and serves until Ctrl-C (or
`--seconds`). Nothing leaves the machine: the other mapping sources are switched off.

On the dashboard: refresh the Fribb source, connect Trakt (the fake approves a device code by
itself after a few polls; or start with `--connected`), preview and run the syncs.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.anilist import FakeAniList, media_obj
from tests.fakes.server import FakeServer, Response
from tests.fakes.tmdb import FakeTmdb
from tests.fakes.trakt import FakeTrakt

DAY = 86400


@dataclass(frozen=True)
class Title:
    """One demo entry: AniList side, list state, and where it lives on TMDB/TVDB/Trakt."""

    anilist_id: int
    title: str
    episodes: int | None
    status: str  # AniList list status
    progress: int
    fmt: str = "TV"
    year: int = 2020
    trakt_id: int | None = None  # show or movie on the fake Trakt
    tmdb_id: int | None = None
    tvdb_id: int | None = None
    imdb_id: str | None = None
    season: int | None = None  # TMDB/TVDB season of this entry (shows)
    in_fribb: bool = True
    score: float = 0  # the AniList score (POINT_10): sent as a Trakt rating with SYNC_RATINGS


# Real titles; AniList, TMDB and TVDB ids as the real services number them.
LIBRARY = [
    Title(154587, "Frieren: Beyond Journey's End", 28, "COMPLETED", 28, year=2023, trakt_id=198380,
          tmdb_id=209867, tvdb_id=424536, season=1, score=10),
    Title(16498, "Attack on Titan", 25, "COMPLETED", 25, year=2013, trakt_id=1420, tmdb_id=1429,
          tvdb_id=267440, season=1, score=9),
    Title(20958, "Attack on Titan Season 2", 12, "COMPLETED", 12, year=2017, trakt_id=1420, tmdb_id=1429,
          tvdb_id=267440, season=2),
    Title(1, "Cowboy Bebop", 26, "COMPLETED", 26, year=1998, trakt_id=30991, tmdb_id=30991, tvdb_id=76885,
          season=1, score=9),
    Title(30, "Neon Genesis Evangelion", 26, "COMPLETED", 26, year=1995, trakt_id=890, tmdb_id=890,
          tvdb_id=70350, season=1),
    Title(21507, "Mob Psycho 100", 12, "COMPLETED", 12, year=2016, trakt_id=99178, tmdb_id=67075,
          tvdb_id=305074, season=1, score=8),
    Title(113415, "Jujutsu Kaisen", 24, "COMPLETED", 24, year=2020, trakt_id=152900, tmdb_id=95479,
          tvdb_id=377543, season=1),
    Title(145064, "Jujutsu Kaisen Season 2", 23, "CURRENT", 10, year=2023, trakt_id=152900, tmdb_id=95479,
          tvdb_id=377543, season=2),
    Title(140960, "Spy x Family", 12, "CURRENT", 7, year=2022, trakt_id=178101, tmdb_id=120089,
          tvdb_id=405920, season=1),
    Title(199, "Spirited Away", 1, "COMPLETED", 1, fmt="MOVIE", year=2001, trakt_id=223, tmdb_id=129,
          imdb_id="tt0245429", score=10),
    Title(21519, "Your Name.", 1, "COMPLETED", 1, fmt="MOVIE", year=2016, trakt_id=251434, tmdb_id=372058,
          imdb_id="tt5311514"),
    Title(21827, "Violet Evergarden", 13, "CURRENT", 4, year=2018, trakt_id=117766, tmdb_id=75214,
          tvdb_id=330139, season=1),
    # Planned, not watched: put on the Trakt watchlist with SYNC_WATCHLIST (the demo turns it on).
    Title(20954, "A Silent Voice", 1, "PLANNING", 0, fmt="MOVIE", year=2016, trakt_id=231929, tmdb_id=378064,
          imdb_id="tt5323662"),
    Title(127230, "Chainsaw Man", 12, "PLANNING", 0, year=2022, trakt_id=180775, tmdb_id=114410, tvdb_id=397934,
          season=1),
    # No mapping source knows this one: the dashboard lists it as unmapped.
    Title(171457, "Uma Musume: Pretty Derby – Road to the Top", 4, "COMPLETED", 4, fmt="ONA", year=2023,
          in_fribb=False),
]

# Episode counts per season of the Trakt shows (season 0: specials).
TRAKT_SEASONS = {
    198380: {0: 1, 1: 28},
    1420: {0: 8, 1: 25, 2: 12, 3: 22, 4: 30},
    30991: {0: 1, 1: 26},
    890: {0: 2, 1: 26},
    99178: {0: 4, 1: 12, 2: 13, 3: 12},
    152900: {0: 1, 1: 24, 2: 23},
    178101: {1: 25, 2: 12},
    117766: {0: 1, 1: 13},
    180775: {1: 12},
}

VIEWER = "sam"


def seed(anilist: FakeAniList, trakt: FakeTrakt, tmdb: FakeTmdb, *, now: float | None = None) -> None:
    """Put the demo library into the fakes (list entries, activity, Trakt catalogue, TMDB ids)."""
    now = int(now or time.time())
    anilist.viewer["name"] = VIEWER
    trakt.username = VIEWER
    seen_shows: set[int] = set()
    for n, t in enumerate(LIBRARY):
        media = media_obj(t.anilist_id, title=t.title, episodes=t.episodes, fmt=t.fmt, year=t.year)
        done = _date(now - (40 + 9 * n) * DAY) if t.status == "COMPLETED" else None
        anilist.add_entry(n + 1, t.anilist_id, status=t.status, progress=t.progress, media=media, score=t.score,
                          started_at=_date(now - (60 + 9 * n) * DAY) if t.progress else None, completed_at=done,
                          updated_at=now - (30 + 9 * n) * DAY)
        if t.fmt == "MOVIE":
            trakt.add_movie(t.trakt_id, title=t.title, year=t.year, ids={"tmdb": t.tmdb_id, "imdb": t.imdb_id})
            tmdb.add_movie(t.tmdb_id, imdb_id=t.imdb_id)
        elif t.trakt_id and t.trakt_id not in seen_shows:
            seen_shows.add(t.trakt_id)
            trakt.add_show(t.trakt_id, title=_show_title(t.title), year=t.year,
                           ids={"tmdb": t.tmdb_id, "tvdb": t.tvdb_id}, seasons=TRAKT_SEASONS[t.trakt_id])
            tmdb.add_tv(t.tmdb_id, tvdb_id=t.tvdb_id)
    # Recent activity for the entries being watched: what an incremental sync picks up.
    activity = [(145064, "9"), (145064, "10"), (140960, "5 - 7"), (21827, "3"), (21827, "4")]
    for n, (media_id, progress) in enumerate(activity):
        anilist.add_activity(9000 + n, media_id, progress=progress, created_at=now - (len(activity) - n) * 3 * 3600)
    # One show already partly on Trakt, watched elsewhere: those plays count as already synced.
    for number in range(1, 6):
        trakt.add_play(show=30991, season=1, number=number, watched_at="2021-05-02T20:00:00.000Z")


def fribb_list() -> list[dict]:
    """A Fribb anime-list (June 2026 format) knowing every demo entry but the unmapped one."""
    rows = []
    for t in LIBRARY:
        if not t.in_fribb:
            continue
        row = {"type": t.fmt, "anilist_id": t.anilist_id}
        if t.fmt == "MOVIE":
            row.update(themoviedb_id={"movie": [t.tmdb_id]}, imdb_id=[t.imdb_id])
        else:
            row.update(themoviedb_id={"tv": t.tmdb_id}, tvdb_id=t.tvdb_id,
                       season={"tvdb": t.season, "tmdb": t.season})
        rows.append(row)
    return rows


def _show_title(title: str) -> str:
    return title.replace(" Season 2", "")


def _date(ts: int) -> dict:
    t = time.gmtime(ts)
    return {"year": t.tm_year, "month": t.tm_mon, "day": t.tm_mday}


ACTIVATE_PAGE = """<!doctype html><title>Fake Trakt: activate</title>
<h1>Fake Trakt</h1><p>This is the loopback fake. Every device code is approved by itself after
{polls} polls, so just go back to the app and wait a few seconds.</p>"""


def start_all(*, connected: bool = False) -> tuple[list[FakeServer], dict[str, str]]:
    """Start and seed the fakes; return them and the settings that point the app at them."""
    anilist, trakt, tmdb, files = FakeAniList(), FakeTrakt(), FakeTmdb(), FakeServer()
    trakt.device_interval = 2
    trakt.device_approve_after = 2
    trakt.route("GET", r"/activate", lambda request: Response(200, ACTIVATE_PAGE.format(polls=2)))
    files.route("GET", r"/fribb\.json", lambda request: Response(200, json.dumps(fribb_list()).encode()))
    for fake in (anilist, trakt, tmdb, files):
        fake.start()
    seed(anilist, trakt, tmdb)
    env = {
        "ANILIST_API_URL": anilist.url,
        "ANILIST_ACCESS_TOKEN": anilist.token,
        "ANILIST_REQUESTS_PER_MINUTE": "600",
        "TRAKT_API_URL": trakt.url,
        "TRAKT_AUTH_URL": trakt.auth_url,
        "TRAKT_CLIENT_ID": trakt.client_id,
        "TRAKT_CLIENT_SECRET": trakt.client_secret,
        "TRAKT_ACCESS_TOKEN": "",
        "TRAKT_REFRESH_TOKEN": "",
        "TRAKT_WRITE_INTERVAL_SECONDS": "0.1",
        "TMDB_API_URL": tmdb.url,
        "TMDB_API_KEY": tmdb.api_key,
        "FRIBB_MAPPINGS_URL": f"{files.url}/fribb.json",
        # Off: their defaults are on the internet.
        "OTAKU_MAPPINGS_URL": "",
        "ANIBRIDGE_MAPPINGS_URL": "",
        # The extras on, so the demo shows them: scores as ratings, planned titles on the watchlist.
        "SYNC_RATINGS": "true",
        "SYNC_WATCHLIST": "true",
    }
    if connected:
        token = trakt.issue_token()
        env["TRAKT_ACCESS_TOKEN"], env["TRAKT_REFRESH_TOKEN"] = token["access_token"], token["refresh_token"]
    return [anilist, trakt, tmdb, files], env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env-file", type=Path, help="also write the variables to this file")
    parser.add_argument("--connected", action="store_true", help="print a Trakt token pair too (no device flow)")
    parser.add_argument("--seconds", type=float, default=None, help="stop by itself after this long")
    args = parser.parse_args(argv)
    fakes, env = start_all(connected=args.connected)
    lines = "".join(f"{name}={value}\n" for name, value in env.items())
    if args.env_file:
        args.env_file.write_text(lines)
    print(lines, end="", flush=True)
    until = f"stopping after {args.seconds:g} s" if args.seconds else "Ctrl-C stops them"
    print(f"# fakes running; {until}", file=sys.stderr, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait(args.seconds)
    except KeyboardInterrupt:
        pass
    for fake in fakes:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
