"""Requests the schema fuzzer found answering 500 (issue 12)."""

from __future__ import annotations

import pytest

from indicators.models import IndicatorSystem

pytestmark = pytest.mark.django_db


def test_a_system_created_without_its_kind_takes_the_default(api, office, campaign):
    response = api(office).post(
        "/api/v1/indicator-systems/", {"campaign": campaign.pk, "name": "0", "year": 1}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == IndicatorSystem._meta.get_field("kind").default
    assert IndicatorSystem.objects.filter(campaign=campaign, name="0").exists()
