import json

import httpx
import pytest

from syncer.clients.anilist import AniListClient, FuzzyDate, parse_progress
from syncer.connections import anilist_client
from syncer.http import AuthError, BadResponse, NotFound, pacer


@pytest.mark.parametrize("text,expected", [
    ("5", (5,)), ("10 - 12", (10, 11, 12)), ("10-12", (10, 11, 12)), (" 7 ", (7,)),
    ("12 - 10", (10, 11, 12)), (None, ()), ("", ()), ("soon", ()), ("1 - 2 - 3", ()),
])
def test_it_parses_progress_including_merged_ranges(text, expected):
    assert parse_progress(text) == expected


def test_it_reads_the_viewer_once_per_token(fake_anilist):
    client = anilist_client()
    assert client.viewer().id == 4242
    assert client.viewer().score_format == "POINT_10"
    assert AniListClient().viewer().name == "fake-viewer"
    assert len(fake_anilist.graphql_requests("Viewer")) == 1


def test_it_reads_every_chunk_and_dedupes_entries_across_status_and_custom_lists(fake_anilist, monkeypatch):
    monkeypatch.setattr("syncer.clients.anilist.CHUNK_SIZE", 2)
    fake_anilist.add_entry(1, 101, status="COMPLETED", custom_lists=("Favourites", "Rewatch"))
    fake_anilist.add_entry(2, 102, status="CURRENT", progress=3, custom_lists=("Favourites",))
    fake_anilist.add_entry(3, 103, status="COMPLETED", in_status_list=False, custom_lists=("Hidden",))
    fake_anilist.add_entry(4, 104, status="PAUSED", completed_at={"year": 2023, "month": None, "day": None})
    fake_anilist.add_entry(5, 105, status="PLANNING")
    entries = anilist_client().list_entries(user_id=4242, statuses=("COMPLETED", "CURRENT", "PAUSED"))
    assert sorted(e.id for e in entries) == [1, 2, 3, 4]
    requests = fake_anilist.graphql_requests("MediaListCollection")
    assert [r.json()["variables"]["chunk"] for r in requests] == [1, 2]
    assert all(r.json()["variables"]["userId"] == 4242 for r in requests)
    by_id = {e.id: e for e in entries}
    assert by_id[2].progress == 3 and by_id[2].media.id == 102
    assert by_id[4].completed_at == FuzzyDate(2023, None, None) and not by_id[4].completed_at.is_complete


def test_it_reads_every_page_of_activities_oldest_first_with_ranges_expanded(fake_anilist):
    for n in range(1, 121):
        fake_anilist.add_activity(n, 101, progress=str(n), created_at=1_700_000_000 + n)
    fake_anilist.add_activity(500, 102, progress="10 - 12", created_at=1_800_000_000)
    fake_anilist.add_activity(501, 102, status="completed", progress=None, created_at=1_800_000_001)
    fake_anilist.add_activity(1, 101, created_at=1_600_000_000)  # older than `since`: not asked for
    activities = anilist_client().activities_since(user_id=4242, since=1_700_000_000)
    pages = fake_anilist.graphql_requests("activities")
    assert [r.json()["variables"]["page"] for r in pages] == [1, 2, 3]
    assert all(r.json()["variables"]["perPage"] == 50 for r in pages)
    assert len(activities) == 122
    assert [a.id for a in activities[:2]] == [1, 2] and activities[-1].id == 501
    assert activities[-2].episodes == (10, 11, 12)
    assert activities[-1].status == "completed" and activities[-1].episodes == ()


def test_it_dedupes_an_activity_that_shifted_onto_the_next_page():
    page_one = [{"id": 3, "status": "watched episode", "progress": "3", "createdAt": 3, "media": {"id": 1}},
                {"id": 2, "status": "watched episode", "progress": "2", "createdAt": 2, "media": {"id": 1}}]
    page_two = [{"id": 2, "status": "watched episode", "progress": "2", "createdAt": 2, "media": {"id": 1}},
                {}, {"id": 1, "status": "watched episode", "progress": "1", "createdAt": 1, "media": {"id": 1}}]

    def handler(request):
        page = json.loads(request.content)["variables"]["page"]
        acts, more = (page_one, True) if page == 1 else (page_two, False)
        return httpx.Response(200, json={"data": {"Page": {"pageInfo": {"hasNextPage": more}, "activities": acts}}})

    client = AniListClient(token="t" * 20, client=httpx.Client(transport=httpx.MockTransport(handler)),
                           base_url="http://anilist.test")
    assert [a.id for a in client.activities_since(user_id=1, since=0)] == [1, 2, 3]


def test_a_bad_token_says_to_check_the_setting(fake_anilist):
    with pytest.raises(AuthError, match="ANILIST_ACCESS_TOKEN"):
        AniListClient(token="wrong-token-000000").viewer()


def test_graphql_errors_in_a_200_answer_are_errors():
    def handler(request):
        return httpx.Response(200, json={"data": None, "errors": [{"message": "Validation error", "status": 400}]})

    client = AniListClient(token="t" * 20, client=httpx.Client(transport=httpx.MockTransport(handler)),
                           base_url="http://anilist.test")
    with pytest.raises(BadResponse, match="Validation error"):
        client.media(media_id=1)


def test_it_fetches_one_media_and_one_list_entry(fake_anilist):
    fake_anilist.add_entry(9, 109, title="Frieren", episodes=28)
    client = anilist_client()
    media = client.media(media_id=109)
    assert (media.title, media.episodes) == ("Frieren", 28)
    assert client.list_entry(user_id=4242, media_id=109).id == 9
    assert client.list_entry(user_id=4242, media_id=999) is None
    with pytest.raises(NotFound):
        client.media(media_id=999)


def test_it_retries_through_a_429_with_retry_after(fake_anilist):
    fake_anilist.add_entry(1, 101)
    fake_anilist.rate_limit(r"/", retry_after=0.01, headers={"X-RateLimit-Remaining": "0"})
    assert [e.id for e in anilist_client().list_entries(user_id=4242)] == [1]
    assert len(fake_anilist.graphql_requests("MediaListCollection")) == 2


def test_it_adopts_the_limit_the_server_announces(fake_anilist, settings):
    settings.ANILIST_REQUESTS_PER_MINUTE = 90
    fake_anilist.requests_per_minute = 30
    anilist_client().viewer()
    assert pacer("anilist")._limit_override == 30


def test_the_media_title_prefers_english_then_romaji():
    from syncer.clients.anilist import parse_media

    assert parse_media({"id": 1, "title": {"romaji": "Sousou no Frieren", "english": None}}).title == "Sousou no Frieren"
    assert parse_media({"id": 1, "title": {"romaji": "R", "english": "E"}}).title == "E"


def test_it_holds_every_caller_until_the_reset_when_the_quota_is_used_up():
    import time

    def handler(request):
        return httpx.Response(200, json={"data": {"Viewer": {"id": 1, "name": "n"}}},
                              headers={"X-RateLimit-Limit": "30", "X-RateLimit-Remaining": "0",
                                       "X-RateLimit-Reset": str(int(time.time()) + 30)})

    AniListClient(token="t" * 20, client=httpx.Client(transport=httpx.MockTransport(handler)),
                  base_url="http://anilist.test").viewer()
    shared = pacer("anilist")
    assert shared._blocked_until - shared.clock() > 25


def test_a_collection_that_never_ends_is_cut_off_not_looped_forever(monkeypatch):
    monkeypatch.setattr("syncer.clients.anilist.MAX_CHUNKS", 3)
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(200, json={"data": {"MediaListCollection": {"hasNextChunk": True, "lists": []}}})

    client = AniListClient(token="t" * 20, client=httpx.Client(transport=httpx.MockTransport(handler)),
                           base_url="http://anilist.test")
    with pytest.raises(BadResponse):
        client.list_entries(user_id=1)
    assert len(calls) == 3


def test_it_reports_each_page_it_reads(fake_anilist):
    for n in range(1, 121):
        fake_anilist.add_activity(n, 7, progress=str(n), created_at=1_700_000_000 + n)
    fake_anilist.add_entry(1, 7, status="CURRENT", progress=3)
    activity_pages, list_chunks = [], []
    anilist_client().activities_since(user_id=4242, since=0, on_page=activity_pages.append)
    anilist_client().list_entries(user_id=4242, statuses=("CURRENT",), on_page=list_chunks.append)
    assert activity_pages == [1, 2, 3]
    assert list_chunks == [1]
