from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from inspections import pwa

from . import password_change, people_views, views

urlpatterns = [
    path("", views.home, name="home"),
    # The phone app (PWA): manifest, service worker at the root scope, offline page
    path("manifest.webmanifest", pwa.manifest, name="web-manifest"),
    path("sw.js", pwa.service_worker, name="service-worker"),
    path("offline/", pwa.offline, name="offline"),
    # 市民随手拍: the public report form and status pages (no login)
    path("report/", include("inspections.public_urls")),
    path("login/", password_change.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", password_change.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="registration/password_change_done.html"),
        name="password_change_done",
    ),
    # Units
    path("units/", views.UnitListView.as_view(), name="unit-list"),
    path("units/tree/", views.unit_tree, name="unit-tree"),
    path("units/new/", views.UnitCreateView.as_view(), name="unit-create"),
    path("units/import/", views.UnitImportView.as_view(), name="unit-import"),
    path("units/<int:pk>/", views.UnitDetailView.as_view(), name="unit-detail"),
    path("units/<int:pk>/edit/", views.UnitEditView.as_view(), name="unit-edit"),
    path("units/<int:pk>/contacts/", views.UnitContactsView.as_view(), name="unit-contacts"),
    path("units/<int:pk>/delete/", views.UnitDeleteView.as_view(), name="unit-delete"),
    # People
    path("members/", people_views.MembershipListView.as_view(), name="membership-list"),
    path("members/import/", people_views.PeopleImportView.as_view(), name="membership-import"),
    path("members/new/", views.MembershipCreateView.as_view(), name="membership-create"),
    path("members/<int:pk>/delete/", views.membership_delete, name="membership-delete"),
    # Campaigns
    path("campaigns/", views.CampaignListView.as_view(), name="campaign-list"),
    path("campaigns/switch/", views.campaign_switch, name="campaign-switch"),
    path("campaigns/new/", views.CampaignCreateView.as_view(), name="campaign-create"),
    path("campaigns/<int:pk>/", views.CampaignDetailView.as_view(), name="campaign-detail"),
    path("campaigns/<int:pk>/edit/", views.CampaignEditView.as_view(), name="campaign-edit"),
    path("campaigns/<int:pk>/phases/", views.CampaignPhasesView.as_view(), name="campaign-phases"),
    path("campaigns/<int:campaign_pk>/groups/new/", views.WorkGroupFormView.as_view(), name="workgroup-create"),
    path("campaigns/<int:campaign_pk>/groups/<int:pk>/edit/", views.WorkGroupFormView.as_view(), name="workgroup-edit"),
    path("indicators/", include("indicators.urls")),
    path("inspections/", include("inspections.urls")),
    path("problems/", include("accountability.urls")),
    path("rankings/", include("accountability.ranking_urls")),
    path("dashboard/", include("accountability.dashboard_urls")),
    path("surveys/", include("accountability.survey_urls")),
    path("bulletins/", include("accountability.bulletin_urls")),
    path("history/", include("accountability.history_urls")),
    path("commitments/", include("accountability.commitment_urls")),
    path("meetings/", include("accountability.meeting_urls")),
    # Open311 GeoReport v2: public reads, keyed writes (no login)
    path("open311/v2/", include("inspections.open311_urls")),
    path("notifications/", include("accountability.notify_urls")),
    # Operations
    path("jobs/", views.JobRunListView.as_view(), name="jobrun-list"),
    path("jobs/worker-check/", views.worker_check, name="jobrun-worker-check"),
    # Back office and API
    path("admin/", admin.site.urls),
    path("api/v1/", include("campaign.api.urls")),
    path("api/v1/", include("accountability.api.urls")),
    path("api/v1/", include("accountability.api.ranking_urls")),
    path("api/v1/", include("accountability.api.survey_urls")),
    path("api/v1/", include("accountability.api.bulletin_urls")),
    path("api/v1/", include("accountability.api.history_urls")),
    path("api/v1/", include("accountability.api.commitment_urls")),
    path("api/v1/", include("accountability.api.screen_urls")),
    path("api/v1/", include("accountability.api.meeting_urls")),
    path("api/v1/", include("inspections.api.urls")),
    path("api/v1/", include("indicators.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]

handler403 = "campaign.errors.permission_denied"
handler404 = "campaign.errors.not_found"
