from datetime import timedelta

import pytest
from django.utils import timezone

from syncer.models import SyncLease, SyncRun
from syncer.sync.lease import SyncAlreadyRunning, lease_acquire, lease_release
from syncer.sync.services import sync_run


def test_a_second_holder_is_refused_until_release(db):
    token = lease_acquire(run_id=1)
    with pytest.raises(SyncAlreadyRunning) as exc:
        lease_acquire(run_id=2)
    assert str(exc.value) == "a sync is already running" and exc.value.run_id == 1
    lease_release(token=token)
    lease_acquire(run_id=3)


def test_an_expired_lease_can_be_taken(db):
    lease_acquire(run_id=1)
    SyncLease.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    lease_acquire(run_id=2)
    assert SyncLease.objects.get().run_id == 2


def test_a_run_is_refused_while_another_runs(db):
    lease_acquire(run_id=99)
    with pytest.raises(SyncAlreadyRunning):
        sync_run(mode="incremental")
    assert SyncRun.objects.get().state == SyncRun.State.REFUSED


def test_a_lease_left_by_a_killed_local_process_is_taken_at_once(db):
    import socket
    import subprocess
    import sys

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    lease_acquire(run_id=1)
    SyncLease.objects.update(holder=f"{socket.gethostname()}:{gone.pid}:abc")
    lease_acquire(run_id=2)
    assert SyncLease.objects.get().run_id == 2
