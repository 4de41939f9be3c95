import pytest
from django.urls import reverse

from mappings import admin_forms
from mappings.models import EpisodeOverride, LegacyEpisodeOverride, Mapping
from syncer.clients.trakt import Season, TraktTitle
from syncer.http import NotFound
from syncer.models import SyncProgress

CHANGELIST = "admin:mappings_mapping_changelist"


class TraktStub:
    def show(self, ref):
        if str(ref) in ("1420", "attack-on-titan"):
            return TraktTitle("show", 1420, "attack-on-titan", "Attack on Titan", 2013,
                              {"trakt": 1420, "slug": "attack-on-titan", "tmdb": 1429})
        raise NotFound("Trakt", 404, "not found")

    def movie(self, ref):
        if str(ref) == "115":
            return TraktTitle("movie", 115, "akira-1988", "Akira", 1988, {"trakt": 115, "slug": "akira-1988"})
        raise NotFound("Trakt", 404, "not found")

    def show_seasons(self, trakt_id):
        return [Season(0, (1, 2)), Season(1, tuple(range(1, 26))), Season(3, tuple(range(1, 23)))]


@pytest.fixture
def trakt_stub(monkeypatch):
    monkeypatch.setattr(admin_forms, "trakt_factory", TraktStub)


@pytest.fixture
def rows(db):
    Mapping.objects.create(anilist_id=104578, title="Attack on Titan S3 Part 2", type="show", trakt_id=1420,
                           trakt_slug="attack-on-titan", start_season=3, start_episode=13, source="fribb tmdb 1429",
                           found_by="fribb", placed_by="fribb", mal_id=38524, tmdb_id=1429)
    Mapping.objects.create(anilist_id=190327, title="Steel Ball Run", type="show",
                           unmapped_reason="no source knows this entry")
    Mapping.objects.create(anilist_id=47, title="Akira", type="movie", trakt_id=115, source="manual", is_manual=True,
                           found_by="manual", placed_by="manual")


def listed(response):
    return sorted(m.anilist_id for m in response.context["cl"].result_list)


def test_search_finds_by_title_any_id_and_pasted_urls(admin_client, rows):
    url = reverse(CHANGELIST)
    assert listed(admin_client.get(url, {"q": "steel"})) == [190327]
    assert listed(admin_client.get(url, {"q": "38524"})) == [104578]  # MAL id
    assert listed(admin_client.get(url, {"q": "https://anilist.co/anime/47/Akira"})) == [47]
    assert listed(admin_client.get(url, {"q": "https://trakt.tv/shows/attack-on-titan"})) == [104578]
    assert listed(admin_client.get(url, {"q": "https://trakt.tv/movies/115"})) == [47]


def test_filters_for_unmapped_manual_kind_and_source(admin_client, rows):
    url = reverse(CHANGELIST)
    assert listed(admin_client.get(url, {"mapped": "no"})) == [190327]
    assert listed(admin_client.get(url, {"is_manual__exact": "1"})) == [47]
    assert listed(admin_client.get(url, {"type__exact": "movie"})) == [47]
    assert listed(admin_client.get(url, {"from": "fribb"})) == [104578]
    assert listed(admin_client.get(url, {"placed": "manual"})) == [47]


def test_a_filter_lists_what_the_air_dates_placed_corrected_or_held(admin_client, rows):
    Mapping.objects.create(anilist_id=108632, title="Re:Zero S2 Part 1", type="show", trakt_id=104310,
                           start_season=1, start_episode=26,
                           source="fribb tmdb 65942; start fribb S1E27, corrected to S1E26 by air dates",
                           found_by="fribb", placed_by="fribb", air_dates="corrected", provenance={"from": [1, 27]})
    Mapping.objects.create(anilist_id=189046, title="Re:Zero S3", type="show", held_trakt_id=104310,
                           source="fribb tmdb 65942", found_by="fribb", air_dates="held",
                           unmapped_reason="fribb: air dates disagree with S1E54 (...): map it manually")
    url = reverse(CHANGELIST)
    assert listed(admin_client.get(url, {"airdates": "placed"})) == [108632]
    assert listed(admin_client.get(url, {"airdates": "held"})) == [189046]
    assert "Placed or corrected by air dates" in admin_client.get(url).content.decode()


def test_a_trakt_url_fixes_an_unmapped_entry_as_a_manual_mapping(admin_client, rows, trakt_stub):
    url = reverse("admin:mappings_mapping_change", args=[190327])
    page = admin_client.get(url)
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("anilist_ref",)}
    data.update({"trakt_ref": "https://trakt.tv/shows/attack-on-titan", "type": "show", "start_season": "3",
                 "start_episode": "13", "overrides-TOTAL_FORMS": "1", "overrides-INITIAL_FORMS": "0",
                 "overrides-0-anilist_episode": "2", "overrides-0-season": "0", "overrides-0-episode": "1"})
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    row = Mapping.objects.get(pk=190327)
    assert (row.trakt_id, row.is_manual, row.source, row.unmapped_reason) == (1420, True, "manual", "")
    assert EpisodeOverride.objects.get(mapping=row).anilist_episode == 2


@pytest.mark.parametrize(("trakt_ref", "season", "episode", "field", "message"), [
    ("999999", "1", "1", "trakt_ref", "Trakt has no show 999999. Check the id or URL."),
    ("1420", "2", "1", "start_season", "Attack on Titan has no season 2 on Trakt (its seasons: 0, 1, 3)."),
    ("1420", "3", "40", "start_episode", "Season 3 of Attack on Titan has no episode 40 on Trakt (its episodes: 1–22)."),
])
def test_the_form_explains_what_trakt_does_not_have(admin_client, rows, trakt_stub, trakt_ref, season, episode,
                                                    field, message):
    response = admin_client.post(reverse("admin:mappings_mapping_add"), {
        "anilist_ref": "https://anilist.co/anime/5", "title": "x", "trakt_ref": trakt_ref, "type": "show",
        "start_season": season, "start_episode": episode,
        "overrides-TOTAL_FORMS": "0", "overrides-INITIAL_FORMS": "0",
    })
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors[field])


def test_reset_progress_action(admin_client, rows):
    SyncProgress.objects.create(anilist_id=104578, last_abs=5)
    admin_client.post(reverse(CHANGELIST), {"action": "reset_progress", "_selected_action": ["104578"]})
    assert not SyncProgress.objects.exists()


def test_reresolve_skips_manual_rows_unless_asked(admin_client, rows, monkeypatch):
    seen = {}

    def fake_resolve_many(*, medias, force, resolver=None):
        seen["ids"] = sorted(m.id for m in medias)
        return {}

    monkeypatch.setattr("mappings.services.mapping_resolve_many", fake_resolve_many)
    admin_client.post(reverse(CHANGELIST), {"action": "reresolve", "_selected_action": ["47", "190327"]})
    assert seen["ids"] == [190327]
    admin_client.post(reverse(CHANGELIST), {"action": "reresolve_including_manual",
                                            "_selected_action": ["47", "190327"]})
    assert seen["ids"] == [47, 190327]


def test_legacy_overrides_page_lists_and_converts(admin_client, rows):
    LegacyEpisodeOverride.objects.create(trakt_id=1420, abs=4, season=3, episode=20)
    LegacyEpisodeOverride.objects.create(trakt_id=5, abs=1, season=1, episode=2)
    url = reverse("admin:mappings_legacy_overrides")
    assert admin_client.get(url).content.count(b"not attributed") == 2
    admin_client.post(url)
    page = admin_client.get(url).content
    assert page.count(b"not attributed") == 1 and b"AniList 104578" in page


def test_source_tables_are_read_only(admin_client, db):
    for name in ("otakuentry", "fribbentry", "anibridgerange", "sourcestatus"):
        assert admin_client.get(reverse(f"admin:mappings_{name}_changelist")).status_code == 200
        assert admin_client.get(reverse(f"admin:mappings_{name}_add")).status_code == 403


def override_post(admin_client, anilist_id, *overrides, **fields):
    url = reverse("admin:mappings_mapping_change", args=[anilist_id])
    form = admin_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("anilist_ref",)}
    data["trakt_ref"] = form.fields["trakt_ref"].initial or ""
    data.update({"overrides-TOTAL_FORMS": str(len(overrides)), "overrides-INITIAL_FORMS": "0", **fields})
    for n, (anilist_episode, season, episode) in enumerate(overrides):
        data.update({f"overrides-{n}-anilist_episode": anilist_episode, f"overrides-{n}-season": season,
                     f"overrides-{n}-episode": episode})
    return admin_client.post(url, data)


def test_an_episode_override_to_a_season_the_show_lacks_is_refused(admin_client, rows, trakt_stub):
    response = override_post(admin_client, 104578, ("1", "9", "1"))
    assert response.status_code == 200 and not EpisodeOverride.objects.exists()
    errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert "Trakt show 1420 has no season 9 (it has 0, 1, 3)." in errors["season"]


def test_an_episode_override_to_an_episode_the_season_lacks_is_refused(admin_client, rows, trakt_stub):
    response = override_post(admin_client, 104578, ("1", "3", "40"))
    errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert "Season 3 of Trakt show 1420 has no episode 40 (its episodes: 1–22)." in errors["episode"]
    assert not EpisodeOverride.objects.exists()


def test_an_override_to_an_episode_the_show_has_is_saved(admin_client, rows, trakt_stub):
    response = override_post(admin_client, 104578, ("1", "0", "2"))
    assert response.status_code == 302
    assert EpisodeOverride.objects.get().season == 0 and Mapping.objects.get(pk=104578).trakt_id == 1420


def test_overrides_are_checked_against_the_show_chosen_in_the_same_form(admin_client, rows, trakt_stub):
    response = override_post(admin_client, 190327, ("2", "9", "1"),
                             trakt_ref="https://trakt.tv/shows/attack-on-titan", type="show",
                             start_season="1", start_episode="1")
    assert response.status_code == 200 and Mapping.objects.get(pk=190327).trakt_id is None


def test_a_start_past_the_end_of_a_season_is_refused_as_on_the_manual_page_and_the_api(admin_client, rows,
                                                                                          trakt_stub):
    """Season 1 has 25 episodes: S1E26 is not counted on into the next season (`mappings.manual`)."""
    response = admin_client.post(reverse("admin:mappings_mapping_add"), {
        "anilist_ref": "5", "title": "x", "trakt_ref": "1420", "type": "show", "start_season": "1",
        "start_episode": "26", "overrides-TOTAL_FORMS": "0", "overrides-INITIAL_FORMS": "0",
    })
    assert response.context["adminform"].form.errors["start_episode"] == [
        "Season 1 of Attack on Titan has no episode 26 on Trakt (its episodes: 1–25)."]
    assert not Mapping.objects.filter(pk=5).exists()


def test_a_manual_mapping_that_overlaps_another_entry_is_saved_with_a_warning(admin_client, rows, trakt_stub):
    Mapping.objects.create(anilist_id=99147, trakt_id=1420, type="show", start_season=3, start_episode=1,
                           episodes=14, title="Attack on Titan Season 3", source="fribb")
    response = admin_client.post(reverse("admin:mappings_mapping_add"), {
        "anilist_ref": "5", "title": "AoT S3P2", "trakt_ref": "1420", "type": "show", "start_season": "3",
        "start_episode": "13", "overrides-TOTAL_FORMS": "0", "overrides-INITIAL_FORMS": "0",
    }, follow=True)
    shown = [str(m) for m in response.context["messages"]]
    assert "This entry shares Trakt show 1420 S3E13 with AniList 99147 (Attack on Titan Season 3): " \
           "held for both until you decide." in shown
    row = Mapping.objects.get(pk=5)
    assert (row.trakt_id, row.is_manual, row.source, row.title) == (1420, True, "manual", "AoT S3P2")
