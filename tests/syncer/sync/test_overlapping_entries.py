"""Two entries that share Trakt episodes: only the shared ones are held, for both (issue 10).

Re:Zero S2 Part 1 and Part 2 as the public datasets put them: Part 1 on S1E27-39, Part 2 on
S1E39-50. E39 is held for both; every other episode of both posts exactly once, faults or not.
"""

from collections import Counter

import pytest

from mappings.models import Mapping
from syncer.models import SyncRun, SyncRunItem
from syncer.sync.services import sync_run
from tests.seeds import map_show

REZERO = 700
PART1, PART2 = 108632, 119661
EXPECTED = Counter({(REZERO, 1, n): 1 for n in list(range(27, 39)) + list(range(40, 51))})


@pytest.fixture
def pair(db, fake_anilist, trakt_connected):
    trakt_connected.add_show(REZERO, seasons={1: 50})
    map_show(PART1, REZERO, season=1, episode=27, title="Re:Zero S2 Part 1")
    map_show(PART2, REZERO, season=1, episode=39, title="Re:Zero S2 Part 2")
    Mapping.objects.filter(pk=PART1).update(episodes=13)
    Mapping.objects.filter(pk=PART2).update(episodes=12)
    fake_anilist.add_entry(11, PART1, status="COMPLETED", progress=13, episodes=13)
    fake_anilist.add_entry(12, PART2, status="COMPLETED", progress=12, episodes=12)
    return trakt_connected


def plays(trakt):
    return Counter((show, s, n) for show, s, n, _ in trakt.episode_plays())


def test_only_the_shared_episode_is_held_for_both_and_the_rest_posts_once(pair):
    run = sync_run(mode="library")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert plays(pair) == EXPECTED
    held = SyncRunItem.objects.filter(run=run, action="unmapped").order_by("anilist_id")
    assert [(i.anilist_id, i.anilist_episode, i.season, i.number) for i in held] == [
        (PART1, 13, 1, 39), (PART2, 1, 1, 39)]
    assert held[0].reason.startswith(f"Trakt S1E39 is claimed by AniList {PART2} (Re:Zero S2 Part 2) too: held for both")
    assert run.posted == 23 and run.unmapped == 2
    again = sync_run(mode="library")
    assert again.posted == 0 and plays(pair) == EXPECTED


@pytest.mark.parametrize("fault", ["applied_502", "html_520", "timeout_then_ok"])
def test_the_pair_posts_exactly_once_under_faults(pair, settings, fault):
    settings.TRAKT_BATCH_SIZE = 5
    if fault == "applied_502":
        pair.fail(r"/sync/history", method="POST", status=502, apply=True, times=2)
    elif fault == "html_520":
        pair.fail_html(r"/sync/history", method="POST", status=520, times=2)
    else:
        # Trakt applies the POST after the client gave up; the reconcile delay lets it land first.
        settings.HTTP_TIMEOUT_SECONDS = 0.5
        settings.SYNC_RECONCILE_DELAY_SECONDS = 1.5
        pair.fail(r"/sync/history", method="POST", status=201, apply=True, delay=1.0, times=1)
    for _ in range(3):
        run = sync_run(mode="library")
        if run.state == SyncRun.State.SUCCEEDED:
            break
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert plays(pair) == EXPECTED


def test_the_dashboard_lists_the_pair_with_both_entries_and_a_way_to_decide(pair, client, admin_user):
    from mappings.seasons import trakt_show_seasons

    trakt_show_seasons(trakt_id=REZERO)  # cached, as after a sync
    client.force_login(admin_user)
    page = client.get("/").content.decode()
    assert "Re:Zero S2 Part 1" in page and "Re:Zero S2 Part 2" in page and "S1E39" in page
    assert f"?anilist={PART1}" in page and f"?anilist={PART2}" in page
