"""The membership and users API (issue 13 item 9) and the people import's two other doors (the
API and the page): the office lists, creates, changes, deactivates and imports; every other persona
is refused and nothing changes."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from campaign.choices import Role
from campaign.models import Membership, UserProfile
from tests.campaign.test_people_import import snapshot
from tests.campaign.xlsx import make_xlsx, upload

User = get_user_model()
HEADER = ["姓名", "手机号", "账号", "角色", "单位", "工作组"]
LIST = "/api/v1/memberships/"
USERS = "/api/v1/users/"
IMPORT = "/api/v1/memberships/import/"
REFUSED = ["inspector", "leader", "liaison_jia", "liaison_dept"]


def people_file():
    return upload("people.xlsx", make_xlsx([HEADER, ["张三", "13800000001", "zhangsan", "督查员", "", ""]]))


@pytest.fixture
def everyone(office, inspector, leader, liaison_jia, liaison_dept):
    return {
        "office": office,
        "inspector": inspector,
        "leader": leader,
        "liaison_jia": liaison_jia,
        "liaison_dept": liaison_dept,
    }


# --- The office ------------------------------------------------------------------------------------


def test_office_lists_with_filters_search_and_pagination(api, everyone, city):
    UserProfile.objects.create(user=everyone["liaison_jia"], phone="13812345678")
    client = api(everyone["office"])
    body = client.get(LIST).json()
    assert body["count"] == 5 and len(body["results"]) == 5
    row = next(r for r in body["results"] if r["username"] == "liaison_jia")
    assert row["full_name"] == "liaison_jia" and row["phone"] == "13812345678"
    assert (row["role"], row["role_display"], row["unit"], row["unit_name"]) == (
        "liaison",
        "单位联络员",
        city.street_jia.pk,
        "甲街道",
    )
    assert {r["username"] for r in client.get(LIST, {"role": "liaison"}).json()["results"]} == {
        "liaison_jia",
        "liaison_cg",
    }
    assert [r["username"] for r in client.get(LIST, {"unit": city.dept_cg.pk}).json()["results"]] == ["liaison_cg"]
    assert [r["username"] for r in client.get(LIST, {"search": "1381234"}).json()["results"]] == ["liaison_jia"]
    assert client.get(LIST, {"page_size": 2}).json()["next"]
    assert client.get(LIST, {"colour": "red"}).status_code == 400  # strict query parameters


def test_office_creates_a_new_person_with_a_one_time_password(api, office, city):
    response = api(office).post(
        LIST, {"full_name": "新联络员", "phone": "138 0000 0009", "role": "liaison", "unit": city.street_yi.pk}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["username"] == "13800000009" and body["full_name"] == "新联络员" and body["phone"] == "13800000009"
    user = User.objects.get(username="13800000009")
    assert user.check_password(body["initial_password"]) and body["initial_password"] not in user.password
    assert user.profile.must_change_password
    again = api(office).get(f"{LIST}{body['id']}/").json()
    assert "initial_password" not in again


def test_office_adds_a_role_to_an_existing_person_by_id_or_username(api, office, liaison_jia, city):
    client = api(office)
    response = client.post(LIST, {"user": liaison_jia.pk, "role": "inspector"})
    assert response.status_code == 201 and "initial_password" not in response.json()
    response = client.post(LIST, {"username": "liaison_jia", "role": "liaison", "unit": city.community_jia1.pk})
    assert response.status_code == 201
    assert liaison_jia.memberships.count() == 3
    before = snapshot()
    duplicate = client.post(LIST, {"username": "liaison_jia", "role": "inspector"})
    assert duplicate.status_code == 400 and duplicate.json()["detail"] == "该用户已有这个角色。"
    clash = client.post(LIST, {"username": "liaison_jia", "full_name": "别人", "role": "leader"})
    assert clash.status_code == 400 and "已存在" in clash.json()["detail"]
    nobody = client.post(LIST, {"role": "leader"})
    assert nobody.status_code == 400
    liaison_without_unit = client.post(LIST, {"full_name": "无单位", "phone": "13800000010", "role": "liaison"})
    assert liaison_without_unit.status_code == 400 and not User.objects.filter(username="13800000010").exists()
    assert snapshot() == before


def test_office_changes_role_and_unit(api, office, liaison_jia, city):
    membership = liaison_jia.memberships.get()
    client = api(office)
    response = client.patch(f"{LIST}{membership.pk}/", {"unit": city.street_yi.pk}, format="json")
    assert response.status_code == 200 and response.json()["unit_name"] == "乙街道"
    response = client.patch(f"{LIST}{membership.pk}/", {"role": "inspector", "unit": None}, format="json")
    assert response.status_code == 200 and (response.json()["role"], response.json()["unit"]) == ("inspector", None)
    before = snapshot()
    refused = client.patch(f"{LIST}{membership.pk}/", {"role": "liaison"}, format="json")
    assert refused.status_code == 400 and "单位" in refused.json()["detail"]
    assert client.put(f"{LIST}{membership.pk}/", {"role": "leader"}, format="json").status_code == 405
    unknown = client.patch(f"{LIST}{membership.pk}/", {"colour": "red"}, format="json")
    assert unknown.status_code == 400
    assert snapshot() == before


def test_deactivate_removes_the_role_and_a_person_without_roles_is_inactive(api, office, liaison_jia):
    client = api(office)
    membership = liaison_jia.memberships.get()
    response = client.post(f"{LIST}{membership.pk}/deactivate/")
    assert response.status_code == 200
    assert response.json()["user_active"] is False and "已停用" in response.json()["detail"]
    liaison_jia.refresh_from_db()
    assert not liaison_jia.is_active and not liaison_jia.memberships.exists()
    # Given a role again (the API or an import), the person is active again.
    assert client.post(LIST, {"user": liaison_jia.pk, "role": "inspector"}).status_code == 201
    liaison_jia.refresh_from_db()
    assert liaison_jia.is_active


def test_the_last_office_membership_cannot_be_removed_or_changed(api, office):
    membership = office.memberships.get()
    client = api(office)
    before = snapshot()
    response = client.post(f"{LIST}{membership.pk}/deactivate/")
    assert response.status_code == 400 and response.json()["detail"] == "这是最后一个创建办账号，不能移除。"
    response = client.patch(f"{LIST}{membership.pk}/", {"role": "leader"}, format="json")
    assert response.status_code == 400
    assert Membership.objects.filter(pk=membership.pk, role=Role.OFFICE).exists()
    assert snapshot() == before


def test_users_list_searches_names_logins_and_phones(api, everyone):
    UserProfile.objects.create(user=everyone["leader"], phone="13700000001")
    client = api(everyone["office"])
    body = client.get(USERS, {"search": "137000"}).json()
    assert [u["username"] for u in body["results"]] == ["leader_wang"]
    user = body["results"][0]
    assert set(user) == {"id", "username", "full_name", "phone", "active", "roles"}
    assert user["roles"] == [
        {
            "id": everyone["leader"].memberships.get().pk,
            "role": "leader",
            "role_display": "领导",
            "unit": None,
            "unit_name": "",
        }
    ]
    assert client.get(USERS, {"search": "liaison"}).json()["count"] == 2


def test_users_list_query_count_does_not_grow(api, everyone, django_assert_max_num_queries):
    client = api(everyone["office"])
    with django_assert_max_num_queries(6):
        assert client.get(USERS).json()["count"] == 5


def test_api_import_previews_then_imports_and_returns_passwords_once(api, office, city):
    client = api(office)
    preview = client.post(IMPORT, {"file": people_file(), "dry_run": "1"}, format="multipart")
    assert preview.status_code == 200 and preview.json()["created"] == 1
    assert "initial_passwords" not in preview.json()
    assert not User.objects.filter(username="zhangsan").exists()
    response = client.post(IMPORT, {"file": people_file()}, format="multipart")
    assert response.status_code == 200
    [entry] = response.json()["initial_passwords"]
    assert entry["username"] == "zhangsan" and User.objects.get(username="zhangsan").check_password(entry["password"])
    again = client.post(IMPORT, {"file": people_file()}, format="multipart").json()
    assert again["unchanged"] == 1 and again["initial_passwords"] == []


def test_api_import_row_errors_are_a_400_and_write_nothing(api, office, city):
    bad = upload("people.xlsx", make_xlsx([HEADER, ["张三", "123", "zhangsan", "督查员", "", ""]]))
    before = snapshot()
    response = api(office).post(IMPORT, {"file": bad}, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert (
        body["code"] == "import_invalid" and body["errors"][0]["row"] == 2 and body["errors"][0]["column"] == "手机号"
    )
    assert snapshot() == before


# --- Everyone else is refused, and nothing changes --------------------------------------------------


@pytest.mark.parametrize("persona", [*REFUSED, "anonymous"])
def test_other_personas_are_refused_everything(api, everyone, city, persona):
    client = api(everyone.get(persona))
    membership = everyone["liaison_jia"].memberships.get()
    before = snapshot()
    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}{membership.pk}/").status_code == 403
    assert client.get(USERS).status_code == 403
    assert client.post(LIST, {"full_name": "越权", "phone": "13800000099", "role": "office"}).status_code == 403
    assert client.post(LIST, {"user": everyone["liaison_jia"].pk, "role": "office"}).status_code == 403
    assert client.patch(f"{LIST}{membership.pk}/", {"role": "office"}, format="json").status_code == 403
    assert client.post(f"{LIST}{membership.pk}/deactivate/").status_code == 403
    assert client.post(IMPORT, {"file": people_file()}, format="multipart").status_code == 403
    assert snapshot() == before


# --- The page -----------------------------------------------------------------------------------------


def test_page_preview_confirm_shows_the_passwords_once(client, office, city):
    client.force_login(office)
    response = client.post("/members/import/", {"file": people_file()})
    assert response.status_code == 200
    token = response.context["token"]
    assert token and not User.objects.filter(username="zhangsan").exists()
    response = client.post("/members/import/", {"token": token})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    [entry] = response.context["passwords"]
    assert entry.password in response.content.decode()
    assert User.objects.get(username="zhangsan").check_password(entry.password)
    # The token is used once: the passwords cannot be shown again.
    response = client.post("/members/import/", {"token": token})
    assert response.status_code == 400 and "预览已过期" in response.content.decode()
    listing = client.get("/members/").content.decode()
    assert entry.password not in listing and "张三" in listing


def test_members_page_shows_the_name_first(client, office, liaison_jia):
    client.force_login(office)
    html = client.get("/members/").content.decode()
    headers = html[html.index("<thead") : html.index("</thead>")]
    assert headers.index("姓名") < headers.index("账号") < headers.index("角色")


@pytest.mark.parametrize("persona", REFUSED)
def test_other_personas_cannot_open_the_import_page(client, everyone, persona):
    client.force_login(everyone[persona])
    before = snapshot()
    assert client.get("/members/import/").status_code == 403
    assert client.post("/members/import/", {"file": people_file()}).status_code == 403
    assert snapshot() == before


def test_members_page_searches_phones_and_costs_the_same_queries_for_more_people(client, office, city):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaign.people import people_import

    client.force_login(office)
    counts = []
    for start, size in ((0, 3), (3, 30)):
        rows = [[f"人员{i}", f"139{i:08d}", f"p{i}", "单位联络员", "甲街道", ""] for i in range(start, start + size)]
        assert people_import(file=upload("p.xlsx", make_xlsx([HEADER, *rows])), dry_run=False).ok
        client.get("/members/")
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/members/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    html = client.get("/members/", {"q": "13900000005"}).content.decode()
    assert "人员5" in html and "人员6" not in html
