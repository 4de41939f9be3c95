"""Generate mapping source files of production size in the real formats (for the benchmark)."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

OTAKU_SCHEMA = (
    "CREATE TABLE anime (mal_id INTEGER PRIMARY KEY, mal_dub_id INTEGER,anilist_id INTEGER,kitsu_id INTEGER,"
    "anidb_id INTEGER,thetvdb_id INTEGER, themoviedb_id INTEGER, imdb_id INTEGER, trakt_id INTEGER, "
    "mal_picture TEXT, thetvdb_season INTEGER, thetvdb_part INTEGER, duration INTEGER, anime_media_type TEXT, "
    "global_media_type TEXT, anime_media_episodes INTEGER, globel_media_episodes INTEGER, UNIQUE(mal_id))"
)


def fribb_entries(count: int, seed: int = 1) -> list[dict]:
    """Current `anime-list-full` format: themoviedb_id object, imdb_id list, season, offsets."""
    rng = random.Random(seed)
    out = []
    for i in range(1, count + 1):
        movie = rng.random() < 0.25
        entry = {
            "type": "MOVIE" if movie else rng.choice(["TV", "OVA", "ONA", "SPECIAL"]),
            "anidb_id": i, "anilist_id": 100000 + i, "animecountdown_id": 200000 + i,
            "animenewsnetwork_id": 300000 + i, "anime-planet_id": f"title-{i}", "anisearch_id": 400000 + i,
            "imdb_id": [f"tt{1000000 + i}"], "kitsu_id": 500000 + i, "livechart_id": 600000 + i,
            "mal_id": 700000 + i, "simkl_id": 800000 + i,
        }
        if movie:
            entry["themoviedb_id"] = {"movie": [900000 + i]}
        else:
            entry["themoviedb_id"] = {"tv": 900000 + i // 3}
            entry["tvdb_id"] = 1000000 + i // 3
            entry["season"] = {"tvdb": rng.randint(0, 5), "tmdb": rng.randint(0, 5)}
            if rng.random() < 0.3:
                entry["episode_offset"] = {"tvdb": rng.randint(1, 40), "tmdb": rng.randint(1, 40)}
        out.append(entry)
    return out


def write_fribb(path: Path, count: int = 40_000) -> Path:
    path.write_text(json.dumps(fribb_entries(count), indent=2))
    return path


def write_otaku(path: Path, count: int = 30_000, seed: int = 2) -> Path:
    rng = random.Random(seed)
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute(OTAKU_SCHEMA)
    conn.execute("CREATE TABLE activities (sync_id INTEGER PRIMARY KEY, last_updated TEXT NOT NULL)")
    conn.execute("INSERT INTO activities VALUES (1, '1731369271')")
    rows = []
    for i in range(1, count + 1):
        movie = rng.random() < 0.25
        season = "a" if rng.random() < 0.05 else rng.randint(0, 6)
        start = rng.choice([1, 1, 1, 13, 25])
        eps = rng.randint(1, 26)
        rows.append((
            i, i, 100000 + i, 200000 + i, 300000 + i,
            "movie" if movie and rng.random() < 0.5 else 400000 + i // 3,
            500000 + i, f"tt{600000 + i}", 700000 + i if rng.random() < 0.3 else None,
            f"https://cdn.example/{i}.jpg", season, rng.randint(1, 3), 24,
            "MOVIE" if movie else "TV", "movie" if movie else "show",
            f"1 - {eps}", f"{start} - {start + eps - 1}",
        ))
    conn.executemany(f"INSERT INTO anime VALUES ({','.join('?' * 17)})", rows)
    for name, col in (("ix_mal", "mal_id"), ("ix_anilist", "anilist_id"), ("ix_kitsu", "kitsu_id"),
                      ("ix_anidb", "anidb_id")):
        conn.execute(f'CREATE UNIQUE INDEX {name} ON "anime" ({col} ASC )')
    conn.commit()
    conn.close()
    return path


def anibridge_graph(count: int, seed: int = 3) -> dict:
    """AniBridge v3 (`mappings.json`) shape: `anilist:X` descriptors with scoped show targets,
    movies, ids, and the reverse descriptors (`mal:`, `anidb:`, `tmdb_show:`) the real file also
    carries. Ranges use the whole grammar: open ("14-"), ratio ("|2", "|-2"), multi-part
    ("1-6,8-13") and null targets."""
    rng = random.Random(seed)
    graph: dict = {"$meta": {"schema_version": "3.0.0", "generated_on": "2026-11-30T02:14:07Z"}}
    for i in range(1, count + 1):
        anilist, tmdb, tvdb = 100000 + i, 900000 + i // 3, 1000000 + i // 3
        targets: dict = {f"anidb:{i}:R": {"1-12": "1-12"}, f"mal:{700000 + i}": {"1-12": "1-12"}}
        if rng.random() < 0.2:
            targets[f"tmdb_movie:{900000 + i}"] = {"1": "1"}
            targets[f"imdb_movie:tt{1000000 + i}"] = {"1": "1"}
        else:
            season, start = rng.randint(0, 6), rng.choice([1, 1, 1, 13, 26])
            shape = rng.random()
            if shape < 0.55:
                spans = {"1-12": f"{start}-{start + 11}"}
            elif shape < 0.65:
                spans = {"1-13": f"{start}-{start + 12}", "14-": f"{start + 13}-"}  # open
            elif shape < 0.75:
                spans = {"1-12": f"{start}-{start + 5},{start + 7}-{start + 12}"}  # multi-part
            elif shape < 0.82:
                spans = {"1-6": f"{start}-{start + 11}|2"} if rng.random() < 0.5 else {"1-24": f"{start}-{start + 11}|-2"}
            elif shape < 0.9:
                spans = {"1": str(start), "2": None}  # a null target
            else:
                spans = {"1-12": f"{start}-{start + 11}", "13-24": "1-12"}
            targets[f"tmdb_show:{tmdb}:s{season}"] = spans
            targets[f"tvdb_show:{tvdb}:s{season + 1}"] = {"1-12": "1-12"}
            if rng.random() < 0.3:
                targets[f"tmdb_show:{tmdb}:s{season + 1}"] = {"13-24": "1-12"}
        graph[f"anilist:{anilist}"] = targets
        graph[f"mal:{700000 + i}"] = {f"anilist:{anilist}": {"1-12": "1-12"}, f"anidb:{i}:R": {"1-12": "1-12"}}
        graph[f"anidb:{i}:R"] = {f"anilist:{anilist}": {"1-12": "1-12"}}
    return graph


def write_anibridge(path: Path, count: int = 30_000, *, compressed: bool = True) -> Path:
    """`mappings.json` (indented, as published) or, with `compressed`, `mappings.json.zst`."""
    data = json.dumps(anibridge_graph(count), indent=2).encode()
    if compressed:
        import zstandard

        data = zstandard.ZstdCompressor(level=10).compress(data)
    path.write_bytes(data)
    return path
