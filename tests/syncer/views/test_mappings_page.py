"""Mappings `/mappings/`: filters, search, paging, links to the admin."""

import pytest

from mappings.models import Mapping

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows():
    Mapping.objects.bulk_create([
        Mapping(anilist_id=16498, title="Attack on Titan", trakt_id=1420, type="show", start_season=1,
                start_episode=1, source="otaku", found_by="otaku", placed_by="otaku", mal_id=16498,
                imdb_id="tt2560140"),
        Mapping(anilist_id=21519, title="Your Name.", trakt_id=555, type="movie", source="fribb", found_by="fribb",
                placed_by="fribb"),
        Mapping(anilist_id=104578, title="AoT S3 Part 2", trakt_id=1420, type="show", start_season=3,
                start_episode=13, is_manual=True, source="manual", found_by="manual", placed_by="manual"),
        Mapping(anilist_id=99, title="Obscure OVA", unmapped_reason="no source knows this entry"),
    ])


def titles(html):
    return [t for t in ("Attack on Titan", "Your Name.", "AoT S3 Part 2", "Obscure OVA") if t in html]


@pytest.mark.parametrize("query, expected", [
    ("", ["Attack on Titan", "Your Name.", "AoT S3 Part 2", "Obscure OVA"]),
    ("origin=manual", ["AoT S3 Part 2"]),
    ("origin=auto&kind=show", ["Attack on Titan"]),
    ("kind=movie", ["Your Name."]),
    ("source=fribb", ["Your Name."]),
    ("status=unmapped", ["Obscure OVA"]),
    ("q=titan", ["Attack on Titan"]),
    ("q=1420", ["Attack on Titan", "AoT S3 Part 2"]),
    ("q=tt2560140", ["Attack on Titan"]),
    ("q=https://anilist.co/anime/21519/Kimi-no-Na-wa/", ["Your Name."]),
])
def test_it_filters_and_searches(staff_client, rows, query, expected):
    html = staff_client.get(f"/mappings/?{query}", HTTP_HX_REQUEST="true").content.decode()
    assert titles(html) == [t for t in titles(" ".join(expected))]


def test_each_row_shows_where_it_points_and_links_to_its_admin_page(staff_client, rows):
    html = staff_client.get("/mappings/").content.decode()
    assert "S3E13" in html and '<span class="tag">manual</span>' in html
    assert "unmapped</strong>: no source knows this entry" in html
    assert 'href="/manual/?anilist=99"' in html
    assert 'aria-current="page">Mappings<' in html


def test_it_pages_and_keeps_the_filters(staff_client):
    Mapping.objects.bulk_create([Mapping(anilist_id=n, title=f"Show {n:03d}", source="otaku", placed_by="otaku")
                                 for n in range(1, 121)])
    html = staff_client.get("/mappings/?source=otaku&page=2").content.decode()
    assert "Page 2 of 3 (120 mappings)" in html
    assert 'href="/mappings/?source=otaku&amp;page=3"' in html


def test_the_page_takes_a_fixed_number_of_queries(staff_client, django_assert_num_queries):
    Mapping.objects.bulk_create([Mapping(anilist_id=n, title=f"Show {n}", source="otaku") for n in range(1, 200)])
    staff_client.get("/mappings/")
    # session, user, count, page (the Source filter names the placing sources: no query)
    with django_assert_num_queries(4):
        staff_client.get("/mappings/?q=Show")


def test_the_source_filter_finds_what_a_source_placed_whatever_its_words_say(staff_client, fake_trakt, fake_anilist):
    from tests.mappings.test_airdates_resolution import S2_PART1
    from tests.syncer.views.test_dashboard_sources import placed_by_fribb_then_reworded

    placed_by_fribb_then_reworded(fake_trakt)
    assert f"anilist={S2_PART1}" in staff_client.get("/mappings/?source=fribb").content.decode()
    assert f"anilist={S2_PART1}" not in staff_client.get("/mappings/?source=otaku").content.decode()
