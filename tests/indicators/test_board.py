"""The completeness board, the task list and the negative list, against hand-computed numbers."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from campaign.files import minimal_pdf
from indicators import services
from indicators.choices import RiskStatus
from indicators.models import RiskEvent
from indicators.selectors import (
    completeness_by_project,
    completeness_by_unit,
    missing_materials,
    task_list,
    veto_banners,
)

PDF = minimal_pdf()


def submit(user, indicator, unit):
    return services.material_submit(
        user=user, indicator=indicator, unit=unit, description="材料", files=[SimpleUploadedFile("a.pdf", PDF)]
    )


def test_board_before_any_material(tree):
    (project,) = completeness_by_project(system=tree["p1"].system)
    assert (
        project["top__code"],
        project["total_weight"],
        project["approved_weight"],
        project["items"],
        project["rate"],
    ) == ("Ⅰ-1", Decimal(10), Decimal(0), 3, Decimal(0))
    units = {
        row["unit__name"]: (row["total_weight"], row["items"], row["rate"])
        for row in completeness_by_unit(system=tree["p1"].system)
    }
    assert units == {"甲街道": (Decimal(10), 3, 0), "示范市城市管理局": (Decimal(10), 3, 0)}


def test_board_moves_when_material_is_approved(tree, city, liaison_jia, office, django_assert_num_queries):
    material = submit(liaison_jia, tree["st1"], city.street_jia)
    services.material_review(user=office, material=material, approve=True)
    system = tree["p1"].system
    with django_assert_num_queries(1):
        (project,) = completeness_by_project(system=system)
    assert (project["approved_weight"], project["approved_items"], project["rate"]) == (Decimal(3), 1, Decimal("0.3"))
    with django_assert_num_queries(1):
        units = {row["unit__name"]: row for row in completeness_by_unit(system=system)}
    assert (units["甲街道"]["approved_weight"], units["甲街道"]["rate"]) == (Decimal(3), Decimal("0.3"))
    assert units["示范市城市管理局"]["approved_weight"] == Decimal(0)


def test_missing_and_returned_are_listed_with_the_reason(tree, city, liaison_jia, office):
    material = submit(liaison_jia, tree["st2"], city.street_jia)
    services.material_review(user=office, material=material, approve=False, reason="缺少照片")
    rows = missing_materials(system=tree["p1"].system, unit=city.street_jia)
    assert [(r.indicator.code, r.material_status, r.return_reason) for r in rows] == [
        ("1)", None, None),
        ("2)", "returned", "缺少照片"),
        ("Ⅲ-2", None, None),
    ]


def test_a_unit_both_leading_and_responsible_counts_once(tree, city):
    from indicators.choices import AssignmentRole

    services.indicator_set_units(indicator=tree["c2"], role=AssignmentRole.LEAD, units=[city.street_jia])
    units = {row["unit__name"]: row["items"] for row in completeness_by_unit(system=tree["p1"].system)}
    assert units["甲街道"] == 3


def test_task_list_shows_own_nodes_and_inherited_leaves(tree, city):
    rows = [(a.indicator.code, a.role, a.inherited) for a in task_list(unit=city.street_jia)]
    assert rows == [
        ("Ⅱ-1", "responsible", False),
        ("1)", "responsible", True),
        ("2)", "responsible", True),
        ("Ⅲ-2", "responsible", True),
    ]
    assert [a.indicator.code for a in task_list(unit=city.street_yi)] == ["Ⅰ-2", "Ⅲ-3"]


def test_task_list_query_count_is_flat(tree, city, django_assert_num_queries):
    with django_assert_num_queries(2):  # the rows with their indicators, then their methods
        rows = list(task_list(unit=city.street_jia))
        [sorted(m.method for m in r.indicator.method_rows.all()) for r in rows]


@pytest.fixture
def veto_item(system):
    return services.negative_item_create(system=system, title="发生重大安全生产事故", veto=True)


def test_an_open_veto_event_raises_banners_for_office_and_leaders(veto_item, city, office, leader, liaison_jia):
    assert veto_banners(office) == []
    event = services.risk_event_create(
        user=office,
        item=veto_item,
        unit=city.district_jia,
        occurred_on=datetime.date(2026, 11, 1),
        description="某工地坍塌",
    )
    assert veto_banners(office) == ["一票否决风险：甲区 · 发生重大安全生产事故（2026年11月01日，未解决）"]
    assert veto_banners(leader) == veto_banners(office)
    assert veto_banners(liaison_jia) == []
    services.risk_event_resolve(user=office, event=event, resolution="已处置并追责")
    assert veto_banners(office) == []
    event.refresh_from_db()
    assert event.status == RiskStatus.RESOLVED


def test_only_the_office_registers_risk_events(veto_item, city, leader, liaison_jia):
    for user in (leader, liaison_jia):
        with pytest.raises(PermissionDenied):
            services.risk_event_create(
                user=user,
                item=veto_item,
                unit=city.district_jia,
                occurred_on=datetime.date(2026, 11, 1),
                description="x",
            )
    assert not RiskEvent.objects.exists()


def test_risk_event_validation(veto_item, city, office):
    with pytest.raises(ValidationError):
        services.risk_event_create(
            user=office, item=veto_item, unit=city.district_jia, occurred_on=datetime.date(2099, 1, 1), description="x"
        )
    with pytest.raises(ValidationError):
        services.negative_item_create(system=veto_item.system, title="发生重大安全生产事故")
