"""The history doctor in a real browser: preview, the per-title preview page, the repair and its
undo, with a clean console and no sideways scrolling at a laptop's and a phone's width."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_newcomer import LISTENER
from tests.seeds import seed_duplicates

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_preview_repair_and_undo_from_the_pages(signed_in, live_server, trakt_connected, q_sync, width):
    seed_duplicates(trakt_connected)
    page = signed_in
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"{msg.type}: {msg.text}")
            if msg.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.add_init_script(LISTENER)
    page.set_viewport_size({"width": width, "height": 900})

    def clean(where: str) -> None:
        page.wait_for_load_state("networkidle")
        assert problems + page.evaluate("window.__violations || []") == [], where
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, where

    page.get_by_role("link", name="History doctor").click()
    expect(page.get_by_role("heading", name="History doctor", exact=True)).to_be_visible()
    page.get_by_label("Window (seconds)").fill("60")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Frieren")).to_be_visible()
    expect(page.locator(".doctor")).to_contain_text("11 plays of the 100,000 your account may hold")
    clean("preview")
    page.get_by_role("button", name="Remove these 4 duplicate plays from Trakt").click()
    expect(page.locator(".counts")).to_contain_text("4 removed")
    expect(page.get_by_text("left unconfirmed")).to_have_count(0)  # removes are not leftovers of a sync
    assert len(trakt_connected.history) == 7
    clean("repair")
    page.get_by_role("button", name="Undo this run…").click()
    page.get_by_role("button", name="Put these 4 plays back on Trakt").click()
    expect(page.locator(".counts")).to_contain_text("4 put back")
    assert len(trakt_connected.history) == 11
    clean("undo")
