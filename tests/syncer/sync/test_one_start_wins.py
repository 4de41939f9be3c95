"""Two starts at the same instant, through any two doors (the API, the Sync page): exactly one
is admitted, the other gets the documented refusal naming the winner (API: 409 with its run id;
page: the live run). Two real threads on PostgreSQL, each with its own connection."""

import threading

import pytest
from django.db import connection
from django.test import Client

from syncer.models import SyncRun
from syncer.sync import lease as lease_mod
from tests.callers import API_TOKEN

pytestmark = pytest.mark.django_db(transaction=True)
API = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.fixture
def no_worker(monkeypatch):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: queued.append(args))
    return queued


@pytest.fixture
def side_by_side(monkeypatch):
    """Both starts reach their "is a sync running?" check before either goes on: the widest
    window two real requests can hit. A start made to wait for the other (a lock) stops waiting
    after three seconds and goes on."""
    barrier = threading.Barrier(2)
    original = lease_mod.lease_holder_run

    def meet_then_read():
        try:
            barrier.wait(timeout=3)
        except threading.BrokenBarrierError:
            pass
        return original()

    for module in ("syncer.sync.lease", "syncer.sync.liveness", "syncer.sync.services"):
        monkeypatch.setattr(f"{module}.lease_holder_run", meet_then_read, raising=False)


def api_start(_client: Client):
    response = _client.post("/api/completed-sync?async=1", headers=API)
    return response.status_code, response.json().get("runId"), response


def page_start(_client: Client):
    response = _client.post("/sync/start/", {"mode": "completed"})
    if response.status_code == 302:
        return 302, int(response["Location"].rstrip("/").rsplit("/", 1)[1]), response
    return response.status_code, None, response


DOORS = {"api": api_start, "page": page_start}


@pytest.mark.parametrize("doors", [("api", "api"), ("api", "page"), ("page", "page")])
def test_it_admits_exactly_one_of_two_starts_at_the_same_instant(postgres_only, doors, settings, staff_user,
                                                                  fake_anilist, trakt_connected, no_worker,
                                                                  side_by_side):
    settings.API_TOKEN = API_TOKEN
    clients = []
    for _ in doors:
        c = Client()
        c.force_login(staff_user)
        clients.append(c)
    answers: dict[int, tuple] = {}

    def start(n: int) -> None:
        try:
            answers[n] = DOORS[doors[n]](clients[n])
        finally:
            connection.close()

    threads = [threading.Thread(target=start, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)

    runs = list(SyncRun.objects.filter(dry_run=False).values_list("pk", flat=True))
    assert len(runs) == 1, f"{len(runs)} runs admitted: {[answers[n][:2] for n in answers]}"
    winner = runs[0]
    refused = next(n for n in range(2) if answers[n][0] == 409)
    admitted = 1 - refused
    assert answers[admitted][:2] == ({"api": 202, "page": 302}[doors[admitted]], winner)
    body = answers[refused][2]
    if doors[refused] == "api":
        assert body.json() == {"error": "a sync is already running", "runId": winner}
    else:
        html = body.content.decode()
        assert "A sync is already running" in html and f'href="/runs/{winner}/"' in html
    assert no_worker == [("syncer.tasks.sync_run_task", winner)]
