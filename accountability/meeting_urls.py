from django.urls import re_path

from . import meeting_views as views

WEEK = r"(?P<campaign_id>[0-9]+)/(?P<week>[0-9]{4}-W[0-9]{2})"

urlpatterns = [
    re_path(r"^$", views.meeting_list, name="meeting-list"),
    re_path(rf"^{WEEK}/$", views.meeting_page, name="meeting-page"),
    re_path(rf"^{WEEK}\.pdf$", views.meeting_pdf, name="meeting-pdf"),
    re_path(rf"^{WEEK}/status/$", views.meeting_status, name="meeting-status"),
    re_path(rf"^{WEEK}/generate/$", views.meeting_generate, name="meeting-generate"),
    re_path(rf"^{WEEK}/units/$", views.meeting_add_unit, name="meeting-add-unit"),
    re_path(rf"^{WEEK}/units/remove/$", views.meeting_remove_unit, name="meeting-remove-unit"),
]
