"""The History doctor page: preview (queued), its run page per title with the limit, the button
that carries it out, and the undo that puts the plays back."""

import pytest

from syncer.models import SyncRun
from tests.seeds import seed_duplicates

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(trakt_connected):
    seed_duplicates(trakt_connected)
    return trakt_connected


def test_the_page_offers_a_preview_with_the_window_and_the_scope(staff_client):
    html = staff_client.get("/doctor/").content.decode()
    assert 'name="window"' in html and 'value="60"' in html and 'name="mirrored"' in html
    assert "Preview" in html and "100,000" in html


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get("/doctor/").status_code == 302
    assert client.post("/doctor/start/").status_code in (302, 403)


def test_a_preview_page_lists_each_title_and_offers_the_repair(staff_client, seeded, q_sync):
    response = staff_client.post("/doctor/start/", {"window": "60"})
    preview = SyncRun.objects.get(mode="doctor")
    assert response.status_code == 302 and response["Location"] == f"/runs/{preview.pk}/"
    html = staff_client.get(response["Location"]).content.decode()
    assert f"Preview #{preview.pk}: History doctor" in html
    assert "Frieren" in html and "Your Name" in html and "3 kept, 3 to remove" in html
    assert "S01E02" in html and "the earliest play of its cluster" in html
    assert "Trakt history: <strong>11</strong> plays of the 100,000 your account may hold" in html
    assert "Remove these 4 duplicate plays from Trakt" in html
    assert seeded.history_removes == []

    response = staff_client.post("/doctor/start/", {"preview": str(preview.pk)})
    repair = SyncRun.objects.get(mode="doctor", dry_run=False)
    assert (repair.state, repair.posted) == ("succeeded", 4) and len(seeded.history) == 7
    html = staff_client.get(response["Location"]).content.decode()
    assert "4 removed" in html and "Undo this run" in html and "be put back on" in html

    response = staff_client.post(f"/runs/{repair.pk}/undo/")
    html = staff_client.get(response["Location"]).content.decode()
    assert "Put these 4 plays back on Trakt" in html and f"history doctor #{repair.pk}" in html
    staff_client.post(f"/runs/{repair.pk}/undo/", {"confirm": "1"})
    assert len(seeded.history) == 11
    # The carried-out preview offers no second repair.
    assert "Remove these" not in staff_client.get(f"/runs/{preview.pk}/").content.decode()


def test_a_window_out_of_range_is_refused_on_the_page(staff_client, seeded):
    response = staff_client.post("/doctor/start/", {"window": "99999"})
    assert response.status_code == 409
    assert "The window must be between 1 and 21600 seconds" in response.content.decode()
    assert not SyncRun.objects.exists()
