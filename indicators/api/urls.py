from django.urls import include, path
from rest_framework.routers import DefaultRouter

from .views import IndicatorSystemViewSet, IndicatorViewSet, MaterialViewSet, NegativeListItemViewSet, RiskEventViewSet

app_name = "indicators-api"

router = DefaultRouter()
router.register("indicator-systems", IndicatorSystemViewSet, basename="indicator-system")
router.register("indicators", IndicatorViewSet, basename="indicator")
router.register("materials", MaterialViewSet, basename="material")
router.register("negative-list-items", NegativeListItemViewSet, basename="negative-list-item")
router.register("risk-events", RiskEventViewSet, basename="risk-event")

urlpatterns = [
    path("", include(router.urls)),
]
