"""The Trakt setup help says what Trakt asks today (issue 10)."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_trakt_setup_help_says_api_apps_need_vip_and_what_a_free_user_can_do(staff_client, settings):
    settings.TRAKT_CLIENT_SECRET = ""
    html = staff_client.get("/trakt/").content.decode()
    assert 'id="trakt-vip-note"' in html and "needs Trakt VIP" in html
    assert "a free account can connect one app at a time" in html
