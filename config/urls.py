from django.contrib import admin
from django.urls import include, path

from config import login, views

admin.site.site_header = "AniList → Trakt Sync"
admin.site.site_title = "AniList → Trakt Sync"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("login/", login.login, name="login"),
    path("logout/", login.logout, name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include("syncer.api.urls")),
    path("", include("syncer.urls")),
    path("", include("logs.urls")),
]

# /api/ answers JSON even when Django itself answers (a crash, a refused host): see config.views.
handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
