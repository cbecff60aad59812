from django.urls import path

from . import appeals, figures, rankings, recheck

app_name = "rankings-api"

urlpatterns = [
    path("rankings/", rankings.RankingView.as_view(), name="rankings"),
    path("rankings/publish/", rankings.PublishView.as_view(), name="rankings-publish"),
    path("rankings/units/<int:pk>/trend/", figures.UnitTrendView.as_view(), name="unit-trend"),
    path("dashboard/", figures.DashboardView.as_view(), name="dashboard"),
    path("rollups/", rankings.RollupView.as_view(), name="rollups"),
    path("accountability-cases/", rankings.CaseListView.as_view(), name="case-list"),
    path("accountability-cases/<int:pk>/", rankings.CaseDetailView.as_view(), name="case-detail"),
    path("accountability-cases/<int:pk>/decide/", rankings.CaseDecideView.as_view(), name="case-decide"),
    path("appeals/", appeals.AppealListView.as_view(), name="appeal-list"),
    path("appeals/<int:pk>/", appeals.AppealDetailView.as_view(), name="appeal-detail"),
    path("appeals/<int:pk>/decide/", appeals.AppealDecideView.as_view(), name="appeal-decide"),
    path("evidence-flags/", recheck.EvidenceFlagListView.as_view(), name="evidence-flag-list"),
    path("recheck-draws/", recheck.RecheckDrawListView.as_view(), name="recheck-draw-list"),
    path("rechecks/<int:pk>/record/", recheck.RecheckRecordView.as_view(), name="recheck-record"),
]
