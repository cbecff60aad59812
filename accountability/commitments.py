"""承诺事项 (commitments): what a unit promised at (or after) a weekly 调度会 — the content, by when
(`due_date`), who answers (the unit's leader) — optionally linked to problems or an indicator.

    进行中 ──报告完成 (the unit's liaison: a note, photos)──▶ 已完成（待确认）
    已完成（待确认） ──确认 (the office / a leader over the unit)──▶ 已完成
    已完成（待确认） ──退回 (same, with a note)──▶ 进行中
    进行中 / 待确认 ──撤销 (the office, with a reason)──▶ 已撤销

逾期 is derived, never stored: a commitment 进行中 past its deadline, the deadline being its due date
or — when the due date is not a working day — the first working day after it (the calendar of
`accountability.calendar`, as for problem deadlines). In SQL that is one comparison with a constant:
a deadline is before today exactly when the due date is on or before the last working day before
today (`overdue_q`), so every list, filter, count and the API share one definition. Every change is
a `CommitmentEvent`; changes lock the row and update on `version`, so of two racing users exactly
one wins and the other gets `CommitmentConflict`.

On publish, `cases_raise` (accountability/rollup.py) asks `commitments_overdue_twice` which units
had a commitment open past its deadline at the end of the published week and of the week before
(the campaign's rule `commitment_overdue_raises_case`)."""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import BooleanField, Case, F, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone

from campaign.models import Campaign, Unit, WorkGroup
from campaign.selectors import scope_for
from campaign.weeks import week_label
from indicators.models import Indicator
from inspections.models import Problem
from inspections.selectors import iso_week_bounds
from inspections.services import photos_for_evidence

from .calendar import add_working_days, is_working_day, load_overrides
from .choices import CommitmentStatus, NotificationKind
from .models import Commitment, CommitmentEvent
from .notify import notify, office_user_ids

ACTION_CREATE, ACTION_EDIT, ACTION_REPORT = "登记", "修改", "报告完成"
ACTION_CONFIRM, ACTION_RETURN, ACTION_CANCEL = "确认完成", "退回", "撤销"
OPEN_STATUSES = (CommitmentStatus.OPEN, CommitmentStatus.REPORTED)
OVERDUE = "overdue"  # the derived status, as a filter value
CONTENT_LIMIT = 500
ANSWERER_LIMIT = 50
NOTE_LIMIT = 2000
EVIDENCE_LIMIT = 50
WEEK_PATTERN = re.compile(r"^\d{4}-W\d{2}$")


class CommitmentConflict(Exception):
    """Someone changed the commitment since the user saw it; nothing changed."""

    message = "该承诺事项已被他人处理，请刷新后查看最新状态。"


# --- the derived facts ---------------------------------------------------------------------------


def last_working_day_before(day: datetime.date) -> datetime.date:
    """The last working day strictly before `day` (one calendar query)."""
    return add_working_days(day, -1)


def overdue_q(today: datetime.date | None = None) -> Q:
    """进行中 and past its deadline (the first working day on or after its due date) as of today:
    the deadline is before today exactly when the due date is on or before the last working day
    before today. One calendar query to find that day, then a plain comparison in SQL."""
    today = today or timezone.localdate()
    return Q(status=CommitmentStatus.OPEN, due_date__lte=last_working_day_before(today))


def with_commitment_facts(queryset: QuerySet, *, today: datetime.date | None = None) -> QuerySet:
    """Annotate `is_overdue` (overdue_q) in SQL."""
    return queryset.annotate(
        is_overdue=Case(When(overdue_q(today), then=Value(True)), default=Value(False), output_field=BooleanField())
    )


def attach_days_overdue(rows, *, today: datetime.date | None = None) -> list:
    """Set `days_overdue` on a page of annotated rows: the working days from the due date up to
    yesterday (so ≥ 1 exactly when overdue; 0 otherwise). One calendar query for the whole page."""
    rows = list(rows)
    today = today or timezone.localdate()
    late = [row for row in rows if getattr(row, "is_overdue", False)]
    for row in rows:
        row.days_overdue = 0
    if not late:
        return rows
    first = min(row.due_date for row in late)
    overrides = load_overrides(first, today)
    working = []
    day = first
    while day < today:
        if is_working_day(day, overrides=overrides):
            working.append(day)
        day += datetime.timedelta(days=1)
    for row in late:
        row.days_overdue = sum(1 for day in working if day >= row.due_date)
    return rows


def status_label(commitment: Commitment) -> str:
    """The status as shown: 逾期 when derived overdue, else the stored status's label."""
    if getattr(commitment, "is_overdue", False):
        return "逾期"
    return CommitmentStatus(commitment.status).label


# --- who ----------------------------------------------------------------------------------------


def is_unit_liaison(*, user, unit: Unit) -> bool:
    """A liaison whose units cover the commitment's unit (its own or one above it)."""
    scope = scope_for(user)
    return scope.is_liaison and any(unit.path.startswith(path) for path in scope.liaison_paths)


def can_create_commitment(user) -> bool:
    scope = scope_for(user)
    return scope.is_office or scope.is_leader


def can_confirm_commitment(*, user, commitment: Commitment) -> bool:
    """The office, or a leader of a work group of the campaign over the unit — never a liaison of
    the unit itself (a liaison cannot confirm its own commitment)."""
    if not user.is_authenticated or is_unit_liaison(user=user, unit=commitment.unit):
        return False
    if scope_for(user).is_office:
        return True
    return WorkGroup.objects.filter(
        campaign_id=commitment.campaign_id,
        leaders=user,
        units__pk__in=[*commitment.unit.ancestor_ids, commitment.unit.pk],
    ).exists()


def commitment_actions(*, user, commitment: Commitment) -> set[str]:
    """What the user may do to the commitment now: edit, report, confirm, return, cancel."""
    scope = scope_for(user)
    actions: set[str] = set()
    if commitment.status in OPEN_STATUSES and scope.is_office:
        actions |= {"edit", "cancel"}
    if commitment.status == CommitmentStatus.OPEN and is_unit_liaison(user=user, unit=commitment.unit):
        actions.add("report")
    if commitment.status == CommitmentStatus.REPORTED and can_confirm_commitment(user=user, commitment=commitment):
        actions |= {"confirm", "return"}
    return actions


# --- reads --------------------------------------------------------------------------------------


def commitment_list(*, user, campaign: Campaign | None = None, today: datetime.date | None = None) -> QuerySet:
    """Commitments the user may read, annotated with `is_overdue`: the office and leaders all; a
    liaison those of its units' subtrees; anyone else none. Use attach_days_overdue on a page."""
    scope = scope_for(user)
    queryset = Commitment.objects.select_related("campaign", "unit", "indicator", "created_by")
    if campaign is not None:
        queryset = queryset.filter(campaign=campaign)
    if not (scope.is_office or scope.is_leader):
        if not scope.is_liaison or not scope.liaison_paths:
            return queryset.none()
        condition = Q()
        for path in scope.liaison_paths:
            condition |= Q(unit__path__startswith=path)
        queryset = queryset.filter(condition)
    return with_commitment_facts(queryset, today=today)


def filter_status(queryset: QuerySet, status: str, *, today: datetime.date | None = None) -> QuerySet:
    """Filter by a shown status: 逾期 (derived), 进行中 (not overdue), or a stored status."""
    if status == OVERDUE:
        return queryset.filter(overdue_q(today))
    if status == CommitmentStatus.OPEN:
        return queryset.filter(status=CommitmentStatus.OPEN).exclude(overdue_q(today))
    if status in CommitmentStatus.values:
        return queryset.filter(status=status)
    return queryset


def _week_end_overdue_day(week: str) -> datetime.date:
    """A commitment open at the week's end is overdue then when its due date is on or before the
    last working day of the week (its deadline falls on or before the Sunday)."""
    _start, end = iso_week_bounds(week)
    return last_working_day_before(end.date())


def commitments_carried(
    *, campaign: Campaign, unit_ids=None, week: str, today: datetime.date | None = None
) -> QuerySet:
    """What the 调度会 after `week` lists per unit: every commitment open at the week's end (made
    before it ended, neither cancelled, reported done nor confirmed by then) plus those confirmed
    done during the week, with `done_in_week`, `overdue_at_week_end` and the current `is_overdue`.
    One query (the units joined); ordered by unit, then due date."""
    start, end = iso_week_bounds(week)
    overdue_day = _week_end_overdue_day(week)
    open_at_end = (
        (Q(completed_at__isnull=True) | Q(completed_at__gte=end))
        & (Q(reported_at__isnull=True) | Q(reported_at__gte=end))
        & (Q(cancelled_at__isnull=True) | Q(cancelled_at__gte=end))
    )
    done_in_week = Q(completed_at__gte=start, completed_at__lt=end)
    queryset = Commitment.objects.filter(campaign=campaign, created_at__lt=end).filter(open_at_end | done_in_week)
    if unit_ids is not None:  # None: every unit's (the 调度会材料 asks which units carry any)
        queryset = queryset.filter(unit_id__in=list(unit_ids))
    queryset = with_commitment_facts(queryset.select_related("unit"), today=today)
    return queryset.annotate(
        done_in_week=Case(When(done_in_week, then=Value(True)), default=Value(False), output_field=BooleanField()),
        overdue_at_week_end=Case(
            When(open_at_end & Q(due_date__lte=overdue_day), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    ).order_by("unit__path", "due_date", "id")


def commitments_overdue_twice(*, campaign: Campaign, week: str) -> dict[int, list[int]]:
    """Per unit, the commitments (≤ 50 ids each) open past their deadline at the end of `week` and
    at the end of the week before: made before the earlier week ended, due on or before its last
    working day, and still open (not reported, confirmed or cancelled) at the end of `week`.
    One query for every unit."""
    start, end = iso_week_bounds(week)
    previous_end = start
    overdue_day = last_working_day_before(previous_end.date())
    rows = (
        Commitment.objects.filter(campaign=campaign, created_at__lt=previous_end, due_date__lte=overdue_day)
        .filter(Q(completed_at__isnull=True) | Q(completed_at__gte=end))
        .filter(Q(reported_at__isnull=True) | Q(reported_at__gte=end))
        .filter(Q(cancelled_at__isnull=True) | Q(cancelled_at__gte=end))
        .order_by("unit_id", "due_date", "id")
        .values_list("unit_id", "pk")
    )
    evidence: dict[int, list[int]] = {}
    for unit_id, pk in rows:
        ids = evidence.setdefault(unit_id, [])
        if len(ids) < EVIDENCE_LIMIT:
            ids.append(pk)
    return evidence


# --- writes -------------------------------------------------------------------------------------


def _clean_fields(
    *, campaign: Campaign, content, due_date, answerer, week, problems, indicator, errors: dict, today
) -> tuple[str, str, str, list[Problem]]:
    content = (content or "").strip()
    if not content:
        errors["content"] = "请填写承诺内容。"
    elif len(content) > CONTENT_LIMIT:
        errors["content"] = f"承诺内容不能超过 {CONTENT_LIMIT} 个字。"
    if due_date is None or due_date == "":
        errors["due_date"] = "请填写完成时限。"
    elif not isinstance(due_date, datetime.date):
        errors["due_date"] = "完成时限的日期格式不正确，请按 2026-12-31 的格式填写。"
    elif due_date < today:
        errors["due_date"] = f"完成时限不能早于今天（{today:%Y年%m月%d日}）。"
    answerer = (answerer or "").strip()
    if len(answerer) > ANSWERER_LIMIT:
        errors["answerer"] = f"责任领导不能超过 {ANSWERER_LIMIT} 个字。"
    week = (week or "").strip()
    if week and not WEEK_PATTERN.match(week):
        errors["week"] = "调度会周次格式应为 2026-W48。"
    elif week:
        try:
            iso_week_bounds(week)
        except ValueError:
            errors["week"] = "调度会周次格式应为 2026-W48。"
    found: list[Problem] = []
    ids = [p.pk if isinstance(p, Problem) else p for p in problems or ()]
    if ids:
        try:
            ids = sorted({int(pk) for pk in ids})
        except (TypeError, ValueError):
            errors["problems"] = "问题编号应为整数。"
            ids = []
        found = list(Problem.objects.filter(pk__in=ids))
        missing = set(ids) - {p.pk for p in found}
        other = [p.pk for p in found if p.campaign_id != campaign.pk]
        if missing:
            errors["problems"] = "问题不存在：" + "、".join(f"#{pk}" for pk in sorted(missing))
        elif other:
            errors["problems"] = "关联问题不属于本创建活动：" + "、".join(f"#{pk}" for pk in other)
    if indicator is not None:
        system_campaign = Indicator.objects.filter(pk=indicator.pk).values_list("system__campaign_id", flat=True)
        if list(system_campaign) != [campaign.pk]:
            errors["indicator"] = "关联指标不属于本创建活动的测评体系。"
    return content, answerer, week, found


def commitment_create(
    *,
    user,
    campaign: Campaign,
    unit: Unit | None,
    content: str,
    due_date: datetime.date | None,
    answerer: str = "",
    week: str = "",
    problems=(),
    indicator: Indicator | None = None,
    today: datetime.date | None = None,
) -> Commitment:
    """Record a unit's commitment (the office or a leader). Refused — nothing written — without a
    unit, content or due date, with a due date before today, for an inactive unit or an archived
    campaign, or with problems or an indicator of another campaign. Tells the unit's liaisons."""
    if not user.is_authenticated or not can_create_commitment(user):
        raise PermissionDenied("只有创建办或领导可以登记承诺事项。")
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    if unit is None:
        errors["unit"] = "请选择承诺单位。"
    elif not unit.active:
        errors["unit"] = f"单位“{unit.name}”已停用，不能登记承诺事项。"
    if not campaign.active:
        errors["campaign"] = f"创建活动“{campaign.name}”已归档（已结束），不能登记承诺事项。"
    content, answerer, week, found = _clean_fields(
        campaign=campaign,
        content=content,
        due_date=due_date,
        answerer=answerer,
        week=week,
        problems=problems,
        indicator=indicator,
        errors=errors,
        today=today,
    )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        commitment = Commitment.objects.create(
            campaign=campaign,
            unit=unit,
            week=week,
            content=content,
            due_date=due_date,
            answerer=answerer,
            indicator=indicator,
            created_by=user,
        )
        if found:
            commitment.problems.set(found)
        CommitmentEvent.objects.create(
            commitment=commitment,
            action=ACTION_CREATE,
            actor=user,
            note=content,
            changes={
                "due_date": [None, due_date.isoformat()],
                **({"answerer": [None, answerer]} if answerer else {}),
                **({"problems": [[], [p.pk for p in found]]} if found else {}),
            },
        )
        notify(
            units=[unit.pk],
            kind=NotificationKind.ASSIGNED,
            message=f"{unit.name}的承诺事项已登记，请于{due_date:%m月%d日}前完成并报告：{content[:80]}",
            url=reverse("commitment-detail", args=[commitment.pk]),
            key=f"commitment:{commitment.pk}:created",
            campaign=campaign.pk,
        )
    return commitment


def _lock(commitment: Commitment, expected_version: int | None) -> Commitment:
    locked = Commitment.objects.select_for_update(of=("self",)).select_related("unit", "campaign").get(pk=commitment.pk)
    if expected_version is not None and locked.version != expected_version:
        raise CommitmentConflict(CommitmentConflict.message)
    return locked


def _save(locked: Commitment, **values) -> None:
    """The conditional update on the version read under the lock: a racing writer gets a conflict."""
    updated = Commitment.objects.filter(pk=locked.pk, version=locked.version).update(version=F("version") + 1, **values)
    if not updated:
        raise CommitmentConflict(CommitmentConflict.message)


def _note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_LIMIT:
        raise ValidationError({"note": f"说明不能超过 {NOTE_LIMIT} 个字。"})
    return note


UNSET = object()


@transaction.atomic
def commitment_update(
    *,
    user,
    commitment: Commitment,
    content=UNSET,
    due_date=UNSET,
    answerer=UNSET,
    week=UNSET,
    problems=UNSET,
    indicator=UNSET,
    expected_version: int | None = None,
    today: datetime.date | None = None,
) -> Commitment:
    """The office edits an open commitment (进行中 or 待确认); the fields changed are recorded on the
    event. A new due date may not be before today (an unchanged past one stays)."""
    if not scope_for(user).is_office:
        raise PermissionDenied("只有创建办可以修改承诺事项。")
    today = today or timezone.localdate()
    locked = _lock(commitment, expected_version)
    if locked.status not in OPEN_STATUSES:
        raise ValidationError({"status": f"该承诺事项{CommitmentStatus(locked.status).label}，不能修改。"})
    current_problems = sorted(locked.problems.values_list("pk", flat=True))
    new_due = locked.due_date if due_date is UNSET else due_date
    errors: dict[str, str] = {}
    content_, answerer_, week_, found = _clean_fields(
        campaign=locked.campaign,
        content=locked.content if content is UNSET else content,
        due_date=new_due,
        answerer=locked.answerer if answerer is UNSET else answerer,
        week=locked.week if week is UNSET else week,
        problems=current_problems if problems is UNSET else problems,
        indicator=locked.indicator if indicator is UNSET else indicator,
        errors=errors,
        # an unchanged due date already past is kept; a new one must not be in the past
        today=today if new_due != locked.due_date else datetime.date.min,
    )
    if errors:
        raise ValidationError(errors)
    values = {"content": content_, "due_date": new_due, "answerer": answerer_, "week": week_}
    if indicator is not UNSET:
        values["indicator"] = indicator
    changes = {}
    for name, value in values.items():
        old = getattr(locked, name)
        if old != value:
            changes[name] = [
                str(old) if old is not None else None,
                str(value) if value is not None else None,
            ]
    new_problems = sorted(p.pk for p in found)
    if new_problems != current_problems:
        changes["problems"] = [current_problems, new_problems]
    if not changes:
        return locked
    _save(locked, **values)
    if "problems" in changes:
        locked.problems.set(found)
    CommitmentEvent.objects.create(commitment=locked, action=ACTION_EDIT, actor=user, changes=changes)
    locked.refresh_from_db()
    return locked


@transaction.atomic
def commitment_report_done(
    *, user, commitment: Commitment, note: str, photos=(), expected_version: int | None = None
) -> Commitment:
    """The unit's liaison reports it done with a note on what was done (photos as evidence,
    optional): 已完成（待确认）, the office is told."""
    if not is_unit_liaison(user=user, unit=commitment.unit):
        raise PermissionDenied("只有承诺单位的联络员可以报告完成。")
    note = _note(note)
    if not note:
        raise ValidationError({"note": "请填写完成情况说明。"})
    evidence = photos_for_evidence(user=user, photos=photos)
    locked = _lock(commitment, expected_version)
    if locked.status != CommitmentStatus.OPEN:
        raise ValidationError({"status": f"该承诺事项{CommitmentStatus(locked.status).label}，不能报告完成。"})
    now = timezone.now()
    _save(locked, status=CommitmentStatus.REPORTED, reported_at=now)
    event = CommitmentEvent.objects.create(
        commitment=locked,
        action=ACTION_REPORT,
        actor=user,
        note=note,
        at=now,
        changes={"status": [CommitmentStatus.OPEN.label, CommitmentStatus.REPORTED.label]},
    )
    if evidence:
        event.photos.set(evidence)
    notify(
        users=office_user_ids(),
        kind=NotificationKind.REVIEW,
        message=f"{locked.unit.name}报告承诺事项已完成，请确认：{locked.content[:60]}",
        url=reverse("commitment-detail", args=[locked.pk]),
        key=f"commitment:{locked.pk}:reported:{locked.version + 1}",
        campaign=locked.campaign_id,
    )
    locked.refresh_from_db()
    return locked


def _decide(*, user, commitment: Commitment, confirm: bool, note: str, expected_version: int | None) -> Commitment:
    if is_unit_liaison(user=user, unit=commitment.unit):
        raise PermissionDenied("联络员不能确认或退回本单位的承诺事项。")
    if not can_confirm_commitment(user=user, commitment=commitment):
        raise PermissionDenied("只有创建办或该单位所在工作组的牵头领导可以确认承诺事项。")
    note = _note(note)
    if not confirm and not note:
        raise ValidationError({"note": "退回须填写理由。"})
    locked = _lock(commitment, expected_version)
    if locked.status != CommitmentStatus.REPORTED:
        raise ValidationError({"status": f"该承诺事项{CommitmentStatus(locked.status).label}，不在待确认状态。"})
    now = timezone.now()
    if confirm:
        _save(locked, status=CommitmentStatus.DONE, completed_at=now)
        new_status = CommitmentStatus.DONE
    else:
        _save(locked, status=CommitmentStatus.OPEN, reported_at=None)
        new_status = CommitmentStatus.OPEN
    CommitmentEvent.objects.create(
        commitment=locked,
        action=ACTION_CONFIRM if confirm else ACTION_RETURN,
        actor=user,
        note=note,
        at=now,
        changes={"status": [CommitmentStatus.REPORTED.label, new_status.label]},
    )
    verdict = "已确认完成" if confirm else f"被退回，请继续落实：{note[:80]}"
    notify(
        units=[locked.unit_id],
        kind=NotificationKind.APPROVED if confirm else NotificationKind.RETURNED,
        message=f"承诺事项“{locked.content[:40]}”{verdict}",
        url=reverse("commitment-detail", args=[locked.pk]),
        key=f"commitment:{locked.pk}:{'confirmed' if confirm else 'returned'}:{locked.version + 1}",
        campaign=locked.campaign_id,
    )
    locked.refresh_from_db()
    return locked


@transaction.atomic
def commitment_confirm(*, user, commitment: Commitment, note: str = "", expected_version: int | None = None):
    """The office (or a leader over the unit) confirms a reported commitment: 已完成."""
    return _decide(user=user, commitment=commitment, confirm=True, note=note, expected_version=expected_version)


@transaction.atomic
def commitment_return(*, user, commitment: Commitment, note: str, expected_version: int | None = None):
    """The office (or a leader over the unit) sends a report back with a note: 进行中 again."""
    return _decide(user=user, commitment=commitment, confirm=False, note=note, expected_version=expected_version)


@transaction.atomic
def commitment_cancel(*, user, commitment: Commitment, reason: str, expected_version: int | None = None):
    """The office cancels an open commitment, with a reason: 已撤销 (no longer carried or overdue)."""
    if not scope_for(user).is_office:
        raise PermissionDenied("只有创建办可以撤销承诺事项。")
    reason = _note(reason)
    if not reason:
        raise ValidationError({"reason": "撤销须填写理由。"})
    locked = _lock(commitment, expected_version)
    if locked.status not in OPEN_STATUSES:
        raise ValidationError({"status": f"该承诺事项{CommitmentStatus(locked.status).label}，不能撤销。"})
    now = timezone.now()
    old = CommitmentStatus(locked.status).label
    _save(locked, status=CommitmentStatus.CANCELLED, cancelled_at=now)
    CommitmentEvent.objects.create(
        commitment=locked,
        action=ACTION_CANCEL,
        actor=user,
        note=reason,
        at=now,
        changes={"status": [old, CommitmentStatus.CANCELLED.label]},
    )
    notify(
        units=[locked.unit_id],
        kind=NotificationKind.STATUS,
        message=f"承诺事项“{locked.content[:40]}”已撤销：{reason[:80]}",
        url=reverse("commitment-detail", args=[locked.pk]),
        key=f"commitment:{locked.pk}:cancelled",
        campaign=locked.campaign_id,
    )
    locked.refresh_from_db()
    return locked


@transaction.atomic
def commitment_reminders_send(*, today: datetime.date | None = None) -> dict:
    """Tell the unit's liaisons of each open commitment due by the next working day, and of each one
    overdue (once per commitment and due date: a changed date reminds again; the keys make a second
    run a no-op). Three queries and one notify_many, whatever the number of commitments."""
    from .notify import notify_many

    today = today or timezone.localdate()
    soon = Commitment.objects.filter(
        status=CommitmentStatus.OPEN, due_date__gte=today, due_date__lte=add_working_days(today, 1)
    ).select_related("unit")
    late = Commitment.objects.filter(overdue_q(today)).select_related("unit")
    items = [
        {
            "units": [c.unit_id],
            "kind": NotificationKind.REMINDER,
            "message": f"承诺事项将于{c.due_date:%m月%d日}到期，请按时完成并报告：{c.content[:60]}",
            "url": reverse("commitment-detail", args=[c.pk]),
            "key": f"commitment:{c.pk}:due_soon:{c.due_date.isoformat()}",
            "campaign": c.campaign_id,
        }
        for c in soon
    ]
    due_soon = len(items)
    items += [
        {
            "units": [c.unit_id],
            "kind": NotificationKind.OVERDUE,
            "message": f"承诺事项已逾期（时限{c.due_date:%m月%d日}），请尽快完成并报告：{c.content[:60]}",
            "url": reverse("commitment-detail", args=[c.pk]),
            "key": f"commitment:{c.pk}:overdue:{c.due_date.isoformat()}",
            "campaign": c.campaign_id,
        }
        for c in late
    ]
    sent = notify_many(items) if items else 0
    return {"sent": sent, "due_soon": due_soon, "overdue": len(items) - due_soon}


def week_text(week: str) -> str:
    return week_label(week) if week else ""
