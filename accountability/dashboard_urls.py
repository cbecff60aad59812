"""The leaders' dashboard (领导驾驶舱), mounted under /dashboard/."""

from django.urls import path

from . import dashboard

urlpatterns = [
    path("", dashboard.dashboard_view, name="dashboard"),
]
