"""Links only where they lead (issue 11, part 7): on the home and unit pages, every link a persona
sees opens for that persona (no 404, 403 or error), and a number that links opens a list showing
that same number. A unit the reader may not open is plain text, never a link to a 404."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.template import Context, Template

from accountability.rollup import rollup_compute, rollup_publish
from campaign import services as campaign_services
from campaign.selectors import scope_for
from tests.accountability.rollup_fixtures import *  # noqa: F403 - the hand-computed week 2026-W45
from tests.accountability.rollup_fixtures import WEEK
from tests.inspections.conftest import *  # noqa: F403 - its points, check items and round

LIST_TOTAL = re.compile(r"共 (\d+) (?:条|个)")
# A link whose text is a count: "3", "超期 1 个", "待处理问责事项 2" (not "#2 公益广告破损", an id).
COUNT_TEXT = re.compile(r"^(?:[^\d#]*\s)?(\d+)(?:\s*[个条])?$")


class _Anchors(HTMLParser):
    """Every <a href> of a page with its visible text."""

    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._open: list[list] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._open.append([dict(attrs).get("href") or "", ""])

    def handle_data(self, data):
        for anchor in self._open:
            anchor[1] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._open:
            href, text = self._open.pop()
            self.links.append((href, " ".join(text.split())))


def anchors(html: str) -> list[tuple[str, str]]:
    parser = _Anchors()
    parser.feed(html)
    return parser.links


def followable(href: str, page: str = "/") -> str | None:
    """A same-site page a reader can open with a GET, as a path with its query (a relative link
    such as "?week=…" read against `page`); else None."""
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
        return None
    parts = urlsplit(urljoin(f"http://testserver{page}", href))
    if parts.netloc and parts.netloc != "testserver":
        return None
    path = parts.path or "/"
    if path.startswith("/logout/"):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def dead_links(client, page: str) -> list[str]:
    """Open every link of `page` as the client's user; describe each that does not lead."""
    response = client.get(page)
    assert response.status_code == 200, page
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for href, text in anchors(response.content.decode()):
        target = followable(href, page)
        if target is None or (target, text) in seen:
            continue
        seen.add((target, text))
        opened = client.get(target, follow=True)
        final = opened.redirect_chain[-1][0] if opened.redirect_chain else target
        if opened.status_code != 200:
            problems.append(f"{page}: “{text}” → {target} answers {opened.status_code}")
            continue
        if final.startswith("/login/"):
            problems.append(f"{page}: “{text}” → {target} sends to the login page")
            continue
        count = COUNT_TEXT.match(text)
        if count and "text/html" in opened.get("Content-Type", ""):
            total = LIST_TOTAL.search(opened.content.decode())
            if total and int(total.group(1)) != int(count.group(1)):
                problems.append(f"{page}: “{text}” → {target} shows 共 {total.group(1)}")
    return problems


@pytest.fixture
def stopped_district(city):
    """A district no longer taking part: the office's and leader's counts leave it out, and so
    must the lists those counts open."""
    return campaign_services.unit_create(name="丙区", code="BING", kind="district", active=False)


PERSONAS = ["office", "leader", "inspector", "liaison_jia", "liaison_yi", "liaison_dept"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_link_on_the_home_page_leads_somewhere(web, campaign, stopped_district, persona, request):
    client = web(request.getfixturevalue(persona))
    assert dead_links(client, "/") == []


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_link_on_the_unit_pages_leads_somewhere(web, city, campaign, stopped_district, persona, request):
    user = request.getfixturevalue(persona)
    client = web(user)
    scope = scope_for(user)
    units = [city.street_jia, city.community_jia1, city.district_yi, city.street_yi, city.dept_cg]
    pages = ["/units/tree/"] + [f"/units/{unit.pk}/" for unit in units if scope.covers(unit)]
    problems = [problem for page in pages for problem in dead_links(client, page)]
    assert problems == []


@pytest.fixture
def published_week(campaign, week45, office):
    """A published week with failures and open problems: the home widgets then show numbers."""
    rollup_compute(campaign=campaign, week=WEEK)
    return rollup_publish(campaign=campaign, week=WEEK, user=office, bulletin=False)


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_link_on_the_home_page_leads_somewhere_after_a_published_week(web, published_week, persona, request):
    client = web(request.getfixturevalue(persona))
    assert dead_links(client, "/") == []


def test_a_liaison_reads_the_district_above_its_street_as_plain_text(web, city, liaison_jia):
    html = web(liaison_jia).get(f"/units/{city.street_jia.pk}/").content.decode()
    hrefs = {href for href, _text in anchors(html)}
    assert f"/units/{city.district_jia.pk}/" not in hrefs
    assert "甲区" in html  # named as the 上级单位, not linked
    assert f"/units/{city.community_jia1.pk}/" in hrefs  # its own communities are links


def test_a_liaisons_home_counts_open_lists_of_that_many_units(web, city, liaison_jia):
    html = web(liaison_jia).get("/").content.decode()
    counts = {text: href for href, text in anchors(html) if "/units/?kind=" in href}
    # 甲街道 and its two communities.
    assert sorted(counts) == ["1", "2"]


def test_the_office_home_counts_only_active_units_and_opens_the_same_list(web, office, stopped_district):
    client = web(office)
    html = client.get("/").content.decode()
    district = next(href for href, _text in anchors(html) if "kind=district" in href)
    assert "active=true" in district
    listed = client.get(district.replace("&amp;", "&")).content.decode()
    assert "共 2 条" in listed and "丙区" not in listed


def _render(source: str, **context) -> str:
    return Template("{% load links %}" + source).render(Context(context)).strip()


def test_unit_link_renders_a_link_only_inside_the_readers_scope(city, liaison_jia, office):
    liaison = scope_for(liaison_jia)
    own = _render("{% unit_link unit %}", scope=liaison, unit=city.community_jia1)
    assert own == f'<a href="/units/{city.community_jia1.pk}/">甲一社区</a>'
    other = _render("{% unit_link unit %}", scope=liaison, unit=city.street_yi)
    assert other == "乙街道"
    styled = _render('{% unit_link unit css="h3" text="乙" %}', scope=liaison, unit=city.street_yi)
    assert styled == '<span class="h3">乙</span>'
    elsewhere = _render(
        '{% unit_link unit href="/rankings/units/9/?week=2026-W47" %}', scope=scope_for(office), unit=city.street_yi
    )
    assert elsewhere == '<a href="/rankings/units/9/?week=2026-W47">乙街道</a>'
    assert _render("{% unit_link unit %}", scope=liaison, unit=None) == "—"
    assert _render("{% if scope|covers:unit %}yes{% else %}no{% endif %}", scope=liaison, unit=city.street_yi) == "no"
    # Without a scope in the context (a render outside a request) nothing is linked.
    assert _render("{% unit_link unit %}", unit=city.street_jia) == "甲街道"


def test_unit_names_are_escaped(city, office):
    unit = city.street_jia
    unit.name = "<b>甲</b>"
    assert _render("{% unit_link unit %}", scope=scope_for(office), unit=unit).endswith("&lt;b&gt;甲&lt;/b&gt;</a>")
