from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config import views
from config.access import public

admin.site.site_header = "AniList → Trakt Sync"
admin.site.site_title = "AniList → Trakt Sync"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("login/", public(auth_views.LoginView.as_view()), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include("syncer.api.urls")),
    path("", include("syncer.urls")),
    path("", include("logs.urls")),
]
