"""django-q entry points: one-line wrappers around services."""

from syncer.sync.services import sync_run_queued, sync_run_scheduled


def sync_run_task(run_id: int):
    return sync_run_queued(run_id=run_id)


def sync_scheduled():
    return sync_run_scheduled()
