"""Points, check items and a round for the inspection tests.

Point types: 集贸(农贸)市场 (supervised by 市城管局 by default here) and 小区.
Points: 甲一农贸市场 in 甲一社区 (departments: the type's), 乙街道农贸市场 in 乙街道.
Check items at 农贸市场: 公益广告 (0.5 per occurrence, cap 2) and 占道经营 (pass/fail: 1 and 1,
charged to 市文明办 only).
"""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from indicators import services as indicator_services
from inspections import services
from inspections.models import PointType


@pytest.fixture(autouse=True)
def national_point_types(request):
    """The 26 types a migration loads. A transactional test elsewhere in the run (browser, worker)
    flushes every table, so put them back when a test of this package uses the database."""
    if "db" not in request.fixturenames and "transactional_db" not in request.fixturenames:
        return
    from inspections.choices import NATIONAL_POINT_TYPES

    request.getfixturevalue("db")
    for order, (name, _departments) in enumerate(NATIONAL_POINT_TYPES, start=1):
        PointType.objects.get_or_create(name=name, defaults={"order": order, "national": True})


@pytest.fixture
def system(campaign):
    return indicator_services.indicator_system_create(
        campaign=campaign, name="测评体系2026", kind="national", year=2026
    )


@pytest.fixture
def market_type(city):
    point_type = PointType.objects.get(name="集贸(农贸)市场")
    point_type.departments.set([city.dept_cg])
    return point_type


@pytest.fixture
def standard(system):
    top = indicator_services.indicator_create(system=system, level=1, code="Ⅰ-1", title="市场环境", rebuild=False)
    return indicator_services.indicator_create(
        system=system, level=3, code="Ⅲ-1", title="农贸市场秩序", parent=top, weight=Decimal(5)
    )


@pytest.fixture
def market(city, market_type):
    return services.point_create(
        name="甲一农贸市场",
        point_type=market_type,
        unit=city.community_jia1,
        latitude=Decimal("31.500000"),
        longitude=Decimal("120.300000"),
    )


@pytest.fixture
def market_yi(city, market_type):
    return services.point_create(name="乙街道农贸市场", point_type=market_type, unit=city.street_yi)


@pytest.fixture
def ads_item(market_type, standard):
    return services.check_item_create(
        point_type=market_type,
        indicator=standard,
        text="核心价值观公益广告不少于2处",
        per_occurrence=Decimal("0.5"),
        cap=Decimal(2),
        counting_rule="每缺一处扣0.5分",
    )


@pytest.fixture
def stall_item(market_type, standard, city):
    return services.check_item_create(
        point_type=market_type,
        indicator=standard,
        text="无占道经营",
        per_occurrence=Decimal(1),
        cap=Decimal(1),
        departments=[city.dept_office],
    )


@pytest.fixture
def round_(campaign, office, inspector, market, market_yi):
    # Around today, so that an inspection recorded now falls within the round.
    today = timezone.localdate()
    return services.round_create(
        user=office,
        campaign=campaign,
        name="第47周督查",
        kind="weekly",
        start_date=today - datetime.timedelta(days=3),
        end_date=today + datetime.timedelta(days=3),
        inspectors=[inspector],
        points=[market, market_yi],
    )
