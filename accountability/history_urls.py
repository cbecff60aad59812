from django.urls import path

from . import history_views

urlpatterns = [
    path("", history_views.history_list, name="history-list"),
]
