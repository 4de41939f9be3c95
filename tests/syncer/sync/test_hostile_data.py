"""A NUL in what AniList, Trakt or TMDB answer never reaches the database, and one entry the
database refuses fails alone: the run goes on with the others.

PostgreSQL cannot store a NUL in a text column ("text fields cannot contain NUL"); SQLite can,
so the end-to-end tests need PostgreSQL (`DATABASE_URL=postgres://...`).
"""

import httpx
import pytest

from mappings.models import Mapping
from mappings.services import mapping_resolve_many
from syncer.http import parse_json
from syncer.models import SyncRun, SyncRunItem
from syncer.sync.services import sync_preview, sync_run
from tests.mappings.support import media

NUL = "\x00"


def test_every_string_of_a_json_answer_loses_its_nul_characters_keys_included():
    body = b'{"title": "New\\u0000entry", "list": ["a\\u0000", 3, null, {"k\\u0000": "v\\u0000"}]}'
    answer = parse_json(httpx.Response(200, content=body), "AniList")
    assert answer == {"title": "Newentry", "list": ["a", 3, None, {"k": "v"}]}


def test_answers_without_a_nul_come_back_unchanged():
    answer = parse_json(httpx.Response(200, json={"title": "Cowboy Bebop", "ids": {"trakt": 1}}), "Trakt")
    assert answer == {"title": "Cowboy Bebop", "ids": {"trakt": 1}}


@pytest.fixture
def library_with_a_nul(fake_anilist, trakt_connected, settings):
    """Two good completed entries and one titled "New<NUL>entry", all mapped; one more with a NUL
    that no source knows (it stays unmapped)."""
    settings.SYNC_RECONCILE_DELAY_SECONDS = 0
    completed = {"year": 2024, "month": 5, "day": 1}
    for entry_id, anilist_id, title in ((1, 101, "Show A"), (2, 102, f"New{NUL}entry"), (3, 103, "Show C"),
                                        (4, 104, f"Nobody{NUL}Knows")):
        fake_anilist.add_entry(entry_id, anilist_id, status="COMPLETED", progress=2, title=title,
                               completed_at=completed)
    for anilist_id in (101, 102, 103):
        trakt_id = 5000 + anilist_id
        trakt_connected.add_show(trakt_id, title=f"Trakt {anilist_id}", seasons={1: 12})
        Mapping.objects.create(anilist_id=anilist_id, trakt_id=trakt_id, type="show", is_manual=True,
                               start_season=1, start_episode=1, title=f"AniList {anilist_id}", source="manual")
    return trakt_connected


def assert_nothing_stored_has_a_nul(run):
    titles = list(SyncRunItem.objects.filter(run=run).values_list("title", flat=True))
    titles += list(Mapping.objects.values_list("title", flat=True))
    assert titles and not [t for t in titles if NUL in t]


@pytest.mark.django_db(transaction=True)
def test_a_completed_run_with_a_nul_titled_entry_among_good_ones_succeeds_on_postgres(
        postgres_only, library_with_a_nul):
    run = sync_run(mode=SyncRun.Mode.COMPLETED)
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    shows = sorted({show for show, _, _, _ in library_with_a_nul.episode_plays()})
    assert shows == [5101, 5102, 5103]
    unmapped = SyncRunItem.objects.filter(run=run, anilist_id=104)
    assert {(i.action, i.title) for i in unmapped} == {(SyncRunItem.Action.UNMAPPED, "NobodyKnows")}
    assert {i.title for i in SyncRunItem.objects.filter(run=run, anilist_id=102)} == {"Newentry"}
    assert_nothing_stored_has_a_nul(run)


@pytest.mark.django_db(transaction=True)
def test_a_preview_with_a_nul_titled_entry_among_good_ones_succeeds_on_postgres(
        postgres_only, library_with_a_nul):
    run = sync_preview(mode=SyncRun.Mode.COMPLETED)
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    planned = set(SyncRunItem.objects.filter(run=run, action=SyncRunItem.Action.POST)
                  .values_list("anilist_id", flat=True))
    assert planned == {101, 102, 103}
    assert library_with_a_nul.episode_plays() == []
    assert_nothing_stored_has_a_nul(run)


@pytest.mark.django_db(transaction=True)
def test_an_entry_the_database_refuses_stays_unmapped_with_its_own_reason_and_the_others_are_saved(
        postgres_only):
    # Straight to the resolver, past the HTTP layer's cleaning: the last line of defence.
    good, bad = media(201, format="TV", episodes=12, title="Good"), media(202, format="TV", episodes=12,
                                                                           title=f"Bad{NUL}title")
    rows = mapping_resolve_many(medias=[good, bad])
    assert not Mapping.objects.filter(anilist_id=202).exists()
    assert "could not be saved" in rows[202].unmapped_reason and rows[202].title == "Badtitle"
    assert Mapping.objects.filter(anilist_id=201).exists()


@pytest.mark.django_db
def test_an_entry_the_database_refuses_fails_alone_on_any_database(monkeypatch):
    from django.db import DataError

    from mappings import services

    save = Mapping.save

    def refuse_one(row, *args, **kwargs):
        if row.anilist_id == 302:
            raise DataError("value too long for type character varying")
        return save(row, *args, **kwargs)

    monkeypatch.setattr(services.Mapping, "save", refuse_one)
    rows = mapping_resolve_many(medias=[media(301, format="TV", episodes=12), media(302, format="TV", episodes=12)])
    assert "could not be saved (DataError)" in rows[302].unmapped_reason
    assert Mapping.objects.filter(anilist_id=301).exists() and not Mapping.objects.filter(anilist_id=302).exists()


@pytest.mark.django_db(transaction=True)
def test_a_manual_mapping_to_a_trakt_title_with_a_nul_is_saved_without_it_on_postgres(
        postgres_only, fake_trakt, fake_anilist, staff_client):
    from tests.fakes.anilist import media_obj

    fake_trakt.add_show(1420, title=f"Attack{NUL} on Titan", seasons={1: 25})
    fake_anilist.medias[16498] = media_obj(16498, title=f"Shingeki{NUL}", episodes=25)
    response = staff_client.post("/manual/", {"anilist": "16498", "trakt": "1420", "kind": "show",
                                              "start_season": "1", "start_episode": "1"})
    assert response.status_code == 200
    row = Mapping.objects.get(anilist_id=16498)
    assert (row.trakt_id, row.trakt_title, row.title) == (1420, "Attack on Titan", "Shingeki")
