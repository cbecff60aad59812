from django.urls import include, path
from rest_framework.routers import DefaultRouter

from .intake_keys import IntakeKeyListView, IntakeKeyRevokeView
from .problem_map import ProblemMapView
from .reports import HotlineTicketsView, PublicCategoryViewSet, ReportViewSet
from .third_party import ThirdPartyResultsImportView
from .views import (
    CheckItemViewSet,
    InspectionViewSet,
    ObservationViewSet,
    PhotoViewSet,
    PointTypeViewSet,
    PointViewSet,
    ProblemViewSet,
    RoundViewSet,
)

app_name = "inspections-api"

router = DefaultRouter()
router.register("point-types", PointTypeViewSet, basename="point-type")
router.register("points", PointViewSet, basename="point")
router.register("check-items", CheckItemViewSet, basename="check-item")
router.register("rounds", RoundViewSet, basename="round")
router.register("inspections", InspectionViewSet, basename="inspection")
router.register("observations", ObservationViewSet, basename="observation")
router.register("photos", PhotoViewSet, basename="photo")
router.register("problems", ProblemViewSet, basename="problem")
router.register("reports", ReportViewSet, basename="report")
router.register("public-categories", PublicCategoryViewSet, basename="public-category")

urlpatterns = [
    path("", include(router.urls)),
    path("intake-keys/", IntakeKeyListView.as_view(), name="intake-key-list"),
    path("intake-keys/<int:pk>/revoke/", IntakeKeyRevokeView.as_view(), name="intake-key-revoke"),
    path("problem-map/", ProblemMapView.as_view(), name="problem-map"),
    path("hotline-tickets/", HotlineTicketsView.as_view(), name="hotline-tickets"),
    path("third-party-results/import/", ThirdPartyResultsImportView.as_view(), name="third-party-results-import"),
]
