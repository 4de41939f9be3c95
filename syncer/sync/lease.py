"""One sync at a time: a lease row taken with a conditional UPDATE.

Exactly one UPDATE can match a free (or expired) lease, on SQLite and PostgreSQL alike, so a
scheduled run and a button press, or two workers, never both get it. The run's heartbeat
(`syncer.sync.liveness`) renews it every quarter of `SYNC_LEASE_SECONDS` while the process
lives; it expires after `SYNC_LEASE_SECONDS` without renewal, so a process killed on another
host (or cut off from the database) blocks syncing only until then, and one killed on this host
not at all: its lease is taken at once.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from syncer.models import SyncLease

LEASE_NAME = "sync"


class SyncAlreadyRunning(Exception):
    def __init__(self, run_id: int | None = None):
        super().__init__("a sync is already running")
        self.run_id = run_id


class LeaseLost(Exception):
    """The lease expired and another run took it: this run must not post another play."""

    def __init__(self):
        super().__init__("the sync lease was lost (it expired and another run took it): this run stopped "
                         "before posting more; the other run carries on. Raise SYNC_LEASE_SECONDS if runs "
                         "are this slow")


def _ensure_row() -> None:
    if not SyncLease.objects.filter(name=LEASE_NAME).exists():
        try:
            with transaction.atomic():
                SyncLease.objects.create(name=LEASE_NAME)
        except IntegrityError:
            pass  # another process created it first


@contextmanager
def lease_locked() -> Iterator[None]:
    """A transaction holding the lease row's lock: what one start decides inside it (is a sync
    running or queued? then create the run) no other start can decide at the same time. On
    PostgreSQL the row lock makes the other start wait; SQLite's IMMEDIATE transactions let
    one writer in at a time anyway."""
    _ensure_row()
    with transaction.atomic():
        list(SyncLease.objects.select_for_update().filter(name=LEASE_NAME))
        yield


def _dead_local_holder() -> str | None:
    """The holder token when it belongs to a process on this machine that no longer exists (a
    killed CLI run): its lease need not be waited out."""
    row = SyncLease.objects.filter(name=LEASE_NAME).first()
    if row is None or row.holder.count(":") != 2:
        return None
    host, pid, _ = row.holder.split(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return row.holder
    except PermissionError:
        return None
    return None


def lease_acquire(*, run_id: int | None, seconds: int | None = None) -> str:
    """Take the lease for `run_id`; returns the holder token. Raises `SyncAlreadyRunning`."""
    _ensure_row()
    token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
    now = timezone.now()
    free = Q(holder="") | Q(expires_at__isnull=True) | Q(expires_at__lt=now)
    if dead := _dead_local_holder():
        free |= Q(holder=dead)
    taken = SyncLease.objects.filter(free, name=LEASE_NAME).update(
        holder=token, run_id=run_id, expires_at=now + timedelta(seconds=seconds or settings.SYNC_LEASE_SECONDS)
    )
    if taken != 1:
        raise SyncAlreadyRunning(lease_holder_run())
    return token


def lease_renew(*, token: str, seconds: int | None = None) -> bool:
    """Extend a held lease; False when it was lost (expired and taken by another run)."""
    expires = timezone.now() + timedelta(seconds=seconds or settings.SYNC_LEASE_SECONDS)
    return SyncLease.objects.filter(name=LEASE_NAME, holder=token).update(expires_at=expires) == 1


def lease_release(*, token: str) -> None:
    SyncLease.objects.filter(name=LEASE_NAME, holder=token).update(holder="", run_id=None, expires_at=None)


def lease_holder_run() -> int | None:
    """The run holding a live lease (unexpired, and not held by a dead process of this host), if
    any."""
    row = SyncLease.objects.filter(name=LEASE_NAME, expires_at__gte=timezone.now()).exclude(holder="").first()
    if row is None or row.holder == _dead_local_holder():
        return None
    return row.run_id
