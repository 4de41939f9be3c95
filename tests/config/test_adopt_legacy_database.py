"""A user of the original app points DATABASE_URL at their Supabase Postgres and migrates:
every table is adopted, every row survives and reads through the models."""

import contextlib
import json
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

ORIGINAL_SCHEMA = """
CREATE TABLE mappings (anilist_id INTEGER PRIMARY KEY, trakt_id INTEGER, tmdb_id INTEGER, imdb_id TEXT,
  tvdb_id INTEGER, type TEXT, is_manual BOOLEAN DEFAULT FALSE, updated_at TIMESTAMPTZ DEFAULT NOW());
CREATE TABLE logs (id BIGSERIAL PRIMARY KEY, message TEXT NOT NULL, level TEXT DEFAULT 'info',
  created_at TIMESTAMPTZ DEFAULT NOW());
CREATE TABLE system_config (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TIMESTAMPTZ DEFAULT NOW());
CREATE TABLE sync_progress (anilist_id INTEGER PRIMARY KEY, last_abs INTEGER NOT NULL DEFAULT 0,
  updated_at TIMESTAMPTZ DEFAULT NOW());
CREATE TABLE episode_override (trakt_id INTEGER NOT NULL, abs INTEGER NOT NULL, season INTEGER NOT NULL,
  episode INTEGER NOT NULL, PRIMARY KEY (trakt_id, abs));
CREATE TABLE show_map (anilist_id INTEGER PRIMARY KEY, trakt_id INTEGER NOT NULL, source TEXT NOT NULL,
  created_at TIMESTAMPTZ DEFAULT NOW());
CREATE TABLE episode_map (trakt_id INTEGER, abs INTEGER, season INTEGER, episode INTEGER,
  PRIMARY KEY (trakt_id, abs));
"""

ORIGINAL_ROWS = """
INSERT INTO mappings (anilist_id, trakt_id, tmdb_id, imdb_id, tvdb_id, type, is_manual) VALUES
  (16498, 1420, 1429, 'tt2560140', 267440, 'show', false),
  (104578, 1420, 1429, NULL, 267440, 'show', true),
  (21519, 254107, 372058, 'tt5311514', NULL, 'movie', false);
INSERT INTO logs (message, level) VALUES ('Sync started', 'info'), ('Trakt 502', 'error'), ('old', NULL);
INSERT INTO system_config (key, value) VALUES ('lastSyncTimestamp', '1731369271'),
  ('status:sync:last-run', '2024-11-11T23:54:31.000Z'), ('trakt:token', 'legacy-access'),
  ('trakt:refresh_token', 'legacy-refresh');
INSERT INTO sync_progress (anilist_id, last_abs) VALUES (16498, 25), (104578, 10);
INSERT INTO episode_override (trakt_id, abs, season, episode) VALUES (1420, 60, 3, 13), (1420, 61, 3, 14);
INSERT INTO show_map (anilist_id, trakt_id, source) VALUES (16498, 1420, 'otaku');
INSERT INTO episode_map (trakt_id, abs, season, episode) VALUES (1420, 1, 1, 1);
"""

READ_THROUGH_MODELS = """
import json
from mappings.models import Mapping, LegacyEpisodeOverride
from logs.models import LogEntry
from django.db.models import Count
from syncer.models import LedgerItem, SystemConfig, SyncProgress
print(json.dumps({
    "ledger": dict(LedgerItem.objects.filter(state="present").values("anilist_id").annotate(n=Count("id"))
                   .values_list("anilist_id", "n")),
    "mappings": sorted([m.anilist_id, m.trakt_id, m.type, m.is_manual, m.imdb_id] for m in Mapping.objects.all()),
    "logs": sorted([l.message, l.level] for l in LogEntry.objects.all()),
    "config": dict(SystemConfig.objects.values_list("key", "value")),
    "progress": dict(SyncProgress.objects.values_list("anilist_id", "last_abs")),
    "overrides": sorted([o.trakt_id, o.abs, o.season, o.episode] for o in LegacyEpisodeOverride.objects.all()),
}))
"""


def server_dsn(dbname: str) -> str:
    db = settings.DATABASES["default"]
    parts = [f"dbname={dbname}", f"host={db.get('HOST') or '127.0.0.1'}", f"port={db.get('PORT') or 5432}"]
    if db.get("USER"):
        parts.append(f"user={db['USER']}")
    if db.get("PASSWORD"):
        parts.append(f"password={db['PASSWORD']}")
    return " ".join(parts)


def database_url(dbname: str) -> str:
    db = settings.DATABASES["default"]
    auth = db.get("USER") or "postgres"
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{dbname}"


def manage(dbname: str, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "ENV_FILE": "/dev/null", "DEBUG": "true",
           "DATABASE_URL": database_url(dbname)}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@contextlib.contextmanager
def original_database(rows: str):
    """A throwaway PostgreSQL database with the original app's schema and `rows`: its name."""
    name = f"adopt_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_dsn("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(server_dsn(name), autocommit=True) as conn:
            conn.execute(ORIGINAL_SCHEMA)
            conn.execute(rows)
        yield name
    finally:
        with psycopg.connect(server_dsn("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def legacy_database(postgres_only):
    with original_database(ORIGINAL_ROWS) as name:
        yield name


def test_migrate_adopts_the_original_tables_and_keeps_every_row(legacy_database):
    result = manage(legacy_database, "migrate", "--noinput")
    assert result.returncode == 0, result.stderr + result.stdout

    read = manage(legacy_database, "shell", "-c", READ_THROUGH_MODELS)
    assert read.returncode == 0, read.stderr
    data = json.loads(read.stdout.strip().splitlines()[-1])
    assert data["mappings"] == [
        [16498, 1420, "show", False, "tt2560140"],
        [21519, 254107, "movie", False, "tt5311514"],
        [104578, 1420, "show", True, None],
    ]
    assert data["logs"] == [["Sync started", "info"], ["Trakt 502", "error"], ["old", None]]
    assert data["config"] == {
        "lastSyncTimestamp": "1731369271",
        "status:sync:last-run": "2024-11-11T23:54:31.000Z",
        "trakt:token": "legacy-access",
        "trakt:refresh_token": "legacy-refresh",
    }
    assert data["progress"] == {"16498": 25, "104578": 10}  # JSON object keys are strings
    assert data["ledger"] == {"16498": 25, "104578": 10}  # episodes 1..last_abs: on Trakt, never posted again
    assert data["overrides"] == [[1420, 60, 3, 13], [1420, 61, 3, 14]]


def test_the_legacy_tables_the_rewrite_does_not_use_are_left_alone(legacy_database):
    assert manage(legacy_database, "migrate", "--noinput").returncode == 0
    with psycopg.connect(server_dsn(legacy_database)) as conn:
        assert conn.execute("SELECT anilist_id, trakt_id, source FROM show_map").fetchall() == [(16498, 1420, "otaku")]
        assert conn.execute("SELECT count(*) FROM episode_map").fetchone() == (1,)


def test_new_rows_get_ids_after_the_adopted_ones_and_migrate_twice_is_harmless(legacy_database):
    assert manage(legacy_database, "migrate", "--noinput").returncode == 0
    again = manage(legacy_database, "migrate", "--noinput")
    assert again.returncode == 0 and "No migrations to apply" in again.stdout
    write = manage(legacy_database, "shell", "-c",
                   "from logs.models import LogEntry; print(LogEntry.objects.create(message='new').id)")
    assert write.returncode == 0, write.stderr
    assert int(write.stdout.strip().splitlines()[-1]) > 3


# --- the original app's database, populated, migrated, then synced against the fakes

# An original-app user mid-way: Attack on Titan S1 (AniList 16498, 25 episodes) synced to 20 and
# S3 Part 2 (104578, Trakt S3E13-22, a manual row) to 6; the movie (21519) synced. AniList now
# has all of them watched. The `mappings` rows have no start (the original never stored one):
# the datasets place them, as on a real first start.
SYNCED_ORIGINAL_ROWS = """
INSERT INTO mappings (anilist_id, trakt_id, tmdb_id, type, is_manual) VALUES
  (16498, 1420, 1429, 'show', false), (104578, 1420, 1429, 'show', true), (21519, 254107, 372058, 'movie', false);
INSERT INTO system_config (key, value) VALUES ('lastSyncTimestamp', '1731369271'),
  ('trakt:token', 'legacy-access'), ('trakt:refresh_token', 'legacy-refresh');
INSERT INTO sync_progress (anilist_id, last_abs) VALUES (16498, 20), (104578, 6), (21519, 1);
"""
IMPORT_DATASETS = """
from mappings import importer
from tests.mappings.support import ANIBRIDGE, FRIBB_CURRENT, OTAKU_DB
for name, path in (("otaku", OTAKU_DB), ("fribb", FRIBB_CURRENT), ("anibridge", ANIBRIDGE)):
    assert importer.import_file(name, path).ok
"""
CURSOR = 1731369271
# What the original app had not posted yet: S1E21-25, and S3E19-22 (AniList 7-10 of Part 2).
MISSING = {(1420, 1, n) for n in range(21, 26)} | {(1420, 3, n) for n in range(19, 23)}


@pytest.fixture
def synced_original(postgres_only):
    with original_database(SYNCED_ORIGINAL_ROWS) as name:
        yield name


@pytest.fixture
def fakes():
    import time

    from tests.fakes.anilist import FakeAniList
    from tests.fakes.trakt import FakeTrakt

    with FakeAniList() as anilist, FakeTrakt() as trakt:
        trakt.access_tokens["legacy-access"] = time.time() + 86400  # the adopted token pair
        trakt.refresh_tokens.add("legacy-refresh")
        trakt.add_show(1420, title="Attack on Titan", ids={"tmdb": 1429, "tvdb": 267440, "imdb": "tt2560140"},
                       seasons={1: 25, 2: 12, 3: 22, 4: 28})
        trakt.add_movie(254107, title="Attack on Titan: Chronicle", ids={"tmdb": 372058})
        anilist.add_entry(1, 16498, status="COMPLETED", progress=25, episodes=25, updated_at=CURSOR + 100)
        anilist.add_entry(2, 104578, status="COMPLETED", progress=10, episodes=10, updated_at=CURSOR + 200)
        anilist.add_entry(3, 21519, status="COMPLETED", progress=1, episodes=1, fmt="MOVIE", updated_at=CURSOR - 100)
        anilist.add_activity(7001, 16498, status="watched episode", progress="21 - 25", created_at=CURSOR + 100)
        anilist.add_activity(7002, 104578, status="watched episode", progress="7 - 10", created_at=CURSOR + 200)
        yield anilist, trakt


def sync(dbname: str, anilist, trakt, mode: str) -> str:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "ENV_FILE": "/dev/null", "DEBUG": "true",
           "DATABASE_URL": database_url(dbname), "ANILIST_API_URL": anilist.url,
           "ANILIST_ACCESS_TOKEN": anilist.token, "ANILIST_REQUESTS_PER_MINUTE": "1000",
           "TRAKT_API_URL": trakt.url, "TRAKT_AUTH_URL": trakt.auth_url, "TRAKT_CLIENT_ID": trakt.client_id,
           "TRAKT_CLIENT_SECRET": trakt.client_secret, "TRAKT_WRITE_INTERVAL_SECONDS": "0.01",
           "SYNC_RECONCILE_DELAY_SECONDS": "0", "AIRDATES_ENABLED": "false"}
    result = subprocess.run([sys.executable, "manage.py", "sync", mode], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout + result.stderr


def posted(trakt) -> list[tuple[int, int, int]]:
    return sorted((show, season, number) for show, season, number, _ in trakt.episode_plays())


def migrated(dbname: str) -> None:
    for args in (("migrate", "--noinput"), ("shell", "-c", IMPORT_DATASETS)):
        result = manage(dbname, *args)
        assert result.returncode == 0, result.stderr + result.stdout


def test_a_synced_original_database_then_an_incremental_posts_only_the_episodes_above_last_abs(
        synced_original, fakes):
    anilist, trakt = fakes
    migrated(synced_original)
    sync(synced_original, anilist, trakt, "incremental")
    assert posted(trakt) == sorted(MISSING)
    assert trakt.movie_plays() == []  # last_abs 1: the movie is synced
    sync(synced_original, anilist, trakt, "library")
    assert posted(trakt) == sorted(MISSING)  # the library run finds nothing more to post


def test_a_synced_original_database_then_a_library_run_posts_only_the_episodes_above_last_abs(
        synced_original, fakes):
    anilist, trakt = fakes
    migrated(synced_original)
    sync(synced_original, anilist, trakt, "library")
    assert posted(trakt) == sorted(MISSING) and trakt.movie_plays() == []
    sync(synced_original, anilist, trakt, "incremental")
    assert posted(trakt) == sorted(MISSING)
