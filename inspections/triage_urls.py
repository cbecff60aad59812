"""Pages of the 群众反映 triage and the public categories, mounted under /inspections/."""

from django.urls import path

from . import triage_views

urlpatterns = [
    path("reports/", triage_views.ReportQueueView.as_view(), name="report-list"),
    path("reports/import/", triage_views.TicketImportView.as_view(), name="report-import"),
    path("reports/replies.xlsx", triage_views.report_replies, name="report-replies"),
    path("reports/<int:pk>/", triage_views.ReportDetailView.as_view(), name="report-detail"),
    path("reports/<int:pk>/triage/", triage_views.ReportTriageView.as_view(), name="report-triage"),
    path("public-categories/", triage_views.PublicCategoryListView.as_view(), name="publiccategory-list"),
    path(
        "public-categories/import/",
        triage_views.PublicCategoryImportView.as_view(),
        name="publiccategory-import",
    ),
    path("public-categories/new/", triage_views.PublicCategoryCreateView.as_view(), name="publiccategory-create"),
    path(
        "public-categories/<int:pk>/edit/",
        triage_views.PublicCategoryEditView.as_view(),
        name="publiccategory-edit",
    ),
]
