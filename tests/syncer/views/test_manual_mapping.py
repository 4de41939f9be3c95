"""Manual mapping `/manual/`: ids or pasted URLs, checked against (the fake) Trakt."""

import pytest

from mappings.models import Mapping
from syncer.forms import parse_anilist_id
from syncer.refs import parse_trakt_ref
from tests.fakes.anilist import media_obj

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text, expected", [
    ("16498", 16498),
    (" https://anilist.co/anime/16498/Shingeki-no-Kyojin/ ", 16498),
    ("anilist.co/anime/154587", 154587),
    ("https://anilist.co/manga/30002/Berserk/", None),
    ("https://myanimelist.net/anime/16498", None),
    ("0", None),
    ("-4", None),
])
def test_it_reads_an_anilist_id_from_a_number_or_an_anime_url(text, expected):
    assert parse_anilist_id(text) == expected


def test_it_reads_the_show_slug_season_and_episode_from_a_trakt_url():
    ref = parse_trakt_ref("https://trakt.tv/shows/attack-on-titan/seasons/3/episodes/13")
    assert (ref.kind, ref.ident, ref.season, ref.episode) == ("show", "attack-on-titan", 3, 13)
    ref = parse_trakt_ref("https://trakt.tv/movies/your-name-2016")
    assert (ref.kind, ref.ident, ref.season) == ("movie", "your-name-2016", None)
    assert parse_trakt_ref("1420").ident == "1420"
    assert parse_trakt_ref("https://example.com/shows/x") is None


@pytest.fixture
def catalogue(fake_trakt, fake_anilist):
    fake_trakt.add_show(1420, title="Attack on Titan", seasons={0: 5, 1: 25, 2: 12, 3: 22, 4: 28})
    fake_trakt.add_movie(555, title="Your Name.")
    fake_anilist.medias[104578] = media_obj(104578, title="Attack on Titan Season 3 Part 2", episodes=10)
    fake_anilist.medias[21519] = media_obj(21519, title="Your Name.", fmt="MOVIE", episodes=1)
    return fake_trakt


def test_a_pasted_trakt_season_episode_url_saves_a_manual_mapping_from_there(staff_client, catalogue):
    response = staff_client.post("/manual/", {
        "anilist": "https://anilist.co/anime/104578/", "kind": "show",
        "trakt": "https://trakt.tv/shows/show-1420/seasons/3/episodes/13",
        "start_season": "1", "start_episode": "1",
    })
    html = response.content.decode()
    row = Mapping.objects.get(anilist_id=104578)
    assert (row.trakt_id, row.type, row.start_season, row.start_episode) == (1420, "show", 3, 13)
    assert row.is_manual and row.source == "manual" and row.title == "Attack on Titan Season 3 Part 2"
    assert "from season 3 episode 13." in html
    assert "not picked up by the incremental sync" in html and "Sync this show now</button>" in html
    assert '<input type="hidden" name="anilist" value="104578">' in html


def test_a_movie_maps_by_id(staff_client, catalogue):
    staff_client.post("/manual/", {"anilist": "21519", "trakt": "555", "kind": "movie"})
    row = Mapping.objects.get(anilist_id=21519)
    assert (row.trakt_id, row.type, row.start_season, row.trakt_title) == (555, "movie", None, "Your Name.")


@pytest.mark.parametrize("fields, message", [
    ({"trakt": "999"}, "Trakt has no show 999. Check the id or URL."),
    ({"start_season": "7"}, "Attack on Titan has no season 7 on Trakt (its seasons: 0, 1, 2, 3, 4)."),
    ({"start_season": "3", "start_episode": "23"}, "Season 3 of Attack on Titan has no episode 23 on Trakt (its episodes: 1–22)."),
    ({"anilist": "777"}, "AniList has no anime with id 777."),
    ({"trakt": "https://trakt.tv/movies/movie-555"}, "The Trakt URL is a movie, but show is chosen."),
    ({"anilist": "https://anilist.co/manga/1/"}, "Enter an AniList anime id"),
    ({"trakt": "not a url"}, "Enter a Trakt id"),
])
def test_it_says_clearly_what_is_wrong_and_saves_nothing(staff_client, catalogue, fields, message):
    data = {"anilist": "104578", "trakt": "1420", "kind": "show", "start_season": "1", "start_episode": "1", **fields}
    html = staff_client.post("/manual/", data, HTTP_HX_REQUEST="true").content.decode()
    assert message in html
    assert not Mapping.objects.filter(is_manual=True).exists()


def test_a_start_past_the_end_of_a_season_is_refused_as_in_the_admin_and_the_api(staff_client, catalogue):
    """Season 1 has 25 episodes: S1E26 is not counted on into season 2 (`mappings.manual`)."""
    data = {"anilist": "104578", "trakt": "1420", "kind": "show", "start_season": "1", "start_episode": "26"}
    response = staff_client.post("/manual/", data, HTTP_HX_REQUEST="true")
    assert response.context["form"].non_field_errors() == [
        "Season 1 of Attack on Titan has no episode 26 on Trakt (its episodes: 1–25)."]
    assert not Mapping.objects.exists()


def test_a_manual_mapping_replaces_an_unmapped_row_and_clears_its_reason(staff_client, catalogue):
    Mapping.objects.create(anilist_id=104578, title="AoT S3P2", unmapped_reason="season does not exist on Trakt")
    html = staff_client.get("/manual/?anilist=104578").content.decode()
    assert "unmapped: season does not exist on Trakt" in html and 'value="104578"' in html
    staff_client.post("/manual/", {"anilist": "104578", "trakt": "1420", "kind": "show",
                                   "start_season": "3", "start_episode": "13"})
    row = Mapping.objects.get(anilist_id=104578)
    assert row.trakt_id == 1420 and row.unmapped_reason == "" and row.title == "AoT S3P2"


def test_every_field_has_a_label(staff_client):
    html = staff_client.get("/manual/").content.decode()
    for field_id in ("id_anilist", "id_trakt", "id_start_season", "id_start_episode"):
        assert f'<label for="{field_id}">' in html
    assert "<legend>Type</legend>" in html


def test_a_manual_mapping_that_shares_trakt_episodes_with_another_entry_says_so(staff_client, catalogue):
    """Checked like the resolver's (issue 10): only the shared episodes are held, for both."""
    Mapping.objects.create(anilist_id=99147, trakt_id=1420, type="show", start_season=3, start_episode=1,
                           episodes=14, title="Attack on Titan Season 3", source="fribb")
    html = staff_client.post("/manual/", {
        "anilist": "104578", "kind": "show", "trakt": "https://trakt.tv/shows/show-1420/seasons/3/episodes/13",
        "start_season": "1", "start_episode": "1",
    }).content.decode()
    assert "Sync this show now" in html
    assert "This entry shares Trakt show 1420 S3E13 with AniList 99147 (Attack on Titan Season 3)" in html
    assert Mapping.objects.get(anilist_id=104578).trakt_id == 1420  # mapped, not held whole
