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
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, ExpressionWrapper, Q
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Now

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


# Every time a lease or a settle decision compares is the database's (`Now()`), never a host's:
# a worker whose clock runs a minute ahead would otherwise see a live lease as expired, and a
# write still landing on Trakt as settled.

def db_now():
    """The database's clock: the one time every process agrees on."""
    _ensure_row()
    return SyncLease.objects.filter(name=LEASE_NAME).annotate(now=Now()).values_list("now", flat=True).get()


def db_now_plus(seconds: float) -> CombinedExpression:
    """An expression for the database's time `seconds` from now (to store or compare)."""
    return ExpressionWrapper(Now() + timedelta(seconds=seconds), output_field=DateTimeField())


def settle_wait(*, since: datetime | None) -> float:
    """Seconds left, by the database's clock, until `SYNC_RECONCILE_DELAY_SECONDS` have passed
    since a write was sent at `since` (stamped with `Now()`); 0 when they have."""
    if since is None:
        return 0.0
    return max(0.0, (since + timedelta(seconds=settings.SYNC_RECONCILE_DELAY_SECONDS) - db_now()).total_seconds())


def lease_acquire(*, run_id: int | None, seconds: int | None = None) -> str:
    """Take the lease for `run_id`; returns the holder token. Raises `SyncAlreadyRunning`."""
    _ensure_row()
    token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
    free = Q(holder="") | Q(expires_at__isnull=True) | Q(expires_at__lt=Now())
    if dead := _dead_local_holder():
        free |= Q(holder=dead)
    taken = SyncLease.objects.filter(free, name=LEASE_NAME).update(
        holder=token, run_id=run_id, expires_at=db_now_plus(seconds or settings.SYNC_LEASE_SECONDS)
    )
    if taken != 1:
        raise SyncAlreadyRunning(lease_holder_run())
    return token


def lease_renew(*, token: str, seconds: int | None = None) -> bool:
    """Extend a held lease; False when it was lost (expired and taken by another run)."""
    expires = db_now_plus(seconds or settings.SYNC_LEASE_SECONDS)
    return SyncLease.objects.filter(name=LEASE_NAME, holder=token).update(expires_at=expires) == 1


def lease_release(*, token: str) -> None:
    SyncLease.objects.filter(name=LEASE_NAME, holder=token).update(holder="", run_id=None, expires_at=None)


def lease_holder_run() -> int | None:
    """The run holding a live lease (unexpired, and not held by a dead process of this host), if
    any."""
    row = SyncLease.objects.filter(name=LEASE_NAME, expires_at__gte=Now()).exclude(holder="").first()
    if row is None or row.holder == _dead_local_holder():
        return None
    return row.run_id
