from django.urls import re_path

from . import bulletin_views as views

WEEK = r"(?P<campaign_id>[0-9]+)/(?P<week>[0-9]{4}-W[0-9]{2})"

urlpatterns = [
    re_path(r"^$", views.bulletin_list, name="bulletin-list"),
    re_path(rf"^{WEEK}/$", views.bulletin_page, name="bulletin-page"),
    re_path(rf"^{WEEK}\.pdf$", views.bulletin_pdf_download, name="bulletin-pdf"),
    re_path(rf"^{WEEK}\.xlsx$", views.bulletin_xlsx_download, name="bulletin-xlsx"),
    re_path(rf"^{WEEK}/status/$", views.bulletin_status, name="bulletin-status"),
    re_path(rf"^{WEEK}/regenerate/$", views.bulletin_regenerate_view, name="bulletin-regenerate"),
    re_path(rf"^{WEEK}/photos/(?P<photo_id>[0-9]+)/$", views.bulletin_photo, name="bulletin-photo"),
]
