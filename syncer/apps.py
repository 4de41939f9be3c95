from django.apps import AppConfig


class SyncerConfig(AppConfig):
    name = "syncer"
    verbose_name = "Sync"

    def ready(self) -> None:
        # Imported here: models and checks can only be loaded once the app registry is ready.
        from config import checks  # noqa: F401  (registers the start-up checks)
        from logs.redact import redact
        from syncer.http import mask_secrets_with, observe_outcomes
        from syncer.service_status import service_seen

        observe_outcomes(service_seen)
        mask_secrets_with(redact)
