"""Demo: 承诺事项 made at the 调度会 held early in the last published week (the meeting on the week
before it) by that earlier week's 黑榜 units — for each, one done and confirmed during the week,
one still open, one overdue by the week's end — and one open for the demo liaison's own street, so
every persona has something to act on and the last published week's 调度会材料 carries them all."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from campaign.demo import demo_liaison
from campaign.models import Campaign, Membership, Unit
from inspections.selectors import iso_week_bounds

from .calendar import add_working_days, is_working_day
from .choices import BoardList, VersionStatus
from .commitments import commitment_confirm, commitment_create, commitment_report_done
from .meeting import meeting_pack_generate
from .models import Commitment, CommitmentEvent, RollupVersion, UnitWeekScore
from .rollup import CASE_POPULATIONS

PROMISES = (
    ("对本周通报的占道经营问题逐一销号，建立早晚巡查台账", 3),
    ("完成辖区农贸市场公益广告更新，每处不少于两幅", 8),
    ("背街小巷垃圾清运由日清改为日清两次，补齐分类收集点", 2),
)


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=timezone.get_default_timezone())


@transaction.atomic
def seed(context: dict) -> None:
    office = context["users"]["office"]
    campaign = Campaign.objects.filter(active=True).order_by("evaluation_date", "pk").first()
    version = (
        RollupVersion.objects.filter(campaign=campaign, status=VersionStatus.PUBLISHED).order_by("-week").first()
        if campaign
        else None
    )
    if version is None:
        return
    today = timezone.localdate()
    # The 调度会 on the week before the last published one, held on the first working day of the
    # last published week: what it promised is what that week's pack carries.
    earlier = (
        RollupVersion.objects.filter(campaign=campaign, status=VersionStatus.PUBLISHED, week__lt=version.week)
        .order_by("-week")
        .first()
    ) or version
    monday = iso_week_bounds(version.week)[0].date()
    meeting = monday if is_working_day(monday) else add_working_days(monday, 1)
    black = list(
        Unit.objects.filter(
            pk__in=UnitWeekScore.objects.filter(
                rollup=earlier, board=BoardList.BLACK, population__in=CASE_POPULATIONS
            ).values("unit_id")
        ).order_by("path")[:3]
    )
    liaison = context["users"].get("liaison")
    own = Membership.objects.filter(user=liaison, role="liaison").select_related("unit").first() if liaison else None
    made: list[tuple[Commitment, str]] = []
    for unit in black:
        for (content, days), fate in zip(PROMISES, ("done", "open", "overdue"), strict=True):
            due = add_working_days(meeting, 2 if fate == "overdue" else days)
            made.append(
                (
                    commitment_create(
                        user=office,
                        campaign=campaign,
                        unit=unit,
                        content=content,
                        due_date=due,
                        answerer=f"{unit.display_name}主要负责人",
                        week=earlier.week,
                        today=meeting,
                    ),
                    fate,
                )
            )
    if own is not None and own.unit not in black:
        made.append(
            (
                commitment_create(
                    user=office,
                    campaign=campaign,
                    unit=own.unit,
                    content="两周内完成辖区小区楼道堆物清理，报送前后对比照片",
                    due_date=add_working_days(today, 8),
                    answerer=f"{own.unit.display_name}分管领导",
                    week=earlier.week,
                ),
                "open",
            )
        )
    Commitment.objects.filter(pk__in=[c.pk for c, _ in made]).update(created_at=_at(meeting, 16))
    for commitment, fate in made:
        if fate == "done":
            reported = commitment_report_done(
                user=demo_liaison(commitment.unit, context),
                commitment=commitment,
                note="已全部销号，巡查台账已建立并上传。",
            )
            commitment_confirm(user=office, commitment=reported, note="经核实已完成。")
            # Reported and confirmed two working days after the meeting (within the week).
            done_day = add_working_days(meeting, 2)
            Commitment.objects.filter(pk=commitment.pk).update(
                reported_at=_at(done_day, 10), completed_at=_at(done_day, 15)
            )
            for event, hour in zip(commitment.events.order_by("at", "pk")[1:], (10, 15), strict=False):
                CommitmentEvent.objects.filter(pk=event.pk).update(at=_at(done_day, hour))
    # The last published week's 调度会材料, its PDF rendered (by the worker; inline in the demo).
    meeting_pack_generate(version=version, user=office)
