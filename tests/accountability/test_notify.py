"""Who is told what (accountability.notify): each workflow action's audience, reminders, cases and
appeals; a failing channel or a failing write never undoes the work; the list's campaign scope."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accountability.appeals import appeal_decide, appeal_file
from accountability.choices import Action as A
from accountability.choices import DeliveryStatus, NotificationKind
from accountability.models import AccountabilityCase, Delivery, Notification, RollupVersion
from accountability.notify import delivery_send, notification_list, notify, notify_many, preference_update
from accountability.rollup import cases_raise, rollup_compute, rollup_publish
from accountability.services import notification_mark_read, reminders_send
from campaign.models import UserProfile, WorkGroup
from inspections.models import Problem
from tests.accountability.rollup_fixtures import WEEK
from tests.accountability.test_appeals import clock, computed, worst  # noqa: F401 - fixtures
from tests.accountability.test_workflow import act, photo


def told(user) -> list[tuple[str, int | None]]:
    return list(Notification.objects.filter(user=user).order_by("id").values_list("kind", "problem_id"))


@pytest.fixture
def everyone(office, liaison_jia, liaison_yi, liaison_dept, leader, inspector):
    return {
        "office": office,
        "jia": liaison_jia,
        "yi": liaison_yi,
        "dept": liaison_dept,
        "leader": leader,
        "inspector": inspector,
    }


def only(everyone, **expected):
    """Each persona's notifications: those named get the given list, everyone else none."""
    return {name: told(user) for name, user in everyone.items()} == {name: expected.get(name, []) for name in everyone}


def test_assign_tells_the_handler_and_co_handlers_liaisons_only(problem, city, everyone, later):
    office = everyone["office"]
    act(office, problem, A.ASSIGN, handler=city.street_jia, co_handlers=(city.street_yi,), deadline=later)
    assert only(
        everyone,
        jia=[(NotificationKind.ASSIGNED, problem.pk)],
        yi=[(NotificationKind.ASSIGNED, problem.pk)],
    )
    notification = Notification.objects.get(user=everyone["jia"])
    assert f"#{problem.pk}" in notification.message and notification.campaign_id == problem.campaign_id
    assert notification.link == f"/inspections/problems/{problem.pk}/"


def test_each_step_of_the_loop_tells_its_audience(problem, city, everyone, later):
    office, jia = everyone["office"], everyone["jia"]
    problem = act(office, problem, A.ASSIGN, handler=city.street_jia, deadline=later)
    problem = act(jia, problem, A.ACCEPT)  # 签收 tells nobody
    assert only(everyone, jia=[(NotificationKind.ASSIGNED, problem.pk)])
    problem = act(jia, problem, A.SUBMIT, note="已整改", photos=(photo(jia),))
    assert told(office) == [(NotificationKind.REVIEW, problem.pk)]
    problem = act(office, problem, A.REJECT, note="仍有广告未清除")
    assert told(jia)[-1] == (NotificationKind.RETURNED, problem.pk)
    assert "仍有广告未清除" in Notification.objects.filter(user=jia).latest("id").message
    problem = act(jia, problem, A.REQUEST_EXTENSION, note="需协调", deadline=later + datetime.timedelta(days=5))
    assert told(office)[-1] == (NotificationKind.REQUEST, problem.pk)
    problem = act(office, problem, A.GRANT_EXTENSION)
    assert told(jia)[-1] == (NotificationKind.APPROVED, problem.pk)
    problem = act(jia, problem, A.SUBMIT, note="已整改", photos=(photo(jia),))
    problem = act(office, problem, A.APPROVE, note="现场核实已整改")
    assert told(jia)[-1] == (NotificationKind.CLOSED, problem.pk)
    act(jia, problem, A.COMMENT, note="谢谢")  # a comment tells nobody
    assert only(
        everyone,
        office=[(k, problem.pk) for k in ("review", "request", "review")],
        jia=[(k, problem.pk) for k in ("assigned", "returned", "approved", "closed")],
    )


def test_refusals_and_status_changes(problem, city, everyone, later):
    office, jia = everyone["office"], everyone["jia"]
    problem = act(office, problem, A.ASSIGN, handler=city.street_jia, deadline=later)
    problem = act(jia, problem, A.REQUEST_REASSIGN, note="不属本街道")
    problem = act(office, problem, A.REFUSE_REASSIGN, note="属本街道")
    problem = act(office, problem, A.SHELVE, note="纳入计划", deadline=later)
    assert [kind for kind, _ in told(jia)] == ["assigned", "returned", "status"]
    problem = act(office, problem, A.REASSIGN, handler=city.street_yi)
    assert told(everyone["yi"]) == [(NotificationKind.ASSIGNED, problem.pk)]
    # The unit it was taken from is told too (not left to find it gone).
    assert [kind for kind, _ in told(jia)] == ["assigned", "returned", "status", "status"]
    assert "已改派" in Notification.objects.filter(user=jia).latest("id").message


def test_a_problem_without_a_deadline_is_still_reassigned_and_told(problem, city, everyone, later):
    """Older data may hold an assigned problem without a deadline: the message says 未定, the
    reassignment goes through (a message is never the reason a transition fails)."""
    office = everyone["office"]
    problem = act(office, problem, A.ASSIGN, handler=city.street_jia, deadline=later)
    Problem.objects.filter(pk=problem.pk).update(deadline=None)
    problem = act(office, Problem.objects.get(pk=problem.pk), A.REASSIGN, handler=city.street_yi)
    assert Problem.objects.get(pk=problem.pk).handler_id == city.street_yi.pk
    [row] = Notification.objects.filter(user=everyone["yi"])
    assert row.kind == NotificationKind.ASSIGNED and "期限 未定" in row.message


def test_a_transition_adds_a_fixed_number_of_statements(problem, city, office, liaison_jia, liaison_yi, later):
    """Two liaisons or ten: the same statements (notify reads them in one query)."""

    def assign_counted():
        fresh = Problem.objects.get(pk=problem.pk)
        with CaptureQueriesContext(connection) as queries:
            act(office, fresh, A.ASSIGN, handler=city.street_jia, deadline=later)
        return len(queries)

    few = assign_counted()
    Problem.objects.filter(pk=problem.pk).update(status="new", handler=None, version=0)
    from tests.conftest import _user

    for index in range(8):
        _user(f"extra_{index}", "liaison", city.street_jia)
    assert assign_counted() == few
    assert Notification.objects.filter(kind=NotificationKind.ASSIGNED).count() == 1 + 9


def test_a_failing_channel_never_undoes_the_transition(
    problem, city, office, liaison_jia, later, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from accountability import channels

    UserProfile.objects.create(user=liaison_jia, phone="13800138000")
    preference_update(user=liaison_jia, email=False, sms=True, kinds=[])

    def broken(self, *, phone, text):
        raise RuntimeError("gateway exploded")

    monkeypatch.setattr(channels.ConsoleSmsBackend, "send", broken)
    with django_capture_on_commit_callbacks(execute=True):
        problem = act(office, problem, A.ASSIGN, handler=city.street_jia, deadline=later)
    assert Problem.objects.get(pk=problem.pk).status == "assigned"  # committed
    assert told(liaison_jia) == [(NotificationKind.ASSIGNED, problem.pk)]
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert delivery.last_error == "发送出错（RuntimeError）。" and "exploded" not in delivery.last_error
    monkeypatch.undo()
    assert delivery_send(delivery_id=delivery.pk, now=delivery.next_attempt_at) == DeliveryStatus.SENT
    assert Delivery.objects.get().attempts == 2


def test_a_failing_write_is_logged_and_the_work_goes_on(problem, city, office, liaison_jia, later, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Notification.objects, "bulk_create", broken)
    problem = act(office, problem, A.ASSIGN, handler=city.street_jia, deadline=later)
    assert Problem.objects.get(pk=problem.pk).status == "assigned"
    assert not Notification.objects.exists()
    assert notify(users=[liaison_jia], kind=NotificationKind.OTHER, message="x") == 0


def test_keys_make_notifications_once_only(city, liaison_jia, liaison_yi):
    item = {"units": [city.street_jia, city.street_yi], "kind": NotificationKind.CASE, "message": "问责", "key": "k"}
    assert notify_many([item, {**item, "units": [city.street_yi], "key": "k2"}]) == 3
    assert notify_many([item]) == 0
    assert notify(users=[liaison_jia], kind=NotificationKind.OTHER, message="无键每次都通知") == 1
    assert notify(users=[liaison_jia.pk], kind=NotificationKind.OTHER, message="无键每次都通知") == 1


def test_inactive_users_and_unknown_kinds(city, liaison_jia):
    liaison_jia.is_active = False
    liaison_jia.save()
    assert notify(units=[city.street_jia], kind=NotificationKind.ASSIGNED, message="x") == 0
    assert notify(users=[liaison_jia], kind="nonsense", message="x") == 0  # logged, never raised


def test_reminders_carry_their_kinds(problem, city, office, liaison_jia):
    today = timezone.localdate()
    act(office, problem, A.ASSIGN, handler=city.street_jia, deadline=today + datetime.timedelta(days=30))
    Problem.objects.filter(pk=problem.pk).update(deadline=today - datetime.timedelta(days=10))
    assert reminders_send(today=today)["sent"] == 2
    assert told(liaison_jia)[-1] == (NotificationKind.OVERDUE, problem.pk)
    assert told(office) == [(NotificationKind.ESCALATED, problem.pk)]
    assert reminders_send(today=today)["sent"] == 0


def test_reminders_take_a_fixed_number_of_statements(
    problem, city, office, inspector, round_, market_yi, ads_item, stall_item, liaison_jia
):
    """One overdue problem or three: the same statements (no per-problem read of a deferred field)."""
    import uuid

    from inspections.services import ObservationInput, inspection_submit

    today = timezone.localdate()
    overdue = {"status": "assigned", "handler": city.street_jia, "deadline": today - datetime.timedelta(days=10)}

    def counted() -> int:
        Notification.objects.all().delete()
        Problem.objects.update(**overdue)
        with CaptureQueriesContext(connection) as queries:
            reminders_send(today=today)
        return len(queries)

    one = counted()
    inspection_submit(
        user=inspector,
        round_=round_,
        point=market_yi,
        client_uuid=uuid.uuid4(),
        observations=[ObservationInput(ads_item.pk, "fail", 2), ObservationInput(stall_item.pk, "fail", 2)],
    )
    assert Problem.objects.count() == 3
    assert counted() == one
    assert Notification.objects.filter(user=liaison_jia, kind=NotificationKind.OVERDUE).count() == 3


def test_new_cases_tell_their_units_once(campaign, week45, office, liaison_jia, liaison_yi, liaison_dept):
    rollup_compute(campaign=campaign, week=WEEK)
    rollup_publish(campaign=campaign, week=WEEK, user=office, bulletin=False)
    cases = list(AccountabilityCase.objects.filter(week=WEEK))
    assert cases
    liaisons = {liaison_jia.pk: "street_jia", liaison_yi.pk: "street_yi", liaison_dept.pk: "dept_cg"}
    rows = Notification.objects.filter(kind=NotificationKind.CASE)
    assert rows.exists()
    for row in rows:
        case = AccountabilityCase.objects.get(pk=int(row.key.split(":")[1]))
        assert row.user_id in liaisons and row.campaign_id == campaign.pk
        assert row.url == f"/rankings/cases/{case.pk}/"
        assert case.unit.memberships.filter(user_id=row.user_id, role="liaison").exists()
    told_units = {row.user_id for row in rows}
    expected = {
        pk for pk in liaisons if AccountabilityCase.objects.filter(week=WEEK, unit__memberships__user_id=pk).exists()
    }
    assert told_units == expected
    count = rows.count()
    # Raising the week's cases again (as a republish does) finds them made: nobody is told twice.
    cases_raise(version=RollupVersion.objects.get(week=WEEK, status="published"))
    assert Notification.objects.filter(kind=NotificationKind.CASE).count() == count


def test_appeals_tell_the_deciders_then_the_filer(computed, worst, campaign, city, office, leader, liaison_jia):  # noqa: F811
    group = WorkGroup.objects.create(campaign=campaign, name="东片工作组")
    group.units.add(city.district_jia)
    group.leaders.add(leader)
    appeal = appeal_file(user=liaison_jia, observation=worst, reason="检查时广告牌正在更换")
    assert [k for k, _ in told(office)] == ["appeal"] and [k for k, _ in told(leader)] == ["appeal"]
    assert told(liaison_jia) == []
    appeal_decide(user=leader, appeal=appeal, decision="reject", note="照片显示仍有违规广告")
    [row] = Notification.objects.filter(user=liaison_jia)
    assert row.kind == NotificationKind.APPEAL and "维持原扣分" in row.message and row.url == "/rankings/appeals/"


def test_the_list_reads_the_current_campaign_and_none(campaign, liaison_jia):
    from campaign import services
    from campaign.choices import CampaignLevel

    other = services.campaign_create(
        name="国家卫生城市复审",
        level=CampaignLevel.NATIONAL,
        start_date=datetime.date(2026, 3, 1),
        evaluation_date=datetime.date(2028, 6, 30),  # evaluated later: the current one stays `campaign`
    )
    notify(users=[liaison_jia], kind=NotificationKind.OTHER, message="本活动", campaign=campaign)
    notify(users=[liaison_jia], kind=NotificationKind.OTHER, message="不属任何活动")
    notify(users=[liaison_jia], kind=NotificationKind.OTHER, message="另一活动", campaign=other)
    assert sorted(notification_list(user=liaison_jia).values_list("message", flat=True)) == ["不属任何活动", "本活动"]
    # 全部标为已读 marks what the list shows: another campaign's stays unread for when it is chosen.
    assert notification_mark_read(user=liaison_jia) == 2
    assert list(Notification.objects.filter(read_at__isnull=True).values_list("message", flat=True)) == ["另一活动"]
