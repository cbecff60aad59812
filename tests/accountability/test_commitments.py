"""承诺事项 (issue 16 item 2): recording refuses bad input with a Chinese message and writes nothing;
the unit's liaison reports done, the office or a leader over the unit confirms or returns — never
the unit's own liaison; 逾期 is derived on the working-day calendar; the 调度会 pack's carried-forward
selector; a commitment overdue at two successive weeks' ends raises one case per unit on publish."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from accountability.calendar import calendar_seed
from accountability.choices import CaseRule, CommitmentStatus
from accountability.commitments import (
    CommitmentConflict,
    attach_days_overdue,
    commitment_cancel,
    commitment_confirm,
    commitment_create,
    commitment_list,
    commitment_report_done,
    commitment_return,
    commitment_update,
    commitments_carried,
    commitments_overdue_twice,
    filter_status,
    with_commitment_facts,
)
from accountability.models import AccountabilityCase, Commitment, CommitmentEvent, Notification
from accountability.rollup import cases_raise, rollup_compute, rollup_publish
from campaign import services as campaign_services
from campaign.choices import Role
from campaign.models import WorkGroup
from inspections.services import photo_upload
from tests.accountability.rollup_fixtures import MONDAY, WEEK, at
from tests.accountability.test_recheck_rollup import png

TODAY = timezone.localdate()
SOON = TODAY + datetime.timedelta(days=10)


def make(user, campaign, unit, **kwargs):
    values = {"content": "月底前完成农贸市场公益广告更新", "due_date": SOON, "answerer": "张主任"}
    values.update(kwargs)
    return commitment_create(user=user, campaign=campaign, unit=unit, **values)


def counts() -> tuple[int, int, int]:
    return Commitment.objects.count(), CommitmentEvent.objects.count(), Notification.objects.count()


# --- recording ----------------------------------------------------------------------------------


def test_the_office_records_a_commitment_and_the_units_liaisons_are_told(office, campaign, city, liaison_jia):
    commitment = make(office, campaign, city.street_jia, week="2026-W48")
    assert commitment.status == CommitmentStatus.OPEN and commitment.version == 0
    event = commitment.events.get()
    assert event.action == "登记" and event.actor == office
    note = Notification.objects.get(user=liaison_jia)
    assert "承诺事项已登记" in note.message and f"/commitments/{commitment.pk}/" in note.url


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"unit": None}, "unit", "请选择承诺单位。"),
        ({"content": "  "}, "content", "请填写承诺内容。"),
        ({"content": "长" * 501}, "content", "承诺内容不能超过 500 个字。"),
        ({"due_date": None}, "due_date", "请填写完成时限。"),
        ({"due_date": TODAY - datetime.timedelta(days=1)}, "due_date", "完成时限不能早于今天"),
        ({"answerer": "长" * 51}, "answerer", "责任领导不能超过 50 个字。"),
        ({"week": "48周"}, "week", "调度会周次格式应为 2026-W48。"),
        ({"problems": [999999]}, "problems", "问题不存在：#999999"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(office, campaign, city, liaison_jia, kwargs, field, message):
    before = counts()
    values = {"unit": city.street_jia, **kwargs}
    with pytest.raises(ValidationError) as refused:
        make(office, campaign, **values)
    assert message in " ".join(refused.value.message_dict[field])
    assert counts() == before


def test_an_inactive_unit_and_another_campaigns_problem_are_refused(office, campaign, city, problem):
    other = campaign_services.campaign_create(
        name="创建省级文明城市",
        level="provincial",
        start_date=datetime.date(2026, 3, 1),
        evaluation_date=datetime.date(2027, 6, 30),
    )
    with pytest.raises(ValidationError) as refused:
        make(office, other, city.street_jia, problems=[problem.pk])
    assert "关联问题不属于本创建活动：#" in refused.value.message_dict["problems"][0]
    campaign_services.unit_update(unit=city.street_yi, active=False)
    city.street_yi.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        make(office, campaign, city.street_yi)
    assert refused.value.message_dict["unit"] == ["单位“乙街道”已停用，不能登记承诺事项。"]
    assert Commitment.objects.count() == 0
    linked = make(office, campaign, city.street_jia, problems=[problem.pk])
    assert list(linked.problems.all()) == [problem]


def test_only_the_office_or_a_leader_records(campaign, city, liaison_jia, inspector, leader):
    for user in (liaison_jia, inspector):
        with pytest.raises(PermissionDenied):
            make(user, campaign, city.street_jia)
    assert Commitment.objects.count() == 0
    assert make(leader, campaign, city.street_jia).created_by == leader


# --- the workflow -------------------------------------------------------------------------------


def test_report_confirm_and_return(office, campaign, city, liaison_jia, liaison_yi):
    commitment = make(office, campaign, city.street_jia)
    with pytest.raises(PermissionDenied, match="只有承诺单位的联络员可以报告完成"):
        commitment_report_done(user=liaison_yi, commitment=commitment, note="已完成")
    with pytest.raises(ValidationError, match="请填写完成情况说明"):
        commitment_report_done(user=liaison_jia, commitment=commitment, note=" ")
    photo = photo_upload(user=liaison_jia, file=png(81))
    reported = commitment_report_done(user=liaison_jia, commitment=commitment, note="已更新 12 块", photos=[photo.pk])
    assert reported.status == CommitmentStatus.REPORTED and reported.reported_at and reported.version == 1
    assert list(reported.events.last().photos.all()) == [photo]
    assert Notification.objects.filter(user=office, message__contains="报告承诺事项已完成").exists()
    with pytest.raises(ValidationError, match="退回须填写理由"):
        commitment_return(user=office, commitment=reported, note="")
    returned = commitment_return(user=office, commitment=reported, note="照片看不清")
    assert returned.status == CommitmentStatus.OPEN and returned.reported_at is None
    reported = commitment_report_done(user=liaison_jia, commitment=returned, note="补充照片")
    done = commitment_confirm(user=office, commitment=reported)
    assert done.status == CommitmentStatus.DONE and done.completed_at
    assert [e.action for e in done.events.all()] == ["登记", "报告完成", "退回", "报告完成", "确认完成"]
    with pytest.raises(ValidationError, match="不在待确认状态"):
        commitment_confirm(user=office, commitment=done)


def test_a_liaison_cannot_confirm_its_own_commitment(office, campaign, city, liaison_jia, leader):
    """Even a liaison who is also a leader of the unit's work group, or the office."""
    commitment = make(office, campaign, city.street_jia)
    commitment = commitment_report_done(user=liaison_jia, commitment=commitment, note="已完成")
    with pytest.raises(PermissionDenied, match="联络员不能确认或退回本单位的承诺事项"):
        commitment_confirm(user=liaison_jia, commitment=commitment)
    campaign_services.membership_create(user=liaison_jia, role=Role.OFFICE, unit=city.dept_office)
    group = WorkGroup.objects.create(campaign=campaign, name="甲区工作组")
    group.units.add(city.district_jia)
    group.leaders.add(liaison_jia)
    with pytest.raises(PermissionDenied, match="联络员不能确认"):
        commitment_confirm(user=liaison_jia, commitment=commitment)
    commitment.refresh_from_db()
    assert commitment.status == CommitmentStatus.REPORTED and commitment.version == 1
    # A leader with no group over the unit may not; with one, may.
    with pytest.raises(PermissionDenied, match="牵头领导"):
        commitment_confirm(user=leader, commitment=commitment)
    group.leaders.add(leader)
    assert commitment_confirm(user=leader, commitment=commitment).status == CommitmentStatus.DONE


def test_edit_and_cancel_are_the_offices_and_recorded(office, campaign, city, leader):
    commitment = make(office, campaign, city.street_jia)
    with pytest.raises(PermissionDenied):
        commitment_update(user=leader, commitment=commitment, content="改")
    with pytest.raises(ValidationError, match="完成时限不能早于今天"):
        commitment_update(user=office, commitment=commitment, due_date=TODAY - datetime.timedelta(days=2))
    edited = commitment_update(user=office, commitment=commitment, content="改为本周完成", answerer="李主任")
    event = edited.events.last()
    assert event.action == "修改" and event.changes["content"][1] == "改为本周完成"
    assert event.changes["answerer"] == ["张主任", "李主任"]
    with pytest.raises(CommitmentConflict):
        commitment_update(user=office, commitment=edited, content="再改", expected_version=0)
    with pytest.raises(ValidationError, match="撤销须填写理由"):
        commitment_cancel(user=office, commitment=edited, reason="")
    cancelled = commitment_cancel(user=office, commitment=edited, reason="调度会决定合并")
    assert cancelled.status == CommitmentStatus.CANCELLED and cancelled.cancelled_at


def test_the_list_is_scoped_like_problems(office, campaign, city, leader, liaison_jia, liaison_yi, inspector):
    jia = make(office, campaign, city.community_jia1)
    yi = make(office, campaign, city.street_yi)
    assert set(commitment_list(user=office, campaign=campaign)) == {jia, yi}
    assert set(commitment_list(user=leader, campaign=campaign)) == {jia, yi}
    assert list(commitment_list(user=liaison_jia, campaign=campaign)) == [jia]
    assert list(commitment_list(user=liaison_yi, campaign=campaign)) == [yi]
    assert list(commitment_list(user=inspector, campaign=campaign)) == []


# --- 逾期 on the working-day calendar -----------------------------------------------------------


def test_overdue_follows_the_working_day_calendar(office, campaign, city):
    """Due on 10月1日 (国庆 holiday, 休 to 10月7日): the deadline is 10月8日, the first working day."""
    calendar_seed()
    commitment = make(
        office, campaign, city.street_jia, due_date=datetime.date(2026, 10, 1), today=datetime.date(2026, 9, 28)
    )

    def facts(today):
        row = with_commitment_facts(Commitment.objects.filter(pk=commitment.pk), today=today).get()
        return row.is_overdue, attach_days_overdue([row], today=today)[0].days_overdue

    assert facts(datetime.date(2026, 10, 2)) == (False, 0)  # calendar days would say overdue
    assert facts(datetime.date(2026, 10, 8)) == (False, 0)  # the deadline itself
    assert facts(datetime.date(2026, 10, 9)) == (True, 1)
    assert facts(datetime.date(2026, 10, 12)) == (True, 3)  # 8, 9 and the 调休 Saturday 10月10日
    overdue = filter_status(Commitment.objects.all(), "overdue", today=datetime.date(2026, 10, 9))
    assert list(overdue) == [commitment]
    assert not filter_status(Commitment.objects.all(), "open", today=datetime.date(2026, 10, 9)).exists()
    # Reported done: awaiting confirmation, no longer 逾期.
    Commitment.objects.filter(pk=commitment.pk).update(status=CommitmentStatus.REPORTED)
    assert facts(datetime.date(2026, 10, 12)) == (False, 0)


# --- carried forward ----------------------------------------------------------------------------


def test_commitments_carried_lists_the_open_and_those_done_that_week(
    office, campaign, city, liaison_jia, django_assert_num_queries
):
    week_start = at(MONDAY, 0)
    early = {"today": MONDAY - datetime.timedelta(days=14)}
    open_one = make(office, campaign, city.street_jia, due_date=MONDAY - datetime.timedelta(days=5), **early)
    done_in_week = make(office, campaign, city.street_jia, **early)
    done_before = make(office, campaign, city.street_jia, **early)
    cancelled = make(office, campaign, city.street_jia, **early)
    other_unit = make(office, campaign, city.street_yi, **early)
    made_later = make(office, campaign, city.street_jia)
    Commitment.objects.update(created_at=week_start - datetime.timedelta(days=10))
    Commitment.objects.filter(pk=made_later.pk).update(created_at=at(MONDAY + datetime.timedelta(days=8)))
    Commitment.objects.filter(pk=done_in_week.pk).update(
        status=CommitmentStatus.DONE, completed_at=at(MONDAY + datetime.timedelta(days=2))
    )
    Commitment.objects.filter(pk=done_before.pk).update(
        status=CommitmentStatus.DONE, completed_at=week_start - datetime.timedelta(days=1)
    )
    Commitment.objects.filter(pk=cancelled.pk).update(
        status=CommitmentStatus.CANCELLED, cancelled_at=week_start - datetime.timedelta(days=1)
    )
    with django_assert_num_queries(3):  # two calendar look-ups (the week end, today), then the one read
        rows = list(commitments_carried(campaign=campaign, unit_ids=[city.street_jia.pk], week=WEEK))
    assert [row.pk for row in rows] == [open_one.pk, done_in_week.pk]
    by_pk = {row.pk: row for row in rows}
    assert by_pk[open_one.pk].overdue_at_week_end and not by_pk[open_one.pk].done_in_week
    assert by_pk[done_in_week.pk].done_in_week and not by_pk[done_in_week.pk].overdue_at_week_end
    assert other_unit.pk not in by_pk


# --- overdue twice raises a case ----------------------------------------------------------------


@pytest.fixture
def overdue_twice(office, campaign, city, week45):
    """Due on the Wednesday of the week before 2026-W45, made the week before that, still open."""
    due = MONDAY - datetime.timedelta(days=5)
    late = make(office, campaign, city.street_jia, due_date=due, today=due - datetime.timedelta(days=7))
    on_time = make(office, campaign, city.street_yi, due_date=MONDAY + datetime.timedelta(days=2), today=due)
    Commitment.objects.update(created_at=at(due - datetime.timedelta(days=7)))
    return late, on_time


def test_overdue_at_two_week_ends_raises_one_case_per_unit_on_publish(overdue_twice, campaign, city, office):
    late, _on_time = overdue_twice
    assert commitments_overdue_twice(campaign=campaign, week=WEEK) == {city.street_jia.pk: [late.pk]}
    rollup_compute(campaign=campaign, week=WEEK)
    version = rollup_publish(campaign=campaign, week=WEEK, user=office, bulletin=False)
    cases = AccountabilityCase.objects.filter(rule=CaseRule.COMMITMENT_OVERDUE)
    case = cases.get()
    assert case.unit == city.street_jia and case.evidence["commitments"] == [late.pk]
    assert case.reason == "承诺事项连续两周逾期未完成 1 项"
    cases_raise(version=version)  # republishing updates, never duplicates
    assert cases.count() == 1


def test_a_commitment_done_in_the_week_or_the_rule_off_raises_none(overdue_twice, campaign, office):
    late, _ = overdue_twice
    Commitment.objects.filter(pk=late.pk).update(
        status=CommitmentStatus.DONE, completed_at=at(MONDAY + datetime.timedelta(days=1))
    )
    assert commitments_overdue_twice(campaign=campaign, week=WEEK) == {}
    Commitment.objects.filter(pk=late.pk).update(status=CommitmentStatus.OPEN, completed_at=None)
    campaign.commitment_overdue_raises_case = False
    campaign.save(update_fields=["commitment_overdue_raises_case"])
    rollup_compute(campaign=campaign, week=WEEK)
    version = rollup_publish(campaign=campaign, week=WEEK, user=office, bulletin=False)
    assert version.rules["commitment_overdue_raises_case"] is False
    assert not AccountabilityCase.objects.filter(rule=CaseRule.COMMITMENT_OVERDUE).exists()


def test_only_overdue_at_this_weeks_end_raises_none(office, campaign, city, week45):
    """Due in the published week itself: overdue at one week's end only."""
    make(office, campaign, city.street_jia, due_date=MONDAY + datetime.timedelta(days=1), today=MONDAY)
    Commitment.objects.update(created_at=at(MONDAY - datetime.timedelta(days=7)))
    assert commitments_overdue_twice(campaign=campaign, week=WEEK) == {}


# --- racing -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_racing_confirm_and_return_one_wins(office, campaign, city, liaison_jia):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    commitment = make(office, campaign, city.street_jia)
    commitment = commitment_report_done(user=liaison_jia, commitment=commitment, note="已完成")
    barrier = threading.Barrier(2)
    outcomes = []

    def run(fn, **kwargs):
        from django.db import connection as thread_connection

        barrier.wait()
        try:
            fn(user=office, commitment=commitment, expected_version=1, **kwargs)
            outcomes.append("ok")
        except (CommitmentConflict, ValidationError):
            outcomes.append("refused")
        finally:
            thread_connection.close()

    threads = [
        threading.Thread(target=run, args=(commitment_confirm,)),
        threading.Thread(target=run, args=(commitment_return,), kwargs={"note": "退回"}),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "refused"]
    commitment.refresh_from_db()
    assert commitment.version == 2
    assert CommitmentEvent.objects.filter(commitment=commitment, action__in=["确认完成", "退回"]).count() == 1


def test_reminders_due_soon_and_overdue_are_sent_once(office, campaign, city, liaison_jia):
    from accountability.commitments import commitment_reminders_send
    from accountability.tasks import reminders_send_task

    calendar_seed()
    monday = datetime.date(2026, 11, 2)
    soon = make(office, campaign, city.street_jia, due_date=monday + datetime.timedelta(days=1), today=monday)
    late = make(office, campaign, city.street_jia, due_date=monday, today=monday - datetime.timedelta(days=7))
    make(office, campaign, city.street_jia, due_date=monday + datetime.timedelta(days=9), today=monday)
    Notification.objects.all().delete()
    today = monday + datetime.timedelta(days=1)
    assert commitment_reminders_send(today=today) == {"sent": 2, "due_soon": 1, "overdue": 1}
    assert commitment_reminders_send(today=today)["sent"] == 0  # keyed once
    messages = sorted(Notification.objects.filter(user=liaison_jia).values_list("url", "kind"))
    assert messages == sorted([(f"/commitments/{soon.pk}/", "reminder"), (f"/commitments/{late.pk}/", "overdue")])
    result = reminders_send_task()
    assert "commitments_overdue" in result
