from django.urls import re_path

from . import meetings

app_name = "meeting-packs-api"

WEEK = r"meeting-packs/(?P<campaign>[0-9]+)/(?P<week>[0-9]{4}-W[0-9]{2})"

urlpatterns = [
    re_path(rf"^{WEEK}/$", meetings.MeetingPackView.as_view(), name="meeting-pack"),
    re_path(rf"^{WEEK}/units/$", meetings.MeetingPackUnitsView.as_view(), name="meeting-pack-units"),
    re_path(rf"^{WEEK}/units/(?P<unit>[0-9]+)/$", meetings.MeetingPackUnitView.as_view(), name="meeting-pack-unit"),
    re_path(rf"^{WEEK}/render/$", meetings.MeetingPackRenderView.as_view(), name="meeting-pack-render"),
    re_path(rf"^{WEEK}\.pdf$", meetings.MeetingPackPdfView.as_view(), name="meeting-pack-pdf"),
]
