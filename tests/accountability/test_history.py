"""The 变更记录 (issue 11 part 4): every score-relevant change records who, when, before and after —
through the services (the user from the request, as HistoryRequestMiddleware sets it), the bulk
imports and the page; the page is the office's and the leaders'."""

from __future__ import annotations

import contextlib
import datetime
import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from simple_history.models import HistoricalRecords

from accountability.calendar import calendar_import
from accountability.history import change_entries, change_keys
from campaign import services as campaign_services
from campaign.choices import Role
from campaign.models import JobRun
from indicators import services as indicator_services
from indicators.choices import AssignmentRole
from inspections import services
from inspections.importing import points_import
from inspections.models import Inspection
from inspections.services import ObservationInput
from tests.campaign.xlsx import make_xlsx, upload


@contextlib.contextmanager
def acting(user):
    """What HistoryRequestMiddleware does for a request: the user the history rows name."""
    HistoricalRecords.context.request = SimpleNamespace(user=user)
    try:
        yield
    finally:
        del HistoricalRecords.context.request


def feed(**filters):
    return change_entries(list(change_keys(**filters)))


def latest(model, object_id):
    entries = feed(model=model, object_id=object_id)
    assert entries, f"no history for {model} #{object_id}"
    return entries[0]


def test_a_check_item_cap_and_departments_change_records_one_row_with_the_user(office, ads_item, city):
    with acting(office):
        services.check_item_update(item=ads_item, cap=Decimal(3), departments=[city.dept_cg, city.dept_office])
    entry = latest("checkitem", ads_item.pk)
    assert (entry.change, entry.change_label, entry.user, entry.model_label) == ("~", "修改", office, "测评细则")
    assert entry.before == {"cap": "2.00", "departments": ""}
    assert entry.after == {"cap": "3.00", "departments": "示范市城市管理局、示范市文明办"}
    assert list(entry.labels) == ["cap", "departments"]
    # One history row for the save and its departments (not one per removal and addition).
    assert [e.change for e in feed(model="checkitem", object_id=ads_item.pk)] == ["~", "+"]


def test_a_created_check_item_records_its_values_and_departments(ads_item):
    entry = latest("checkitem", ads_item.pk)
    assert entry.change == "+" and entry.before == {}
    assert entry.after["per_occurrence"] == "0.50"
    assert entry.after["text"] == "核心价值观公益广告不少于2处"
    assert entry.object_repr == "核心价值观公益广告不少于2处"


def test_an_indicator_weight_methods_and_units_are_recorded(office, standard, city):
    with acting(office):
        indicator_services.indicator_update(indicator=standard, weight=Decimal("2.5"), methods=["field"])
        indicator_services.indicator_set_units(
            indicator=standard, role=AssignmentRole.RESPONSIBLE, units=[city.dept_cg]
        )
    weight = latest("indicator", standard.pk)
    assert weight.user == office
    assert weight.after["weight"] == "2.50"
    method = feed(model="indicatormethod")[0]
    assert (method.change, method.user, method.after["method"]) == ("+", office, "实地考察")
    assigned = feed(model="assignment")
    assert len(assigned) == 1  # the inherited rows the rebuild derived are not audited
    assert assigned[0].user == office
    assert assigned[0].after == {"indicator": "Ⅲ-1 农贸市场秩序", "unit": "示范市城市管理局", "role": "责任单位"}
    assert assigned[0].labels["indicator"] == "测评指标"
    assert "示范市城市管理局" in assigned[0].object_repr


def test_a_point_type_and_a_point_record_departments_unit_and_sponsor(office, market_type, market, city):
    with acting(office):
        services.point_type_save(point_type=market_type, name=market_type.name, departments=[city.dept_office])
        services.point_update(
            point=market, unit=city.community_jia2, sponsor=city.street_jia, departments=[city.dept_office]
        )
    point_type = latest("pointtype", market_type.pk)
    assert (point_type.user, point_type.before["departments"], point_type.after["departments"]) == (
        office,
        "示范市城市管理局",
        "示范市文明办",
    )
    point = latest("point", market.pk)
    assert point.user == office
    assert (point.before["unit"], point.after["unit"]) == ("甲一社区", "甲二社区")
    assert point.after["sponsor"] == "甲街道"
    assert point.after["departments"] == "示范市文明办"


def test_campaign_rules_memberships_systems_and_the_negative_list_are_recorded(office, campaign, system, leader):
    with acting(office):
        campaign_services.campaign_update(campaign=campaign, min_sample=7, red_line=Decimal("85.00"))
        membership = campaign_services.membership_create(user=leader, role=Role.INSPECTOR)
        campaign_services.membership_delete(membership=membership)
        item = indicator_services.negative_item_create(system=system, title="重大安全事故", veto=True)
        indicator_services.indicator_system_update(
            system=system, name="测评体系2026（修订）", kind="national", year=2026
        )
    rules = latest("campaign", campaign.pk)
    assert rules.user == office
    assert rules.after["min_sample"] == "7" and rules.after["red_line"] == "85.00"
    assert rules.model_label == "创建活动（评比规则）"
    gone, made = feed(model="membership", object_id=membership.pk)[:2]
    assert (gone.change_label, made.change_label) == ("删除", "新增")
    assert gone.before["role"] == "督查员" and gone.user == office
    assert latest("negativelistitem", item.pk).after["veto"] == "是"
    renamed = latest("indicatorsystem", system.pk)
    assert (renamed.before["name"], renamed.after["name"]) == ("测评体系2026", "测评体系2026（修订）")


def test_the_calendar_import_records_each_day_in_bulk(office, db):
    header = ["日期", "类型", "名称"]
    with acting(office):
        result = calendar_import(
            file=upload("c.xlsx", make_xlsx([header, ["2028-01-01", "休", "元旦"]])), dry_run=False
        )
        assert result.ok
        calendar_import(file=upload("c.xlsx", make_xlsx([header, ["2028-01-01", "班", "调休"]])), dry_run=False)
    changed, created = feed(model="calendarday")[:2]
    assert (created.change, created.after["date"], created.user) == ("+", "2028-01-01", office)
    assert (changed.before, changed.after) == ({"kind": "休", "name": "元旦"}, {"kind": "班", "name": "调休"})


POINT_HEADER = [
    "点位名称",
    "点位类别",
    "所属单位",
    "地址",
    "经度",
    "纬度",
    "主管部门",
    "责任单位",
    "联系人",
    "联系电话",
    "重点点位",
]


def test_the_points_import_records_history_in_bulk_with_departments(office, city, market_type):
    row = ["新华农贸市场", market_type.name, "甲一社区", "新华路1号", "", "", "市城管局", "", "", "", "否"]
    with acting(office):
        assert points_import(file=upload("p.xlsx", make_xlsx([POINT_HEADER, row])), dry_run=False).ok
        row[6] = "市文明办"
        assert points_import(file=upload("p.xlsx", make_xlsx([POINT_HEADER, row])), dry_run=False).ok
    changed, created = feed(model="point")[:2]
    assert (created.change, created.user, created.after["departments"]) == ("+", office, "示范市城市管理局")
    assert (changed.before, changed.after) == ({"departments": "示范市城市管理局"}, {"departments": "示范市文明办"})


def test_a_points_import_run_as_a_job_names_who_uploaded(
    web, office, city, market_type, settings, django_capture_on_commit_callbacks
):
    """The job runs after the request (on a worker): its history rows still name the office."""
    settings.IMPORT_JOB_ROWS = 1
    rows = [
        [f"作业点位{i}", market_type.name, "甲一社区", f"某路{i}号", "", "", "市城管局", "", "", "", "否"]
        for i in range(3)
    ]
    client = web(office)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/inspections/points/import/", {"file": upload("p.xlsx", make_xlsx([POINT_HEADER, *rows]))})
    token = JobRun.objects.get(name="import").params["token"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/inspections/points/import/", {"token": token})
    created = feed(model="point")
    assert len(created) == 3
    assert {(e.change, e.user) for e in created} == {("+", office)}


def test_a_correction_appears_with_the_failures_before_and_after(inspector, round_, market, ads_item):
    old = services.inspection_submit(
        user=inspector,
        round_=round_,
        point=market,
        client_uuid=uuid.uuid4(),
        observations=[ObservationInput(ads_item.pk, "fail", 2)],
    )
    old = old[0] if isinstance(old, tuple) else old
    services.inspection_submit(
        user=inspector,
        round_=round_,
        point=market,
        client_uuid=uuid.uuid4(),
        observations=[ObservationInput(ads_item.pk, "pass")],
        supersedes=old,
        correction_reason="误判：公益广告在入口内侧",
    )
    new = Inspection.objects.get(supersedes=old)
    entry = latest("correction", old.pk)  # found by either inspection's id
    assert (entry.object_id, entry.user, entry.change_label, entry.model_label) == (
        new.pk,
        inspector,
        "修改",
        "检查更正",
    )
    assert entry.before == {"failures": "核心价值观公益广告不少于2处（2处）", "correction_reason": ""}
    assert entry.after == {"failures": "全部合格", "correction_reason": "误判：公益广告在入口内侧"}
    assert f"更正 #{old.pk}" in entry.object_repr


def test_filters_by_user_and_dates(office, leader, ads_item):
    with acting(office):
        services.check_item_update(item=ads_item, cap=Decimal(3))
    with acting(leader):
        services.check_item_update(item=ads_item, cap=Decimal(4))
    assert [e.after["cap"] for e in feed(model="checkitem", user_id=office.pk)] == ["3.00"]
    today = timezone.localdate()
    assert len(feed(model="checkitem", date_from=today, date_to=today)) == 3
    assert feed(model="checkitem", date_to=today - datetime.timedelta(days=1)) == []


# --- The page ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"), [("office", 200), ("leader", 200), ("inspector", 403), ("liaison_jia", 403)]
)
def test_the_page_is_for_the_office_and_leaders(request, web, persona, status, ads_item):
    user = request.getfixturevalue(persona)
    assert web(user).get("/history/").status_code == status


def test_the_page_lists_a_cap_change_and_links_from_navigation(web, office, leader, ads_item):
    with acting(office):
        services.check_item_update(item=ads_item, cap=Decimal(3))
    html = web(office).get(f"/history/?model=checkitem&object={ads_item.pk}").content.decode()
    assert 'data-testid="history-table"' in html
    assert "最高扣分" in html and "<del>2.00</del>" in html and "<strong>3.00</strong>" in html
    assert 'href="/history/"' in html  # under 管理
    assert 'href="/history/"' in web(leader).get("/").content.decode()


def test_the_page_refuses_bad_filters_in_chinese_and_has_an_empty_state(web, office, db):
    html = web(office).get("/history/?model=nonsense&from=2026-13-01").content.decode()
    assert "对象类型“nonsense”不存在" in html and "开始日期格式应为" in html
    assert "还没有变更记录。" in web(office).get("/history/?model=calendarday").content.decode().replace(
        "没有符合条件的变更记录。", "还没有变更记录。"
    )


def _changes(office, items, point, indicator, n):
    with acting(office):
        for i in range(n):
            item = items[i % len(items)]
            services.check_item_update(item=item, cap=Decimal(2 + i % 5), departments=[] if i % 2 else None)
        services.point_update(point=point, name=f"甲一农贸市场（{n}）")
        indicator_services.indicator_update(indicator=indicator, weight=Decimal(n))


def test_the_page_query_count_does_not_grow_with_the_changes(web, office, ads_item, stall_item, standard, market):
    # 50 and 100 changes: either way a full page of check items, a point and an indicator.
    client = web(office)
    counts = []
    for n in (50, 100):
        _changes(office, [ads_item, stall_item], market, standard, n)
        client.get("/history/")  # warm the session and the campaign selection
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/history/")
        assert response.status_code == 200
        assert response.content.decode().count("<tr>") == 51  # the header and a page of 50
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
