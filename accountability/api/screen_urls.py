from django.urls import path

from . import screen

app_name = "screen-api"

urlpatterns = [
    path("command-screen/", screen.CommandScreenView.as_view(), name="command-screen"),
]
