"""Malformed queries the schema fuzzer found answering 500 (issue 12)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("year", ["0.01", "0", "-3", "10000", "1e9", "二〇二六"])
def test_a_holiday_year_no_date_can_have_is_a_400(api, office, year):
    response = api(office).get("/api/v1/holidays/", {"year": year})
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body["fields"]) == {"year"} and "年份（year）" in body["detail"]


def test_a_holiday_year_filters(api, office):
    assert api(office).get("/api/v1/holidays/", {"year": "2026"}).status_code == 200


@pytest.mark.parametrize("ids", [[2**90], [16294447086366146, 281471142987648986232658067456], [-(2**70)]])
def test_notification_ids_beyond_any_id_are_a_400(api, office, ids):
    response = api(office).post("/api/v1/notifications/read/", {"ids": ids}, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()["fields"]) == {"ids"}


def test_notification_ids_within_range_are_read(api, office):
    response = api(office).post("/api/v1/notifications/read/", {"ids": [2**62]}, format="json")
    assert response.status_code == 200 and response.json() == {"marked": 0}
