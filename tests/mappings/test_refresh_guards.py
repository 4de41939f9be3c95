"""Refreshes that must not change what is in use: a much smaller file (unless forced), a cut
zstd download, hostile strings and numbers in a file (one bad row fails alone)."""

import json
import shutil
import sqlite3

import httpx
import pytest
import zstandard
from django.core.management import CommandError, call_command
from django.test import override_settings

from mappings import importer
from mappings.models import AniBridgeRange, FribbEntry, OtakuEntry, SourceStatus
from mappings.services import sources_refresh, sources_refresh_all
from tests.mappings.support import ANIBRIDGE, FRIBB_CURRENT, OTAKU_DB

URLS = {"OTAKU_MAPPINGS_URL": "https://example.test/otaku.db", "FRIBB_MAPPINGS_URL": "https://example.test/f.json",
        "ANIBRIDGE_MAPPINGS_URL": "https://example.test/mappings.json.zst"}


def serving(body: bytes):
    return httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body)))


def fribb_file(count: int) -> bytes:
    return json.dumps([{"anilist_id": n, "type": "TV"} for n in range(1, count + 1)]).encode()


# --- the shrink guard ------------------------------------------------------------------------


def test_the_guard_refuses_less_than_half_of_at_least_ten_rows():
    assert importer.shrink_refusal(label="Fribb", old=13, new=1)
    assert importer.shrink_refusal(label="Fribb", old=40_000, new=19_999)
    assert importer.shrink_refusal(label="Fribb", old=40_000, new=20_000) is None
    assert importer.shrink_refusal(label="Fribb", old=9, new=1) is None  # too few to judge
    assert importer.shrink_refusal(label="Fribb", old=0, new=0) is None


@pytest.mark.django_db
@override_settings(**URLS)
def test_a_file_that_would_remove_most_rows_is_refused_and_the_old_rows_stay():
    assert sources_refresh(source="fribb", client=serving(fribb_file(13))).ok
    status = sources_refresh(source="fribb", client=serving(fribb_file(1)))
    assert status.last_error.startswith("refused: the new Fribb anime-lists JSON file has 1 rows, less than half of the 13")
    assert "--force" in status.last_error and status.refused_rows == 1
    assert FribbEntry.objects.count() == 13 == status.row_count


@pytest.mark.django_db
@override_settings(**URLS)
def test_forcing_accepts_the_smaller_file_and_clears_the_refusal():
    sources_refresh(source="fribb", client=serving(fribb_file(13)))
    sources_refresh(source="fribb", client=serving(fribb_file(1)))
    status = sources_refresh(source="fribb", client=serving(fribb_file(1)), force=True)
    assert status.ok and status.refused_rows is None
    assert FribbEntry.objects.count() == 1 == status.row_count


@pytest.mark.django_db
def test_the_command_refuses_then_accepts_with_force(tmp_path, capsys):
    call_command("refresh_mappings", source="fribb", file=FRIBB_CURRENT)
    small = tmp_path / "small.json"
    small.write_bytes(fribb_file(3))
    with pytest.raises(CommandError):
        call_command("refresh_mappings", source="fribb", file=small)
    assert "refused" in capsys.readouterr().err and FribbEntry.objects.count() == 195
    call_command("refresh_mappings", "--force", source="fribb", file=small)
    assert "fribb: 3 rows" in capsys.readouterr().out and FribbEntry.objects.count() == 3


@pytest.mark.django_db
@override_settings(**URLS)
def test_a_refresh_of_every_source_passes_force_on():
    importer.import_file("fribb", FRIBB_CURRENT)
    bodies = {"f.json": fribb_file(2), "otaku.db": OTAKU_DB.read_bytes(), "mappings.json.zst": ANIBRIDGE.read_bytes()}
    client = httpx.Client(transport=httpx.MockTransport(
        lambda request: httpx.Response(200, content=bodies[request.url.path.rsplit("/", 1)[-1]])))
    assert not {s.source: s for s in sources_refresh_all(client=client)}["fribb"].ok
    assert {s.source: s for s in sources_refresh_all(client=client, force=True)}["fribb"].ok


# --- AniBridge on by default, zstd downloads ---------------------------------------------------


def test_anibridge_defaults_to_the_v3_release_file_compressed_with_zstd():
    from config import settings as config

    assert config.ANIBRIDGE_MAPPINGS_URL == (
        "https://github.com/anibridge/anibridge-mappings/releases/download/v3/mappings.json.zst")


@pytest.mark.django_db
@override_settings(**{**URLS, "ANIBRIDGE_MAPPINGS_URL": ""})
def test_an_empty_url_turns_anibridge_off():
    requested = []
    client = httpx.Client(transport=httpx.MockTransport(
        lambda request: requested.append(request.url.path) or httpx.Response(404)))
    names = [s.source for s in sources_refresh_all(client=client)]
    assert names == ["otaku", "fribb"] and "/mappings.json.zst" not in requested


@pytest.mark.django_db
@override_settings(**URLS)
def test_a_zstd_file_is_decompressed_while_it_is_imported():
    compressed = zstandard.ZstdCompressor(level=19).compress(ANIBRIDGE.read_bytes())
    assert len(compressed) < len(ANIBRIDGE.read_bytes()) / 5
    status = sources_refresh(source="anibridge", client=serving(compressed))
    assert status.ok, status.last_error
    assert status.row_count == AniBridgeRange.objects.count() > 100


@pytest.mark.django_db
@override_settings(**URLS)
def test_a_cut_zstd_download_or_damaged_data_keeps_the_old_rows():
    importer.import_file("anibridge", ANIBRIDGE)
    before = AniBridgeRange.objects.count()
    stream = zstandard.ZstdCompressor().compressobj()
    compressed = stream.compress(ANIBRIDGE.read_bytes()) + stream.flush()
    for body, message in ((compressed[: len(compressed) // 2], "cut short"),
                          (compressed[:4] + b"\xff" * 64, "damaged zstd data")):
        status = sources_refresh(source="anibridge", client=serving(body))
        assert message in status.last_error
    assert AniBridgeRange.objects.count() == before == status.row_count


@pytest.mark.django_db
@override_settings(**URLS)
def test_a_zstd_file_that_inflates_past_the_cap_is_refused(monkeypatch):
    monkeypatch.setitem(importer.MAX_BYTES, "anibridge", 1 * importer.MiB)
    bomb = zstandard.ZstdCompressor().compress(b" " * 5_000_000)
    assert len(bomb) < 1_000
    status = sources_refresh(source="anibridge", client=serving(bomb))
    assert "more than 1 MiB" in status.last_error


# --- hostile strings and numbers -------------------------------------------------------------


def otaku_with_hostile_rows(tmp_path):
    """The real Otaku sample in its newer shape (`mal_title`), with a NUL in a title and in an
    IMDb id and one AniList id too large for the database."""
    path = tmp_path / "anime_mappings.db"
    shutil.copy(OTAKU_DB, path)
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE anime ADD COLUMN mal_title TEXT")
    conn.execute("UPDATE anime SET mal_title = 'Title ' || mal_id")
    conn.execute("UPDATE anime SET mal_title = ?, imdb_id = ? WHERE mal_id = 38524",
                 ("Shingeki no Kyojin\x00 Season 3 Part 2", "tt\x002560140"))
    conn.execute("UPDATE anime SET anilist_id = 99999999999 WHERE mal_id = 5114")
    conn.commit()
    conn.close()
    return path


@pytest.mark.django_db
def test_nul_bytes_in_an_otaku_file_are_removed_and_an_id_too_large_skips_only_its_row(tmp_path):
    status = importer.import_file("otaku", otaku_with_hostile_rows(tmp_path))
    assert status.ok, status.last_error
    assert (status.row_count, status.skipped_rows) == (207, 1)
    aot = OtakuEntry.objects.get(mal_id=38524)
    assert (aot.title, aot.imdb_id) == ("Shingeki no Kyojin Season 3 Part 2", "tt2560140")
    assert not OtakuEntry.objects.filter(mal_id=5114).exists()
    assert OtakuEntry.objects.get(mal_id=1).title == "Title 1"


@pytest.mark.django_db
def test_nul_bytes_in_json_sources_are_removed(tmp_path):
    fribb = tmp_path / "fribb.json"
    fribb.write_text(json.dumps([{"anilist_id": 1, "type": "TV\u0000", "imdb_id": ["tt\u00001"]},
                                 {"anilist_id": 2, "type": "TV"}]))
    assert importer.import_file("fribb", fribb).ok
    assert FribbEntry.objects.values_list("kind", "imdb_ids").get(anilist_id=1) == ("TV", "tt1")
    anibridge = tmp_path / "mappings.json"
    anibridge.write_text(json.dumps({"anilist:5": {"imdb_movie:tt\u00000169858": {"1": "1"}}}))
    assert importer.import_file("anibridge", anibridge).ok
    assert AniBridgeRange.objects.get().target_id == "tt0169858"


@pytest.mark.django_db
def test_a_clean_file_records_no_skipped_rows():
    importer.import_file("otaku", OTAKU_DB)
    assert SourceStatus.objects.get(source="otaku").skipped_rows == 0


# --- a file that grows beyond reason, or whose rows collapse onto few ids ----------------------


def one_id_file(count: int) -> bytes:
    """`count` rows that all name one AniList and one AniDB id (a broken upstream, or a hostile
    stand-in)."""
    return json.dumps([{"anilist_id": 1, "anidb_id": 1, "mal_id": n, "type": "TV"}
                       for n in range(1, count + 1)]).encode()


@pytest.mark.django_db
@override_settings(**URLS)
def test_rows_collapsed_onto_one_id_are_refused_and_the_good_rows_stay():
    assert sources_refresh(source="fribb", client=serving(fribb_file(195))).ok
    status = sources_refresh(source="fribb", client=serving(one_id_file(195)))
    assert status.last_error.startswith("refused: the new Fribb anime-lists JSON file names 1 AniList ids in 195 "
                                        "rows, less than half of the 195 in use")
    assert "--force" in status.last_error and status.refused_rows == 195
    assert set(FribbEntry.objects.values_list("anilist_id", flat=True)) == set(range(1, 196))


@pytest.mark.django_db
@override_settings(**URLS)
def test_a_real_file_keyed_by_anidb_id_is_guarded_by_that_id():
    assert importer.import_file("fribb", FRIBB_CURRENT).ok  # the reduced file: AniDB ids only
    status = sources_refresh(source="fribb", client=serving(one_id_file(195)))
    assert "names 1 AniDB ids in 195 rows" in status.last_error and FribbEntry.objects.count() == 195


@pytest.mark.django_db
@override_settings(**URLS)
def test_a_file_many_times_the_rows_in_use_is_refused_unless_forced():
    assert sources_refresh(source="fribb", client=serving(fribb_file(20))).ok
    status = sources_refresh(source="fribb", client=serving(fribb_file(61)))
    assert status.last_error.startswith("refused: the new Fribb anime-lists JSON file has 61 rows, more than "
                                        "three times the 20 in use")
    assert FribbEntry.objects.count() == 20
    assert sources_refresh(source="fribb", client=serving(fribb_file(61)), force=True).ok
    assert FribbEntry.objects.count() == 61


@pytest.mark.django_db
@override_settings(**URLS)
def test_a_file_that_grows_within_reason_imports():
    assert sources_refresh(source="fribb", client=serving(fribb_file(20))).ok
    assert sources_refresh(source="fribb", client=serving(fribb_file(60))).ok


def test_the_guards_judge_rows_and_ids_against_the_import_in_use():
    def refusal(old, new):
        return importer.guard_refusal(label="F", old=(old[0], {"anilist_id": old[1]}),
                                      new=(new[0], {"anilist_id": new[1]}))

    assert refusal((40_000, 39_000), (150_000, 1))  # the probe's file
    assert refusal((40_000, 39_000), (40_100, 19_000))  # ids collapsed
    assert refusal((40_000, 39_000), (120_001, 110_000))  # grew beyond reason
    assert refusal((40_000, 39_000), (42_000, 40_500)) is None
    assert refusal((9, 9), (150_000, 1)) is None  # a first import: nothing to judge by


@pytest.mark.django_db
@override_settings(**URLS)
@pytest.mark.parametrize(("source", "cap"), [("otaku", 32), ("fribb", 64)])
def test_a_download_over_the_sources_cap_is_refused_while_it_streams_in(source, cap):
    pulled = []

    def body():
        for _ in range((cap + 1) * 16):
            pulled.append(1)
            yield b" " * (64 * 1024)

    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body())))
    status = sources_refresh(source=source, client=client)
    assert f"more than {cap} MiB" in status.last_error and "far more than a real file" in status.last_error
    assert len(pulled) <= cap * 16 + 1
