"""The django-q side of liveness: which clusters (`manage.py qcluster`) are alive, and which
tasks their broker still holds for a worker to take.

A cluster's worker processes stamp its `WorkerBeat` row every third of
`SYNC_WORKER_SILENT_SECONDS` (`liveness.WorkerHeartbeat`, started when django-q spawns a worker).
A task a cluster took from the broker lives in that cluster's memory until a worker process runs
it: when the cluster is killed, the task is lost (the ORM broker would hand it out again only
after `Q_RETRY`, an hour; Redis never). Whether a queued run's task is still in the broker
(nobody took it) or was taken is read from the broker itself: an `OrmQ` row whose lock is in
the future was taken, a Redis list holds only tasks nobody took.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.db.models.functions import Now
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from syncer.models import SyncRun, WorkerBeat
from syncer.sync.lease import db_now, db_now_plus

logger = logging.getLogger("syncer.sync")
FORGOTTEN_AFTER = 24 * 3600  # a cluster silent this long has its row removed


def task_name(run: SyncRun) -> str:
    """The name a run's django-q task is queued under (how the broker is searched for it)."""
    if run.mode == SyncRun.Mode.UNDO:
        return f"undo-{run.pk}-of-{run.undo_of_id}"
    return f"sync-{run.pk}-{run.mode}"


def cluster_name() -> str:
    """This worker process's cluster: django-q names each cluster's sentinel process (the parent
    of its workers, holding the tasks they have not run yet) uniquely."""
    parent = multiprocessing.parent_process()
    return (parent.name if parent is not None else "") or f"{socket.gethostname()}:{os.getppid()}"


def worker_beat(*, cluster: str) -> None:
    """Stamp `cluster` alive (by the database's clock); its first beat records its start."""
    if not WorkerBeat.objects.filter(cluster=cluster).update(beat_at=Now()):
        try:
            with transaction.atomic():
                WorkerBeat.objects.create(cluster=cluster[:80], host=socket.gethostname()[:255],
                                          started_at=Now(), beat_at=Now())
        except IntegrityError:
            pass  # another worker process of the cluster wrote it first
    WorkerBeat.objects.filter(beat_at__lt=db_now_plus(-FORGOTTEN_AFTER)).delete()


def workers_alive() -> list[WorkerBeat]:
    return list(WorkerBeat.objects.filter(beat_at__gte=db_now_plus(-settings.SYNC_WORKER_SILENT_SECONDS)))


def worker_last_seen() -> datetime | None:
    """When any worker last beat; None when none ever did (an install whose worker predates
    the beats, or tests running tasks inline)."""
    return WorkerBeat.objects.aggregate(last=Max("beat_at"))["last"]


@dataclass(frozen=True)
class BrokerTasks:
    waiting: set[str] = field(default_factory=set)  # names of tasks no cluster has taken yet


def broker_tasks() -> BrokerTasks | None:
    """The tasks the broker still holds for a worker to take; None when that cannot be known
    (tasks run inline, or the broker did not answer): then every task counts as waiting."""
    if Conf.SYNC:
        return None
    broker = get_broker()
    try:
        if isinstance(broker, ORM):
            # django-q locks a row it hands out until `Q_RETRY` from then, by the taker's clock.
            rows = OrmQ.objects.using(Conf.ORM).filter(key=broker.list_key, lock__lte=timezone.now())
            return BrokerTasks(waiting={row.name() for row in rows})
        payloads = broker.connection.lrange(broker.list_key, 0, -1)
        return BrokerTasks(waiting={SignedPackage.loads(p)["name"] for p in payloads})
    except Exception as exc:  # noqa: BLE001 - unknown is an answer: the old timeout applies
        logger.warning("Could not read the task broker (%s): queued runs wait SYNC_QUEUED_SECONDS", exc)
        return None


def queued_run_lost(*, run: SyncRun, now: datetime, alive: list[WorkerBeat], last_seen: datetime | None,
                    broker: BrokerTasks | None) -> str | None:
    return task_lost(task=task_name(run), queued_at=run.created_at, now=now, alive=alive, last_seen=last_seen,
                     broker=broker)


def task_lost(*, task: str, queued_at: datetime, now: datetime, alive: list[WorkerBeat],
              last_seen: datetime | None, broker: BrokerTasks | None) -> str | None:
    """Pure: why no worker will ever start the task named `task`, queued at `queued_at` and
    not started yet (`NO_WORKER` or `WORKER_STOPPED`, `{seen}` to fill in), or None while one
    still may.

    - No worker beat for `SYNC_WORKER_SILENT_SECONDS` (and some worker beat once): none is
      running. Its task may be waiting in the broker (a restarted worker would run it: the run
      is then left alone, as an interrupted run is) or was lost with the worker that took it.
    - Workers are alive, but every one started after the run was queued, at least
      `SYNC_WORKER_SILENT_SECONDS` ago, and the broker no longer holds the task: a worker that
      is gone took it (a live one would have started it by now).
    """
    silent = timedelta(seconds=settings.SYNC_WORKER_SILENT_SECONDS)
    waiting = broker is None or task in broker.waiting
    if last_seen is None or queued_at > now - silent:
        return None
    if not alive:
        return NO_WORKER if waiting else WORKER_STOPPED
    if waiting or any(w.started_at <= queued_at or w.started_at > now - silent for w in alive):
        return None
    return WORKER_STOPPED


def task_lost_now(*, task: str, queued_at: datetime) -> str | None:
    """`task_lost` with what the database and the broker say now, `{seen}` filled in."""
    last_seen = worker_last_seen()
    alive = workers_alive()
    reason = task_lost(task=task, queued_at=queued_at, now=db_now(), alive=alive, last_seen=last_seen,
                       broker=broker_tasks() if last_seen else None)
    if reason is None:
        return None
    gone = WorkerBeat.objects.exclude(cluster__in=[w.cluster for w in alive]).aggregate(
        last=Max("beat_at"))["last"] or last_seen
    return reason.format(seen=gone.astimezone(timezone.get_fixed_timezone(0)).strftime("%Y-%m-%d %H:%M:%S UTC"))


NO_WORKER = ("no worker is running to start it (the worker, `manage.py qcluster`, was last seen {seen}): "
             "start the worker, then start it again")
WORKER_STOPPED = ("the worker that took its task stopped before starting it (killed or restarted; last "
                  "seen {seen}). Nothing was done yet: start it again")
