"""Offline capture on a phone (375×812), issue 15 item 6: the inspector opens the record page once
online (the service worker installs and takes control), loses the network, reloads the page (it
comes from the worker's cache with its rounds, points and check items), records three inspections
with photos (resized on the phone, kept in IndexedDB), sees 待同步 3 条, gets the network back and
watches the outbox empty; the server then has exactly those three inspections, by their client
uuids, each with its photo. And a conflict: a record queued offline for a point that the office
takes out of the round before the network returns stays in the outbox as 失败 with the server's
Chinese reason, and can be deleted."""

from __future__ import annotations

import io
import time

import pytest
from playwright.sync_api import expect

from campaign.models import Unit
from inspections import services
from inspections.models import Inspection, Photo
from tests.browser.conftest import login, logout
from tests.browser.test_inspection_journey import PHONE, POINT_NAME, field_setup, no_overflow

pytestmark = [pytest.mark.browser]

MORE_POINTS = ("湖滨离线广场二", "湖滨离线广场三")


def offline_setup(demo_city) -> dict:
    field = field_setup(demo_city)
    hubin = Unit.objects.get(short_name="湖滨街道")
    extra = [
        services.point_create(
            name=name,
            point_type=field["point"].point_type,
            unit=hubin,
            address=f"湖滨路{n}号",
            latitude=field["point"].latitude,
            longitude=field["point"].longitude,
        )
        for n, name in enumerate(MORE_POINTS, start=2)
    ]
    field["round"].points.add(*extra)  # the round's point list, as the office's draw would extend it
    field["points"] = [field["point"], *extra]
    return field


def eventually(page, script: str, arg=None, timeout: float = 20.0) -> None:
    """Poll an async page script until it answers true (page.wait_for_function does not await a
    promise: its truthiness would pass at once)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script, arg):
        assert time.monotonic() < deadline, f"still false after {timeout}s: {script}"
        page.wait_for_timeout(200)


def jpeg(tmp_path, name: str, colour) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (2400, 1800), colour).save(buffer, format="JPEG", quality=85)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue())
    return str(path)


def open_controlled(page, live_server) -> None:
    """The record page once online, then again under the installed worker's control."""
    page.goto(f"{live_server.url}/inspections/record/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    expect(page.get_by_test_id("step-pick")).to_be_visible()


def record_offline(page, round_id: int, point_name: str, photo: str, shot=None) -> None:
    page.get_by_test_id("record-round").select_option(str(round_id))
    page.get_by_test_id("point-choice").filter(has_text=point_name).click()
    expect(page.get_by_test_id("current-point")).to_have_text(point_name)
    card = page.locator("[data-type-items]:not([hidden])").get_by_test_id("record-item").nth(0)
    card.get_by_role("button", name="不合格", exact=True).click()
    card.locator("[data-photo-input]").set_input_files(photo)
    expect(card.get_by_test_id("photo-local")).to_have_count(1)  # kept on the phone, 待上传
    expect(card.get_by_test_id("photo-thumb")).to_have_count(1)
    page.get_by_test_id("all-pass").click()
    if shot is not None:
        no_overflow(page, "offline-items")
        shot(page, "offline-record-items-phone")
    page.get_by_test_id("record-submit").click()
    expect(page.get_by_test_id("step-queued")).to_be_visible()
    expect(page.get_by_test_id("queued-note")).to_contain_text("联网后自动同步")


def queued_uuids(page) -> list[str]:
    return page.locator('[data-testid="outbox-item"]').evaluate_all(
        "rows => rows.map(row => row.getAttribute('data-client-uuid'))"
    )


OWN_PAGES = ("/inspections/record/", "/offline/")  # the only pages the worker may keep


def start(page, live_server) -> None:
    page.set_viewport_size(PHONE)
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": 31.5215, "longitude": 120.3510, "accuracy": 15})
    login(page, live_server, "inspector")
    open_controlled(page, live_server)


def test_three_inspections_recorded_offline_sync_once_the_network_returns(page, live_server, demo_city, shot, tmp_path):
    field = offline_setup(demo_city)
    round_ = field["round"]
    start(page, live_server)
    shot(page, "offline-record-online-phone")

    # No network: the page still opens, from the worker's cache, with its points and check items.
    page.context.set_offline(True)
    page.reload()
    expect(page.get_by_test_id("step-pick")).to_be_visible()
    expect(page.get_by_test_id("outbox-note")).to_contain_text("当前离线")
    expect(page.get_by_test_id("point-choice")).to_have_count(3)

    colours = [(200, 40, 40), (40, 160, 40), (40, 40, 200)]
    for index, point in enumerate(field["points"]):
        photo = jpeg(tmp_path, f"现场{index}.jpg", colours[index])
        record_offline(page, round_.pk, point.name, photo, shot if index == 0 else None)
        expect(page.get_by_test_id("outbox-count")).to_have_text(f"待同步 {index + 1} 条")
        page.get_by_test_id("queued-next").click()
    expect(page.get_by_test_id("outbox-item")).to_have_count(3)
    expect(page.locator('[data-testid="outbox-item"][data-status="pending"]')).to_have_count(3)
    expect(page.get_by_test_id("point-choice").filter(has_text="待同步")).to_have_count(3)
    uuids = queued_uuids(page)
    assert len(set(uuids)) == 3
    assert not Inspection.objects.filter(client_uuid__in=uuids).exists()
    no_overflow(page, "offline-queue")
    shot(page, "offline-record-queued-phone")

    # The network returns: the `online` event sends everything; the outbox empties.
    page.context.set_offline(False)
    expect(page.get_by_test_id("outbox-count")).to_have_text("待同步 0 条", timeout=20000)
    expect(page.locator('[data-testid="outbox-item"][data-status="synced"]')).to_have_count(3)
    expect(page.get_by_test_id("outbox")).to_be_hidden(timeout=10000)  # 已同步 shown briefly

    inspections = Inspection.objects.filter(client_uuid__in=uuids)
    assert inspections.count() == 3
    assert sorted(inspections.values_list("point__name", flat=True)) == sorted(p.name for p in field["points"])
    assert Inspection.objects.filter(round=round_).count() == 3  # nothing twice
    photos = Photo.objects.filter(observation__inspection__in=inspections)
    assert photos.count() == 3
    for photo in photos:
        assert max(photo.width, photo.height) <= 1600  # resized on the phone (the file was 2400 px)
        assert photo.content_type == "image/jpeg"

    # Sending again changes nothing: the outbox is empty and the server keeps three.
    page.get_by_test_id("record-round").select_option(str(round_.pk))
    expect(page.get_by_test_id("point-choice").filter(has_text="已查")).to_have_count(3)
    assert Inspection.objects.filter(round=round_).count() == 3

    # After photo and record POSTs, an API read and another page opened online, the worker's caches
    # hold the shell, the offline page and the record page only: never an API answer, a POST or
    # another page (which could be someone else's once the phone changes hands).
    assert page.evaluate("fetch('/api/v1/notifications/', {credentials: 'same-origin'}).then(r => r.status)") == 200
    page.goto(f"{live_server.url}/")
    cached = page.evaluate(
        """caches.keys().then(async names => {
            const urls = [];
            for (const name of names.filter(n => n.startsWith('cc-')))
                for (const r of await (await caches.open(name)).keys()) urls.push([r.method, new URL(r.url).pathname]);
            return urls;
        })"""
    )
    assert ["GET", "/inspections/record/"] in cached and ["GET", "/offline/"] in cached
    strays = [u for u in cached if u[0] != "GET" or not (u[1].startswith("/static/") or u[1] in OWN_PAGES)]
    assert not strays, strays


def test_a_record_queued_offline_for_a_point_taken_out_of_the_round_stays_failed(
    page, live_server, demo_city, shot, tmp_path
):
    field = offline_setup(demo_city)
    round_, point = field["round"], field["point"]
    start(page, live_server)

    page.context.set_offline(True)
    page.reload()
    record_offline(page, round_.pk, POINT_NAME, jpeg(tmp_path, "冲突.jpg", (120, 120, 120)))
    expect(page.get_by_test_id("outbox-count")).to_have_text("待同步 1 条")

    # Meanwhile the office takes the point out of the round.
    round_.points.remove(point)

    page.context.set_offline(False)
    failed = page.locator('[data-testid="outbox-item"][data-status="failed"]')
    expect(failed).to_have_count(1, timeout=20000)
    expect(failed.get_by_test_id("outbox-error")).to_contain_text(f"失败：点位“{POINT_NAME}”不在批次")
    expect(page.get_by_test_id("outbox-count")).to_have_text("待同步 1 条")  # stays in the queue
    assert not Inspection.objects.filter(round=round_).exists()
    no_overflow(page, "offline-conflict")
    shot(page, "offline-record-conflict-phone")

    # 重试 meets the same refusal; 删除 (confirmed) empties the queue.
    failed.get_by_role("button", name="重试").click()
    expect(failed).to_have_count(1)
    expect(failed.get_by_test_id("outbox-error")).to_contain_text("不在批次")
    page.once("dialog", lambda dialog: dialog.accept())
    failed.get_by_role("button", name="删除").click()
    expect(page.get_by_test_id("outbox-item")).to_have_count(0)
    expect(page.get_by_test_id("outbox")).to_be_hidden()
    assert not Inspection.objects.filter(round=round_).exists()
    expect(page.get_by_test_id("queued-badge")).to_have_text("同步失败")  # the screen of the last record

    # Online, the same refusal comes back at once: shown on the record, whose draft stays to fix;
    # nothing is left in the outbox.
    page.get_by_test_id("queued-next").click()
    page.get_by_test_id("point-choice").filter(has_text=POINT_NAME).click()
    page.get_by_test_id("all-pass").click()
    page.get_by_test_id("record-submit").click()
    expect(page.get_by_test_id("record-errors")).to_contain_text(f"点位“{POINT_NAME}”不在批次")
    expect(page.get_by_test_id("step-items")).to_be_visible()
    expect(page.get_by_test_id("outbox-item")).to_have_count(0)
    page.reload()  # online: the page comes fresh from the server, without the point
    expect(page.get_by_test_id("draft-restored")).to_contain_text("已不在进行中的批次里")
    assert not Inspection.objects.filter(round=round_).exists()


def test_a_signed_out_phone_keeps_its_queue_and_a_stale_token_is_refreshed(
    page, live_server, demo_city, shot, tmp_path
):
    field = offline_setup(demo_city)
    round_ = field["round"]
    start(page, live_server)

    page.context.set_offline(True)
    page.reload()
    record_offline(page, round_.pk, POINT_NAME, jpeg(tmp_path, "过期.jpg", (90, 30, 160)))
    [uuid] = queued_uuids(page)

    # The session is gone while offline: back online, the record stays and the page says why.
    page.context.clear_cookies()
    page.context.set_offline(False)
    expect(page.get_by_test_id("outbox-note")).to_contain_text("登录已过期，请重新登录后同步", timeout=20000)
    expect(page.locator('[data-testid="outbox-item"][data-status="pending"]')).to_have_count(1)
    expect(page.get_by_test_id("outbox-count")).to_have_text("待同步 1 条")
    expect(page.get_by_test_id("outbox-login")).to_have_attribute("href", "/login/?next=%2Finspections%2Frecord%2F")
    assert not Inspection.objects.filter(client_uuid=uuid).exists()
    no_overflow(page, "offline-signed-out")
    shot(page, "offline-record-signed-out-phone")

    # Someone else signs in on this phone (another tab): the fresh page is theirs, so this outbox is
    # not sent with their session — it waits, still signed out for its inspector.
    other = page.context.new_page()
    login(other, live_server, "office")
    refreshed = []
    page.on("response", lambda r: refreshed.append(r.url) if r.url.endswith("/inspections/record/") else None)
    page.get_by_test_id("outbox-sync").click()
    page.wait_for_timeout(500)
    expect(page.get_by_test_id("outbox-sync")).to_have_text("立即同步", timeout=20000)
    assert refreshed, "the sync read a fresh page (another user's) and stopped there"
    expect(page.locator('[data-testid="outbox-item"][data-status="pending"]')).to_have_count(1)
    expect(page.get_by_test_id("outbox-note")).to_contain_text("登录已过期，请重新登录后同步")
    assert not Inspection.objects.filter(client_uuid=uuid).exists()
    assert not Photo.objects.filter(uploaded_by__username="office").exists()
    logout(other)
    other.close()

    # Signing in again in another tab rotates the CSRF token: this page's embedded one is stale,
    # so the sync fetches a fresh one and sends the record once.
    other = page.context.new_page()
    login(other, live_server, "inspector")
    other.close()
    answers = []
    page.on("response", lambda r: answers.append((r.request.method, r.url.removeprefix(live_server.url), r.status)))
    page.get_by_test_id("outbox-sync").click()
    expect(page.get_by_test_id("outbox-count")).to_have_text("待同步 0 条", timeout=20000)
    assert answers[:4] == [
        ("POST", "/inspections/photo-upload/", 403),  # the stale token
        ("GET", "/inspections/record/", 200),  # a fresh one
        ("POST", "/inspections/photo-upload/", 201),
        ("POST", "/inspections/record/", 201),
    ], answers
    inspection = Inspection.objects.get(client_uuid=uuid)
    assert Photo.objects.filter(observation__inspection=inspection).count() == 1
    assert Photo.objects.filter(uploaded_by__username="inspector").count() == 1  # uploaded once
    expect(page.get_by_test_id("queued-badge")).to_have_text("已同步")

    # Signing out drops the kept record pages (the worker sees the POST to the logout URL).
    kept = "caches.keys().then(names => names.filter(n => n.startsWith('cc-pages-')).length)"
    pages = "caches.keys().then(async names => { let n = 0; for (const name of names.filter(x => x.startsWith('cc-pages-'))) n += (await (await caches.open(name)).keys()).length; return n; })"
    assert page.evaluate(kept) == 1 and page.evaluate(pages) >= 1
    logout(page)
    eventually(page, f"() => {pages}.then(n => n === 0)")


def test_a_new_worker_version_keeps_the_record_page_available_offline(
    page, live_server, demo_city, tmp_path, monkeypatch
):
    from inspections import pwa

    field = offline_setup(demo_city)
    start(page, live_server)
    first = page.evaluate("caches.keys()")
    assert [name for name in first if name.startswith("cc-pages-")]

    # A changed worker (as after a deploy): a new version, whose activation drops the old caches
    # but carries the kept record page over, fetched again.
    changed = tmp_path / "sw.js"
    changed.write_text(pwa._static_file(pwa.SW_SOURCE).read_text(encoding="utf-8") + "\n/* changed */\n")
    real = pwa._static_file
    monkeypatch.setattr(pwa, "_static_file", lambda path: changed if path == pwa.SW_SOURCE else real(path))
    page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
    eventually(
        page,
        """(old) => caches.keys().then(async names => {
            const pages = names.filter(n => n.startsWith('cc-pages-'));
            if (pages.length !== 1 || old.includes(pages[0]) || names.some(n => old.includes(n))) return false;
            return (await (await caches.open(pages[0])).keys()).length > 0;
        })""",
        first,
    )

    page.context.set_offline(True)
    page.reload()
    page.get_by_test_id("record-round").select_option(str(field["round"].pk))
    expect(page.get_by_test_id("point-choice")).to_have_count(3)
