"""Notification pages and API per persona: one's own list (unread first, the badge, opening marks
read), preferences, the office's robots and delivery log (others refused, nothing changed), and
the query counts of the list page and API pinned."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accountability.choices import ChannelKind, DeliveryStatus, NotificationKind
from accountability.models import Delivery, Notification, NotificationPreference, UnitChannel
from accountability.notify import notify, notify_many
from campaign.models import UserProfile


@pytest.fixture
def robot(city):
    return UnitChannel.objects.create(
        unit=city.street_jia, kind=ChannelKind.WECOM, name="甲街道工作群", webhook_url="http://127.0.0.1:9/send?key=k"
    )


def snapshot() -> list:
    return list(UnitChannel.objects.order_by("pk").values()) + list(NotificationPreference.objects.values())


# --- the user's list ------------------------------------------------------------------------------


def test_list_unread_first_with_kind_and_link(web, campaign, problem, liaison_jia):
    notify(users=[liaison_jia], kind=NotificationKind.ASSIGNED, message="新交办问题", problem=problem)
    notify(users=[liaison_jia], kind=NotificationKind.CASE, message="问责事项", url="/rankings/cases/")
    old = Notification.objects.get(kind=NotificationKind.ASSIGNED)
    Notification.objects.filter(pk=old.pk).update(read_at=old.created_at)
    notify(users=[liaison_jia], kind=NotificationKind.REMINDER, message="明天到期", problem=problem)
    client = web(liaison_jia)
    html = client.get("/notifications/").content.decode()
    assert html.index("明天到期") < html.index("问责事项") < html.index("新交办问题")  # unread first
    assert "交办" in html and "提醒" in html and "全部标为已读" in html
    reminder = Notification.objects.get(kind=NotificationKind.REMINDER)
    response = client.get(f"/notifications/{reminder.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/inspections/problems/{problem.pk}/"
    reminder.refresh_from_db()
    assert reminder.read_at is not None
    case = Notification.objects.get(kind=NotificationKind.CASE)
    assert client.get(f"/notifications/{case.pk}/")["Location"] == "/rankings/cases/"


def test_another_users_notification_is_404_and_stays_unread(web, liaison_jia, liaison_yi):
    notify(users=[liaison_yi], kind=NotificationKind.OTHER, message="乙的通知")
    theirs = Notification.objects.get()
    assert web(liaison_jia).get(f"/notifications/{theirs.pk}/").status_code == 404
    web(liaison_jia).post("/notifications/read/", {"id": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_empty_list_says_what_comes_here(web, liaison_jia):
    html = web(liaison_jia).get("/notifications/").content.decode()
    assert "没有通知。" in html and "通知设置" in html


def test_list_page_and_api_query_counts_are_pinned(web, api, campaign, problem, liaison_jia):
    def counted(client, url):
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    for index in range(3):
        notify(users=[liaison_jia], kind=NotificationKind.ASSIGNED, message=f"通知 {index}", problem=problem)
    few_page, few_api = (
        counted(web(liaison_jia), "/notifications/"),
        counted(api(liaison_jia), "/api/v1/notifications/"),
    )
    for index in range(60):
        notify(users=[liaison_jia], kind=NotificationKind.REMINDER, message=f"提醒 {index}", problem=problem)
    assert counted(web(liaison_jia), "/notifications/") == few_page <= 14
    assert counted(api(liaison_jia), "/api/v1/notifications/") == few_api <= 10


# --- API ------------------------------------------------------------------------------------------


def test_api_list_kind_filter_and_unread_count(api, campaign, problem, liaison_jia, liaison_yi):
    notify(users=[liaison_jia], kind=NotificationKind.ASSIGNED, message="交办", problem=problem)
    notify(users=[liaison_jia], kind=NotificationKind.CASE, message="问责", url="/rankings/cases/")
    notify(users=[liaison_yi], kind=NotificationKind.CASE, message="别人的")
    client = api(liaison_jia)
    body = client.get("/api/v1/notifications/").json()
    assert body["count"] == 2 and body["unread_count"] == 2
    row = body["results"][0]
    assert (row["kind"], row["kind_display"], row["url"], row["link"]) == (
        "case",
        "问责",
        "/rankings/cases/",
        "/rankings/cases/",
    )
    only_cases = client.get("/api/v1/notifications/", {"kind": "case"}).json()
    assert [r["message"] for r in only_cases["results"]] == ["问责"]
    response = client.get("/api/v1/notifications/", {"kind": "nonsense"})
    assert response.status_code == 400 and "kind" in response.json()["fields"]
    client.post("/api/v1/notifications/read/", {}, format="json")
    assert client.get("/api/v1/notifications/").json()["unread_count"] == 0


def test_api_preferences(api, liaison_jia):
    client = api(liaison_jia)
    assert client.get("/api/v1/notifications/preferences/").json() == {"email": True, "sms": False, "kinds": []}
    response = client.put("/api/v1/notifications/preferences/", {"sms": True}, format="json")
    assert response.status_code == 400 and "手机号" in response.json()["fields"]["sms"][0]
    assert not NotificationPreference.objects.exists()  # refused: nothing saved
    response = client.put("/api/v1/notifications/preferences/", {"kinds": ["case", "bogus"]}, format="json")
    assert response.status_code == 400 and not NotificationPreference.objects.exists()
    UserProfile.objects.create(user=liaison_jia, phone="13800138000")
    response = client.put(
        "/api/v1/notifications/preferences/", {"email": False, "sms": True, "kinds": ["overdue"]}, format="json"
    )
    assert response.status_code == 200 and response.json() == {"email": False, "sms": True, "kinds": ["overdue"]}


def test_api_unit_channels_office_only(api, city, office, liaison_jia, leader, robot):
    body = {
        "unit": city.street_yi.pk,
        "kind": "dingtalk",
        "name": "乙街道群",
        "webhook_url": "https://oapi.example/robot/send?access_token=T",
        "secret": "SECx",
    }
    before = snapshot()
    for user in (liaison_jia, leader):
        client = api(user)
        assert client.get("/api/v1/unit-channels/").status_code == 403
        assert client.post("/api/v1/unit-channels/", body, format="json").status_code == 403
        assert client.patch(f"/api/v1/unit-channels/{robot.pk}/", {"name": "改"}, format="json").status_code == 403
        assert client.post(f"/api/v1/unit-channels/{robot.pk}/test/").status_code == 403
        assert client.get("/api/v1/deliveries/").status_code == 403
    assert snapshot() == before
    client = api(office)
    bad = client.post("/api/v1/unit-channels/", {**body, "webhook_url": "ftp://x/y"}, format="json")
    assert bad.status_code == 400 and "http" in bad.json()["fields"]["webhook_url"][0]
    assert snapshot() == before
    created = client.post("/api/v1/unit-channels/", body, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["has_secret"] is True and "secret" not in data and "webhook_url" not in data
    assert data["webhook"] == "https://oapi.example/robot/send?…"
    patched = client.patch(f"/api/v1/unit-channels/{data['id']}/", {"enabled": False, "kinds": ["case"]}, format="json")
    assert patched.status_code == 200 and patched.json()["enabled"] is False
    channel = UnitChannel.objects.get(pk=data["id"])
    assert (channel.secret, channel.kinds) == ("SECx", ["case"])  # an absent secret keeps the stored one
    listed = client.get("/api/v1/unit-channels/").json()
    assert listed["count"] == 2
    tested = client.post(f"/api/v1/unit-channels/{robot.pk}/test/").json()  # nobody listens on port 9
    assert tested["sent"] is False and tested["delivery"]["status"] == DeliveryStatus.GIVEN_UP
    deliveries = client.get("/api/v1/deliveries/", {"status": "given_up"}).json()
    assert deliveries["count"] == 1 and deliveries["results"][0]["last_error"]


# --- pages ----------------------------------------------------------------------------------------


def test_settings_page(web, liaison_jia):
    client = web(liaison_jia)
    html = client.get("/notifications/settings/").content.decode()
    assert "短信推送" in html and "未登记" in html
    response = client.post("/notifications/settings/", {"email": "on", "sms": "on"})
    assert response.status_code == 400 and "手机号" in response.content.decode()
    assert not NotificationPreference.objects.exists()
    response = client.post("/notifications/settings/", {"kinds": ["case", "overdue"]})
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=liaison_jia)
    assert (preference.email, preference.sms, preference.kinds) == (False, False, ["case", "overdue"])


def test_channel_pages_office_only(web, city, office, liaison_jia, inspector, robot):
    form = {
        "unit": city.street_yi.pk,
        "kind": "wecom",
        "name": "乙街道群",
        "webhook_url": "https://qyapi.example/send?key=1",
        "enabled": "on",
    }
    before = snapshot()
    for user in (liaison_jia, inspector):
        client = web(user)
        assert client.get("/notifications/channels/").status_code == 403
        assert client.post("/notifications/channels/new/", form).status_code == 403
        assert client.post(f"/notifications/channels/{robot.pk}/toggle/").status_code == 403
        assert client.post(f"/notifications/channels/{robot.pk}/test/").status_code == 403
        assert client.get("/notifications/deliveries/").status_code == 403
    assert snapshot() == before
    client = web(office)
    response = client.post("/notifications/channels/new/", {**form, "webhook_url": "javascript:alert(1)"})
    assert response.status_code == 400 and "http" in response.content.decode()
    assert client.post("/notifications/channels/new/", form).status_code == 302
    html = client.get("/notifications/channels/").content.decode()
    assert "乙街道群" in html and "发送测试消息" in html and "key=1" not in html
    client.post(f"/notifications/channels/{robot.pk}/toggle/")
    robot.refresh_from_db()
    assert robot.enabled is False
    response = client.post(f"/notifications/channels/{robot.pk}/test/", follow=True)
    assert "测试消息发送失败" in response.content.decode()
    html = client.get("/notifications/deliveries/?status=given_up").content.decode()
    assert "测试消息" in html and "放弃" in html
    assert Delivery.objects.count() == 1


def test_channel_edit_page_never_shows_the_robots_key(web, office, robot):
    """The webhook address carries the robot's key: the edit page never shows it, and a blank
    address (or secret) keeps the stored one; a new address replaces it."""
    robot.secret = "SEC-kept"
    robot.save()
    client = web(office)
    html = client.get(f"/notifications/channels/{robot.pk}/edit/").content.decode()
    assert "key=k" not in html and "SEC-kept" not in html and "已保存机器人地址" in html
    form = {"unit": robot.unit_id, "kind": "wecom", "name": "改名后的群", "webhook_url": "", "enabled": "on"}
    assert client.post(f"/notifications/channels/{robot.pk}/edit/", form).status_code == 302
    robot.refresh_from_db()
    assert (robot.name, robot.webhook_url, robot.secret) == ("改名后的群", "http://127.0.0.1:9/send?key=k", "SEC-kept")
    form["webhook_url"] = "https://qyapi.example/send?key=new"
    assert client.post(f"/notifications/channels/{robot.pk}/edit/", form).status_code == 302
    robot.refresh_from_db()
    assert robot.webhook_url == "https://qyapi.example/send?key=new"
    response = client.post("/notifications/channels/new/", {**form, "webhook_url": ""})
    assert response.status_code == 400 and UnitChannel.objects.count() == 1  # a new robot needs one


def test_office_lists_query_counts_are_pinned(web, api, city, office, liaison_jia):
    """The robots and the delivery log, page and API: the same statements for 2 rows or 40."""

    def counted(client, url):
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    urls = ["/notifications/channels/", "/notifications/deliveries/", "/api/v1/unit-channels/", "/api/v1/deliveries/"]

    def add(count):
        for index in range(count):
            UnitChannel.objects.create(
                unit=city.street_yi, kind=ChannelKind.DINGTALK, name=f"群 {index}", webhook_url="http://127.0.0.1:9/r"
            )
        notify_many([{"units": [city.street_yi], "kind": NotificationKind.CASE, "message": "问责"}] * count)

    add(1)
    few = [counted(web(office) if u.startswith("/n") else api(office), u) for u in urls]
    add(6)  # 7 robots, 7 messages each: 49 deliveries
    assert Delivery.objects.count() > 40
    assert [counted(web(office) if u.startswith("/n") else api(office), u) for u in urls] == few


def test_marking_read_with_bad_ids_changes_nothing(web, liaison_jia):
    """Ids that are not numbers ("²" among them) mark nothing read (not all) and are no error."""
    notify(users=[liaison_jia], kind=NotificationKind.OTHER, message="甲的通知")
    client = web(liaison_jia)
    for bad in ("²", "abc", "-1"):
        assert client.post("/notifications/read/", {"id": bad}).status_code == 302
    assert Notification.objects.get().read_at is None
    assert client.post("/notifications/read/").status_code == 302  # no id: all of them
    assert Notification.objects.get().read_at is not None


def test_toggling_a_robot_whose_stored_address_is_refused_says_so(web, office, robot):
    UnitChannel.objects.filter(pk=robot.pk).update(webhook_url="http://127.0.0.1:9/send robot")  # older data
    response = web(office).post(f"/notifications/channels/{robot.pk}/toggle/", follow=True)
    assert response.status_code == 200 and "未能修改" in response.content.decode()
    robot.refresh_from_db()
    assert robot.enabled is True  # refused: nothing changed
