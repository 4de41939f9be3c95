"""An upgraded install: the words its rows' `source` holds become the codes, read once by the
migration, so the admin filters, the "Placed by" column and the re-derivations work at once."""

from importlib import import_module

import pytest

migration = import_module("mappings.migrations.0012_mapping_provenance")

HELD_REASON = "fribb: air dates disagree with S1E54 (episode 1 aired ...): map it manually"


def codes(source: str, *, trakt_id=1, held_trakt_id=None, unmapped_reason: str = "", hold: str = "") -> tuple:
    got = migration.provenance_of(source=source, trakt_id=trakt_id, held_trakt_id=held_trakt_id,
                                  unmapped_reason=unmapped_reason, hold=hold)
    return got["found_by"], got["placed_by"], got["air_dates"], got["provenance"]


@pytest.mark.parametrize(("source", "expected"), [
    ("fribb tmdb 1429; start fribb", ("fribb", "fribb", "", {"via": ["tmdb", 1429]})),
    ("fribb tmdb 30984; start anibridge", ("fribb", "anibridge", "", {"via": ["tmdb", 30984]})),
    ("otaku trakt_id; start fribb (whole series)", ("otaku", "fribb", "", {"via": ["trakt", 1]})),
    ("original app trakt_id; start otaku (TVDB season)", ("original_app", "otaku", "", {"via": ["trakt", 1]})),
    ("fribb tmdb 65942; start otaku (absolute) S1E27 = Trakt S2E1", ("fribb", "otaku", "", {"via": ["tmdb", 65942]})),
    ("anibridge tmdb 18491", ("anibridge", "anibridge", "", {"via": ["tmdb", 18491]})),  # a movie: found
    ("otaku trakt_id", ("otaku", "otaku", "", {"via": ["trakt", 1]})),
    ("tmdb 1429 external ids imdb tt2560140", ("tmdb", "", "", {"via": ["imdb", "tt2560140"], "tmdb": 1429})),
    ("fribb tmdb 65942; start fribb S1E27, corrected to S1E26 by air dates",
     ("fribb", "fribb", "corrected", {"via": ["tmdb", 65942], "from": [1, 27]})),
    ("fribb tmdb 65942; start fribb; one date differs: episode 1 aired 2024-09-25 on AniList, Trakt S1E51 on "
     "2024-10-02", ("fribb", "fribb", "confirmed", {"via": ["tmdb", 65942]})),
    ("air dates S1E51 (prequel AniList 119661)",
     ("relation", "air_dates", "placed", {"relation": "PREQUEL", "anilist_id": 119661})),
    ("fribb tmdb 65942; start air dates S1E51", ("fribb", "air_dates", "placed", {"via": ["tmdb", 65942]})),
    ("trakt search title \"Frieren: Beyond Journey's End\" 2023; start air dates S1E1",
     ("title_search", "air_dates", "placed", {"title": "Frieren: Beyond Journey's End", "year": 2023})),
    ("manual", ("manual", "manual", "", {})),
    ("", ("", "", "", {})),
])
def test_the_words_the_resolver_wrote_become_its_codes(source, expected):
    assert codes(source) == expected


def test_a_row_the_dates_held_is_held_by_them_and_one_held_for_a_move_or_a_clash_is_not():
    assert codes("fribb tmdb 65942", trakt_id=None, held_trakt_id=5, unmapped_reason=HELD_REASON)[2] == "held"
    moved = "its start moved from S1E27 of Trakt show 5 to S1E26 (… by air dates) after plays were posted …"
    assert codes("fribb tmdb 65942; start fribb", trakt_id=None, held_trakt_id=5, unmapped_reason=moved,
                 hold="moved")[2] == ""
    clash = "starts at S1E1 of Trakt show 5, like AniList 7 (X): one of them is wrong, map one manually"
    assert codes("fribb tmdb 1; start fribb", trakt_id=None, held_trakt_id=5, unmapped_reason=clash)[2] == ""
    # Unmapped, nothing placed: no start is named even where the show's finder is a dataset.
    assert codes("fribb tmdb 1", trakt_id=None)[:3] == ("fribb", "", "")


@pytest.mark.django_db(transaction=True)
def test_an_upgraded_install_filters_and_names_its_placements_from_the_backfilled_codes():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from mappings.models import Mapping
    from mappings.selectors import mapping_spec, mappings_by_air_dates
    from mappings.services import adopted_pin
    from syncer.selectors import MappingFilters, mappings_page

    before = [("mappings", "0011_hold_code")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("mappings", "Mapping")
    old.objects.create(anilist_id=1, trakt_id=104310, type="show", start_season=1, start_episode=26,
                       source="fribb tmdb 65942; start fribb S1E27, corrected to S1E26 by air dates")
    old.objects.create(anilist_id=2, type="show", held_trakt_id=104310, source="fribb tmdb 65942",
                       unmapped_reason=HELD_REASON)
    old.objects.create(anilist_id=3, trakt_id=1420, type="show", start_season=3, start_episode=13,
                       source="original app trakt_id; start anibridge")
    old.objects.create(anilist_id=4, type="show", held_trakt_id=1420, source="original app trakt_id",
                       unmapped_reason="original app's mapping to Trakt show 1420 has no start season/episode")
    old.objects.create(anilist_id=5, trakt_id=7, type="show", start_season=1, start_episode=1, source="manual",
                       is_manual=True)
    old.objects.create(anilist_id=6, trakt_id=30991, type="show")  # the original app's own row: no words
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    rows = Mapping.objects.in_bulk()
    assert {pk: (r.found_by, r.placed_by, r.air_dates) for pk, r in rows.items()} == {
        1: ("fribb", "fribb", "corrected"), 2: ("fribb", "", "held"), 3: ("original_app", "anibridge", ""),
        4: ("original_app", "", ""), 5: ("manual", "manual", ""), 6: ("", "", "")}
    assert list(mappings_by_air_dates(Mapping.objects.all()).values_list("pk", flat=True)) == [1]
    assert list(mappings_by_air_dates(Mapping.objects.all(), held=True).values_list("pk", flat=True)) == [2]
    assert mapping_spec(rows[1]).note == "start fribb S1E27, corrected to S1E26 by air dates"
    assert [m.pk for m in mappings_page(filters=MappingFilters(source="anibridge")).object_list] == [3]
    assert adopted_pin(rows[4]).trakt_id == 1420  # the original's id is still tried again
