"""GET /api/v1/history/ (issue 11 part 4): the read-only 变更记录 through the API — a check item's cap
changed through the API with a token names the token's user (DRF sets it on the Django request the
history middleware holds), with before {"cap": "2.00"} and after {"cap": "3.00"}."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from inspections import services
from tests.conftest import PASSWORD


def token_client(user) -> APIClient:
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def test_a_cap_change_through_the_api_with_a_token_is_listed_with_the_user(office, leader, ads_item, city):
    client = token_client(office)
    response = client.patch(
        f"/api/v1/check-items/{ads_item.pk}/", {"cap": "3", "departments": [city.dept_cg.pk]}, format="json"
    )
    assert response.status_code == 200, response.content

    response = token_client(leader).get(f"/api/v1/history/?model=checkitem&object={ads_item.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2  # created, then the cap and departments change
    change = body["results"][0]
    assert change["user"] == {"id": office.pk, "username": office.username, "name": office.username}
    assert change["changed_at"]
    assert (change["model"], change["object_id"], change["change"], change["change_label"]) == (
        "checkitem",
        ads_item.pk,
        "~",
        "修改",
    )
    assert change["object_repr"] == "核心价值观公益广告不少于2处"
    assert change["before"] == {"cap": "2.00", "departments": ""}
    assert change["after"] == {"cap": "3.00", "departments": "示范市城市管理局"}
    assert [c["field"] for c in change["changes"]] == ["cap", "departments"]
    assert change["changes"][0]["label"] == "最高扣分"
    created = body["results"][1]
    assert created["change"] == "+" and created["before"] == {}


def test_filters_by_user_and_date(api, office, leader, ads_item):
    api(office).patch(f"/api/v1/check-items/{ads_item.pk}/", {"per_occurrence": "1.00"}, format="json")
    mine = api(leader).get(f"/api/v1/history/?model=checkitem&user={office.pk}").json()
    assert [r["after"] for r in mine["results"]] == [{"per_occurrence": "1.00"}]
    assert mine["results"][0]["before"] == {"per_occurrence": "0.50"}
    assert api(leader).get("/api/v1/history/?model=checkitem&to=2000-01-01").json()["count"] == 0


@pytest.mark.parametrize(
    ("persona", "status"), [("office", 200), ("leader", 200), ("inspector", 403), ("liaison_jia", 403)]
)
def test_only_the_office_and_leaders_read_it(request, api, persona, status, ads_item):
    response = api(request.getfixturevalue(persona)).get("/api/v1/history/")
    assert response.status_code == status
    if status == 403:
        assert response.json()["detail"] == "变更记录仅对创建办和领导开放。"


def test_an_unknown_model_or_a_bad_date_is_a_400_in_chinese(api, office, db):
    response = api(office).get("/api/v1/history/?model=widget")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "对象类型“widget”不存在" in body["detail"] and "model" in body["fields"]
    response = api(office).get("/api/v1/history/?from=yesterday")
    assert response.status_code == 400 and "from" in response.json()["fields"]
    assert "开始日期" in response.json()["detail"]
    response = api(office).get("/api/v1/history/?object=5")
    assert response.status_code == 400 and "对象类型" in response.json()["detail"]


def test_the_query_count_does_not_grow_with_the_changes(api, office, ads_item, stall_item, market):
    client = api(office)
    counts = []
    for n in (50, 100):
        for i in range(n):
            item = (ads_item, stall_item)[i % 2]
            client.patch(f"/api/v1/check-items/{item.pk}/", {"cap": str(2 + i % 5)}, format="json")
        services.point_update(point=market, name=f"甲一农贸市场（{n}）")
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/history/")
        assert response.status_code == 200 and len(response.json()["results"]) == 50
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_the_schema_documents_the_endpoint(api, office):
    schema = api(office).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/history/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"model", "object", "user", "from", "to"}
