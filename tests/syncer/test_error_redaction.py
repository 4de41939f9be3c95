"""Trakt's `error_description` can repeat what was sent (the refresh token, the client secret):
every error text a person or a caller reads, and every one stored, has them masked, not only
the log lines."""

import pytest

from syncer.http import ApiError, BadResponse
from syncer.models import SyncRun, TraktToken
from syncer.sync.services import sync_run
from syncer.trakt_connection.crypto import decrypt
from tests.seeds import map_show


@pytest.fixture
def library(db, fake_anilist, trakt_connected, settings, api_secrets):
    trakt_connected.add_show(100, seasons={1: 12})
    map_show(1, 100, title="Show A")
    fake_anilist.add_entry(11, 1, status="COMPLETED", progress=2, title="Show A")
    row = TraktToken.objects.get()
    return decrypt(row.access_token), decrypt(row.refresh_token), settings.TRAKT_CLIENT_SECRET


def texts_people_read(run, staff_client, api) -> dict[str, str]:
    return {
        "sync_run.error": SyncRun.objects.get(pk=run.pk).error,
        "trakt_token.last_error": TraktToken.objects.get().last_error,
        "/trakt/": staff_client.get("/trakt/").content.decode(),
        "dashboard": staff_client.get("/").content.decode(),
        "run page": staff_client.get(f"/runs/{run.pk}/").content.decode(),
        "/api/runs/<id>": api.get(f"/api/runs/{run.pk}").content.decode(),
    }


def test_an_error_answer_quoting_the_secrets_shows_and_stores_them_nowhere(library, trakt_connected,
                                                                          staff_client, api):
    access, refresh, secret = library
    trakt_connected.fail(r"/sync/history", method="POST", status=400, times=None, body={
        "error": "bad_request",
        "error_description": f"token {access} (refresh {refresh}) is not valid for client {secret}"})
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.FAILED and "[redacted]" in run.error
    texts = texts_people_read(run, staff_client, api)
    assert [where for where, text in texts.items() if access in text or refresh in text or secret in text] == []


def test_a_refused_refresh_quoting_the_secrets_shows_and_stores_them_nowhere(library, trakt_connected,
                                                                            staff_client, api):
    access, refresh, secret = library
    trakt_connected.expire_tokens()
    trakt_connected.fail(r"/oauth/token", status=400, times=None, body={
        "error": "invalid_grant",
        "error_description": f"refresh_token {refresh} is not valid for client {secret}"})
    run = sync_run(mode="completed")
    assert run.state == SyncRun.State.FAILED and "Trakt refused the refresh token" in run.error
    texts = texts_people_read(run, staff_client, api)
    assert [where for where, text in texts.items() if refresh in text or secret in text] == []


def test_an_api_error_masks_a_known_secret_where_it_is_built(settings):
    settings.TRAKT_CLIENT_SECRET = "client-secret-0123456789abcdef"
    error = BadResponse("Trakt", 400, "invalid client client-secret-0123456789abcdef")
    assert error.message == "invalid client [redacted]" and "0123456789abcdef" not in str(error)
    assert isinstance(error, ApiError)


def test_a_run_error_is_masked_where_it_is_stored(db, settings, monkeypatch):
    settings.TRAKT_CLIENT_SECRET = "client-secret-0123456789abcdef"
    from syncer.sync import services

    def boom(run, progress):
        raise RuntimeError("a bug that printed client-secret-0123456789abcdef")

    monkeypatch.setattr(services, "_execute", boom)
    run = sync_run(mode="completed", dry_run=True)
    assert run.state == SyncRun.State.FAILED
    assert "client-secret-0123456789abcdef" not in SyncRun.objects.get(pk=run.pk).error


@pytest.mark.parametrize("door", ["undo", "doctor"])
def test_an_undo_or_doctor_run_error_is_masked_where_it_is_stored_too(db, settings, monkeypatch, door):
    settings.TRAKT_CLIENT_SECRET = "client-secret-0123456789abcdef"
    from syncer.sync import doctor, undo

    def boom(*args):
        raise RuntimeError("a bug that printed client-secret-0123456789abcdef")

    if door == "undo":
        target = SyncRun.objects.create(mode="completed", state="succeeded", posted=1)
        monkeypatch.setattr(undo, "undo_refusal", lambda run: None)
        monkeypatch.setattr(undo, "_execute", boom)
        run = undo.undo_run(run_id=target.pk, dry_run=True)
    else:
        monkeypatch.setattr(doctor, "_execute", boom)
        run = doctor.doctor_run(dry_run=True)
    assert run.state == SyncRun.State.FAILED
    assert "client-secret-0123456789abcdef" not in SyncRun.objects.get(pk=run.pk).error
