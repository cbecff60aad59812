"""Pages of the field-inspection app, mounted under /inspections/."""

from django.urls import include, path

from . import intake_key_views, third_party_views, views
from .observation_views import ObservationListView

urlpatterns = [
    # Points
    path("points/", views.PointListView.as_view(), name="point-list"),
    path("points/map/", views.point_map, name="point-map"),
    path("points/new/", views.PointCreateView.as_view(), name="point-create"),
    path("points/import/", views.PointImportView.as_view(), name="point-import"),
    path("points/<int:pk>/", views.PointDetailView.as_view(), name="point-detail"),
    path("points/<int:pk>/edit/", views.PointEditView.as_view(), name="point-edit"),
    # Point types
    path("point-types/", views.PointTypeListView.as_view(), name="pointtype-list"),
    path("point-types/new/", views.PointTypeCreateView.as_view(), name="pointtype-create"),
    path("point-types/import/", views.PointTypeImportView.as_view(), name="pointtype-import"),
    path("point-types/<int:pk>/edit/", views.PointTypeEditView.as_view(), name="pointtype-edit"),
    # Check items
    path("check-items/", views.CheckItemListView.as_view(), name="checkitem-list"),
    path("check-items/import/", views.CheckItemImportView.as_view(), name="checkitem-import"),
    # Rounds
    path("rounds/", views.RoundListView.as_view(), name="round-list"),
    path("rounds/new/", views.RoundCreateView.as_view(), name="round-create"),
    path("rounds/<int:pk>/", views.RoundDetailView.as_view(), name="round-detail"),
    path("rounds/<int:pk>/draw/", views.RoundDrawView.as_view(), name="round-draw"),
    path(
        "third-party-results/import/",
        third_party_views.ThirdPartyResultImportView.as_view(),
        name="third-party-import",
    ),
    # The office's API keys for outside systems (Open311 clients)
    path("intake-keys/", intake_key_views.IntakeKeyListView.as_view(), name="intakekey-list"),
    path("intake-keys/new/", intake_key_views.IntakeKeyCreateView.as_view(), name="intakekey-create"),
    path("intake-keys/<int:pk>/revoke/", intake_key_views.intake_key_revoke_view, name="intakekey-revoke"),
    # Recording (the phone page), photos, inspections
    path("record/", views.InspectionRecordView.as_view(), name="inspection-record"),
    path("photo-upload/", views.photo_upload, name="inspection-photo-upload"),
    path("photos/<int:pk>/", views.photo_file, name="photo-file"),
    path("photos/<int:pk>/thumb/", views.photo_thumb, name="photo-thumb"),
    path("<int:pk>/", views.InspectionDetailView.as_view(), name="inspection-detail"),
    path("<int:pk>/correct/", views.InspectionCorrectView.as_view(), name="inspection-correct"),
    # Problems (the workflow that moves them lives in the accountability app)
    path("observations/", ObservationListView.as_view(), name="observation-list"),
    path("problems/", views.ProblemListView.as_view(), name="problem-list"),
    path("problems/new/", views.ProblemCreateView.as_view(), name="problem-create"),
    path("problems/<int:pk>/", views.ProblemDetailView.as_view(), name="problem-detail"),
    # 群众反映 triage, 12345 tickets, public categories
    path("", include("inspections.triage_urls")),
]
