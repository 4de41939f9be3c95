import json
import sqlite3

import pytest

from mappings import parsers
from mappings.parsers import SourceError
from tests.mappings.support import ANIBRIDGE, FIXTURES, FRIBB_CURRENT, FRIBB_OLD, OTAKU_DB


def test_it_reads_the_real_otaku_file_with_its_quirks():
    rows, updated = parsers.otaku_rows(OTAKU_DB)
    by_mal = {r["mal_id"]: r for r in rows}
    assert len(rows) == 208
    assert updated.isoformat() == "2024-11-11T23:54:31+00:00"
    aot_s3p2 = by_mal[38524]
    assert (aot_s3p2["tvdb_season"], aot_s3p2["anime_start"], aot_s3p2["global_start"], aot_s3p2["global_end"]) == (3, 1, 13, 22)
    assert by_mal[47]["tvdb_marker"] == "movie" and by_mal[47]["tvdb_id"] is None
    assert by_mal[21]["tvdb_absolute"] is True and by_mal[21]["tvdb_season"] is None
    # Show and movie ids share numbers: the namespace is kept with the id.
    assert (by_mal[2264]["trakt_id"], by_mal[2264]["global_media_type"]) == (8630, "movie")
    assert (by_mal[2814]["trakt_id"], by_mal[2814]["global_media_type"]) == (8630, "show")


def test_it_accepts_the_renamed_episode_column(tmp_path):
    path = tmp_path / "new.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE anime (mal_id, anilist_id, anidb_id, thetvdb_id, themoviedb_id, imdb_id, trakt_id, "
                 "thetvdb_season, thetvdb_part, anime_media_type, global_media_type, anime_media_episodes, "
                 "global_media_episodes, simkl_id)")
    conn.execute("INSERT INTO anime VALUES (1, 2, 3, 'OVA', '968868,968870', NULL, NULL, 0, 1, 'OVA', NULL, "
                 "'1 - 2', '5 - 6', 9)")
    conn.commit()
    conn.close()
    rows, updated = parsers.otaku_rows(path)
    assert updated is None
    assert rows[0]["tvdb_marker"] == "OVA" and rows[0]["tmdb_ids"] == "968868,968870"
    assert (rows[0]["global_start"], rows[0]["global_end"]) == (5, 6)


def test_a_truncated_sqlite_file_is_a_clear_error(tmp_path):
    data = OTAKU_DB.read_bytes()
    path = tmp_path / "cut.db"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(SourceError, match="damaged|truncated"):
        parsers.otaku_rows(path)


def test_an_html_page_instead_of_the_file_is_a_clear_error(tmp_path):
    path = tmp_path / "page.db"
    path.write_bytes(b"<!DOCTYPE html><html><body>Rate limited</body></html>")
    with pytest.raises(SourceError, match="HTML page"):
        parsers.otaku_rows(path)
    with pytest.raises(SourceError, match="HTML page"):
        parsers.fribb_rows(b"  <html>oops</html>")


def test_an_empty_list_or_truncated_json_is_a_clear_error():
    with pytest.raises(SourceError, match="empty"):
        parsers.fribb_rows(b"[]")
    with pytest.raises(SourceError, match="truncated"):
        parsers.fribb_rows(FRIBB_CURRENT.read_bytes()[:500])
    with pytest.raises(SourceError, match="no `anilist:` entries"):
        parsers.anibridge_rows(b'{"$schema": {"version": "3.0.0"}}')


def test_it_reads_every_fribb_generation():
    old = {r["anilist_id"]: r for r in parsers.fribb_rows(FRIBB_OLD.read_bytes())}
    assert old[47]["tmdb_movies"] == "149" and old[47]["tmdb_tv"] is None and old[47]["imdb_ids"] == "tt0094625"
    assert old[150672]["tvdb_id"] == 421069 and old[150672]["has_season_data"] is False
    current = {r["anidb_id"]: r for r in parsers.fribb_rows(FRIBB_CURRENT.read_bytes())}
    rezero = current[14792]
    assert (rezero["tmdb_tv"], rezero["tmdb_season"], rezero["tmdb_offset"], rezero["tvdb_season"]) == (65942, 1, 26, 2)
    assert current[112]["tmdb_movies"] == "129"
    examples = json.loads((FIXTURES / "fribb_anime-list-full_2026-06_readme_examples.json").read_text())
    full = [parsers.fribb_row(e) for e in examples["anime-list-full_examples"]]
    assert full[3]["anilist_id"] == 3269 and (full[3]["tmdb_season"], full[3]["tmdb_offset"]) == (0, 11)
    # The middle generation (Jan 2026): season object but a bare TMDB id, which is then a tv id.
    middle = parsers.fribb_row({"anilist_id": 5, "type": "TV", "themoviedb_id": 1429, "tvdb_id": 267440,
                                "season": {"tvdb": 2, "tmdb": 2}, "imdb_id": "tt2560140"})
    assert (middle["tmdb_tv"], middle["tmdb_movies"], middle["tmdb_season"]) == (1429, "", 2)


def test_it_reads_anibridge_ranges_in_anilist_numbering():
    rows = parsers.anibridge_rows(ANIBRIDGE.read_bytes())
    tybw2 = [r for r in rows if r["anilist_id"] == 159322]
    assert tybw2 == [{"anilist_id": 159322, "target_kind": "tmdb_show", "target_id": "30984", "season": 2,
                      "source_start": 1, "source_end": 13, "target_start": 14, "target_end": 26, "ratio": 1}]
    one_piece_last = [r for r in rows if r["anilist_id"] == 21 and r["target_kind"] == "tmdb_show"][-1]
    assert (one_piece_last["source_end"], one_piece_last["target_end"]) == (None, None)
    memory_snow = [r for r in rows if r["anilist_id"] == 100049][0]
    assert (memory_snow["target_kind"], memory_snow["ratio"]) == ("tmdb_movie", -2)


LONG = "9" * 5000  # `int()` refuses more than 4,300 digits with a ValueError


@pytest.mark.parametrize("data", [
    f'{{"anilist:{LONG}": {{"tmdb_show:1:s1": {{"1": "1"}}}}, "anilist:5": {{"tmdb_show:1:s1": {{"1": "1"}}}}}}',
    f'{{"anilist:5": {{"tmdb_show:1:s1": {{"{LONG}": "1", "1": "1"}}}}}}',
    f'{{"anilist:5": {{"tmdb_show:1:s1": {{"1": "1-{LONG}", "2": "2"}}}}}}',
])
def test_a_number_too_long_to_be_an_id_or_episode_is_left_out_of_anibridge_not_a_crash(data):
    assert len(parsers.anibridge_rows(data.encode())) == 1


def test_a_season_number_too_long_to_be_one_is_no_season():
    data = f'{{"anilist:5": {{"tmdb_show:1:s{LONG}": {{"1": "1"}}}}}}'.encode()
    assert [row["season"] for row in parsers.anibridge_rows(data)] == [None]


def test_a_number_too_long_to_be_an_id_is_no_id_in_fribb_or_otaku():
    rows = parsers.fribb_rows(f'[{{"anilist_id": "{LONG}", "mal_id": 1, "season": {{"tmdb": "{LONG}"}}}}]'.encode())
    assert (rows[0]["anilist_id"], rows[0]["mal_id"], rows[0]["tmdb_season"]) == (None, 1, None)
    assert parsers.parse_range(f"1 - {LONG}") == (None, None)
