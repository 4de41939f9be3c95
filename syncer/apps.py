from django.apps import AppConfig


class SyncerConfig(AppConfig):
    name = "syncer"
    verbose_name = "Sync"

    def ready(self) -> None:
        # Imported here: models and checks can only be loaded once the app registry is ready.
        from django_q.signals import post_spawn

        from config import checks  # noqa: F401  (registers the start-up checks)
        from logs.redact import redact
        from syncer.http import mask_secrets_with, observe_outcomes
        from syncer.service_status import service_seen
        from syncer.tasks import worker_spawned

        observe_outcomes(service_seen)
        mask_secrets_with(redact)
        post_spawn.connect(worker_spawned, dispatch_uid="syncer-worker-heartbeat")
