from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from config.access import public
from syncer.views import (
    dashboard,
    doctor,
    manual,
    mappings,
    notify,
    runs,
    sources,
    sync,
    trakt,
    undo,
)

urlpatterns = [
    # Browsers ask for /favicon.ico on their own, logged in or not: answer with the icon.
    path("favicon.ico", public(RedirectView.as_view(url=static("favicon.svg"), permanent=True)), name="favicon"),
    path("", dashboard.dashboard, name="dashboard"),
    path("dashboard/runs/", dashboard.runs_partial, name="runs-partial"),
    path("dashboard/progress/", dashboard.progress_partial, name="progress-partial"),
    path("dashboard/connections/", dashboard.connections_partial, name="connections-partial"),
    path("dashboard/sources/", sources.sources_partial, name="sources-partial"),
    path("dashboard/sources/refresh/", sources.source_refresh, name="source-refresh"),
    path("dashboard/notify-test/", notify.notify_test_send, name="notify-test"),
    path("sync/", sync.sync_page, name="sync"),
    path("sync/start/", sync.sync_start, name="sync-start"),
    path("runs/<int:run_id>/", runs.run_detail, name="run-detail"),
    path("runs/<int:run_id>/status/", runs.run_status, name="run-status"),
    path("runs/<int:run_id>/undo/", undo.run_undo, name="run-undo"),
    path("doctor/", doctor.doctor_page, name="doctor"),
    path("doctor/start/", doctor.doctor_start, name="doctor-start"),
    path("mappings/", mappings.mapping_list, name="mappings"),
    path("manual/", manual.manual_mapping, name="manual"),
    path("trakt/", trakt.trakt_page, name="trakt"),
    path("trakt/device/", trakt.device_start, name="trakt-device-start"),
    path("trakt/device/<int:device_id>/poll/", trakt.device_poll, name="trakt-device-poll"),
    path("trakt/code/", trakt.code_exchange, name="trakt-code"),
    path("trakt/disconnect/", trakt.disconnect, name="trakt-disconnect"),
]
