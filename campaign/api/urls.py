from django.urls import include, path
from rest_framework.routers import DefaultRouter

from .people import MembershipViewSet, UserViewSet
from .views import CampaignViewSet, JobRunViewSet, TokenView, UnitViewSet, WorkGroupViewSet

app_name = "api"

router = DefaultRouter()
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("units", UnitViewSet, basename="unit")
router.register("work-groups", WorkGroupViewSet, basename="work-group")
router.register("job-runs", JobRunViewSet, basename="job-run")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("users", UserViewSet, basename="user")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("", include(router.urls)),
]
