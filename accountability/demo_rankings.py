"""Demo: eight published weeks of rankings, so the leaders' pages have trends on first start.

The rectification demo moves problems through the workflow today; here the closed ones get the
history a real office would have (a deadline a few working days after they were found, closed on
or near it, the weaker district 北塘区 late more often), then the eight complete weeks before this
one are computed and published in order, raising their accountability cases, and the office
records decisions on some of them."""

from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaign.choices import UnitKind
from campaign.models import Campaign, Unit
from inspections.choices import ProblemStatus
from inspections.models import Problem
from inspections.selectors import iso_week_of

from .choices import CaseRule, CaseStatus
from .models import AccountabilityCase
from .rollup import case_decide, rollup_compute, rollup_publish

WEEKS = 8


@transaction.atomic  # one commit for all the closures, not one per problem
def _backdate_closures(rng: random.Random) -> None:
    now = timezone.now()
    weak = Unit.objects.filter(name__contains="北塘", kind=UnitKind.DISTRICT).values_list("path", flat=True).first()
    closed = Problem.objects.filter(status=ProblemStatus.CLOSED).select_related("unit").order_by("pk")
    tz = timezone.get_default_timezone()
    for problem in closed:
        found = problem.found_at
        found_day = timezone.localtime(found).date()
        deadline = found_day + datetime.timedelta(days=rng.randint(3, 7))
        late_odds = 0.45 if weak and problem.unit.path.startswith(weak) else 0.12
        days = (deadline - found_day).days
        delay = rng.randint(days + 1, days + 5) if rng.random() < late_odds else rng.randint(1, days)
        # Closed in office hours on that day (never in the future, never before it was found).
        closing = datetime.datetime.combine(
            found_day + datetime.timedelta(days=delay), datetime.time(rng.randint(9, 17), rng.randint(0, 59)), tz
        )
        closed_at = max(min(closing, now), found + datetime.timedelta(minutes=30))
        Problem.objects.filter(pk=problem.pk).update(
            deadline=deadline, original_deadline=deadline, closed_at=closed_at, version=F("version") + 1
        )


def seed(context: dict) -> None:
    office = context["users"]["office"]
    campaign = Campaign.objects.filter(active=True).first()
    if campaign is None:
        return
    rng = random.Random(2026)
    _backdate_closures(rng)
    today = timezone.localdate()
    weeks = [iso_week_of(today - datetime.timedelta(days=7 * back)) for back in range(WEEKS, 0, -1)]
    for week in weeks:
        rollup_compute(campaign=campaign, week=week)
        # The 周通报 files of the newest week only; an older week's render on its first request.
        rollup_publish(campaign=campaign, week=week, user=office, bulletin=week == weeks[-1])
    # The office has dealt with the older cases; the latest week's wait.
    notes = {
        CaseRule.BLACK_LIST: (CaseStatus.INTERVIEWED, "已由分管领导约谈单位主要负责人，限期提交整改方案。"),
        CaseRule.OVERDUE: (CaseStatus.NOTIFIED, "已在全市周通报中点名通报。"),
        CaseRule.REBOUND: (CaseStatus.NOTIFIED, "已通报，要求建立长效机制。"),
    }
    with transaction.atomic():  # one commit for all the decisions
        pending = AccountabilityCase.objects.filter(campaign=campaign, week__in=weeks[:-1], status=CaseStatus.PENDING)
        for case in pending:
            status, note = notes.get(case.rule, (CaseStatus.NOTIFIED, "已通报。"))
            if case.level == "account":
                status, note = CaseStatus.HELD, "连续三周上黑榜，已移交纪检部门启动问责程序。"
            case_decide(case=case, status=status, note=note, user=office)
