from django.urls import path

from . import appeal_views, recheck_views
from . import ranking_views as views

urlpatterns = [
    path("", views.ranking_week, name="rankings"),
    path("run/", views.ranking_run, name="ranking-run"),
    path("publish/", views.ranking_publish, name="ranking-publish"),
    path("runs/", views.run_list, name="rollup-runs"),
    path("units/<int:pk>/", views.ranking_unit, name="ranking-unit"),
    path("cases/", views.case_list_page, name="case-list"),
    path("cases/<int:pk>/", views.case_detail, name="case-detail"),
    path("appeals/", appeal_views.appeal_list_page, name="appeal-list"),
    path("appeals/new/<int:observation>/", appeal_views.appeal_create, name="appeal-create"),
    path("appeals/<int:pk>/decide/", appeal_views.appeal_decide_page, name="appeal-decide"),
    path("appeals/<int:pk>/photos/<int:photo>/", appeal_views.appeal_photo, name="appeal-photo"),
    path("evidence-flags/", recheck_views.EvidenceFlagListView.as_view(), name="evidence-flag-list"),
    path("rechecks/", recheck_views.recheck_list_page, name="recheck-list"),
    path("rechecks/<int:pk>/record/", recheck_views.recheck_record_page, name="recheck-record"),
]
