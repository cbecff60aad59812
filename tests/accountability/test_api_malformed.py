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
