"""Notifications through Apprise's JSON URL to a loopback receiver (and to one that is down)."""

import logging
import re

import pytest

from logs.models import LogEntry
from syncer.connections import trakt_client
from syncer.http import AuthError
from syncer.models import NotifiedUnmapped, SyncRun, TraktToken
from syncer.notify import notify_send, notify_test, notify_unmapped
from syncer.sync.services import sync_run
from syncer.trakt_connection.tokens import trakt_token_status
from tests.seeds import map_show

pytestmark = pytest.mark.django_db


def texts(receiver) -> list[str]:
    return [f"{m['title']} | {m['message']}" for m in receiver.messages]


def test_a_test_notification_reaches_the_receiver_as_apprise_json(receiver):
    assert notify_test() is True
    [message] = receiver.messages
    assert message["title"] == "AniList → Trakt Sync: test notification"
    assert "Notifications work" in message["message"]
    assert message["type"] == "info"


def test_nothing_is_sent_without_notify_urls(settings):
    settings.NOTIFY_URLS = []
    assert notify_send(title="x", body="y") is False


def test_a_receiver_that_is_down_is_logged_and_does_not_raise(receiver_down, caplog):
    with caplog.at_level(logging.WARNING, logger="syncer.notify"):
        assert notify_send(title="hello", body="world") is False
    assert any("Notification not sent" in r.getMessage() for r in caplog.records)


def test_no_secret_is_ever_in_a_message(receiver, settings):
    settings.ANILIST_ACCESS_TOKEN = "anilist-secret-token-value-123"
    notify_send(title="oops", body="token anilist-secret-token-value-123 and Bearer abc.def.ghi, "
                                    f"url {receiver.apprise_url()}")
    [message] = receiver.messages
    assert "anilist-secret-token-value-123" not in message["message"]
    assert "abc.def.ghi" not in message["message"]
    assert receiver.apprise_url() not in message["message"]
    assert "[redacted]" in message["message"]


def test_an_unmapped_entry_is_announced_once_not_every_run(receiver):
    notify_unmapped([(5, "Some Anime", "no mapping"), (5, "Some Anime", "no mapping")])
    notify_unmapped([(5, "Some Anime", "no mapping"), (6, "Other", "no Trakt id")])
    assert texts(receiver) == [
        "AniList → Trakt Sync: 1 new unmapped entry | Add a manual mapping for these (Mappings page or "
        "the admin):\nSome Anime (AniList 5): no mapping",
        "AniList → Trakt Sync: 1 new unmapped entry | Add a manual mapping for these (Mappings page or "
        "the admin):\nOther (AniList 6): no Trakt id",
    ]
    assert set(NotifiedUnmapped.objects.values_list("anilist_id", flat=True)) == {5, 6}


def test_a_failed_run_says_what_to_do(receiver, fake_anilist, trakt_connected):
    trakt_connected.add_show(100, seasons={1: 3})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=3, episodes=3)
    trakt_connected.refresh_tokens.clear()
    trakt_connected.expire_tokens()
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.FAILED
    failures = [t for t in texts(receiver) if "failed" in t]
    assert len(failures) == 1
    assert f"sync #{run.pk} failed" in failures[0] and "Reconnect Trakt" in failures[0]


def test_losing_the_trakt_connection_is_announced_once(receiver, trakt_connected, django_capture_on_commit_callbacks):
    trakt_connected.refresh_tokens.clear()
    trakt_connected.expire_tokens()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            with pytest.raises(AuthError):
                trakt_client().last_activities()
    assert trakt_token_status()["state"] == TraktToken.State.NEEDS_RECONNECT
    assert sum("reconnect Trakt" in t for t in texts(receiver)) == 1


def test_a_run_with_new_unmapped_entries_announces_them(receiver, fake_anilist, trakt_connected):
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=2, episodes=2, title="Lost Show")
    sync_run(mode="completed")
    sync_run(mode="completed")
    unmapped = [t for t in texts(receiver) if "unmapped" in t]
    assert len(unmapped) == 1 and "Lost Show (AniList 1)" in unmapped[0]


def test_a_dry_run_announces_nothing(receiver, fake_anilist, trakt_connected):
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=2, episodes=2, title="Lost Show")
    sync_run(mode="completed", dry_run=True)
    assert receiver.messages == []


def test_a_scheduled_run_that_posted_is_announced_only_when_opted_in(receiver, fake_anilist, trakt_connected, settings):
    trakt_connected.add_show(100, seasons={1: 3})
    trakt_connected.add_show(200, seasons={1: 3})
    map_show(1, 100)
    map_show(2, 200)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=1, episodes=1)
    sync_run(mode="completed", trigger="scheduled")
    assert receiver.messages == []
    settings.NOTIFY_SCHEDULED_POSTS = True
    fake_anilist.add_entry(12, 2, status="COMPLETED", progress=2, episodes=2)
    run = sync_run(mode="completed", trigger="scheduled")  # entry 11 is on Trakt: already synced
    assert (run.state, run.posted) == (SyncRun.State.SUCCEEDED, 2), run.error
    assert texts(receiver) == [f"AniList → Trakt Sync: sync #{run.pk} | Scheduled sync #{run.pk} posted 2 "
                               "play(s) to Trakt (1 already synced, 0 unmapped, 0 not found)."]
    sync_run(mode="completed", trigger="scheduled")  # posts nothing: says nothing
    assert len(receiver.messages) == 1


def test_a_run_succeeds_though_the_receiver_is_down(receiver_down, fake_anilist, trakt_connected):
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=2, episodes=2, title="Lost Show")
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.SUCCEEDED, run.error
    assert LogEntry.objects.filter(message__contains="Notification not sent").exists()
    assert not NotifiedUnmapped.objects.exists()  # not announced: the next run tries again


def test_the_dashboard_sends_a_test_notification(staff_client, receiver):
    html = staff_client.get("/").content.decode()
    assert "1 notification target set" in html and "Send test notification" in html
    html = staff_client.post("/dashboard/notify-test/", HTTP_HX_REQUEST="true").content.decode()
    assert "Test notification sent." in html
    assert len(receiver.messages) == 1


def test_the_dashboard_says_when_the_test_notification_failed(staff_client, receiver_down):
    html = staff_client.post("/dashboard/notify-test/", HTTP_HX_REQUEST="true").content.decode()
    assert "not accepted by every target" in html


def test_the_dashboard_explains_notify_urls_when_none_is_set(staff_client, settings):
    settings.NOTIFY_URLS = []
    html = staff_client.get("/").content.decode()
    assert "No notifications: set <code>NOTIFY_URLS</code>" in html
    assert "Send test notification" not in html


def test_each_notification_has_the_apprise_type_a_channel_can_route_by(receiver, fake_anilist, trakt_connected,
                                                                       settings, django_capture_on_commit_callbacks):
    trakt_connected.add_show(100, seasons={1: 3})
    map_show(1, 100)
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=1, episodes=1)
    fake_anilist.add_entry(12, 2, status="COMPLETED", progress=1, episodes=1, title="Lost Show")
    settings.NOTIFY_SCHEDULED_POSTS = True
    sync_run(mode="completed", trigger="scheduled")  # posts one play, one entry unmapped
    trakt_connected.refresh_tokens.clear()
    trakt_connected.expire_tokens()
    with django_capture_on_commit_callbacks(execute=True):
        sync_run(mode="completed")  # the token is refused: reconnect Trakt, and a failed run
    types = sorted((re.sub(r" #\d+", "", m["title"].split(": ", 1)[1]), m["type"]) for m in receiver.messages)
    assert types == [("1 new unmapped entry", "warning"), ("reconnect Trakt", "warning"),
                     ("sync", "success"), ("sync failed", "failure")]


def test_a_notification_shows_no_markup(receiver, fake_anilist, trakt_connected, django_capture_on_commit_callbacks):
    trakt_connected.refresh_tokens.clear()
    trakt_connected.expire_tokens()
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=1, episodes=1)
    with django_capture_on_commit_callbacks(execute=True):
        sync_run(mode="completed")
    assert receiver.messages
    for message in receiver.messages:
        assert "`" not in message["message"], message["message"]
