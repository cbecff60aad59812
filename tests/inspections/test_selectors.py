"""Weeks, scopes and nearest points."""

import datetime
import uuid
from decimal import Decimal

import pytest

from inspections import selectors, services
from inspections.services import ObservationInput as Obs


def test_iso_weeks_in_shanghai_time():
    start, end = selectors.iso_week_bounds("2026-W47")
    assert (start.isoformat(), end.isoformat()) == ("2026-11-16T00:00:00+08:00", "2026-11-23T00:00:00+08:00")
    assert selectors.week_label("2026-W47") == "第47周（11月16日—11月22日）"
    assert selectors.iso_week_of(datetime.date(2026, 11, 22)) == "2026-W47"
    assert selectors.iso_week_of(datetime.date(2027, 1, 1)) == "2026-W53"


@pytest.mark.parametrize("week", ["2026-47", "2026-W99", "", "W47"])
def test_bad_weeks(week):
    with pytest.raises(ValueError):
        selectors.iso_week_bounds(week)


def test_scopes(inspector, round_, market, market_yi, ads_item, liaison_jia, liaison_yi, liaison_dept, leader):
    services.inspection_submit(
        user=inspector,
        round_=round_,
        point=market,
        client_uuid=uuid.uuid4(),
        observations=[Obs(ads_item.pk, "fail", 1)],
    )
    assert [p.name for p in selectors.point_list(user=liaison_jia)] == ["甲一农贸市场"]
    assert sorted(p.name for p in selectors.point_list(user=liaison_dept)) == ["乙街道农贸市场", "甲一农贸市场"]
    assert selectors.observation_list(user=liaison_jia).count() == 1
    assert selectors.observation_list(user=liaison_yi).count() == 0
    assert selectors.problem_list(user=liaison_yi).count() == 0
    assert selectors.problem_list(user=liaison_jia).count() == 1
    assert selectors.problem_list(user=inspector).count() == 1
    assert selectors.round_list(user=liaison_jia).count() == 0
    assert selectors.round_list(user=leader).count() == 1


def test_nearest_points_first(city, market_type):
    for i, (lat, lng) in enumerate([("31.50", "120.30"), ("31.51", "120.30"), ("31.60", "120.30")]):
        services.point_create(
            name=f"市场{i}", point_type=market_type, unit=city.street_jia, latitude=Decimal(lat), longitude=Decimal(lng)
        )
    from inspections.models import Point

    near = selectors.points_near(Point.objects.all(), latitude=31.509, longitude=120.30, limit=2)
    assert [(p.name, p.distance) for p in near] == [("市场1", 111), ("市场0", 1001)]


@pytest.mark.parametrize("per_page, orphans", [(7, 0), (7, 3), (50, 0)])
def test_key_pages_are_the_plain_pages(city, market_type, per_page, orphans, django_assert_num_queries):
    """KeyPagePaginator reads a page's keys first: every page holds exactly the rows, in the
    order, that Django's Paginator gives, with the filters and joins of the list; one query a page."""
    from django.core.paginator import Paginator

    from inspections.models import Point

    Point.objects.bulk_create(
        Point(name=f"点位{n:02d}", point_type=market_type, unit=city.community_jia1 if n % 3 else city.street_yi)
        for n in range(40)
    )
    rows = Point.objects.select_related("unit").filter(unit__name__contains="社区").order_by("-name", "-id")
    plain = Paginator(rows, per_page, orphans=orphans)
    keyed = selectors.KeyPagePaginator(rows, per_page, orphans=orphans)
    assert keyed.num_pages == plain.num_pages
    for number in plain.page_range:
        with django_assert_num_queries(1):
            names = [(p.name, p.unit.name) for p in keyed.page(number)]
        assert names == [(p.name, p.unit.name) for p in plain.page(number)]
