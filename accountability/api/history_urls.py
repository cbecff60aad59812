from django.urls import path

from . import history

app_name = "history-api"

urlpatterns = [
    path("history/", history.HistoryView.as_view(), name="history"),
]
