"""The dashboard's connection status says what the last request learned, and when."""

import pytest

from syncer.connections import trakt_client
from syncer.http import AuthError, ServiceUnavailable
from syncer.service_status import service_seen, service_status, service_status_forget

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_memory(settings):
    settings.ANILIST_ACCESS_TOKEN = ""  # no live AniList check: only Trakt is under test here
    service_status_forget()
    yield
    service_status_forget()


def test_trakt_down_shows_as_not_working_with_the_time_it_was_seen(staff_client, trakt_connected, settings):
    trakt_connected.fail(r"/users/settings", status=503, times=None)
    with pytest.raises(ServiceUnavailable):
        trakt_client().user_settings()
    seen = service_status("Trakt")
    html = staff_client.get("/dashboard/connections/").content.decode()
    assert "Not working" in html and "Trakt: server error (HTTP 503) at" in html
    assert seen["at"].isoformat()[:16] in html.replace("+00:00", "")
    assert ">Connected<" not in html


def test_a_refused_token_says_when_and_links_to_reconnect(staff_client, trakt_connected):
    service_seen("Trakt", AuthError("Trakt", 401, "the token was refused (invalid)"))
    html = staff_client.get("/dashboard/connections/").content.decode()
    assert "Trakt: token refused at" in html and ', <a href="/trakt/">reconnect</a>' in html


def test_a_request_that_works_again_clears_the_problem(staff_client, trakt_connected):
    service_seen("Trakt", ServiceUnavailable("Trakt", None, "could not reach it (connection refused)"))
    assert service_status("Trakt")["problem"] == "not reachable (connection refused)"
    trakt_client().user_settings()
    html = staff_client.get("/dashboard/connections/").content.decode()
    assert ">Connected<" in html and "last answered" in html and "Not working" not in html


def test_a_run_of_many_requests_writes_the_status_once_a_minute_not_per_request(trakt_connected,
                                                                              django_assert_num_queries):
    client = trakt_client()
    client.user_settings()
    with django_assert_num_queries(1):  # the token store's read; no status write
        client.user_settings()


def test_anilist_unreachable_after_a_good_answer_is_not_shown_as_connected(staff_client, fake_anilist):
    from syncer.connections import anilist_client

    assert ">Connected<" in staff_client.get("/dashboard/connections/").content.decode()  # the viewer is cached
    fake_anilist.fail(r"/", status=503, times=None)
    with pytest.raises(ServiceUnavailable):
        anilist_client().media(media_id=1)  # what a sync asks meanwhile
    html = staff_client.get("/dashboard/connections/").content.decode()
    assert "Not working" in html and "AniList: server error (HTTP 503) at" in html
    assert ">Connected<" not in html.split("<dt>Trakt</dt>")[0]


def test_the_trakt_page_and_the_dashboard_tell_the_same_trakt_status(staff_client, trakt_connected):
    service_seen("Trakt", ServiceUnavailable("Trakt", None, "could not reach it (connection refused)"))
    dashboard = staff_client.get("/dashboard/connections/").content.decode()
    page = staff_client.get("/trakt/").content.decode()
    for html in (dashboard, page):
        assert "Not working" in html and "Trakt: not reachable (connection refused) at" in html, html
    assert ">Connected<" not in page
