"""Which runs are still alive: a heartbeat while a run works, and the rule every start applies.

A run proves it is alive by its heartbeat, a thread of its process that stamps
`SyncRun.heartbeat_at` and renews the lease every quarter of `SYNC_LEASE_SECONDS`, whatever the
run is doing (a rate-limit pause may last minutes without a progress report). A process that is
killed, or cut off from the database, stops beating. Every start (the Sync page, the API, cron,
the schedule, the CLI) first marks what such a process left behind `interrupted`, with a line in
the run's log, and then proceeds; the worker's own heartbeat (`WorkerHeartbeat`) applies the same
check every few seconds, so a run that could not record its end (the database was down) does not
show as running until the next start. What is marked:

- a real run `running` whose lease is no longer its own live one: free, expired (no heartbeat
  for `SYNC_LEASE_SECONDS`), taken by another run, or held by a process of this host that no
  longer exists (then at once);
- a preview `running` (previews take no lease) whose heartbeat is older than `SYNC_LEASE_SECONDS`;
- a run still `queued` whose task no worker will run (`workers.queued_run_lost`): no worker
  has beaten for `SYNC_WORKER_SILENT_SECONDS`, or the one that took the task from the broker is
  gone; otherwise once it is still queued after `SYNC_QUEUED_SECONDS` (the broker lost it).
  Should the task arrive later, `run_claim` finds the run no longer queued and the task does
  nothing.

Every change of state here is a conditional UPDATE with a row count (the lease's idiom), so a
run that claims or ends at the same moment is never overwritten.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, connections
from django.db.models import F, Max, Q
from django.db.models.functions import Now
from django.utils import timezone

from logs.context import log_to_run
from logs.redact import redact
from syncer.models import SyncLease, SyncRun, SyncRunItem, WorkerBeat
from syncer.sync import workers
from syncer.sync.lease import (
    LEASE_NAME,
    SyncAlreadyRunning,
    db_now,
    db_now_plus,
    lease_acquire,
    lease_holder_run,
    lease_locked,
    lease_release,
    lease_renew,
)

logger = logging.getLogger("syncer.sync")

STOPPED = ("its process stopped before the run ended (killed, restarted, or cut off from the "
           "database); last alive {alive}. Nothing is lost: the next run checks what it may have "
           "posted and carries on")
NEVER_STARTED = ("no worker started it within {minutes} min (is the worker, `manage.py qcluster`, "
                 "running?); start it again")


def heartbeat_seconds() -> float:
    return settings.SYNC_LEASE_SECONDS / 4


def run_admit(*, dry_run: bool = False, **fields) -> SyncRun:
    """Every start's door: the new run, created `queued`. A preview is always admitted. A real
    run (a sync or an undo) only while no other real run holds the lease, is queued or is
    running: otherwise `SyncAlreadyRunning` names that run. Runs dead processes left are marked
    interrupted first; the check and the creation happen under the lease row's lock, so of two
    starts at the same instant exactly one is admitted."""
    if dry_run:
        return SyncRun.objects.create(dry_run=True, **fields)
    runs_interrupt_dead()
    with lease_locked():
        busy = lease_holder_run() or SyncRun.objects.filter(
            dry_run=False, state__in=[SyncRun.State.QUEUED, SyncRun.State.RUNNING]).values_list(
            "id", flat=True).first()
        if busy:
            raise SyncAlreadyRunning(busy)
        return SyncRun.objects.create(dry_run=False, **fields)


def run_claim(*, run: SyncRun) -> bool:
    """Move a queued run to running; False when it is not queued any more (a task delivered
    twice, or a run given up as interrupted), and then it must be left alone."""
    claimed = SyncRun.objects.filter(pk=run.pk, state=SyncRun.State.QUEUED).update(
        state=SyncRun.State.RUNNING, started_at=Now(), heartbeat_at=Now()) == 1
    run.refresh_from_db()
    return claimed


def run_refuse(*, run: SyncRun, reason: str) -> bool:
    """Mark a queued run refused; False when it is not queued (another delivery has it)."""
    refused = SyncRun.objects.filter(pk=run.pk, state=SyncRun.State.QUEUED).update(
        state=SyncRun.State.REFUSED, error=reason, finished_at=timezone.now()) == 1
    run.refresh_from_db()
    return refused


ALREADY_RUNNING = "a sync is already running"


def run_start(*, run: SyncRun, name: str) -> tuple[bool, str | None]:
    """The one way a sync, an undo or a doctor run begins: take the lease (real runs), mark
    interrupted what dead processes left behind, and claim the run. Returns (True, the lease
    token or None for a preview), or (False, None) when the run is to be left alone: another
    delivery of its task is starting it, or it is not queued any more. Raises
    `SyncAlreadyRunning` (the run recorded refused) while another run holds the lease."""
    token = None
    if not run.dry_run:
        try:
            token = lease_acquire(run_id=run.pk)
        except SyncAlreadyRunning as exc:
            if exc.run_id == run.pk:
                # Another delivery of this run's task holds the lease and is about to claim it.
                logger.warning("%s %s is being started by another delivery of its task: left alone", name, run.pk)
                return False, None
            if run_refuse(run=run, reason=ALREADY_RUNNING):
                logger.warning("%s %s refused: %s", name, run.pk, ALREADY_RUNNING)
            raise
    # Holding the lease, no other real run can be alive: one still marked running is not.
    runs_interrupt_dead(exclude=run.pk)
    if run_claim(run=run):
        return True, token
    if token:
        lease_release(token=token)
    logger.warning("%s %s is %s, no longer queued: left alone", name, run.pk, run.state)
    return False, None


def run_finish(*, run: SyncRun, state: str, error: str, name: str) -> None:
    """Record how a run ended (state, error, error count from its rows), once more on a fresh
    connection when the database dropped this one (a restart, an outage). Should it still be
    down, the run stays `running` and the heartbeat check marks it interrupted."""
    try:
        _finish(run, state, error)
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise
        connection.close()
        try:
            _finish(run, state, error)
        except (OperationalError, InterfaceError):
            logger.error("%s %s could not record its end (%s): the database is unreachable", name, run.pk, state)
            raise


def run_release(*, token: str) -> None:
    try:
        lease_release(token=token)
    except (OperationalError, InterfaceError):
        pass  # the lease expires by itself after SYNC_LEASE_SECONDS


def _finish(run: SyncRun, state: str, error: str) -> None:
    run.refresh_from_db()
    # Stored and shown on the pages and the API: no secret an error quoted (logs.redact).
    run.state, run.error, run.finished_at = state, redact(error), timezone.now()
    run.errors = run.items.filter(state=SyncRunItem.State.FAILED).count() + (
        1 if error and state == SyncRun.State.FAILED else 0)
    run.save()


def runs_interrupt_dead(*, exclude: int | None = None) -> list[int]:
    """Mark interrupted every run no live process is working on (see the module docstring) and
    log each in its own run's log; returns their ids."""
    stale = db_now_plus(-settings.SYNC_LEASE_SECONDS)  # heartbeats are stamped by the database's clock
    live_lease = lease_holder_run()
    # The run `live_lease` names is alive; a real run holding no live lease is not.
    running = SyncRun.objects.filter(state=SyncRun.State.RUNNING).exclude(pk=exclude)
    dead = list(running.filter(dry_run=False).exclude(pk=live_lease))
    dead += running.filter(dry_run=True).filter(Q(heartbeat_at__lt=stale) | Q(
        heartbeat_at__isnull=True, started_at__lt=stale))
    marked = [run.pk for run in dead if _interrupt(run, SyncRun.State.RUNNING, STOPPED.format(
        alive=_when(run.last_alive_at)))]
    marked += [run.pk for run, reason in _queued_lost(exclude) if _interrupt(run, SyncRun.State.QUEUED, reason)]
    return marked


def _queued_lost(exclude: int | None) -> list[tuple[SyncRun, str]]:
    """Queued runs no worker will start, with the reason: lost with a worker that stopped
    (`workers.queued_run_lost`), else still queued after `SYNC_QUEUED_SECONDS`."""
    queued = list(SyncRun.objects.filter(state=SyncRun.State.QUEUED).exclude(pk=exclude))
    if not queued:
        return []
    now, alive, last_seen = db_now(), workers.workers_alive(), workers.worker_last_seen()
    broker = workers.broker_tasks() if last_seen else None
    gone = WorkerBeat.objects.exclude(cluster__in=[w.cluster for w in alive]).aggregate(
        last=Max("beat_at"))["last"] or last_seen
    minutes = round(settings.SYNC_QUEUED_SECONDS / 60)
    lost = []
    for run in queued:
        reason = workers.queued_run_lost(run=run, now=now, alive=alive, last_seen=last_seen, broker=broker)
        if reason:
            lost.append((run, reason.format(seen=_when(gone))))
        elif run.created_at < now - timedelta(seconds=settings.SYNC_QUEUED_SECONDS):
            lost.append((run, NEVER_STARTED.format(minutes=minutes)))
    return lost


def _interrupt(run: SyncRun, state: str, reason: str) -> bool:
    if SyncRun.objects.filter(pk=run.pk, state=state).update(
            state=SyncRun.State.INTERRUPTED, error=reason, finished_at=timezone.now(),
            errors=F("errors") + 1) != 1:
        return False  # it ended (or was claimed) meanwhile: its own record stands
    with log_to_run(run.pk):
        logger.error("Sync %s (%s) interrupted: %s", run.pk, run.mode, reason)
    return True


def _when(moment) -> str:
    return moment.astimezone(timezone.get_fixed_timezone(0)).strftime("%Y-%m-%d %H:%M:%S UTC")


class Heartbeat:
    """While open, a daemon thread stamps the run alive and renews its lease (`lease_token`,
    None for a preview) every `heartbeat_seconds()`. A failed beat (the database unreachable) is
    logged and the next one tries again on a fresh connection."""

    def __init__(self, *, run_id: int, lease_token: str | None, interval: float | None = None):
        self.run_id, self.lease_token = run_id, lease_token
        self.interval = interval if interval is not None else heartbeat_seconds()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False

    def __enter__(self) -> Heartbeat:
        # The thread logs to this run, as the code that started it does.
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(self._loop,), daemon=True,
                                        name=f"sync-{self.run_id}-heartbeat")
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            # A beat blocked on an unreachable database must not hold up the run's end.
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                self.beat()
        finally:
            connections.close_all()  # this thread's own connection

    def beat(self) -> None:
        try:
            SyncRun.objects.filter(pk=self.run_id).update(heartbeat_at=Now())
            if self.lease_token and not lease_renew(token=self.lease_token) and not self.lost:
                self.lost = True
                holder = SyncLease.objects.filter(name=LEASE_NAME).values_list("run_id", flat=True).first()
                logger.warning("Sync %s lost its lease to run %s: it stops before its next post",
                               self.run_id, holder)
        except DatabaseError as exc:
            logger.warning("Sync %s heartbeat failed (%s); trying again in %.0f s",
                           self.run_id, exc.__class__.__name__, self.interval)
            connections.close_all()


class WorkerHeartbeat:
    """In each django-q worker process (started when django-q spawns it): a daemon thread that
    stamps its cluster alive (`workers.worker_beat`) every third of `SYNC_WORKER_SILENT_SECONDS`
    and marks what dead processes left (`runs_interrupt_dead`)."""

    _thread: threading.Thread | None = None

    @classmethod
    def start(cls, *, cluster: str | None = None) -> None:
        if cls._thread is not None and cls._thread.is_alive():
            return  # one per process
        cls._thread = threading.Thread(target=cls._loop, args=(cluster or workers.cluster_name(),), daemon=True,
                                       name="worker-heartbeat")
        cls._thread.start()

    @staticmethod
    def _loop(cluster: str) -> None:
        interval = settings.SYNC_WORKER_SILENT_SECONDS / 3
        while True:
            try:
                workers.worker_beat(cluster=cluster)
                runs_interrupt_dead()
            except DatabaseError as exc:
                logger.warning("Worker heartbeat failed (%s); trying again in %.0f s", exc.__class__.__name__, interval)
                connections.close_all()
            except Exception:  # noqa: BLE001 - the thread must outlive a bug in one check
                logger.exception("Worker heartbeat check failed")
            time.sleep(interval)
