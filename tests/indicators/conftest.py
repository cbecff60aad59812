"""A small 测评体系 for the indicators tests, built through the services.

Ⅰ-1 思想道德 (no weight)                                  lead: 市文明办
  Ⅱ-1 公益广告                                           lead: 市城管局; responsible: 甲街道
    Ⅲ-1 公益广告宣传 (6)   methods 网上申报, 实地考察
      1) 标准一  (no weight)
      2) 标准二  (no weight)
    Ⅲ-2 志愿服务 (4)       methods 材料审核
Ⅰ-2 市场环境 (10)                                       responsible: 乙街道
  Ⅲ-3 农贸市场 (no weight)  methods 实地考察
"""

from decimal import Decimal

import pytest

from indicators import services
from indicators.choices import AssignmentRole, Method


@pytest.fixture
def system(campaign):
    return services.indicator_system_create(campaign=campaign, name="测评体系2026", kind="national", year=2026)


@pytest.fixture
def tree(system, city):
    s = services
    p1 = s.indicator_create(system=system, level=1, code="Ⅰ-1", title="思想道德", rebuild=False)
    i1 = s.indicator_create(system=system, level=2, code="Ⅱ-1", title="公益广告", parent=p1, rebuild=False)
    c1 = s.indicator_create(
        system=system,
        level=3,
        code="Ⅲ-1",
        title="公益广告宣传",
        parent=i1,
        weight=Decimal(6),
        methods=[Method.ONLINE, Method.FIELD],
        rebuild=False,
    )
    st1 = s.indicator_create(system=system, level=4, code="1)", title="标准一", parent=c1, rebuild=False)
    st2 = s.indicator_create(system=system, level=4, code="2)", title="标准二", parent=c1, rebuild=False)
    c2 = s.indicator_create(
        system=system,
        level=3,
        code="Ⅲ-2",
        title="志愿服务",
        parent=i1,
        weight=Decimal(4),
        methods=[Method.REVIEW],
        rebuild=False,
    )
    p2 = s.indicator_create(system=system, level=1, code="Ⅰ-2", title="市场环境", weight=Decimal(10), rebuild=False)
    c3 = s.indicator_create(
        system=system, level=3, code="Ⅲ-3", title="农贸市场", parent=p2, methods=[Method.FIELD], rebuild=False
    )
    s.indicator_set_units(indicator=p1, role=AssignmentRole.LEAD, units=[city.dept_office], rebuild=False)
    s.indicator_set_units(indicator=i1, role=AssignmentRole.LEAD, units=[city.dept_cg], rebuild=False)
    s.indicator_set_units(indicator=i1, role=AssignmentRole.RESPONSIBLE, units=[city.street_jia], rebuild=False)
    s.indicator_set_units(indicator=p2, role=AssignmentRole.RESPONSIBLE, units=[city.street_yi], rebuild=False)
    s.indicator_system_rebuild(system=system)
    nodes = {"p1": p1, "i1": i1, "c1": c1, "st1": st1, "st2": st2, "c2": c2, "p2": p2, "c3": c3}
    for node in nodes.values():
        node.refresh_from_db()
    return nodes
