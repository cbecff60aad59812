"""Malformed bodies the schema fuzzer found answering 500 (issue 12): each is now a Chinese 400
naming the field, and nothing is written."""

from __future__ import annotations

import uuid

import pytest

from inspections.models import Inspection, Point

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("quota", [[1, 2], "5", 7, None, True, [{"1": 2}]])
def test_a_draw_whose_quota_is_not_an_object_is_a_400(api, office, round_, quota):
    points = sorted(round_.points.values_list("pk", flat=True))
    response = api(office).post(f"/api/v1/rounds/{round_.pk}/draw/", {"quota": quota}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and "quota" in body["fields"]
    assert sorted(round_.points.values_list("pk", flat=True)) == points


@pytest.mark.parametrize("value", [1e20, -1e20, "1e20", "NaN", "Infinity", "-inf", 1e308, "1e999999"])
@pytest.mark.parametrize("field", ["latitude", "longitude"])
def test_a_point_with_an_absurd_coordinate_is_a_400(api, office, market, field, value):
    response = api(office).patch(
        f"/api/v1/points/{market.pk}/",
        {field: value, "latitude" if field == "longitude" else "longitude": 30},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    market.refresh_from_db()
    assert market.latitude is None or abs(market.latitude) <= 90


@pytest.mark.parametrize("value", [1e20, "-1e20", "NaN"])
def test_an_inspection_with_an_absurd_coordinate_is_a_400(api, inspector, round_, market, ads_item, value):
    body = {
        "round": round_.pk,
        "point": market.pk,
        "client_uuid": str(uuid.uuid4()),
        "latitude": value,
        "longitude": 120.3,
        "observations": [{"check_item": ads_item.pk, "result": "pass"}],
    }
    response = api(inspector).post("/api/v1/inspections/", body, format="json")
    assert response.status_code == 400, response.content
    assert "latitude" in response.json()["fields"]
    assert not Inspection.objects.exists()
    assert Point.objects.filter(pk=market.pk).exists()


def test_deleting_a_unit_that_points_refer_to_is_a_409_naming_them(api, office, city, market):
    # 甲一社区 has no children and no members, but a point is located in it (PROTECT).
    from inspections import services

    point = services.point_create(name="甲一社区广场", point_type=market.point_type, unit=city.community_jia1)
    response = api(office).delete(f"/api/v1/units/{city.community_jia1.pk}/")
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "protected"
    assert "点位" in response.json()["detail"]
    assert Point.objects.filter(pk=point.pk).exists()
