from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mappings.models import Mapping
from syncer.models import SyncRun
from tests.seeds import map_show


@pytest.fixture
def lib(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100, title="Show A")
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=2, title="Show A")
    fake_anilist.add_entry(12, 5, status="COMPLETED", progress=1, title="Nobody Knows")
    Mapping.objects.create(anilist_id=5, title="Nobody Knows", unmapped_reason="no source knows it", is_manual=True)
    return trakt_connected


def test_a_dry_run_prints_the_plan_and_every_unmapped_title(lib):
    out = StringIO()
    call_command("sync", "completed", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "would post" in text and "Show A ep 2 -> Trakt 100 S01E02" in text
    assert "Nobody Knows (AniList 5, 1 episode(s)): no source knows it" in text
    assert lib.requests_to(r"/sync/history", "POST") == []
    assert SyncRun.objects.get().trigger == "cli"


def test_a_run_with_unmapped_titles_still_succeeds(lib):
    out = StringIO()
    call_command("sync", "show", "https://anilist.co/anime/1/", stdout=out)
    assert "succeeded" in out.getvalue() and len(lib.episode_plays()) == 2


def test_a_failed_run_exits_non_zero_with_what_to_do(lib, settings):
    settings.ANILIST_ACCESS_TOKEN = "wrong"
    with pytest.raises(CommandError, match="ANILIST_ACCESS_TOKEN"):
        call_command("sync", "incremental", stdout=StringIO())


def test_show_needs_an_id(db):
    with pytest.raises(CommandError, match="needs an AniList id"):
        call_command("sync", "show", stdout=StringIO())


def test_sync_library_takes_every_entry_with_progress(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 12})
    trakt_connected.add_show(200, seasons={1: 12})
    map_show(1, 100, title="Show A")
    map_show(2, 200, title="Show B")
    fake_anilist.add_entry(11, 1, status="PAUSED", progress=2, title="Show A")
    fake_anilist.add_entry(12, 2, status="DROPPED", progress=1, title="Show B")
    out = StringIO()
    call_command("sync", "library", "--dry-run", stdout=out)
    assert "Show A ep 2 -> Trakt 100 S01E02" in out.getvalue() and "Show B ep 1 -> Trakt 200 S01E01" in out.getvalue()
    assert trakt_connected.episode_plays() == []
    call_command("sync", "library", stdout=StringIO())
    assert len(trakt_connected.episode_plays()) == 3
    assert SyncRun.objects.filter(mode="library", dry_run=False).get().trigger == "cli"
