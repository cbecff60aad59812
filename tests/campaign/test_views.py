"""Pages of the shared kernel, persona by persona."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from openpyxl import load_workbook

from campaign import services
from campaign.choices import JobStatus, Role, UnitKind
from campaign.models import JobRun, Membership, Unit
from tests.conftest import unit_snapshot
from tests.navigation import NAV, OFFICE_MORE


@pytest.mark.parametrize(
    ("persona", "title", "nav", "more"),
    [
        ("office", "创建办工作台", NAV["office"], OFFICE_MORE),
        ("leader", "领导驾驶舱", NAV["leader"], []),
        ("inspector", "督查员首页", NAV["inspector"], []),
        ("liaison_jia", "单位工作台", NAV["liaison"], []),
    ],
)
def test_each_role_has_its_home_and_navigation(web, campaign, persona, title, nav, more, request):
    response = web(request.getfixturevalue(persona)).get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-testid="home-title">{title}<' in html
    assert [label for label, _url in response.context["nav_items"]] == nav
    assert [label for label, _url in response.context["nav_more"]] == more
    assert "倒计时" in html


def test_office_home_has_no_placeholder_left(web, campaign, office):
    html = web(office).get("/").content.decode()
    # Every slot of the office's home is filled by its app now (with its own empty state).
    assert html.count('data-testid="pending-widget"') == 0
    assert 'data-testid="widget-rankings-office"' in html and "还没有计算过周评比" in html


def test_anonymous_is_sent_to_login(client):
    response = client.get("/units/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_login_page_is_chinese(client):
    html = client.get("/login/").content.decode()
    assert "账号登录" in html and "用户名" in html and "密码" in html


def test_liaison_opening_another_streets_unit_is_refused(web, city, liaison_yi):
    client = web(liaison_yi)
    assert client.get(f"/units/{city.street_jia.pk}/").status_code == 404
    before = unit_snapshot()
    response = client.post(
        f"/units/{city.street_jia.pk}/contacts/", {"phone": "1", "leader_name": "", "liaison_name": ""}
    )
    assert response.status_code == 404
    assert client.post(f"/units/{city.street_jia.pk}/edit/", {"name": "x"}).status_code == 404
    assert client.post(f"/units/{city.street_jia.pk}/delete/").status_code == 404
    assert unit_snapshot() == before


def test_liaison_sees_only_its_subtree_in_lists_tree_and_export(web, city, liaison_jia):
    client = web(liaison_jia)
    assert {u.name for u in client.get("/units/").context["object_list"]} == {"甲街道", "甲一社区", "甲二社区"}
    tree = client.get("/units/tree/").content.decode()
    assert "甲一社区" in tree and "乙街道" not in tree and "甲区" not in tree
    workbook = load_workbook(io.BytesIO(client.get("/units/?export=xlsx").content))
    names = sorted(row[0] for row in workbook.active.iter_rows(min_row=2, values_only=True))
    assert names == ["甲一社区", "甲二社区", "甲街道"]


def test_liaison_updates_contacts_but_not_the_unit(web, city, liaison_jia):
    client = web(liaison_jia)
    response = client.post(
        f"/units/{city.community_jia1.pk}/contacts/",
        {"leader_name": "社区书记", "liaison_name": "小王", "phone": "123"},
    )
    assert response.status_code == 302
    city.community_jia1.refresh_from_db()
    assert (city.community_jia1.leader_name, city.community_jia1.liaison_name) == ("社区书记", "小王")
    before = unit_snapshot()
    assert client.post(f"/units/{city.community_jia1.pk}/edit/", {"name": "改名"}).status_code == 403
    assert client.get("/units/new/").status_code == 403
    assert unit_snapshot() == before


def test_leader_changes_nothing_through_pages(web, city, campaign, leader):
    client = web(leader)
    before = unit_snapshot()
    for url, data in [
        (f"/units/{city.street_jia.pk}/contacts/", {"phone": "1"}),
        (f"/units/{city.street_jia.pk}/edit/", {"name": "x"}),
        ("/units/new/", {"name": "x", "code": "x", "kind": "district"}),
        (f"/units/{city.community_jia2.pk}/delete/", {}),
        (f"/campaigns/{campaign.pk}/edit/", {"name": "x"}),
        ("/members/new/", {"username": "x", "role": "office"}),
        ("/jobs/worker-check/", {}),
    ]:
        assert client.post(url, data).status_code == 403, url
    assert unit_snapshot() == before
    assert not JobRun.objects.exists()
    assert get_user_model().objects.filter(username="x").count() == 0


def test_office_creates_a_unit_and_sees_service_errors_on_the_form(web, city, office):
    client = web(office)
    response = client.post(
        "/units/new/",
        {"name": "甲三社区", "code": "JIA-1-3", "kind": "community", "parent": city.district_jia.pk, "active": "on"},
    )
    assert response.status_code == 400
    assert "社区村的上级不能是区县" in response.content.decode()
    response = client.post(
        "/units/new/",
        {"name": "甲三社区", "code": "JIA-1-3", "kind": "community", "parent": city.street_jia.pk, "active": "on"},
    )
    assert response.status_code == 302
    assert Unit.objects.get(code="JIA-1-3").parent == city.street_jia


def test_unit_list_paginates_a_thousand_rows_with_constant_queries(
    web, city, office, campaign, django_assert_num_queries
):
    Unit.objects.bulk_create(
        [Unit(name=f"网格{i:04d}", code=f"W{i:04d}", kind=UnitKind.OTHER, path=f"/9{i:05d}/") for i in range(1000)]
    )
    client = web(office)
    # session, user, memberships (scope), count, page of units with parents, the campaigns (the
    # current one and the switcher), unread notifications and 待分拣 reports (nav), the current
    # campaign's open veto events (banner), the filter drop-down's districts/streets/departments
    # (whatever the number of communities).
    with django_assert_num_queries(10):
        response = client.get("/units/", {"page": 3})
    assert response.status_code == 200
    page = response.context["page_obj"]
    assert (page.number, page.paginator.count, page.paginator.num_pages, len(page.object_list)) == (3, 1009, 21, 50)
    assert "第 3 / 21 页" in response.content.decode()


def test_unit_list_filters_and_search(web, city, office):
    client = web(office)
    names = {u.name for u in client.get("/units/", {"q": "甲"}).context["object_list"]}
    assert names == {"甲区", "甲街道", "甲一社区", "甲二社区"}
    names = {u.name for u in client.get("/units/", {"within": city.street_yi.pk}).context["object_list"]}
    assert names == {"乙街道", "乙一社区"}
    empty = client.get("/units/", {"q": "不存在"})
    assert "没有符合条件的记录" in empty.content.decode()


def test_export_has_the_columns_of_the_page(web, city, office):
    response = web(office).get("/units/", {"export": "xlsx", "kind": "street"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("名称", "简称", "编码", "类型", "上级单位", "主要负责人", "联络员", "联系电话", "启用")
    assert sorted(r[0] for r in rows[1:]) == ["乙街道", "甲街道"]
    assert {r[3] for r in rows[1:]} == {"街道乡镇"}


def test_office_adds_a_new_user_with_a_role(web, city, office):
    client = web(office)
    response = client.post(
        "/members/new/",
        {
            "username": "newliaison",
            "full_name": "新人",
            "password": "a-long-pass-1",
            "role": Role.LIAISON,
            "unit": city.street_yi.pk,
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user__username="newliaison")
    assert (membership.role, membership.unit) == (Role.LIAISON, city.street_yi)
    response = client.post("/members/new/", {"username": "newliaison", "role": Role.LIAISON})
    assert response.status_code == 400
    assert "单位联络员必须指定所属单位" in response.content.decode()


def test_the_last_office_account_cannot_be_removed(web, office):
    client = web(office)
    membership = Membership.objects.get(user=office)
    client.post(f"/members/{membership.pk}/delete/")
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_campaign_page_shows_phases_and_countdown(web, campaign, leader):
    html = web(leader).get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "全面启动" in html and "集中整治" in html
    assert re.search(r'data-testid="days-left">-?\d+<', html)


def test_office_sets_phases_and_overlaps_are_refused(web, campaign, office):
    client = web(office)
    response = client.post(
        f"/campaigns/{campaign.pk}/phases/",
        {
            "launch_start": "2026-03-01",
            "launch_end": "2026-06-30",
            "rectify_start": "2026-06-01",
            "rectify_end": "2026-12-31",
        },
    )
    assert response.status_code == 400
    assert "全面启动与集中整治的日期重叠" in response.content.decode()
    assert list(campaign.phases.values_list("end_date", flat=True))[0].isoformat() == "2026-05-31"


def test_worker_check_runs_in_process_without_a_broker(web, city, office, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = web(office).post("/jobs/worker-check/")
    assert response.status_code == 302
    run = JobRun.objects.get()
    assert run.status == JobStatus.SUCCEEDED
    assert run.result["units"] == Unit.objects.count()
    assert run.worker


def test_admin_is_for_the_office_only(web, city, office, leader):
    assert web(leader).get("/admin/").status_code == 302
    client = web(office)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/campaign/unit/").status_code == 200


def test_admin_edits_go_through_the_services(web, city, office):
    client = web(office)
    response = client.post(
        "/admin/campaign/unit/add/",
        {
            "name": "甲四社区",
            "code": "JIA-1-4",
            "kind": "community",
            "parent": city.street_jia.pk,
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    unit = Unit.objects.get(code="JIA-1-4")
    assert unit.path == f"{city.street_jia.path}{unit.pk}/"


def test_services_user_create_refuses_duplicates(db):
    services.user_create(username="a", password="long-pass-123")
    with pytest.raises(Exception) as info:
        services.user_create(username="a", password="long-pass-123")
    assert "已存在" in str(info.value)


def test_object_urls_are_the_pages_not_the_api(city, campaign):
    assert city.street_jia.get_absolute_url() == f"/units/{city.street_jia.pk}/"
    assert campaign.get_absolute_url() == f"/campaigns/{campaign.pk}/"
