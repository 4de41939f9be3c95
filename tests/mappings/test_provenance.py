"""Which source placed an entry, read from the `source` text the resolver writes."""

import pytest

from mappings.models import Mapping
from mappings.provenance import placed_by


@pytest.mark.parametrize(("source", "expected"), [
    ("fribb tmdb 1429; start anibridge", "anibridge"),
    ("otaku trakt_id; start fribb", "fribb"),
    ("anibridge tmdb 30984; start fribb (whole series)", "fribb"),
    ("original app trakt_id; start otaku (TVDB season)", "otaku"),
    ("fribb tmdb 65942; start otaku (absolute) S1E27 = Trakt S2E1", "otaku"),
    ("anibridge tmdb 18491", "anibridge"),  # a movie: found, not placed
    ("tmdb 1429 external ids imdb tt2560140", ""),  # found through TMDB, no source to name
    ("", ""),
])
def test_the_source_after_start_placed_the_entry(source, expected):
    assert placed_by(source) == expected


def test_a_person_s_mapping_is_manual_whatever_its_text_says():
    assert placed_by("fribb tmdb 1429; start fribb", is_manual=True) == "manual"


def test_an_unmapped_row_was_placed_by_nobody():
    assert Mapping(source="fribb tmdb 1; start fribb", trakt_id=None).placed_by == ""
    assert Mapping(source="fribb tmdb 1; start fribb", trakt_id=5).placed_by == "fribb"
