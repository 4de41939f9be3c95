"""Table-driven: real source excerpts -> resolver -> saved mapping -> placement.

Sources: the fixture files imported by the real importer (Otaku SQLite, Fribb current format,
AniBridge v3 edits). Trakt: the fake built from extended-anitrakt's real Trakt ids; the season
lists are written from public knowledge of TMDB's seasons (tests/mappings/support.py).
Each row: AniList id, AniList format and episode count, then (AniList episode, expected target).
A target is (trakt show, season, episode), ("movie", trakt movie) or None (not placed).
"""

import pytest

from mappings.services import mapping_resolve
from tests.mappings.support import media, place

AOT, BLEACH, REZERO, SPY, FRIEREN, ONE_PIECE, SHIPPUDEN = 1420, 30850, 104310, 190742, 198225, 37696, 31770
MHA, KNY, MONOGATARI, JJK, MUSHOKU = 104311, 131598, 45938, 158594, 156460

CASES = [
    # Attack on Titan: every TV season and split cour on the one Trakt show.
    (16498, "TV", 25, [(1, (AOT, 1, 1)), (25, (AOT, 1, 25)), (26, None)]),
    (20958, "TV", 12, [(1, (AOT, 2, 1)), (12, (AOT, 2, 12))]),
    (99147, "TV", 12, [(1, (AOT, 3, 1)), (12, (AOT, 3, 12))]),
    # S3 Part 2 is S3 E13-22 (anitrakt's "season 4" is wrong).
    (104578, "TV", 10, [(1, (AOT, 3, 13)), (10, (AOT, 3, 22))]),
    (110277, "TV", 16, [(1, (AOT, 4, 1)), (16, (AOT, 4, 16))]),
    (131681, "TV", 12, [(1, (AOT, 4, 17)), (12, (AOT, 4, 28))]),
    # The Final Chapters: AniBridge's TMDB special 36; Fribb's S4E29 does not exist on Trakt.
    # AniBridge maps only episode 1 (special 37 is AniList 162314, Part 2): episode 2 is not
    # walked onto 37, which would post Part 2 twice for someone who also lists 162314.
    (146984, "SPECIAL", 2, [(1, (AOT, 0, 36)), (2, None)]),
    (162314, "SPECIAL", 1, [(1, (AOT, 0, 37))]),
    (20811, "OVA", 2, [(1, (AOT, 0, 15)), (2, (AOT, 0, 16))]),
    (20691, "MOVIE", 1, [(1, ("movie", 189535))]),
    (100465, "MOVIE", 1, [(1, ("movie", 339998))]),
    # Bleach: the 2004 series is Trakt S1; the four TYBW cours are Trakt S2 (AniBridge ranges).
    (269, "TV", 366, [(1, (BLEACH, 1, 1)), (366, (BLEACH, 1, 366))]),
    (116674, "TV", 13, [(1, (BLEACH, 2, 1)), (13, (BLEACH, 2, 13))]),
    (159322, "TV", 13, [(1, (BLEACH, 2, 14)), (13, (BLEACH, 2, 26))]),
    (169755, "TV", 14, [(1, (BLEACH, 2, 27)), (14, (BLEACH, 2, 40))]),
    (185874, "TV", 13, [(1, (BLEACH, 2, 41)), (13, (BLEACH, 2, 53))]),
    (1686, "MOVIE", 1, [(1, ("movie", 9481))]),
    # Re:Zero: all cours in TMDB S1; S2 Part 1 starts at E26 (AniBridge), not E27 (Fribb).
    (21355, "TV", 25, [(1, (REZERO, 1, 1)), (25, (REZERO, 1, 25))]),
    (108632, "TV", 13, [(1, (REZERO, 1, 26)), (13, (REZERO, 1, 38))]),
    (119661, "TV", 12, [(1, (REZERO, 1, 39)), (12, (REZERO, 1, 50))]),
    (163134, "TV", 16, [(1, (REZERO, 1, 51)), (16, (REZERO, 1, 66))]),
    (21780, "SPECIAL", 11, [(1, (REZERO, 0, 1)), (11, (REZERO, 0, 11))]),
    # Spy x Family on TMDB's layout (both cours in S1).
    (140960, "TV", 12, [(1, (SPY, 1, 1)), (12, (SPY, 1, 12))]),
    (142838, "TV", 13, [(1, (SPY, 1, 13)), (13, (SPY, 1, 25))]),
    (158927, "TV", 12, [(1, (SPY, 2, 1)), (12, (SPY, 2, 12))]),
    (158928, "MOVIE", 1, [(1, ("movie", 854702))]),
    # Frieren: S1, and the 2026 season continuing TMDB S1 (Fribb), not AniBridge's specials.
    (154587, "TV", 28, [(1, (FRIEREN, 1, 1)), (28, (FRIEREN, 1, 28))]),
    (182255, "TV", 10, [(1, (FRIEREN, 1, 29)), (10, (FRIEREN, 1, 38))]),
    # One Piece: one entry walking 22 TMDB seasons numbered absolutely.
    (21, "TV", 1122, [(1, (ONE_PIECE, 1, 1)), (61, (ONE_PIECE, 1, 61)), (62, (ONE_PIECE, 2, 62)),
                      (500, (ONE_PIECE, 13, 500)), (1000, (ONE_PIECE, 21, 1000)),
                      (1100, (ONE_PIECE, 22, 1100)), (1123, None)]),
    (141902, "MOVIE", 1, [(1, ("movie", 722637))]),  # Film Red: a movie, not TVDB's S0E45
    (12859, "MOVIE", 1, [(1, ("movie", 112137))]),
    # Naruto Shippuden: Otaku's absolute ('a') entry, placed through AniBridge's TMDB seasons.
    (1735, "TV", 500, [(1, (SHIPPUDEN, 1, 1)), (33, (SHIPPUDEN, 2, 33)), (500, (SHIPPUDEN, 20, 500))]),
    # My Hero Academia: one Trakt season per AniList season.
    (21459, "TV", 13, [(1, (MHA, 1, 1))]),
    (139630, "TV", 25, [(1, (MHA, 6, 1)), (25, (MHA, 6, 25))]),
    # Demon Slayer: TV arcs as seasons, Mugen Train the movie as a movie.
    (129874, "TV", 7, [(1, (KNY, 2, 1)), (7, (KNY, 2, 7))]),
    (166240, "TV", 8, [(1, (KNY, 5, 1)), (8, (KNY, 5, 8))]),
    (112151, "MOVIE", 1, [(1, ("movie", 474745))]),
    # Monogatari: Bakemonogatari's web episodes are specials, then S1 (explicit ranges).
    (5081, "TV", 15, [(1, (MONOGATARI, 0, 2)), (3, (MONOGATARI, 0, 4)), (4, (MONOGATARI, 1, 1)),
                      (15, (MONOGATARI, 1, 12)), (16, None)]),
    (15689, "SPECIAL", 4, [(1, (MONOGATARI, 0, 6)), (4, (MONOGATARI, 0, 9))]),
    # Jujutsu Kaisen S2 continues TMDB S1 at E25.
    (145064, "TV", 23, [(1, (JJK, 1, 25)), (23, (JJK, 1, 47))]),
    # Mushoku Tensei S1 Part 2: split cour at S1E12.
    (127720, "TV", 12, [(1, (MUSHOKU, 1, 12)), (12, (MUSHOKU, 1, 23))]),
    # Standalone movies.
    (21519, "MOVIE", 1, [(1, ("movie", 224301))]),
    (199, "MOVIE", 1, [(1, ("movie", 97))]),
    (20954, "MOVIE", 1, [(1, ("movie", 225063))]),
    (32, "MOVIE", 1, [(1, ("movie", 11325))]),  # End of Eva: TMDB-checked, Otaku's 38418 ignored
]


@pytest.mark.django_db
@pytest.mark.parametrize(("anilist_id", "fmt", "episodes", "expected"), CASES, ids=[str(c[0]) for c in CASES])
def test_it_places_real_titles_where_trakt_has_them(real_sources, resolver, anilist_id, fmt, episodes, expected):
    mapping = mapping_resolve(media=media(anilist_id, format=fmt, episodes=episodes), resolver=resolver)
    assert mapping.unmapped_reason == ""
    for episode, target in expected:
        assert place(mapping, episode) == target, (episode, mapping.source)


@pytest.mark.django_db
def test_every_movie_format_entry_maps_to_a_trakt_movie_never_a_special(real_sources, resolver):
    for anilist_id in (20691, 1686, 141902, 112151, 21519, 164, 47, 5):
        mapping = mapping_resolve(media=media(anilist_id, format="MOVIE", episodes=1), resolver=resolver)
        assert (mapping.type, mapping.start_season) == ("movie", None), anilist_id
        assert place(mapping, 1)[0] == "movie"


@pytest.mark.django_db
def test_an_entry_no_source_knows_is_saved_unmapped_with_the_reason(real_sources, resolver):
    mapping = mapping_resolve(media=media(190327, format="TV", episodes=24), resolver=resolver)
    assert mapping.trakt_id is None
    assert mapping.unmapped_reason == "no source knows this entry"


@pytest.mark.django_db
def test_a_season_trakt_does_not_have_is_unmapped_not_guessed(real_sources, resolver, trakt_double):
    # Demon Slayer without its fifth season on Trakt: Fribb's S5 and Otaku's TVDB S5 both fail.
    from tests.mappings.support import TRAKT_SEASONS

    TRAKT_SEASONS_COPY = dict(TRAKT_SEASONS)
    TRAKT_SEASONS_COPY[KNY] = [s for s in TRAKT_SEASONS[KNY] if s.number != 5]
    resolver.seasons = TRAKT_SEASONS_COPY.get
    mapping = mapping_resolve(media=media(166240, format="TV", episodes=8), resolver=resolver)
    assert mapping.trakt_id is None
    assert "S5E1 does not exist on Trakt" in mapping.unmapped_reason


@pytest.mark.django_db
def test_a_stale_otaku_trakt_id_for_another_tmdb_show_is_not_used(real_sources, resolver, trakt_double):
    # Otaku gives Bleach TYBW the Trakt id 252500; suppose Trakt has a show there whose TMDB id
    # is not Bleach's 30984 (a separate TYBW listing): the TMDB-keyed season data cannot apply.
    trakt_double.shows[252500] = {"title": "Bleach: TYBW", "year": 2022,
                                "ids": {"trakt": 252500, "slug": "bleach-tybw", "tmdb": 999999}}
    mapping = mapping_resolve(media=media(116674, format="TV", episodes=13), resolver=resolver)
    assert (mapping.trakt_id, mapping.start_season, mapping.start_episode) == (BLEACH, 2, 1)
    assert ("show", 252500) in trakt_double.calls


@pytest.mark.django_db
def test_a_split_trakt_season_walks_a_tmdb_offset_into_the_next_season(real_sources, resolver):
    # extended-anitrakt's snapshot: Trakt filed Spy x Family Part 2 as its own season 2.
    from tests.mappings.support import TRAKT_SEASONS, seasons

    layout = dict(TRAKT_SEASONS)
    layout[SPY] = seasons(s1=range(1, 13), s2=range(1, 14), s3=range(1, 13))
    resolver.seasons = layout.get
    mapping = mapping_resolve(media=media(142838, format="TV", episodes=13), resolver=resolver)
    assert (mapping.start_season, mapping.start_episode) == (2, 1)
    assert place(mapping, 13, seasons_by_show=layout) == (SPY, 2, 13)


@pytest.mark.django_db
def test_two_entries_claiming_the_same_start_are_both_held_back(real_sources, resolver):
    # Same split layout: AniBridge puts Season 2 at TMDB S2E1, which on this Trakt layout is
    # Part 2's first episode. Neither is trusted until a person decides.
    from mappings.models import Mapping
    from tests.mappings.support import TRAKT_SEASONS, seasons

    layout = dict(TRAKT_SEASONS)
    layout[SPY] = seasons(s1=range(1, 13), s2=range(1, 14), s3=range(1, 13))
    resolver.seasons = layout.get
    mapping_resolve(media=media(142838, format="TV", episodes=13), resolver=resolver)
    second = mapping_resolve(media=media(158927, format="TV", episodes=12), resolver=resolver)
    first = Mapping.objects.get(pk=142838)
    assert second.trakt_id is None and first.trakt_id is None
    assert "AniList 142838" in second.unmapped_reason and "AniList 158927" in first.unmapped_reason
    # Re-resolving keeps them held (no flip-flop).
    again = mapping_resolve(media=media(142838, format="TV", episodes=13), resolver=resolver)
    assert again.trakt_id is None and again.held_trakt_id == SPY
