"""Links only where they lead (issue 11, part 7), clicked as a reader would: a street liaison and
the department liaison open their home and the published week's rankings (every population), and
every link on those pages is opened with their session. None may answer 404, 403 or 500, send them
to the login page, or — when its text was a non-zero count — open a list of "共 0 条". In the demo
a liaison's rankings page used to link every unit and number of the city: other units ended in a
404 (Django's debug page listing the routes) and other districts' counts in empty lists.

The week: last week's inspections of back streets (背街小巷, supervised by 市城管局) in every
district, failures in 湖滨街道 (the street liaison's), in 山前街道 and elsewhere, one problem
assigned to 湖滨街道; computed and published through the roll-up services."""

from __future__ import annotations

import datetime
import re
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accountability.rollup import rollup_compute, rollup_publish
from accountability.workflow import TransitionInput, problem_transition
from campaign.choices import UnitKind
from campaign.models import Campaign, Unit
from indicators import services as indicator_services
from inspections import services
from inspections.models import PointType, Problem
from inspections.selectors import iso_week_of
from tests.browser.conftest import login, logout

pytestmark = [pytest.mark.browser]

POPULATIONS = ("district", "street", "community", "department")
# A link whose text is a count: "3", "超期 1 个", "待处理问责事项 2" (not "#2 …", an id).
COUNT_TEXT = re.compile(r"^(?:[^\d#]*\s)?(\d+)(?:\s*[个条])?$")
LINKS_JS = """() => Array.from(document.querySelectorAll('a[href]')).map(a => ({
    href: a.href, raw: a.getAttribute('href'), text: a.textContent.replace(/\\s+/g, ' ').trim()}))"""


def _community_under(street_or_district: Unit) -> Unit:
    return Unit.objects.filter(kind=UnitKind.COMMUNITY, path__startswith=street_or_district.path).order_by("path")[0]


@pytest.fixture
def published_week(demo_city):
    users = demo_city["users"]
    office, inspector = users["office"], users["inspector"]
    campaign = Campaign.objects.filter(active=True).order_by("pk").first()
    campaign.min_sample = 1
    campaign.save(update_fields=["min_sample"])
    system = indicator_services.indicator_system_create(campaign=campaign, name="测评体系", kind="national", year=2026)
    top = indicator_services.indicator_create(system=system, level=1, code="Ⅰ-1", title="公共环境", rebuild=False)
    standard = indicator_services.indicator_create(
        system=system, level=3, code="Ⅲ-7", title="背街小巷环境卫生", parent=top, weight=Decimal(5)
    )
    back_street = PointType.objects.get(name="背街小巷")
    item = services.check_item_create(
        point_type=back_street, indicator=standard, text="无乱堆乱放", per_occurrence=Decimal(1), cap=Decimal(2)
    )
    hubin = Unit.objects.get(kind=UnitKind.STREET, name__contains="湖滨")
    shanqian = Unit.objects.get(kind=UnitKind.STREET, name__contains="山前")
    communities = [_community_under(hubin), _community_under(shanqian)]
    for district in Unit.objects.filter(kind=UnitKind.DISTRICT).order_by("path"):
        community = _community_under(district)
        if community not in communities:
            communities.append(community)
    points = [
        services.point_create(name=f"{community.name}后巷", point_type=back_street, unit=community)
        for community in communities
    ]
    monday = timezone.localdate() - datetime.timedelta(days=timezone.localdate().weekday() + 7)
    round_ = services.round_create(
        user=office,
        campaign=campaign,
        name="上周背街小巷督查",
        kind="weekly",
        start_date=monday,
        end_date=monday + datetime.timedelta(days=6),
        inspectors=[inspector],
        points=points,
    )
    moment = datetime.datetime.combine(
        monday + datetime.timedelta(days=2), datetime.time(10), tzinfo=timezone.get_default_timezone()
    )
    for n, point in enumerate(points):
        # 湖滨 and 山前 fail; the other districts alternate.
        failing = n < 2 or n % 2 == 0
        services.inspection_submit(
            user=inspector,
            round_=round_,
            point=point,
            client_uuid=uuid.uuid4(),
            observations=[services.ObservationInput(item.pk, "fail" if failing else "pass", 1 if failing else 0)],
            observed_at=moment + datetime.timedelta(minutes=n),
        )
    problem = Problem.objects.get(point=points[0])
    problem_transition(
        user=office,
        problem=problem,
        data=TransitionInput(
            action="assign", handler=hubin, deadline=timezone.localdate() + datetime.timedelta(days=7)
        ),
    )
    week = iso_week_of(monday)
    rollup_compute(campaign=campaign, week=week)
    rollup_publish(campaign=campaign, week=week, user=office, bulletin=False)
    return campaign, week


def _links(page, origin: str) -> list[tuple[str, str]]:
    """(url, text) of every same-site link a reader can follow with a GET."""
    found = []
    for link in page.evaluate(LINKS_JS):
        raw, url = link["raw"] or "", link["href"]
        if raw.startswith(("#", "javascript:")) or not url.startswith(origin) or "/logout/" in url:
            continue
        found.append((url.split("#")[0], link["text"]))
    return found


def _dead_links(page, origin: str, path: str) -> tuple[int, list[str]]:
    """Open `path`, then every link on it with the same session; describe each that does not lead."""
    page.goto(f"{origin}{path}")
    page.wait_for_selector('[data-testid="main-nav"]')
    links = list(dict.fromkeys(_links(page, origin)))
    dead = []
    for url, text in links:
        response = page.context.request.get(url)
        short = url[len(origin) :]
        if response.status in (403, 404) or response.status >= 500:
            dead.append(f"{path}: “{text}” → {short} answers {response.status}")
            continue
        if "/login/" in response.url and "/login/" not in url:
            dead.append(f"{path}: “{text}” → {short} sends to the login page")
            continue
        count = COUNT_TEXT.match(text)
        if count and int(count.group(1)) > 0 and "共 0 条" in response.text():
            dead.append(f"{path}: “{text}” → {short} shows 共 0 条")
    return len(links), dead


@pytest.mark.parametrize("username", ["liaison", "dept"])
def test_every_link_a_liaison_sees_leads_somewhere(page, live_server, shot, published_week, username):
    campaign, week = published_week
    origin = live_server.url
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, live_server, username)
    paths = ["/", "/rankings/"] + [f"/rankings/?week={week}&population={population}" for population in POPULATIONS]
    dead, opened = [], 0
    for path in paths:
        n, problems = _dead_links(page, origin, path)
        opened += n
        dead += problems
    page.goto(f"{origin}/rankings/?week={week}&population=street")
    shot(page, f"links-rankings-street-{username}")
    logout(page)
    assert opened > 50  # the pages were read, with their tables
    assert dead == [], "\n".join(dead)


def test_a_page_the_liaison_may_not_open_is_the_products_chinese_404(page, live_server, shot, demo_city):
    """A hand-typed address of another street's unit: the product's page, in Chinese, with the
    liaison's own menu, no trace of the unit, and the way back to where it came from."""
    other = Unit.objects.get(kind=UnitKind.STREET, name__contains="山前")
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, live_server, "liaison")
    page.goto(f"{live_server.url}/units/tree/")
    response = page.goto(f"{live_server.url}/units/{other.pk}/")
    assert response.status == 404
    expect(page.get_by_test_id("error-404")).to_contain_text("该页面不存在，或您无权查看。")
    expect(page.get_by_test_id("main-nav")).to_be_visible()
    assert other.name not in page.content()
    shot(page, "error-404-liaison")
    page.get_by_test_id("error-back").click()
    expect(page).to_have_url(f"{live_server.url}/units/tree/")
    response = page.goto(f"{live_server.url}/no-such-page/")
    assert response.status == 404
    page.get_by_test_id("error-home").click()
    expect(page.get_by_test_id("home-title")).to_have_text("单位工作台")
