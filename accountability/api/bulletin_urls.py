from django.urls import re_path

from . import bulletins

app_name = "bulletins-api"

WEEK = r"bulletins/(?P<campaign>[0-9]+)/(?P<week>[0-9]{4}-W[0-9]{2})"

urlpatterns = [
    re_path(rf"^{WEEK}\.pdf$", bulletins.BulletinPdfView.as_view(), name="bulletin-pdf"),
    re_path(rf"^{WEEK}\.xlsx$", bulletins.BulletinXlsxView.as_view(), name="bulletin-xlsx"),
]
