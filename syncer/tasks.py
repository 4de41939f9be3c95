"""django-q entry points: one-line wrappers around services."""

from django_q.conf import Conf

from syncer.sync.liveness import WorkerHeartbeat
from syncer.sync.services import sync_run_queued, sync_run_scheduled


def sync_run_task(run_id: int):
    return sync_run_queued(run_id=run_id)


def sync_scheduled():
    return sync_run_scheduled()


def worker_spawned(sender, proc_name, **kwargs):
    """django-q's `post_spawn`, in each new worker process: its cluster beats from now on (not
    when tasks run inline, `Q_CLUSTER["sync"]`: there is no cluster then)."""
    if not Conf.SYNC:
        WorkerHeartbeat.start()
