"""The units and campaigns API, persona by persona. Refused writes change nothing."""

import pytest
from rest_framework.authtoken.models import Token

from campaign.models import Campaign, Unit
from tests.conftest import PASSWORD, unit_snapshot


def ids(response):
    return sorted(row["id"] for row in response.json()["results"])


def test_token_round_trip(api, office):
    response = api().post("/api/v1/auth/token/", {"username": "office_clerk", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=office).key == token
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/units/").status_code == 200


def test_token_refuses_a_wrong_password_in_chinese(api, office):
    response = api().post("/api/v1/auth/token/", {"username": "office_clerk", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "detail": "用户名或密码错误。",
        "fields": {"non_field_errors": ["用户名或密码错误。"]},
    }
    assert not Token.objects.exists()


def test_anonymous_gets_the_error_shape(api, city):
    response = api().get("/api/v1/units/")
    assert response.status_code in (401, 403)
    body = response.json()
    assert set(body) == {"code", "detail"}
    assert body["detail"] in {"请先登录。", "您没有执行该操作的权限。"}


def test_filters_kind_parent_within(api, city, office):
    client = api(office)
    assert ids(client.get("/api/v1/units/", {"kind": "community"})) == sorted(
        [city.community_jia1.pk, city.community_jia2.pk, city.community_yi1.pk]
    )
    assert ids(client.get("/api/v1/units/", {"parent": city.street_jia.pk})) == sorted(
        [city.community_jia1.pk, city.community_jia2.pk]
    )
    assert ids(client.get("/api/v1/units/", {"within": city.district_jia.pk})) == sorted(
        [city.district_jia.pk, city.street_jia.pk, city.community_jia1.pk, city.community_jia2.pk]
    )


def test_unknown_within_is_empty_and_a_non_number_a_chinese_400(api, city, office):
    assert api(office).get("/api/v1/units/", {"within": 999999}).json()["count"] == 0
    response = api(office).get("/api/v1/units/", {"within": "甲区"})
    assert response.status_code == 400
    assert response.json()["detail"] == "输入一个数字。"
    assert response.json()["code"] == "invalid"
    assert "within" in response.json()["fields"]


def test_liaison_lists_only_its_subtree(api, city, liaison_jia):
    response = api(liaison_jia).get("/api/v1/units/")
    assert ids(response) == sorted([city.street_jia.pk, city.community_jia1.pk, city.community_jia2.pk])


def test_list_query_count_does_not_grow_with_units(api, city, office, django_assert_num_queries):
    client = api(office)
    # 1 memberships (scope) + 1 count + 1 page of units with parents joined.
    with django_assert_num_queries(3):
        client.get("/api/v1/units/")


def test_office_creates_and_moves_units(api, city, office):
    client = api(office)
    response = client.post(
        "/api/v1/units/",
        {"name": "甲三社区", "code": "JIA-1-3", "kind": "community", "parent": city.street_jia.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    created = Unit.objects.get(code="JIA-1-3")
    assert created.path == f"{city.street_jia.path}{created.pk}/"
    response = client.patch(f"/api/v1/units/{city.street_jia.pk}/", {"parent": city.district_yi.pk}, format="json")
    assert response.status_code == 200
    created.refresh_from_db()
    assert created.path.startswith(city.district_yi.path)


def test_office_gets_chinese_validation_errors(api, city, office):
    before = unit_snapshot()
    response = api(office).post(
        "/api/v1/units/",
        {"name": "错社区", "code": "BAD", "kind": "community", "parent": city.district_jia.pk},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "社区村的上级不能是区县，应为：街道乡镇。"
    assert unit_snapshot() == before


@pytest.mark.parametrize("persona", ["leader", "inspector", "liaison_jia"])
def test_non_office_cannot_create_or_delete(api, city, persona, request):
    user = request.getfixturevalue(persona)
    client = api(user)
    before = unit_snapshot()
    response = client.post("/api/v1/units/", {"name": "X", "code": "X", "kind": "district"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    response = client.delete(f"/api/v1/units/{city.community_jia2.pk}/")
    assert response.status_code == 403
    assert unit_snapshot() == before


def test_leader_cannot_change_anything(api, city, leader):
    before = unit_snapshot()
    response = api(leader).patch(f"/api/v1/units/{city.street_jia.pk}/", {"phone": "110"}, format="json")
    assert response.status_code == 403
    assert unit_snapshot() == before


def test_liaison_updates_contacts_of_its_own_units(api, city, liaison_jia):
    response = api(liaison_jia).patch(
        f"/api/v1/units/{city.community_jia1.pk}/", {"liaison_name": "新联络员", "phone": "0510-1"}, format="json"
    )
    assert response.status_code == 200
    city.community_jia1.refresh_from_db()
    assert (city.community_jia1.liaison_name, city.community_jia1.phone) == ("新联络员", "0510-1")


def test_liaison_cannot_rename_or_move_its_own_unit(api, city, liaison_jia):
    before = unit_snapshot()
    response = api(liaison_jia).patch(
        f"/api/v1/units/{city.street_jia.pk}/", {"name": "改名街道", "phone": "1"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "单位联络员只能修改主要负责人、联络员和联系电话。"
    assert unit_snapshot() == before


def test_liaison_of_another_street_gets_404_and_nothing_changes(api, city, liaison_yi):
    client = api(liaison_yi)
    before = unit_snapshot()
    assert client.get(f"/api/v1/units/{city.street_jia.pk}/").status_code == 404
    response = client.patch(f"/api/v1/units/{city.street_jia.pk}/", {"phone": "999"}, format="json")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "未找到该对象，或您无权查看。"}
    assert client.delete(f"/api/v1/units/{city.community_jia1.pk}/").status_code == 404
    assert unit_snapshot() == before


def test_campaigns_read_for_all_write_for_office(api, campaign, leader, office):
    response = api(leader).get(f"/api/v1/campaigns/{campaign.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert [p["kind"] for p in body["phases"]] == ["launch", "rectify"]
    assert (body["share_declaration"], body["share_field"], body["share_survey"]) == (40, 40, 20)
    response = api(leader).patch(f"/api/v1/campaigns/{campaign.pk}/", {"name": "改"}, format="json")
    assert response.status_code == 403
    assert Campaign.objects.get().name == "创建全国文明城市"
    response = api(office).patch(f"/api/v1/campaigns/{campaign.pk}/", {"share_survey": 30}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "网上申报、实地考察、问卷调查三项占比之和应为 100，现为 110。"
    response = api(office).patch(
        f"/api/v1/campaigns/{campaign.pk}/", {"share_field": 30, "share_survey": 30}, format="json"
    )
    assert response.status_code == 200
    assert Campaign.objects.get().share_field == 30


def test_schema_and_docs_are_served_locally(client, office):
    client.force_login(office)
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower() and b"unpkg" not in docs.content.lower()
