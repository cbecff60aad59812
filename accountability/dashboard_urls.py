"""The leaders' dashboard (领导驾驶舱), mounted under /dashboard/."""

from django.urls import path

from . import command_screen, dashboard

urlpatterns = [
    path("", dashboard.dashboard_view, name="dashboard"),
    path("screen/", command_screen.command_screen_view, name="command-screen"),
]
