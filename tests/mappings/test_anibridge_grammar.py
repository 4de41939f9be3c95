"""The AniBridge v3 grammar that decides TMDB placement: scoped descriptors, open, multi-part
and ratio ranges, `null` targets, read from a file the shape of the published release."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from mappings import importer, parsers
from mappings.models import AniBridgeRange, SourceStatus
from mappings.parsers import SourceError
from mappings.placement import EpisodeRange
from mappings.resolver import SourceFacts, start_candidates

GRAMMAR = Path(__file__).resolve().parents[1] / "fixtures" / "anibridge-v3-grammar" / "mappings_grammar.json"


def rows_of(anilist_id: int) -> list[tuple]:
    rows = [r for r in parsers.anibridge_rows(GRAMMAR.read_bytes()) if r["anilist_id"] == anilist_id]
    return [(r["target_kind"], r["target_id"], r["season"], r["source_start"], r["source_end"],
             r["target_start"], r["target_end"], r["ratio"]) for r in rows]


def facts_of(anilist_id: int) -> SourceFacts:
    rows = [r for r in parsers.anibridge_rows(GRAMMAR.read_bytes()) if r["anilist_id"] == anilist_id]
    return SourceFacts(anibridge=tuple(AniBridgeRange(**row) for row in rows))


def test_a_scoped_show_descriptor_gives_the_season_and_ids_we_already_have_are_not_stored():
    assert rows_of(159322) == [
        ("tmdb_show", "30984", 2, 1, 13, 14, 26, 1),
        ("tvdb_show", "74796", 17, 1, 13, 14, 26, 1),
    ]


def test_an_open_range_stays_open_on_both_sides():
    assert rows_of(21)[-1] == ("tmdb_show", "37854", 22, 1089, None, 1089, None, 1)


def test_a_multi_part_target_becomes_one_row_per_piece_in_anilist_numbering():
    assert rows_of(900001) == [
        ("tmdb_show", "500", 1, 1, 6, 1, 6, 1),
        ("tmdb_show", "500", 1, 7, 12, 8, 13, 1),
        ("tmdb_show", "500", 1, 13, None, 14, None, 2),
    ]


def test_an_open_last_piece_takes_the_rest_of_the_source_range():
    assert rows_of(900004) == [("tmdb_show", "503", 1, 1, 4, 1, 4, 1), ("tmdb_show", "503", 1, 5, 10, 6, None, 1)]


def test_a_ratio_belongs_to_its_own_piece_and_the_pieces_before_it_stay_one_for_one():
    # "1-4,9-16|2": 1-4 is AniList 1-4 one for one; 9-16 at two target episodes each is AniList 5-8.
    assert rows_of(900006) == [("tmdb_show", "505", 1, 1, 4, 1, 4, 1), ("tmdb_show", "505", 1, 5, 8, 9, 16, 2)]


def test_a_negative_ratio_on_the_last_piece_leaves_the_first_piece_one_for_one():
    # "1-7,8|-2": AniList 1-7 are 1-7, AniList 8 and 9 share target episode 8.
    assert rows_of(900009) == [("tmdb_show", "508", 1, 1, 7, 1, 7, 1), ("tmdb_show", "508", 1, 8, 9, 8, 8, -2)]


def test_a_negative_ratio_is_kept_as_several_anilist_episodes_per_target_episode():
    assert rows_of(900002) == [("tmdb_show", "501", 1, 1, 24, 1, 12, -2)]


def test_pieces_that_do_not_add_up_to_the_source_range_are_marked_not_one_for_one():
    assert rows_of(900005) == [("tmdb_show", "504", 1, 1, 12, 1, 6, 0)]


def test_a_null_target_unmaps_its_range():
    assert rows_of(900003) == [("tmdb_show", "502", 0, 1, 1, 36, 36, 1), ("tmdb_show", "502", 0, 2, 2, None, None, 1)]


def test_sources_other_than_anilist_are_not_read():
    rows = parsers.anibridge_rows(GRAMMAR.read_bytes())
    assert {r["anilist_id"] for r in rows} == {159322, 21, 900001, 900002, 900003, 900004, 900005, 900006,
                                              900007, 900008, 900009, 99999999999}
    assert {r["target_kind"] for r in rows} == {"tmdb_show", "tvdb_show", "tmdb_movie", "imdb_movie"}


@pytest.mark.parametrize("key", ["١-٣", "²", "1-٣"])
def test_digits_other_than_ascii_are_not_episode_numbers(key):
    data = f'{{"anilist:5": {{"tmdb_show:1:s1": {{"{key}": "1-3", "4": "4"}}}}}}'.encode()
    assert [(r["source_start"], r["source_end"]) for r in parsers.anibridge_rows(data)] == [(4, 4)]


@pytest.mark.parametrize(("data", "message"), [
    (b'{"anilist:5": {"tmdb_show:1:s1": {"1": "1"}}', "not valid JSON"),
    (b'{"anilist:5": {"tmdb_show:1:s1": {"1": "1"}}} trailing', "not valid JSON"),
    (b'{"anilist:5" {"tmdb_show:1:s1": {"1": "1"}}}', "not valid JSON"),
    (b'[{"anilist:5": {}}]', "expected a JSON object"),
    (b"\xef\xbb\xbf  <html>Not Found</html>", "HTML page"),
    (b"   ", "empty"),
])
def test_a_damaged_file_is_refused_with_the_reason(data, message):
    with pytest.raises(SourceError, match=message):
        parsers.anibridge_rows(data)


def test_an_entry_with_a_ratio_range_gets_no_anibridge_start_and_falls_back_to_the_other_sources():
    # AniList 13- at two TMDB episodes each cannot be placed one play per episode.
    assert start_candidates(facts_of(900001), 500, "TV", 20) == []
    assert start_candidates(facts_of(900002), 501, "TV", 24) == []
    assert start_candidates(facts_of(900005), 504, "TV", 12) == []


def test_the_pieces_of_a_one_for_one_entry_become_explicit_ranges():
    facts = SourceFacts(anibridge=tuple(r for r in facts_of(900001).anibridge if r.ratio == 1))
    (candidate,) = start_candidates(facts, 500, "TV", 12)
    assert candidate.ranges == (EpisodeRange(1, 6, 1, 1), EpisodeRange(7, 12, 1, 8))


def test_a_null_range_keeps_the_ranges_explicit_and_leaves_its_episode_unplaced():
    (candidate,) = start_candidates(facts_of(900003), 502, "SPECIAL", 2)
    assert candidate.explicit and candidate.ranges == (EpisodeRange(1, 1, 0, 36),)


def test_a_sequel_season_starts_where_its_scoped_range_says():
    (candidate,) = start_candidates(facts_of(159322), 30984, "TV", 13)
    assert (candidate.season, candidate.episode, candidate.source) == (2, 14, "anibridge")


@pytest.mark.django_db
def test_the_whole_file_imports_with_its_date_and_the_one_row_that_cannot_be_stored_left_out():
    status = importer.import_file("anibridge", GRAMMAR)
    assert status.ok, status.last_error
    assert status.upstream_updated_at == datetime(2026, 11, 30, 2, 14, 7, tzinfo=UTC)
    assert status.skipped_rows == 1 and not AniBridgeRange.objects.filter(target_id="507").exists()
    assert status.row_count == AniBridgeRange.objects.count() == len(parsers.anibridge_rows(GRAMMAR.read_bytes())) - 1
    assert SourceStatus.objects.get(source="anibridge").skipped_rows == 1
