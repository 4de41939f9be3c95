from django.urls import path

from syncer import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
