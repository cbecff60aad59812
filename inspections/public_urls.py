"""The public pages of 市民随手拍 (no login), mounted under /report/."""

from django.urls import path

from . import public_views

urlpatterns = [
    path("", public_views.public_report, name="public-report"),
    path("status/", public_views.public_report_lookup, name="public-report-lookup"),
    path("<str:reference>/", public_views.public_report_status, name="public-report-status"),
    path("<str:reference>/done/", public_views.public_report_done, name="public-report-done"),
]
