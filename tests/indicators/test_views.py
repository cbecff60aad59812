"""Pages of the 测评体系, persona by persona: who sees what, who may change what, and that a refused
request changes nothing."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from campaign import services as campaign_services
from campaign.files import minimal_pdf
from indicators import services
from indicators.choices import AssignmentRole, MaterialAction, MaterialStatus, Method, RiskStatus
from indicators.models import (
    Assignment,
    Indicator,
    IndicatorSystem,
    Material,
    MaterialEvent,
    MaterialFile,
    NegativeListItem,
    RiskEvent,
)
from indicators.navigation import nav_items
from tests.campaign.xlsx import make_xlsx, upload

TINY_PDF = minimal_pdf()


def pdf(name="方案.pdf", data=TINY_PDF):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def submit(user, indicator, unit, description="工作方案"):
    return services.material_submit(user=user, indicator=indicator, unit=unit, description=description, files=[pdf()])


def materials_snapshot():
    return (
        list(
            Material.objects.order_by("pk").values_list("pk", "status", "description", "return_reason", "reviewed_by")
        ),
        list(MaterialFile.objects.order_by("pk").values_list("pk", "version", "current")),
        MaterialEvent.objects.count(),
    )


def tree_snapshot(system):
    return (
        list(
            Indicator.objects.filter(system=system)
            .order_by("pk")
            .values_list(
                "pk", "code", "title", "text", "weight", "veto", "requirements", "deadline", "effective_weight"
            )
        ),
        list(
            Assignment.objects.filter(indicator__system=system)
            .order_by("pk")
            .values_list("indicator_id", "unit_id", "role", "inherited")
        ),
    )


def html(response) -> str:
    return response.content.decode()


def text_of(response) -> str:
    """The visible text, tags stripped and whitespace collapsed, for exact phrase checks."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html(response)))


@pytest.fixture
def material(tree, city, liaison_jia):
    return submit(liaison_jia, tree["st1"], city.street_jia)


# --- Who sees which page ------------------------------------------------------------------------

PAGES = {
    "systems": lambda t, c, m: "/indicators/",
    "tree": lambda t, c, m: f"/indicators/systems/{t['p1'].system_id}/",
    "indicator": lambda t, c, m: f"/indicators/items/{t['st1'].pk}/",
    "my-tasks": lambda t, c, m: "/indicators/tasks/",
    "tasks-jia": lambda t, c, m: f"/indicators/tasks/{c.street_jia.pk}/",
    "tasks-jia-community": lambda t, c, m: f"/indicators/tasks/{c.community_jia1.pk}/",
    "materials": lambda t, c, m: "/indicators/materials/",
    "material": lambda t, c, m: f"/indicators/materials/{m.pk}/",
    "material-file": lambda t, c, m: f"/indicators/materials/files/{m.files.get().pk}/",
    "board": lambda t, c, m: "/indicators/board/",
    "negative": lambda t, c, m: "/indicators/negative/",
    "risks": lambda t, c, m: "/indicators/risks/",
    "system-create": lambda t, c, m: "/indicators/systems/new/",
    "system-edit": lambda t, c, m: f"/indicators/systems/{t['p1'].system_id}/edit/",
    "system-import": lambda t, c, m: f"/indicators/systems/{t['p1'].system_id}/import/",
    "system-export": lambda t, c, m: f"/indicators/systems/{t['p1'].system_id}/export/",
    "indicator-edit": lambda t, c, m: f"/indicators/items/{t['i1'].pk}/edit/",
    "indicator-units": lambda t, c, m: f"/indicators/items/{t['i1'].pk}/units/",
    "negative-create": lambda t, c, m: "/indicators/negative/new/",
    "risk-create": lambda t, c, m: "/indicators/risks/new/",
    "upload": lambda t, c, m: f"/indicators/materials/new/?indicator={t['st2'].pk}&unit={c.street_jia.pk}",
}

# Expected status per page for office, leader, inspector, liaison_jia, liaison_yi.
EXPECTED = {
    "systems": (200, 200, 200, 200, 200),
    "tree": (200, 200, 200, 200, 200),
    "indicator": (200, 200, 200, 200, 200),
    "my-tasks": (200, 200, 200, 200, 200),
    "tasks-jia": (200, 200, 200, 200, 404),
    "tasks-jia-community": (200, 200, 200, 200, 404),
    "materials": (200, 200, 200, 200, 200),
    "material": (200, 200, 200, 200, 404),
    "material-file": (200, 200, 200, 200, 404),
    "board": (200, 200, 403, 403, 403),
    "negative": (200, 200, 403, 403, 403),
    "risks": (200, 200, 403, 403, 403),
    "system-create": (200, 403, 403, 403, 403),
    "system-edit": (200, 403, 403, 403, 403),
    "system-import": (200, 403, 403, 403, 403),
    "system-export": (200, 200, 200, 200, 200),
    "indicator-edit": (200, 403, 403, 403, 403),
    "indicator-units": (200, 403, 403, 403, 403),
    "negative-create": (200, 403, 403, 403, 403),
    "risk-create": (200, 403, 403, 403, 403),
    "upload": (403, 403, 403, 200, 404),
}
PERSONAS = ("office", "leader", "inspector", "liaison_jia", "liaison_yi")


# Not "page": that name is pytest-playwright's browser page fixture.
@pytest.mark.parametrize("page_name", list(PAGES))
def test_each_page_for_each_persona(page_name, tree, city, material, web, request):
    url = PAGES[page_name](tree, city, material)
    for persona, expected in zip(PERSONAS, EXPECTED[page_name], strict=True):
        response = web(request.getfixturevalue(persona)).get(url)
        assert response.status_code == expected, (page_name, persona, response.status_code)
        if expected == 403:
            assert "权限" in html(response) or "仅供" in html(response) or "只有" in html(response)
        if expected == 404:
            assert "该页面不存在，或您无权查看" in html(response)


def test_anonymous_is_sent_to_login(client, tree):
    for url in (
        "/indicators/",
        f"/indicators/systems/{tree['p1'].system_id}/",
        "/indicators/tasks/",
        "/indicators/board/",
        "/indicators/materials/new/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_navigation_per_role(web, tree, office, leader, inspector, liaison_jia):
    expected = {
        office: [
            ("测评体系", "/indicators/"),
            ("申报材料", "/indicators/materials/"),
            ("负面清单", "/indicators/negative/"),
        ],
        leader: [
            ("测评体系", "/indicators/"),
            ("申报材料", "/indicators/materials/"),
            ("负面清单", "/indicators/negative/"),
        ],
        inspector: [("测评体系", "/indicators/"), ("申报材料", "/indicators/materials/")],
        liaison_jia: [
            ("测评体系", "/indicators/"),
            ("任务单", "/indicators/tasks/"),
            ("申报材料", "/indicators/materials/"),
        ],
    }
    for user, items in expected.items():
        assert [(item[0], item[1]) for item in nav_items(user)] == items
        context = web(user).get("/").context
        shown = context["nav_items"] + context.get("nav_more", [])
        assert [item for item in shown if item in items] == items  # the kernel shows them, in this order


# --- The tree ---------------------------------------------------------------------------------


def test_tree_shows_weights_methods_units_and_progress(web, office, tree, city, liaison_jia):
    services.material_review(user=office, material=submit(liaison_jia, tree["st1"], city.street_jia), approve=True)
    response = web(office).get(f"/indicators/systems/{tree['p1'].system_id}/")
    assert response.status_code == 200
    page = html(response)
    codes = re.findall(r'data-testid="tree-node" data-code="([^"]*)"', page)
    assert codes == ["Ⅰ-1", "Ⅱ-1", "Ⅲ-1", "1)", "2)", "Ⅲ-2", "Ⅰ-2", "Ⅲ-3"]
    # Nested <details> balance: every opened list is closed.
    assert page.count("<details") == page.count("</details>") == 4
    text = text_of(response)
    assert "公益广告宣传 6 分" in text
    assert "思想道德 10 分" in text  # no weight of its own: the children's sum
    assert "示范市城市管理局" not in text  # the tree shows short names
    assert "市城管局 （继承）" in text  # inherited under Ⅱ-1, greyed
    assert "已通过 1/3" in text  # Ⅰ-1 has three declaration leaves, one approved
    assert "已通过 1/1" in text  # 标准一 itself
    assert 'data-testid="weight-mismatch"' not in page


def test_tree_flags_a_parent_weight_that_differs_from_its_children(web, office, tree):
    services.indicator_update(indicator=tree["i1"], weight=Decimal(12))
    response = web(office).get(f"/indicators/systems/{tree['p1'].system_id}/")
    assert 'data-testid="weight-mismatch"' in html(response)
    assert "子项合计 10" in text_of(response)
    detail = web(office).get(f"/indicators/items/{tree['i1'].pk}/")
    assert "子项合计 10" in text_of(detail)


def test_tree_query_count_does_not_grow_with_nodes(web, office, tree, system, city, settings):
    settings.CAMPAIGN_NAV_PROVIDERS = ["indicators.navigation.nav_items"]  # other apps' menus are theirs to pin
    client = web(office)
    url = f"/indicators/systems/{system.pk}/"
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    parent = tree["c3"]
    for n in range(1, 16):
        node = services.indicator_create(
            system=system,
            level=4,
            code=f"{n})",
            title=f"新增标准{n}",
            parent=parent,
            methods=[Method.ONLINE],
            rebuild=False,
        )
        services.indicator_set_units(indicator=node, role=AssignmentRole.LEAD, units=[city.dept_cg], rebuild=False)
    services.indicator_system_rebuild(system=system)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert response.status_code == 200
    assert html(response).count('data-testid="tree-node"') == 8 + 15
    # session, user, the system; the tree: nodes with progress, methods, assignments with units;
    # then the layout: memberships (scope), current campaign, open veto events (banner).
    assert len(large.captured_queries) == len(small.captured_queries) == 9


def test_task_list_and_board_query_counts_do_not_grow_with_rows(web, office, liaison_jia, tree, system, city, settings):
    settings.CAMPAIGN_NAV_PROVIDERS = ["indicators.navigation.nav_items"]
    pages = ((liaison_jia, "/indicators/tasks/"), (office, "/indicators/board/"))

    def counts():
        result = []
        for user, url in pages:
            client = web(user)
            client.get(url)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            result.append(len(queries.captured_queries))
        return result

    before = counts()
    for n in range(1, 11):
        node = services.indicator_create(
            system=system,
            level=3,
            code=f"Ⅲ-{10 + n}",
            title=f"新增内容{n}",
            parent=tree["i1"],
            weight=Decimal(1),
            methods=[Method.ONLINE],
            rebuild=False,
        )
        services.indicator_set_units(
            indicator=node, role=AssignmentRole.RESPONSIBLE, units=[city.street_jia], rebuild=False
        )
    services.indicator_system_rebuild(system=system)
    for node in Indicator.objects.filter(system=system, title__startswith="新增内容")[:5]:
        material = submit(liaison_jia, node, city.street_jia)
        services.material_review(user=office, material=material, approve=False, reason="缺少照片")
    # 任务单: session, user, scope, campaign, system, counts, page count, rows, methods (prefetch),
    # inherited methods, system switcher (the footer and the header's campaign switcher reuse the
    # campaign read once per request).
    # Board: the same layout plus per project, per unit, missing count and rows, unit choices, systems.
    assert counts() == before == [11, 12]


def test_empty_system_says_to_import(web, office, leader, campaign):
    empty = services.indicator_system_create(campaign=campaign, name="空体系", kind="local", year=2027)
    assert "请点击“导入任务分解表”" in text_of(web(office).get(f"/indicators/systems/{empty.pk}/"))
    assert "创建办导入任务分解表后" in text_of(web(leader).get(f"/indicators/systems/{empty.pk}/"))


# --- Indicator page ---------------------------------------------------------------------------


def test_indicator_page_breadcrumb_inherited_values_and_scoped_materials(
    web, office, liaison_jia, liaison_dept, tree, city
):
    services.indicator_update(
        indicator=tree["c1"], requirements="工作方案、现场照片", deadline=datetime.date(2026, 6, 30)
    )
    submit(liaison_jia, tree["st1"], city.street_jia)
    submit(liaison_dept, tree["st1"], city.dept_cg)
    office_page = text_of(web(office).get(f"/indicators/items/{tree['st1'].pk}/"))
    assert "测评体系2026 Ⅰ-1 思想道德 Ⅱ-1 公益广告 Ⅲ-1 公益广告宣传 1)" in office_page
    assert "网上申报 实地考察 （沿用上级）" in office_page
    assert "2026年6月30日 （沿用上级）" in office_page
    assert "工作方案、现场照片 （沿用上级）" in office_page
    assert "共 2 份" in office_page
    liaison_page = text_of(web(liaison_jia).get(f"/indicators/items/{tree['st1'].pk}/"))
    assert "共 1 份" in liaison_page
    assert "甲街道" in liaison_page and "市城管局 待审核" not in liaison_page


# --- 任务单 -----------------------------------------------------------------------------------


def test_liaison_lands_on_its_own_task_list(web, liaison_jia, tree, city, office):
    material = submit(liaison_jia, tree["st2"], city.street_jia)
    services.material_review(user=office, material=material, approve=False, reason="缺少照片")
    response = web(liaison_jia).get("/indicators/tasks/")
    assert response.status_code == 200
    page = html(response)
    assert re.findall(r'data-testid="task-row" data-code="([^"]*)"', page) == ["Ⅱ-1", "1)", "2)", "Ⅲ-2"]
    assert page.count('data-testid="upload"') == 2  # 1) and Ⅲ-2; 2) was returned
    assert page.count('data-testid="resubmit"') == 1
    assert "缺少照片" in page
    assert re.search(r'data-testid="returned-count">\s*1<', page)


def test_office_chooses_a_unit_task_list(web, office, tree):
    response = web(office).get("/indicators/tasks/")
    assert "选择单位查看其任务单" in text_of(response)
    assert re.findall(r"<td[^>]*><a href=\"/indicators/tasks/\d+/\?system=\d+\">([^<]+)</a>", html(response)) == [
        "甲街道",
        "乙街道",
        "示范市城市管理局",
        "示范市文明办",
    ]


def test_overdue_counts_inherited_deadlines(web, liaison_jia, tree):
    services.indicator_update(indicator=tree["c1"], deadline=datetime.date(2020, 1, 1))
    page = html(web(liaison_jia).get("/indicators/tasks/"))
    assert re.search(r'data-testid="overdue-count">\s*2<', page)  # 1) and 2) inherit the past deadline
    assert page.count("已超期") >= 2


def test_task_list_export(web, liaison_jia, office, tree, city):
    services.indicator_update(indicator=tree["c2"], requirements="志愿服务台账", deadline=datetime.date(2026, 9, 30))
    material = submit(liaison_jia, tree["st1"], city.street_jia)
    services.material_review(user=office, material=material, approve=False, reason="未盖章")
    response = web(liaison_jia).get("/indicators/tasks/?export=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''%E4%BB%BB%E5%8A%A1%E5%8D%95-" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == [
        "测评体系",
        "编号",
        "测评指标",
        "上级指标",
        "职责",
        "来源",
        "测评方法",
        "材料要求",
        "完成时限",
        "材料状态",
        "退回原因",
    ]
    assert [row[1:7] + row[9:] for row in rows[1:]] == [
        ["Ⅱ-1", "公益广告", "Ⅰ-1 思想道德", "责任单位", "本级分解", None, "无需申报", None],
        ["1)", "标准一", "Ⅲ-1 公益广告宣传", "责任单位", "继承上级", "网上申报、实地考察", "退回", "未盖章"],
        ["2)", "标准二", "Ⅲ-1 公益广告宣传", "责任单位", "继承上级", "网上申报、实地考察", "未报送", None],
        ["Ⅲ-2", "志愿服务", "Ⅱ-1 公益广告", "责任单位", "继承上级", "材料审核", "未报送", None],
    ]
    assert rows[4][7:9] == ["志愿服务台账", datetime.datetime(2026, 9, 30)]


def test_other_streets_task_list_is_404_and_export_too(web, liaison_yi, city, tree):
    assert web(liaison_yi).get(f"/indicators/tasks/{city.street_jia.pk}/?export=xlsx").status_code == 404


# --- Upload, return, resubmit, approve through the forms -----------------------------------------


def test_upload_through_the_form(web, liaison_jia, tree, city):
    client = web(liaison_jia)
    url = f"/indicators/materials/new/?indicator={tree['st1'].pk}&unit={city.street_jia.pk}"
    form = client.get(url)
    assert form.status_code == 200
    page = html(form)
    assert (
        'type="file" name="files"' in page
        and "multiple" in page
        and 'accept=".pdf,.docx,.xlsx,.jpg,.jpeg,.png"' in page
    )
    assert f'<option value="{tree["st1"].pk}" selected>' in page
    response = client.post(
        url,
        {
            "indicator": tree["st1"].pk,
            "unit": city.street_jia.pk,
            "description": "公益广告宣传方案",
            "files": [pdf("方案.pdf"), pdf("照片说明.pdf")],
        },
    )
    material = Material.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/indicators/materials/{material.pk}/"
    assert (material.indicator, material.unit, material.status, material.description) == (
        tree["st1"],
        city.street_jia,
        MaterialStatus.PENDING,
        "公益广告宣传方案",
    )
    assert sorted(material.files.values_list("original_name", "version", "current")) == [
        ("方案.pdf", 1, True),
        ("照片说明.pdf", 1, True),
    ]
    # Going to upload again for the same row lands on the material.
    again = client.get(url)
    assert again.status_code == 302 and again["Location"] == f"/indicators/materials/{material.pk}/#resubmit"


def test_upload_refuses_a_renamed_file_in_chinese_and_writes_nothing(web, liaison_jia, tree, city):
    url = f"/indicators/materials/new/?indicator={tree['st1'].pk}&unit={city.street_jia.pk}"
    response = web(liaison_jia).post(
        url,
        {
            "indicator": tree["st1"].pk,
            "unit": city.street_jia.pk,
            "description": "方案",
            "files": [pdf("假的.pdf", "其实是文本".encode())],
        },
    )
    assert response.status_code == 400
    assert "类型不受支持" in html(response)
    assert materials_snapshot() == ([], [], 0)


def test_upload_for_another_streets_unit_is_refused(web, liaison_yi, tree, city):
    response = web(liaison_yi).post(
        f"/indicators/materials/new/?indicator={tree['st1'].pk}",
        {
            "indicator": tree["st1"].pk,
            "unit": city.street_jia.pk,
            "description": "方案",
            "files": [pdf()],
        },
    )
    assert response.status_code == 400
    assert materials_snapshot() == ([], [], 0)


def test_return_resubmit_and_approve_through_the_forms(web, office, liaison_jia, tree, city, client):
    material = submit(liaison_jia, tree["st1"], city.street_jia)
    review_url = f"/indicators/materials/{material.pk}/review/"
    page = html(web(office).get(material.get_absolute_url()))
    assert 'data-testid="review-card"' in page and 'data-testid="resubmit-card"' not in page

    before = materials_snapshot()
    response = client.post(review_url, {"action": "return", "reason": "  "})
    assert response.status_code == 400
    assert "退回时请填写原因。" in html(response)
    assert materials_snapshot() == before

    response = client.post(review_url, {"action": "return", "reason": "方案未盖章"})
    assert response.status_code == 302
    material.refresh_from_db()
    assert (material.status, material.return_reason) == (MaterialStatus.RETURNED, "方案未盖章")

    liaison = web(liaison_jia)
    page = html(liaison.get(material.get_absolute_url()))
    assert 'data-testid="resubmit-card"' in page and 'data-testid="review-card"' not in page
    assert "方案未盖章" in page
    old = material.files.get()
    response = liaison.post(
        f"/indicators/materials/{material.pk}/resubmit/",
        {
            "description": "工作方案（已盖章）",
            f"replace_{old.pk}": pdf("方案-盖章.pdf"),
        },
    )
    assert response.status_code == 302
    material.refresh_from_db()
    assert (material.status, material.description) == (MaterialStatus.PENDING, "工作方案（已盖章）")
    assert list(material.files.order_by("version").values_list("original_name", "version", "current")) == [
        ("方案.pdf", 1, False),
        ("方案-盖章.pdf", 2, True),
    ]
    page = text_of(liaison.get(material.get_absolute_url()))
    assert "历史版本（1）" in page

    response = web(office).post(review_url, {"action": "approve"})
    assert response.status_code == 302
    material.refresh_from_db()
    assert material.status == MaterialStatus.APPROVED
    assert list(material.events.values_list("action", flat=True)) == [
        MaterialAction.SUBMIT,
        MaterialAction.RETURN,
        MaterialAction.RESUBMIT,
        MaterialAction.APPROVE,
    ]
    task_page = html(web(liaison_jia).get("/indicators/tasks/"))
    assert re.search(r'data-code="1\)".*?通过', task_page, re.S)


def test_refused_reviews_change_nothing(web, material, leader, liaison_jia, liaison_yi, inspector):
    url = f"/indicators/materials/{material.pk}/review/"
    before = materials_snapshot()
    assert web(liaison_yi).post(url, {"action": "approve"}).status_code == 404
    for user in (liaison_jia, leader, inspector):
        response = web(user).post(url, {"action": "approve"})
        assert response.status_code == 403
        assert "只有创建办或该单位所属工作组的牵头领导可以审核。" in html(response)
    assert materials_snapshot() == before


def test_a_leader_of_the_units_work_group_reviews(web, material, leader, campaign, city):
    campaign_services.work_group_create(campaign=campaign, name="宣传组", leaders=[leader], units=[city.district_jia])
    page = html(web(leader).get(material.get_absolute_url()))
    assert 'data-testid="review-card"' in page
    response = web(leader).post(
        f"/indicators/materials/{material.pk}/review/", {"action": "return", "reason": "照片模糊"}
    )
    assert response.status_code == 302
    material.refresh_from_db()
    assert (material.status, material.return_reason) == (MaterialStatus.RETURNED, "照片模糊")
    # Read-only otherwise: a leader never resubmits.
    before = materials_snapshot()
    response = web(leader).post(f"/indicators/materials/{material.pk}/resubmit/", {"description": "x"})
    assert response.status_code == 403
    assert materials_snapshot() == before


def test_refused_resubmits_change_nothing(web, material, office, liaison_yi):
    before = materials_snapshot()
    url = f"/indicators/materials/{material.pk}/resubmit/"
    assert web(liaison_yi).post(url, {"description": "x", "files": [pdf()]}).status_code == 404
    assert web(office).post(url, {"description": "x", "files": [pdf()]}).status_code == 403
    assert materials_snapshot() == before


def test_files_are_served_through_the_access_check(web, material, liaison_jia, liaison_yi):
    record = material.files.get()
    assert "/media/" not in html(web(liaison_jia).get(material.get_absolute_url()))
    response = web(liaison_jia).get(f"/indicators/materials/files/{record.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == TINY_PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert web(liaison_yi).get(f"/indicators/materials/files/{record.pk}/").status_code == 404


def test_materials_list_is_scoped_and_filtered(web, office, liaison_jia, liaison_yi, liaison_dept, tree, city):
    submit(liaison_jia, tree["st1"], city.street_jia)
    submit(liaison_dept, tree["st1"], city.dept_cg)
    assert "共 2 条" in text_of(web(office).get("/indicators/materials/"))
    assert "共 1 条" in text_of(web(office).get(f"/indicators/materials/?unit={city.dept_cg.pk}"))
    assert "共 1 条" in text_of(web(liaison_jia).get("/indicators/materials/"))
    empty = text_of(web(liaison_yi).get("/indicators/materials/"))
    assert "共 0 条" in empty and "请在“任务单”中找到需要网上申报的指标" in empty


# --- Board ------------------------------------------------------------------------------------


def test_board_per_project_per_unit_and_missing(web, office, leader, liaison_jia, tree, city):
    approved = submit(liaison_jia, tree["st1"], city.street_jia)
    services.material_review(user=office, material=approved, approve=True)
    returned = submit(liaison_jia, tree["st2"], city.street_jia)
    services.material_review(user=office, material=returned, approve=False, reason="缺少照片")
    response = web(leader).get("/indicators/board/")
    assert response.status_code == 200
    page = html(response)
    assert re.search(r'data-testid="overall-rate">\s*30%', page)
    rates = re.findall(r'data-unit="([^"]+)">.*?data-testid="unit-rate">([^<]+)<', page, re.S)
    assert rates == [("示范市城市管理局", "0%"), ("甲街道", "30%")]  # worst first
    # Best first: read from the units' rows (a unit's name also stands in the page's unit picker,
    # ordered by its path, which depends on the ids a database hands out).
    page = html(web(leader).get("/indicators/board/?sort=-rate"))
    rates = re.findall(r'data-unit="([^"]+)">.*?data-testid="unit-rate">([^<]+)<', page, re.S)
    assert rates == [("甲街道", "30%"), ("示范市城市管理局", "0%")]
    missing = text_of(web(office).get(f"/indicators/board/?unit={city.street_jia.pk}"))
    assert "共 2 项未通过" in missing and "缺少照片" in missing


# --- Negative list, risk events and the veto banner ---------------------------------------------


def test_office_adds_a_negative_item_and_registers_and_resolves_an_event(
    web, office, leader, liaison_jia, system, city
):
    client = web(office)
    response = client.post(
        f"/indicators/negative/new/?system={system.pk}",
        {
            "system": system.pk,
            "code": "01",
            "title": "发生重大安全生产责任事故",
            "description": "",
            "veto": "on",
        },
    )
    assert response.status_code == 302
    item = NegativeListItem.objects.get()
    assert (item.title, item.veto, item.system) == ("发生重大安全生产责任事故", True, system)
    assert "一票否决" in text_of(client.get(f"/indicators/negative/?system={system.pk}"))
    for user in (office, leader, liaison_jia):
        assert 'data-testid="veto-banner"' not in html(web(user).get("/"))

    response = web(office).post(
        "/indicators/risks/new/",
        {
            "item": item.pk,
            "unit": city.district_jia.pk,
            "occurred_on": "2026-05-01",
            "description": "某工地坍塌",
        },
    )
    assert response.status_code == 302
    event = RiskEvent.objects.get()
    assert (event.status, event.unit) == (RiskStatus.OPEN, city.district_jia)
    for user in (office, leader):
        for url in ("/", "/indicators/", f"/indicators/systems/{system.pk}/"):
            page = html(web(user).get(url))
            assert page.count('data-testid="veto-banner"') == 1, (user, url)
            assert "一票否决风险：甲区 · 发生重大安全生产责任事故" in page
    for url in ("/", "/indicators/tasks/"):
        assert 'data-testid="veto-banner"' not in html(web(liaison_jia).get(url))

    response = web(office).post(f"/indicators/risks/{event.pk}/resolve/", {"resolution": ""})
    assert response.status_code == 400 and "请填写处置情况。" in html(response)
    response = web(office).post(f"/indicators/risks/{event.pk}/resolve/", {"resolution": "已整改完毕"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.status, event.resolution) == (RiskStatus.RESOLVED, "已整改完毕")
    assert 'data-testid="veto-banner"' not in html(web(leader).get("/"))


def test_leader_and_liaison_cannot_touch_the_negative_list(web, leader, liaison_jia, office, system, city):
    item = services.negative_item_create(system=system, title="发生重大食品安全事故", veto=True)
    event = services.risk_event_create(
        user=office, item=item, unit=city.district_jia, occurred_on=datetime.date(2026, 5, 1), description="食物中毒"
    )
    before = (
        list(NegativeListItem.objects.values_list("pk", "title")),
        list(RiskEvent.objects.values_list("pk", "status", "resolution")),
    )
    for user in (leader, liaison_jia):
        client = web(user)
        assert client.post("/indicators/negative/new/", {"system": system.pk, "title": "新事项"}).status_code == 403
        assert (
            client.post(
                "/indicators/risks/new/",
                {"item": item.pk, "unit": city.district_jia.pk, "occurred_on": "2026-05-02", "description": "x"},
            ).status_code
            == 403
        )
        assert client.post(f"/indicators/risks/{event.pk}/resolve/", {"resolution": "x"}).status_code == 403
    assert before == (
        list(NegativeListItem.objects.values_list("pk", "title")),
        list(RiskEvent.objects.values_list("pk", "status", "resolution")),
    )
    risks = html(web(leader).get("/indicators/risks/"))
    assert risks.count('data-testid="risk-event"') == 1 and 'data-testid="risk-resolve"' not in risks
    assert 'data-testid="risk-resolve"' in html(web(office).get("/indicators/risks/"))


# --- Office edits -----------------------------------------------------------------------------


def test_office_edits_an_indicator_and_assigns_units(web, office, tree, city, system):
    client = web(office)
    response = client.post(
        f"/indicators/items/{tree['c2'].pk}/edit/",
        {
            "code": "Ⅲ-2",
            "title": "志愿服务活动",
            "text": "",
            "weight": "5",
            "methods": [Method.ONLINE, Method.REVIEW],
            "requirements": "活动照片",
            "point_types": "",
            "deadline": "2026-08-31",
        },
    )
    assert response.status_code == 302
    node = Indicator.objects.get(pk=tree["c2"].pk)
    assert (node.title, node.weight, node.requirements, node.deadline, node.veto) == (
        "志愿服务活动",
        Decimal(5),
        "活动照片",
        datetime.date(2026, 8, 31),
        False,
    )
    assert sorted(node.method_rows.values_list("method", flat=True)) == [Method.ONLINE, Method.REVIEW]

    response = client.post(
        f"/indicators/items/{tree['c2'].pk}/units/",
        {
            "lead": [city.dept_office.pk],
            "responsible": [city.street_yi.pk],
        },
    )
    assert response.status_code == 302
    own = set(Assignment.objects.filter(indicator=tree["c2"], inherited=False).values_list("unit__name", "role"))
    assert own == {("示范市文明办", AssignmentRole.LEAD), ("乙街道", AssignmentRole.RESPONSIBLE)}


def test_refused_edits_change_nothing(web, leader, liaison_jia, tree, city, system):
    before = tree_snapshot(system)
    for user in (leader, liaison_jia):
        client = web(user)
        assert (
            client.post(f"/indicators/items/{tree['c2'].pk}/edit/", {"title": "改名", "code": "X"}).status_code == 403
        )
        assert (
            client.post(f"/indicators/items/{tree['c2'].pk}/units/", {"lead": [city.street_jia.pk]}).status_code == 403
        )
        assert client.post("/indicators/systems/new/", {"name": "x"}).status_code == 403
    assert tree_snapshot(system) == before
    assert IndicatorSystem.objects.count() == 1


def test_office_creates_a_system_and_imports_a_sheet_with_preview(web, office, campaign, city):
    client = web(office)
    response = client.post(
        "/indicators/systems/new/",
        {
            "campaign": campaign.pk,
            "name": "省级测评体系",
            "kind": "provincial",
            "year": 2026,
            "note": "",
        },
    )
    system = IndicatorSystem.objects.get(name="省级测评体系")
    assert response.status_code == 302 and response["Location"] == f"/indicators/systems/{system.pk}/"
    url = f"/indicators/systems/{system.pk}/import/"
    template = client.get(url + "?template=1")
    assert template.status_code == 200
    assert [c.value for c in load_workbook(io.BytesIO(template.content)).active[1]][:4] == [
        "测评项目",
        "指标名称",
        "测评内容",
        "分值",
    ]
    data = make_xlsx(
        [
            ["测评项目", "指标名称", "测评内容", "分值", "测评标准", "测评方法", "牵头单位", "责任单位"],
            ["Ⅰ-1 思想道德", "Ⅱ-1 公益广告", "Ⅲ-1 公益广告宣传", 6, "1) 数量充足", "网上申报", "市文明办", "甲街道"],
        ]
    )
    preview = client.post(url, {"file": upload("任务分解表.xlsx", data)})
    assert preview.status_code == 200
    assert not Indicator.objects.filter(system=system).exists()
    token = re.search(r'name="token" value="([0-9a-f]+)"', html(preview)).group(1)
    confirm = client.post(url, {"token": token})
    assert confirm.status_code == 302 and confirm["Location"] == f"/indicators/systems/{system.pk}/"
    assert list(Indicator.objects.filter(system=system).order_by("path").values_list("code", flat=True)) == [
        "Ⅰ-1",
        "Ⅱ-1",
        "Ⅲ-1",
        "1)",
    ]
    export = client.get(f"/indicators/systems/{system.pk}/export/")
    assert export.status_code == 200
    assert load_workbook(io.BytesIO(export.content)).active["E2"].value == "1) 数量充足"


# --- Home widgets -----------------------------------------------------------------------------


def test_home_widgets(web, office, leader, liaison_jia, inspector, tree, city):
    approved = submit(liaison_jia, tree["st1"], city.street_jia)
    services.material_review(user=office, material=approved, approve=True)
    returned = submit(liaison_jia, tree["c2"], city.street_jia)
    services.material_review(user=office, material=returned, approve=False, reason="缺台账")

    liaison_home = html(web(liaison_jia).get("/"))
    assert 'data-testid="widget-tasks"' in liaison_home and 'data-testid="widget-declaration"' not in liaison_home
    assert re.search(r'data-testid="widget-returned">\s*1<', liaison_home)
    assert re.search(r'data-testid="widget-overdue">\s*0<', liaison_home)
    assert "任务单 · 甲街道" in liaison_home and "/indicators/tasks/" in liaison_home

    for user in (office, leader):
        home = text_of(web(user).get("/"))
        assert "网上申报完成度" in home and "30% 按分值" in home and "1 项材料被退回待修改" in home
        assert 'data-testid="widget-tasks"' not in html(web(user).get("/"))
    inspector_home = html(web(inspector).get("/"))
    assert "widget-tasks" not in inspector_home and "widget-declaration" not in inspector_home


def test_home_widgets_without_a_system_say_what_to_do(web, office, liaison_jia, campaign):
    assert "还没有测评体系。请在 测评体系 中新建并导入任务分解表。" in text_of(web(office).get("/"))
    assert "创建办导入测评体系并分解任务后" in text_of(web(liaison_jia).get("/"))
