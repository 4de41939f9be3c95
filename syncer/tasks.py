"""django-q entry points: one-line wrappers around services."""


def sync_run_task(run_id: int):
    from syncer.sync.services import sync_run_queued

    return sync_run_queued(run_id=run_id)


def sync_scheduled():
    from syncer.sync.services import sync_run_scheduled

    return sync_run_scheduled()
