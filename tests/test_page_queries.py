"""Every page a user opens daily (issue #10) costs the same number of queries on a small and a larger
data set, and on page 1 and the last page of a list; a page number past the end answers the last
page, never an error.

The small world is the hand-computed week 2026-W45 (tests/accountability/rollup_fixtures.py),
published, plus one failing observation today (so the leader's "losing most" block has rows) and a
notification. The larger one adds 110 communities with a point each, 65 observations, 110 problems
and 110 notifications, and republishes the week: more than 100 ranked communities (two ranking pages), three pages of
problems, points and observations. Counts are taken on a second request (the first warms the
session and per-process caches).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accountability.models import Notification
from accountability.rollup import rollup_compute, rollup_publish
from campaign import services as campaign_services
from campaign.choices import UnitKind
from inspections.choices import ProblemSource, ProblemStatus
from inspections.models import Point, Problem
from tests.accountability.rollup_fixtures import *  # noqa: F403 - the hand-computed week
from tests.accountability.rollup_fixtures import MONDAY, WEEK, at
from tests.inspections.conftest import *  # noqa: F403 - points, check items, rounds

MORE = 110  # > 100 communities: the ranking's second page; > 2 × 50 problems and points


@dataclass
class World:
    campaign: object
    city: object
    users: dict
    market: object
    market_type: object
    ads_item: object
    observe: Callable
    grown: bool = False
    clients: dict = field(default_factory=dict)

    def client(self, persona: str) -> Client:
        if persona not in self.clients:
            self.clients[persona] = Client()
            self.clients[persona].force_login(self.users[persona])
        return self.clients[persona]

    def publish(self) -> None:
        rollup_compute(campaign=self.campaign, week=WEEK)
        rollup_publish(campaign=self.campaign, week=WEEK, user=self.users["office"])

    def grow(self) -> None:
        city = self.city
        communities = [
            campaign_services.unit_create(
                name=f"新社区{n}", code=f"NEW-{n}", kind=UnitKind.COMMUNITY, parent=city.street_jia
            )
            for n in range(MORE)
        ]
        Point.objects.bulk_create(
            Point(name=f"新点位{n}", point_type=self.market_type, unit=unit) for n, unit in enumerate(communities)
        )
        failing = [o for o in self.observe(self.market, [1] * 60 + ["0.5"] * 5) if o.result != "pass"]
        deadline = MONDAY + datetime.timedelta(days=4)
        grown = Problem.objects.bulk_create(
            Problem(
                campaign=self.campaign,
                source=ProblemSource.INSPECTION,
                point=self.market,
                check_item=self.ads_item,
                indicator=self.ads_item.indicator,
                unit=city.community_jia1,
                handler=city.street_jia,
                created_by=self.users["office"],
                description=f"公益广告破损{n}",
                found_at=at(MONDAY, 8 + n % 10),
                deadline=deadline,
                status=ProblemStatus.RECTIFYING if n % 2 else ProblemStatus.NEW,
            )
            for n in range(MORE)
        )
        # The failures charged to the market's department are sightings of five of them: the
        # department's 条 view reads them through the sightings too.
        Problem.sightings.through.objects.bulk_create(
            Problem.sightings.through(problem_id=problem.pk, observation_id=observation.pk)
            for problem, observation in zip(grown, failing, strict=False)
        )
        liaison = self.users["liaison"]
        Notification.objects.bulk_create(
            Notification(user=liaison, key=f"more-{n}", message=f"提醒{n}") for n in range(MORE)
        )
        self.publish()
        self.grown = True


@pytest.fixture
def world(
    campaign, city, office, inspector, leader, liaison_jia, liaison_dept, week45, market, market_type, ads_item, observe
):
    world = World(
        campaign=campaign,
        city=city,
        users={
            "office": office,
            "inspector": inspector,
            "leader": leader,
            "liaison": liaison_jia,
            "dept": liaison_dept,
        },
        market=market,
        market_type=market_type,
        ads_item=ads_item,
        observe=observe,
    )
    today = observe(market, ["0.5"], day=timezone.localdate())  # the loss window is the last four weeks
    # Its problem, charged (through the observation) to the market's department.
    Problem.objects.create(
        campaign=campaign,
        source=ProblemSource.INSPECTION,
        point=market,
        check_item=ads_item,
        indicator=ads_item.indicator,
        observation=today[0],
        unit=city.community_jia1,
        created_by=office,
        description="公益广告缺失",
        found_at=timezone.now(),
    )
    Notification.objects.create(user=liaison_jia, key="first", message="第一条提醒")
    world.publish()
    return world


@dataclass
class Page:
    name: str
    persona: str
    url: Callable[[World], str]
    listing: str = ""  # "html" or "api" when the page is a paginated list

    def __str__(self) -> str:
        return self.name


def _rankings(population: str) -> Callable[[World], str]:
    return lambda w: f"/rankings/?week={WEEK}&population={population}"


PAGES = [
    Page("office home", "office", lambda w: "/"),
    Page("leader home", "leader", lambda w: "/"),
    Page("liaison home", "liaison", lambda w: "/"),
    # A department's 条 view: what it is charged for, through Charge (issue 11).
    Page("department home", "dept", lambda w: "/"),
    Page("dashboard", "leader", lambda w: "/dashboard/"),
    *(Page(f"rankings {p}", "leader", _rankings(p), "html") for p in ("district", "street", "community", "department")),
    Page("unit page (district)", "leader", lambda w: f"/rankings/units/{w.city.district_jia.pk}/?week={WEEK}"),
    Page("unit page (community)", "leader", lambda w: f"/rankings/units/{w.city.community_jia1.pk}/?week={WEEK}"),
    Page("cases", "leader", lambda w: "/rankings/cases/", "html"),
    Page("problems", "office", lambda w: "/inspections/problems/", "html"),
    Page("problems (liaison)", "liaison", lambda w: "/inspections/problems/", "html"),
    Page("problems (department)", "dept", lambda w: "/inspections/problems/?relation=charged", "html"),
    Page(
        "observations by unit and week",
        "leader",
        lambda w: f"/inspections/observations/?charged={w.city.street_jia.pk}&week={WEEK}",
        "html",
    ),
    Page(
        "observations by subtree and week",
        "leader",
        lambda w: f"/inspections/observations/?unit={w.city.district_jia.pk}&week={WEEK}",
        "html",
    ),
    Page("points list", "office", lambda w: "/inspections/points/", "html"),
    Page("points map", "office", lambda w: "/inspections/points/map/"),
    Page("周通报 print page", "leader", lambda w: f"/bulletins/{w.campaign.pk}/{WEEK}/"),
    Page("调度会材料 print page", "office", lambda w: f"/meetings/{w.campaign.pk}/{WEEK}/"),
    Page("API meeting pack", "leader", lambda w: f"/api/v1/meeting-packs/{w.campaign.pk}/{WEEK}/"),
    Page("API problems", "office", lambda w: "/api/v1/problems/", "api"),
    Page("API problems (liaison)", "liaison", lambda w: "/api/v1/problems/", "api"),
    Page("API problems (department)", "dept", lambda w: "/api/v1/problems/", "api"),
    Page("API observations", "office", lambda w: f"/api/v1/observations/?week={WEEK}", "api"),
    Page("API points", "office", lambda w: "/api/v1/points/", "api"),
    Page("API rounds", "office", lambda w: "/api/v1/rounds/", "api"),
    Page("API inspections", "office", lambda w: "/api/v1/inspections/", "api"),
    Page("API rankings", "leader", lambda w: f"/api/v1/rankings/?week={WEEK}&population=community", "api"),
    Page("API accountability cases", "leader", lambda w: "/api/v1/accountability-cases/", "api"),
    Page("API check items", "inspector", lambda w: "/api/v1/check-items/", "api"),
    Page("API units", "liaison", lambda w: "/api/v1/units/", "api"),
    Page("API notifications", "liaison", lambda w: "/api/v1/notifications/", "api"),
]


def _with_page(url: str, number: int) -> str:
    return f"{url}{'&' if '?' in url else '?'}page={number}"


def _get(world: World, page: Page, url: str):
    client = world.client(page.persona)
    client.get(url)  # warm: session, scope and per-process caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (page.name, url, response.status_code)
    return len(captured), response


def _rows(page: Page, response) -> tuple[list, int]:
    """The row ids shown and the number of the last page."""
    if page.listing == "api":
        data = response.json()
        rows = [row.get("id", row.get("unit")) for row in data["results"]]
        return rows, max(1, math.ceil(data["count"] / 50))
    paginator_page = response.context["page_obj"]
    return [row.pk for row in paginator_page.object_list], paginator_page.paginator.num_pages


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_the_page_costs_the_same_queries_small_and_larger(world, page):
    small, _ = _get(world, page, page.url(world))
    world.grow()
    larger, response = _get(world, page, page.url(world))
    assert small == larger, f"{page.name}: {small} queries on the small world, {larger} on the larger one"
    if not page.listing:
        return
    rows, last = _rows(page, response)
    assert rows, page.name
    deep, deep_response = _get(world, page, _with_page(page.url(world), last))
    assert deep == larger, f"{page.name}: page 1 costs {larger} queries, page {last} {deep}"
    # Past the end: the last page, never a 404 or 500.
    _, past = _get(world, page, _with_page(page.url(world), last + 1000))
    assert _rows(page, past)[0] == _rows(page, deep_response)[0], page.name


def test_the_larger_world_has_several_pages_of_each_long_list(world):
    """The deep-page checks above only mean something if the lists really have several pages."""
    world.grow()
    for name in ("rankings community", "problems", "observations by unit and week", "points list", "API problems"):
        page = next(p for p in PAGES if p.name == name)
        _, response = _get(world, page, page.url(world))
        assert _rows(page, response)[1] >= 2, name
