"""The JSON API (`/api/`): the original app's routes and shapes, plus run status."""

from django.urls import path, re_path

from syncer.api import doctor_views, source_views, sync_views, trakt_views, undo_views, views

urlpatterns = [
    path("status", views.status, name="api-status"),
    path("logs", views.logs, name="api-logs"),
    path("progress", views.progress, name="api-progress"),
    path("mappings", views.mappings, name="api-mappings"),
    path("manual-map", views.manual_map, name="api-manual-map"),
    path("runs/<int:run_id>", views.run_detail, name="api-run"),
    path("runs/<int:run_id>/items", views.run_items, name="api-run-items"),
    path("runs/<int:run_id>/undo", undo_views.run_undo, name="api-run-undo"),
    path("sync", sync_views.sync_show, name="api-sync"),
    path("full-sync", sync_views.full_sync, name="api-full-sync"),
    path("completed-sync", sync_views.completed_sync, name="api-completed-sync"),
    path("watching-sync", sync_views.watching_sync, name="api-watching-sync"),
    path("library-sync", sync_views.library_sync_all, name="api-library-sync"),
    path("cron", sync_views.cron, name="api-cron"),
    path("doctor", doctor_views.doctor, name="api-doctor"),
    path("refresh-otaku", source_views.refresh_otaku, name="api-refresh-otaku"),
    path("refresh-fribbs", source_views.refresh_fribbs, name="api-refresh-fribbs"),
    path("trakt-auth", trakt_views.trakt_auth, name="api-trakt-auth"),
    path("trakt-auth/device", trakt_views.device_start, name="api-trakt-device-start"),
    path("trakt-auth/device/<int:device_id>", trakt_views.device_poll, name="api-trakt-device"),
    # Last: everything else under /api/ answers JSON, never the HTML 404 page.
    re_path(r"^(?P<rest>.*)$", views.unknown_route, name="api-unknown"),
]
