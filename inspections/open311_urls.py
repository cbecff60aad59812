"""Open311 GeoReport v2, mounted at /open311/v2/ (inspections/open311.py). The format is the
suffix: `.json` or `.xml`; any other suffix is answered 404 in the spec's error shape."""

from django.urls import re_path

from . import open311

FORMAT = r"\.(?P<fmt>[A-Za-z0-9]{1,10})$"

urlpatterns = [
    re_path(r"^discovery" + FORMAT, open311.discovery, name="open311-discovery"),
    re_path(r"^services" + FORMAT, open311.services, name="open311-services"),
    re_path(r"^services/(?P<service_code>[\w-]{1,40})" + FORMAT, open311.service_definition, name="open311-service"),
    re_path(r"^requests" + FORMAT, open311.requests_view, name="open311-requests"),
    re_path(r"^requests/(?P<service_request_id>[\w-]{1,40})" + FORMAT, open311.request_detail, name="open311-request"),
]
