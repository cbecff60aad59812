"""The field-inspection journey on a phone (375×812): the demo inspector records an inspection at a
point in 湖滨街道 — two items 不合格 with occurrences, a photo from the camera — survives a reload
with the draft intact, submits, and sees the deductions and the problems opened; then the office
finds the two new problems in its list. Screenshots of the record page, the point list, the map and
the round page at both sizes."""

import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from campaign.models import Unit
from indicators import services as indicator_services
from indicators.models import Indicator, IndicatorSystem
from inspections import services
from inspections.models import Inspection, PointType, Problem
from tests.browser.conftest import login, logout

pytestmark = [pytest.mark.browser]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
POINT_NAME = "湖滨旅程广场"
ROUND_NAME = "湖滨街道旅程督查"
POINT_LAT, POINT_LNG = Decimal("31.521300"), Decimal("120.351200")
ITEMS = [
    ("广场内公益广告不少于3处，内容规范", "每少1处扣0.5分", "0.5", "1.5"),
    ("无占道经营、无乱堆乱放", "每处扣0.5分，扣完为止", "0.5", "2"),
    ("地面干净，无垃圾、无积水", "每处扣0.5分", "0.5", "1"),
    ("公共设施完好，标识规范", "不符合扣1分", "1", "1"),
]


def no_overflow(page, name: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > page.viewport_size["width"]:
        culprits = page.evaluate(
            """(limit) => Array.from(document.querySelectorAll('body *'))
            .filter((el) => el.getBoundingClientRect().right > limit + 0.5)
            .slice(0, 8).map((el) => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))""",
            page.viewport_size["width"],
        )
        raise AssertionError(f"{name} overflows: {width}px; {culprits}")


def both_sizes(page, shot, name: str, *, phone_first: bool = False) -> None:
    """Screenshots at both sizes, checking that nothing overflows the phone; ends at the first size."""
    sizes = [("phone", PHONE), ("desktop", DESKTOP)]
    if not phone_first:
        sizes.reverse()
    for label, size in sizes:
        page.set_viewport_size(size)
        page.wait_for_timeout(150)
        no_overflow(page, f"{name}-{label}")
        shot(page, f"inspections-{name}-{label}")
    page.set_viewport_size(sizes[0][1])


def field_setup(demo_city) -> dict:
    """What the demo does not have yet: check items of one point type, a point in 湖滨街道 and an
    open round for the demo inspector — all through the services."""
    users, campaign = demo_city["users"], demo_city["campaign"]
    system = IndicatorSystem.objects.filter(campaign=campaign).first() or indicator_services.indicator_system_create(
        campaign=campaign, name="旅程测评体系", kind="national", year=2026
    )
    standard = Indicator.objects.filter(system=system, is_leaf=True).order_by("path").first()
    if standard is None:
        top = indicator_services.indicator_create(system=system, level=1, code="Ⅰ-9", title="公共环境", rebuild=False)
        standard = indicator_services.indicator_create(
            system=system, level=3, code="Ⅲ-9", title="广场环境", parent=top, weight=Decimal(4)
        )
    point_type = PointType.objects.get(name="公共广场")
    items = [
        services.check_item_create(
            point_type=point_type,
            indicator=standard,
            text=text,
            counting_rule=rule,
            per_occurrence=Decimal(per),
            cap=Decimal(cap),
        )
        for text, rule, per, cap in ITEMS
    ]
    hubin = Unit.objects.get(short_name="湖滨街道")
    point = services.point_create(
        name=POINT_NAME, point_type=point_type, unit=hubin, address="湖滨路1号", latitude=POINT_LAT, longitude=POINT_LNG
    )
    today = timezone.localdate()
    round_ = services.round_create(
        user=users["office"],
        campaign=campaign,
        name=ROUND_NAME,
        kind="routine",
        start_date=today - datetime.timedelta(days=1),
        end_date=today + datetime.timedelta(days=5),
        inspectors=[users["inspector"]],
        points=[point],
    )
    return {"items": items, "point": point, "round": round_}


def test_inspector_records_an_inspection_on_a_phone_and_office_sees_the_problems(
    page, live_server, demo_city, shot, tmp_path
):
    field = field_setup(demo_city)
    point, round_ = field["point"], field["round"]
    photo = tmp_path / "现场.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (1600, 1200), (180, 70, 40)).save(buffer, format="JPEG", quality=85)
    photo.write_bytes(buffer.getvalue())

    page.set_viewport_size(PHONE)
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": 31.5215, "longitude": 120.3510, "accuracy": 15})

    # The inspector opens the record page and picks the point: the nearest comes first.
    login(page, live_server, "inspector")
    page.goto(f"{live_server.url}/inspections/record/")
    page.get_by_test_id("record-round").select_option(str(round_.pk))
    choice = page.get_by_test_id("point-choice").filter(has_text=POINT_NAME)
    expect(choice).to_contain_text("米")  # the distance, once the browser gives a location
    expect(page.get_by_test_id("geo-status")).to_contain_text("已定位")
    no_overflow(page, "record-pick")
    shot(page, "inspections-record-pick-phone")
    choice.click()
    expect(page.get_by_test_id("current-point")).to_have_text(POINT_NAME)
    cards = page.locator("[data-type-items]:not([hidden])").get_by_test_id("record-item")
    expect(cards).to_have_count(len(ITEMS))

    # Big touch targets for the three results.
    box = cards.nth(0).get_by_role("button", name="不合格", exact=True).bounding_box()
    assert box["height"] >= 44 and box["width"] >= 88

    # Two items 不合格 with occurrences, a note and a photo from the camera.
    first, second = cards.nth(0), cards.nth(1)
    first.get_by_role("button", name="不合格", exact=True).click()
    first.get_by_role("button", name="增加一处").click()
    first.get_by_role("button", name="增加一处").click()
    expect(first.locator("[data-occurrences]")).to_have_text("3")
    expect(first.locator("[data-deduction]")).to_have_text("扣 1.5 分")
    first.locator("[data-photo-input]").set_input_files(str(photo))
    expect(first.get_by_test_id("photo-thumb")).to_have_count(1)
    second.get_by_role("button", name="不合格", exact=True).click()
    second.get_by_role("button", name="增加一处").click()
    second.locator("[data-note]").fill("东侧入口占道 2 处")
    expect(page.get_by_test_id("record-summary")).to_contain_text("已评 2 / 4 项")

    # A reload keeps the whole draft: the point, the results, the note and the photo.
    page.reload()
    expect(page.get_by_test_id("draft-restored")).to_contain_text(POINT_NAME)
    expect(page.get_by_test_id("current-point")).to_have_text(POINT_NAME)
    cards = page.locator("[data-type-items]:not([hidden])").get_by_test_id("record-item")
    first, second = cards.nth(0), cards.nth(1)
    expect(first.get_by_role("button", name="不合格", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(first.locator("[data-occurrences]")).to_have_text("3")
    expect(first.get_by_test_id("photo-thumb")).to_have_count(1)
    expect(second.locator("[data-note]")).to_have_value("东侧入口占道 2 处")
    expect(second.locator("[data-occurrences]")).to_have_text("2")

    # Submitting with items left unjudged is refused in Chinese, inline.
    page.get_by_test_id("record-submit").click()
    expect(page.get_by_test_id("record-errors")).to_contain_text("还有 2 项未评定")
    page.get_by_test_id("all-pass").click()
    expect(page.get_by_test_id("record-summary")).to_contain_text("已评 4 / 4 项")
    expect(page.get_by_test_id("record-summary")).to_contain_text("预计扣 2.5 分")

    # The submit button stays within reach of a thumb: pinned to the bottom of the screen.
    page.evaluate("window.scrollTo(0, 0)")
    submit = page.get_by_test_id("record-submit").bounding_box()
    assert submit["y"] > PHONE["height"] / 2 and submit["y"] + submit["height"] <= PHONE["height"]
    assert submit["height"] >= 44
    page.screenshot(
        path=str(
            shot(page, "inspections-record-before-submit-phone").with_name("inspections-record-phone-viewport.png")
        )
    )  # what the thumb sees: the bar at the bottom
    both_sizes(page, shot, "record-before-submit", phone_first=True)

    page.get_by_test_id("record-submit").click()
    expect(page.get_by_test_id("step-done")).to_be_visible()
    expect(page.get_by_test_id("done-total")).to_have_text("扣 2.50 分")
    expect(page.get_by_test_id("done-problem")).to_have_count(2)
    both_sizes(page, shot, "record-after-submit", phone_first=True)

    inspection = Inspection.objects.get(point=point)
    assert inspection.latitude is not None and inspection.distance_m is not None and inspection.distance_m < 100
    problems = Problem.objects.filter(point=point).order_by("check_item__order")
    assert [(p.check_item.text, p.deduction) for p in problems] == [
        (ITEMS[0][0], Decimal("1.50")),
        (ITEMS[1][0], Decimal("1.00")),
    ]
    assert problems[0].photos.count() == 1

    # The draft is gone: a reload starts afresh at the point list, the point now marked visited.
    page.reload()
    expect(page.get_by_test_id("step-pick")).to_be_visible()
    expect(page.get_by_test_id("point-choice").filter(has_text=POINT_NAME)).to_contain_text("已查")
    logout(page)

    # The office sees the two new problems.
    page.set_viewport_size(DESKTOP)
    login(page, live_server, "office")
    page.goto(f"{live_server.url}/inspections/problems/?point={point.pk}")
    table = page.get_by_test_id("list-table")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text(f"{POINT_NAME}：{ITEMS[0][0]}")
    expect(table).to_contain_text(f"{POINT_NAME}：{ITEMS[1][0]}（东侧入口占道 2 处）")
    expect(table).to_contain_text("待交办")
    both_sizes(page, shot, "problem-list")
    table.get_by_role("link", name=f"{POINT_NAME}：{ITEMS[0][0]}").click()
    expect(page.get_by_test_id("problem-title")).to_contain_text("问题")
    expect(page.locator(".photo-thumbs img")).to_have_count(1)
    assert page.evaluate("document.querySelector('.photo-thumbs img').naturalWidth") > 0
    both_sizes(page, shot, "problem-detail")

    # The point list, the map, the point page and the round page at both sizes.
    page.goto(f"{live_server.url}/inspections/points/?q={POINT_NAME}")
    expect(page.get_by_test_id("list-table")).to_contain_text(POINT_NAME)
    page.goto(f"{live_server.url}/inspections/points/")
    both_sizes(page, shot, "point-list")
    page.goto(f"{live_server.url}/inspections/points/map/")
    expect(page.locator("#point-map.leaflet-container")).to_be_visible()
    assert int(page.get_attribute("#point-map", "data-markers")) >= 1
    expect(page.get_by_test_id("map-legend")).to_contain_text("公共广场")
    both_sizes(page, shot, "point-map")
    page.goto(f"{live_server.url}/inspections/points/{point.pk}/")
    expect(page.get_by_test_id("inspection-history")).to_contain_text("扣 2.50 分")
    expect(page.get_by_test_id("problem-history")).to_contain_text(ITEMS[1][0])
    both_sizes(page, shot, "point-detail")
    page.goto(f"{live_server.url}/inspections/rounds/{round_.pk}/")
    expect(page.get_by_test_id("round-points")).to_contain_text("已督查")
    expect(page.get_by_test_id("round-summary")).to_contain_text("1 / 1")
    both_sizes(page, shot, "round-detail")
    page.goto(f"{live_server.url}/inspections/{inspection.pk}/")
    expect(page.get_by_test_id("total-deduction")).to_have_text("2.50")
    both_sizes(page, shot, "inspection-detail")
    page.goto(f"{live_server.url}/inspections/rounds/new/")
    expect(page.get_by_test_id("round-form")).to_contain_text("手工选择")
    both_sizes(page, shot, "round-create")
