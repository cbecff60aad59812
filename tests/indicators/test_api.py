"""The 测评体系 API: systems, the indicator tree, the negative list and risk events, persona by
persona. Every refused write leaves the database as it was."""

import datetime
import io
import pathlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from campaign.files import minimal_pdf
from indicators import services
from indicators.choices import AssignmentRole, Method
from indicators.models import (
    Assignment,
    Indicator,
    IndicatorMethod,
    IndicatorSystem,
    Material,
    NegativeListItem,
    RiskEvent,
)

NON_OFFICE = ["inspector", "leader", "liaison_jia", "liaison_yi", "liaison_dept"]
EVERYONE = ["office", *NON_OFFICE]


def ids(response):
    assert response.status_code == 200, response.json()
    return sorted(row["id"] for row in response.json()["results"])


def pks(tree, *names):
    return sorted(tree[name].pk for name in names)


def tree_snapshot():
    """Every stored fact of the indicator tables, to assert that a refused write changed nothing."""
    return (
        list(IndicatorSystem.objects.order_by("pk").values_list("pk", "campaign_id", "name", "kind", "year", "note")),
        list(
            Indicator.objects.order_by("pk").values_list(
                "pk",
                "system_id",
                "parent_id",
                "level",
                "code",
                "title",
                "text",
                "weight",
                "order",
                "veto",
                "requirements",
                "point_types",
                "deadline",
                "path",
                "effective_weight",
                "children_weight",
                "share_weight",
                "is_leaf",
                "is_declaration",
            )
        ),
        list(IndicatorMethod.objects.order_by("pk").values_list("indicator_id", "method")),
        list(
            Assignment.objects.order_by("indicator_id", "role", "unit_id").values_list(
                "indicator_id", "unit_id", "role", "inherited"
            )
        ),
    )


def risk_snapshot():
    return (
        list(
            NegativeListItem.objects.order_by("pk").values_list(
                "pk", "system_id", "code", "title", "description", "veto", "order"
            )
        ),
        list(
            RiskEvent.objects.order_by("pk").values_list(
                "pk", "item_id", "unit_id", "occurred_on", "description", "status", "resolution", "resolved_at"
            )
        ),
    )


# --- Indicator systems --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", EVERYONE)
def test_everyone_reads_systems(api, tree, system, persona, request):
    client = api(request.getfixturevalue(persona))
    response = client.get("/api/v1/indicator-systems/")
    assert ids(response) == [system.pk]
    assert response.json()["results"][0] == {
        "id": system.pk,
        "campaign": system.campaign_id,
        "name": "测评体系2026",
        "kind": "national",
        "kind_display": "全国",
        "year": 2026,
        "note": "",
        "is_current": True,  # the campaign's first system
        "node_count": 8,
        "created_at": response.json()["results"][0]["created_at"],
    }
    assert client.get(f"/api/v1/indicator-systems/{system.pk}/").status_code == 200


def test_anonymous_is_refused(api, tree, system):
    response = api().get("/api/v1/indicators/")
    assert response.status_code in (401, 403)
    assert set(response.json()) == {"code", "detail"}


def test_office_creates_and_renames_a_system(api, campaign, system, office):
    client = api(office)
    response = client.post(
        "/api/v1/indicator-systems/",
        {"campaign": campaign.pk, "name": "省级测评体系", "kind": "provincial", "year": 2026},
        format="json",
    )
    assert response.status_code == 201, response.json()
    created = IndicatorSystem.objects.get(name="省级测评体系")
    assert (response.json()["id"], response.json()["node_count"]) == (created.pk, 0)
    response = client.patch(f"/api/v1/indicator-systems/{created.pk}/", {"note": "试行"}, format="json")
    assert response.status_code == 200
    created.refresh_from_db()
    assert (created.name, created.note) == ("省级测评体系", "试行")


def test_a_duplicate_system_name_is_a_chinese_400(api, campaign, system, office):
    before = tree_snapshot()
    response = api(office).post(
        "/api/v1/indicator-systems/",
        {"campaign": campaign.pk, "name": "测评体系2026", "kind": "national", "year": 2027},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "该创建活动下已有名为“测评体系2026”的测评体系。"
    assert response.json()["fields"] == {"name": ["该创建活动下已有名为“测评体系2026”的测评体系。"]}
    assert tree_snapshot() == before


def test_systems_are_not_deleted_through_the_api(api, tree, system, office):
    before = tree_snapshot()
    assert api(office).delete(f"/api/v1/indicator-systems/{system.pk}/").status_code == 405
    assert tree_snapshot() == before


@pytest.mark.parametrize("persona", NON_OFFICE)
def test_non_office_cannot_write_systems(api, campaign, tree, system, persona, request):
    client = api(request.getfixturevalue(persona))
    before = tree_snapshot()
    response = client.post(
        "/api/v1/indicator-systems/",
        {"campaign": campaign.pk, "name": "X", "kind": "local", "year": 2026},
        format="json",
    )
    assert response.status_code == 403
    assert response.json() == {"code": "permission_denied", "detail": "只有创建办可以修改。"}
    assert client.patch(f"/api/v1/indicator-systems/{system.pk}/", {"name": "改名"}, format="json").status_code == 403
    assert tree_snapshot() == before


# --- The import endpoint ------------------------------------------------------------------------


def xlsx(rows) -> SimpleUploadedFile:
    from openpyxl import Workbook

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(
        "任务分解表.xlsx",
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


SHEET = [
    ["测评项目", "指标名称", "测评内容", "分值", "测评标准", "测评方法", "牵头单位", "责任单位"],
    ["Ⅰ-9 生态环境", "Ⅱ-9 垃圾分类", "Ⅲ-9 分类投放", 5, "1) 设置分类设施", "实地考察", "市城管局", "甲街道"],
    ["Ⅰ-9 生态环境", "Ⅱ-9 垃圾分类", "Ⅲ-9 分类投放", 5, "2) 开展宣传", "网上申报", "市城管局", "乙街道"],
]


@pytest.mark.parametrize("persona", NON_OFFICE)
def test_only_the_office_imports(api, tree, system, persona, request):
    before = tree_snapshot()
    response = api(request.getfixturevalue(persona)).post(
        f"/api/v1/indicator-systems/{system.pk}/import/", {"file": xlsx(SHEET)}, format="multipart"
    )
    assert response.status_code == 403
    assert response.json() == {"code": "permission_denied", "detail": "只有创建办可以执行该操作。"}
    assert tree_snapshot() == before


@pytest.mark.skipif(
    not (pathlib.Path(services.__file__).parent / "importing.py").exists(),
    reason="indicators.importing not written yet",
)
def test_office_previews_an_import_and_nothing_is_written(api, tree, system, office):
    before = tree_snapshot()
    response = api(office).post(
        f"/api/v1/indicator-systems/{system.pk}/import/", {"file": xlsx(SHEET), "dry_run": "1"}, format="multipart"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["dry_run"], body["created"], body["updated"], body["errors"]) == (True, 5, 0, [])
    assert body["detail"] == "预览：将新增 5 条，更新 0 条，0 条不变。"
    assert tree_snapshot() == before


def test_an_import_without_a_file_is_a_chinese_400(api, system, office):
    response = api(office).post(f"/api/v1/indicator-systems/{system.pk}/import/", {}, format="multipart")
    assert response.status_code == 400
    assert response.json()["detail"] == "请上传文件（字段 file）。"


# --- Indicators: reading and filtering -----------------------------------------------------------


def test_the_node_payload(api, tree, system, city, liaison_jia):
    response = api(liaison_jia).get(f"/api/v1/indicators/{tree['i1'].pk}/")
    assert response.status_code == 200
    assert response.json() == {
        "id": tree["i1"].pk,
        "system": system.pk,
        "parent": tree["p1"].pk,
        "level": 2,
        "level_display": "指标名称",
        "code": "Ⅱ-1",
        "title": "公益广告",
        "text": "",
        "weight": None,
        "order": 1,
        "veto": False,
        "requirements": "",
        "point_types": "",
        "deadline": None,
        "methods": [],
        "lead_units": [city.dept_cg.pk],
        "responsible_units": [city.street_jia.pk],
        "lead_inherited": False,
        "responsible_inherited": False,
        "effective_weight": "10.0000",
        "children_weight": "10.0000",
        "share_weight": "0.0000",
        "is_leaf": False,
        "is_declaration": False,
    }


def test_a_leaf_shows_inherited_units_and_its_own_methods(api, tree, city, office):
    c1 = api(office).get(f"/api/v1/indicators/{tree['c1'].pk}/").json()
    assert (c1["methods"], c1["weight"], c1["effective_weight"]) == (["online", "field"], "6.00", "6.0000")
    st1 = api(office).get(f"/api/v1/indicators/{tree['st1'].pk}/").json()
    assert {k: st1[k] for k in ("lead_units", "lead_inherited", "responsible_units", "responsible_inherited")} == {
        "lead_units": [city.dept_cg.pk],
        "lead_inherited": True,
        "responsible_units": [city.street_jia.pk],
        "responsible_inherited": True,
    }
    assert (st1["methods"], st1["share_weight"], st1["is_declaration"]) == ([], "3.0000", True)
    p1 = api(office).get(f"/api/v1/indicators/{tree['p1'].pk}/").json()
    assert (p1["lead_units"], p1["lead_inherited"], p1["responsible_units"], p1["responsible_inherited"]) == (
        [city.dept_office.pk],
        False,
        [],
        False,
    )


@pytest.mark.parametrize("persona", EVERYONE)
def test_everyone_reads_the_whole_tree_in_order(api, tree, persona, request):
    response = api(request.getfixturevalue(persona)).get("/api/v1/indicators/")
    assert response.status_code == 200
    codes = [row["code"] for row in response.json()["results"]]
    assert codes == ["Ⅰ-1", "Ⅱ-1", "Ⅲ-1", "1)", "2)", "Ⅲ-2", "Ⅰ-2", "Ⅲ-3"]


def test_unit_filter_counts_own_and_inherited_assignments(api, tree, city, office):
    client = api(office)
    # 甲街道 is responsible for Ⅱ-1 (own) and inherits it on everything below.
    assert ids(client.get("/api/v1/indicators/", {"unit": city.street_jia.pk})) == pks(
        tree, "i1", "c1", "st1", "st2", "c2"
    )
    # 市城管局 leads Ⅱ-1 and below; 市文明办 leads Ⅰ-1 only, since Ⅱ-1 has a lead of its own.
    assert ids(client.get("/api/v1/indicators/", {"unit": city.dept_cg.pk})) == pks(
        tree, "i1", "c1", "st1", "st2", "c2"
    )
    assert ids(client.get("/api/v1/indicators/", {"unit": city.dept_office.pk})) == pks(tree, "p1")
    assert ids(client.get("/api/v1/indicators/", {"unit": city.street_yi.pk})) == pks(tree, "p2", "c3")
    assert ids(client.get("/api/v1/indicators/", {"unit": city.community_jia1.pk})) == []


def test_method_level_parent_and_system_filters(api, tree, system, campaign, city, office):
    client = api(office)
    assert ids(client.get("/api/v1/indicators/", {"method": Method.FIELD})) == pks(tree, "c1", "c3")
    assert ids(client.get("/api/v1/indicators/", {"method": Method.REVIEW})) == pks(tree, "c2")
    assert ids(client.get("/api/v1/indicators/", {"level": 4})) == pks(tree, "st1", "st2")
    assert ids(client.get("/api/v1/indicators/", {"parent": tree["c1"].pk})) == pks(tree, "st1", "st2")
    assert ids(client.get("/api/v1/indicators/", {"unit": city.street_jia.pk, "level": 3})) == pks(tree, "c1", "c2")
    assert ids(client.get("/api/v1/indicators/", {"unit": city.street_jia.pk, "method": Method.ONLINE})) == pks(
        tree, "c1"
    )
    other = services.indicator_system_create(campaign=campaign, name="省级体系", kind="provincial", year=2026)
    services.indicator_create(system=other, level=1, code="A", title="其他")
    assert len(ids(client.get("/api/v1/indicators/", {"system": system.pk}))) == 8
    assert len(ids(client.get("/api/v1/indicators/", {"system": other.pk}))) == 1


def test_an_unknown_method_is_a_chinese_400(api, tree, office):
    response = api(office).get("/api/v1/indicators/", {"method": "telepathy"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "method" in response.json()["fields"]
    assert "telepathy" in response.json()["detail"]


def test_the_list_does_not_query_per_node(api, tree, system, city, office, django_assert_num_queries):
    client = api(office)
    # count + page + methods + assignments, however many nodes.
    with django_assert_num_queries(4):
        first = client.get("/api/v1/indicators/")
    for n in range(10):
        node = services.indicator_create(
            system=system, level=4, code=f"{n + 3})", title=f"标准{n}", parent=tree["c1"], methods=[Method.ONLINE]
        )
        services.indicator_set_units(indicator=node, role=AssignmentRole.LEAD, units=[city.dept_office])
    with django_assert_num_queries(4):
        second = client.get("/api/v1/indicators/")
    assert (first.json()["count"], second.json()["count"]) == (8, 18)


# --- Indicators: writing ------------------------------------------------------------------------


def test_office_adds_a_node_that_inherits_units(api, tree, system, city, office):
    response = api(office).post(
        "/api/v1/indicators/",
        {
            "system": system.pk,
            "parent": tree["c1"].pk,
            "level": 4,
            "code": "3)",
            "title": "标准三",
            "methods": ["online"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    node = Indicator.objects.get(pk=body["id"])
    assert (node.parent, node.order, node.is_declaration) == (tree["c1"], 3, True)
    assert (body["methods"], body["lead_units"], body["lead_inherited"]) == (["online"], [city.dept_cg.pk], True)
    assert (body["responsible_units"], body["responsible_inherited"]) == ([city.street_jia.pk], True)
    assert body["share_weight"] == "2.0000"  # 6 split over three standards


def test_office_gets_chinese_errors_for_a_bad_node(api, tree, system, office):
    client = api(office)
    before = tree_snapshot()
    response = client.post(
        "/api/v1/indicators/",
        {"system": system.pk, "parent": tree["c1"].pk, "level": 2, "title": "层级不对"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "下级指标的层级必须低于上级。"
    response = client.post(
        "/api/v1/indicators/",
        {"system": system.pk, "parent": tree["c1"].pk, "level": 4, "code": "1)", "title": "重复编号"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"code": ["同一上级下已有编号“1)”。"]}
    assert tree_snapshot() == before


def test_office_updates_weight_and_methods_and_the_tree_is_rebuilt(api, tree, office):
    client = api(office)
    response = client.patch(
        f"/api/v1/indicators/{tree['c2'].pk}/", {"weight": "8", "methods": ["field"]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["weight"], response.json()["methods"], response.json()["is_declaration"]) == (
        "8.00",
        ["field"],
        False,
    )
    tree["i1"].refresh_from_db()
    assert str(tree["i1"].effective_weight) == "14.0000"


def test_a_node_cannot_be_moved_through_an_update(api, tree, office):
    before = tree_snapshot()
    response = api(office).patch(f"/api/v1/indicators/{tree['c2'].pk}/", {"parent": tree["p2"].pk}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "创建后不能修改所属体系、上级或层级。"
    assert tree_snapshot() == before


def test_office_deletes_a_node_but_not_one_with_materials(api, tree, city, office, liaison_jia):
    client = api(office)
    assert client.delete(f"/api/v1/indicators/{tree['st2'].pk}/").status_code == 204
    assert not Indicator.objects.filter(pk=tree["st2"].pk).exists()
    services.material_submit(
        user=liaison_jia,
        indicator=tree["st1"],
        unit=city.street_jia,
        description="照片",
        files=[SimpleUploadedFile("a.pdf", minimal_pdf())],
    )
    before = tree_snapshot()
    response = client.delete(f"/api/v1/indicators/{tree['c1'].pk}/")
    assert response.status_code == 400
    assert response.json()["detail"] == "该指标（或其下级）已有申报材料，不能删除。"
    assert tree_snapshot() == before
    assert Material.objects.count() == 1


def test_office_assigns_units_and_an_empty_list_inherits(api, tree, city, office):
    client = api(office)
    url = f"/api/v1/indicators/{tree['c1'].pk}/units/"
    response = client.post(
        url, {"role": "responsible", "units": [city.street_yi.pk, city.community_jia1.pk]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert sorted(response.json()["responsible_units"]) == sorted([city.street_yi.pk, city.community_jia1.pk])
    assert response.json()["responsible_inherited"] is False
    st1 = client.get(f"/api/v1/indicators/{tree['st1'].pk}/").json()
    assert (sorted(st1["responsible_units"]), st1["responsible_inherited"]) == (
        sorted([city.street_yi.pk, city.community_jia1.pk]),
        True,
    )
    response = client.post(url, {"role": "responsible", "units": []}, format="json")
    assert (response.json()["responsible_units"], response.json()["responsible_inherited"]) == (
        [city.street_jia.pk],
        True,
    )


def test_assigning_units_checks_the_role_and_the_units(api, tree, office):
    client = api(office)
    before = tree_snapshot()
    response = client.post(f"/api/v1/indicators/{tree['c1'].pk}/units/", {"role": "owner", "units": []}, format="json")
    assert response.status_code == 400
    assert "role" in response.json()["fields"]
    response = client.post(
        f"/api/v1/indicators/{tree['c1'].pk}/units/", {"role": "lead", "units": [999999]}, format="json"
    )
    assert response.status_code == 400
    assert "units" in response.json()["fields"]
    assert tree_snapshot() == before


@pytest.mark.parametrize("persona", NON_OFFICE)
def test_non_office_cannot_write_indicators(api, tree, system, city, persona, request):
    client = api(request.getfixturevalue(persona))
    before = tree_snapshot()
    responses = [
        client.post("/api/v1/indicators/", {"system": system.pk, "level": 1, "title": "新项目"}, format="json"),
        client.patch(f"/api/v1/indicators/{tree['c1'].pk}/", {"title": "改名"}, format="json"),
        client.put(
            f"/api/v1/indicators/{tree['c1'].pk}/", {"system": system.pk, "level": 3, "title": "改名"}, format="json"
        ),
        client.delete(f"/api/v1/indicators/{tree['st2'].pk}/"),
        client.post(
            f"/api/v1/indicators/{tree['c1'].pk}/units/",
            {"role": "responsible", "units": [city.street_yi.pk]},
            format="json",
        ),
    ]
    assert [r.status_code for r in responses] == [403] * 5
    assert tree_snapshot() == before


# --- Negative list and risk events --------------------------------------------------------------


@pytest.fixture
def item(system):
    return services.negative_item_create(system=system, code="F1", title="发生重大安全生产事故", veto=True)


def test_office_adds_negative_list_items(api, system, office):
    client = api(office)
    response = client.post(
        "/api/v1/negative-list-items/",
        {"system": system.pk, "title": "发生严重违法犯罪案件", "veto": True},
        format="json",
    )
    assert response.status_code == 201, response.json()
    created = NegativeListItem.objects.get()
    assert response.json() == {
        "id": created.pk,
        "system": system.pk,
        "code": "",
        "title": "发生严重违法犯罪案件",
        "description": "",
        "veto": True,
        "order": 1,
    }
    before = risk_snapshot()
    response = client.post(
        "/api/v1/negative-list-items/", {"system": system.pk, "title": "发生严重违法犯罪案件"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "负面清单中已有“发生严重违法犯罪案件”。"
    assert risk_snapshot() == before


def test_office_registers_and_resolves_a_risk_event(api, item, city, office):
    client = api(office)
    today = timezone.localdate()
    response = client.post(
        "/api/v1/risk-events/",
        {"item": item.pk, "unit": city.street_jia.pk, "occurred_on": today.isoformat(), "description": "仓库火灾"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    event = RiskEvent.objects.get()
    body = response.json()
    assert (body["id"], body["status"], body["status_display"], body["veto"], body["unit_name"]) == (
        event.pk,
        "open",
        "未解决",
        True,
        "甲街道",
    )
    assert client.get("/api/v1/risk-events/", {"status": "open"}).json()["count"] == 1

    response = client.post(f"/api/v1/risk-events/{event.pk}/resolve/", {"resolution": ""}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"resolution": ["请填写处置情况。"]}
    response = client.post(f"/api/v1/risk-events/{event.pk}/resolve/", {"resolution": "已整改到位"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["resolution"]) == ("resolved", "已整改到位")
    assert response.json()["resolved_at"] is not None
    before = risk_snapshot()
    response = client.post(f"/api/v1/risk-events/{event.pk}/resolve/", {"resolution": "再次处置"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "该风险事件已解决。"
    assert risk_snapshot() == before


def test_a_risk_event_in_the_future_is_refused(api, item, city, office):
    before = risk_snapshot()
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = api(office).post(
        "/api/v1/risk-events/",
        {"item": item.pk, "unit": city.street_jia.pk, "occurred_on": tomorrow.isoformat(), "description": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"occurred_on": ["发生日期不能晚于今天。"]}
    assert risk_snapshot() == before


@pytest.mark.parametrize("persona", NON_OFFICE)
def test_non_office_reads_but_cannot_touch_the_negative_list(api, item, system, city, office, persona, request):
    event = services.risk_event_create(
        user=office, item=item, unit=city.street_jia, occurred_on=timezone.localdate(), description="仓库火灾"
    )
    client = api(request.getfixturevalue(persona))
    before = risk_snapshot()
    assert ids(client.get("/api/v1/negative-list-items/")) == [item.pk]
    # Risk events are scoped like everything else: a liaison reads only its subtree's (甲街道's here).
    sees = persona in ("inspector", "leader", "liaison_jia")
    assert ids(client.get("/api/v1/risk-events/")) == ([event.pk] if sees else [])
    assert client.get(f"/api/v1/risk-events/{event.pk}/").status_code == (200 if sees else 404)
    responses = [
        client.post("/api/v1/negative-list-items/", {"system": system.pk, "title": "新事项"}, format="json"),
        client.post(
            "/api/v1/risk-events/",
            {
                "item": item.pk,
                "unit": city.street_jia.pk,
                "occurred_on": timezone.localdate().isoformat(),
                "description": "x",
            },
            format="json",
        ),
        client.post(f"/api/v1/risk-events/{event.pk}/resolve/", {"resolution": "已处理"}, format="json"),
        client.patch(f"/api/v1/risk-events/{event.pk}/", {"description": "改"}, format="json"),
    ]
    assert [r.status_code for r in responses] == [403, 403, 403, 403]  # no PATCH at all: 403 before 405
    assert risk_snapshot() == before
