from django.urls import path

from logs import views

urlpatterns = [
    path("logs/", views.log_list, name="logs"),
    path("logs/tail/", views.log_tail, name="logs-tail"),
]
