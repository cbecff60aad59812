"""The project's URLs plus the inspection pages, until campaign/urls.py includes them."""

from django.urls import include, path

from campaign.urls import handler403, handler404  # noqa: F401
from campaign.urls import urlpatterns as campaign_urlpatterns

urlpatterns = [*campaign_urlpatterns, path("inspections/", include("inspections.urls"))]
