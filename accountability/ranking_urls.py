from django.urls import path

from . import ranking_views as views

urlpatterns = [
    path("", views.ranking_week, name="rankings"),
    path("run/", views.ranking_run, name="ranking-run"),
    path("publish/", views.ranking_publish, name="ranking-publish"),
    path("runs/", views.run_list, name="rollup-runs"),
    path("units/<int:pk>/", views.ranking_unit, name="ranking-unit"),
    path("cases/", views.case_list_page, name="case-list"),
    path("cases/<int:pk>/", views.case_detail, name="case-detail"),
]
