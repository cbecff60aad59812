"""The one state machine of a problem: 交办 → 签收 → 整改 → 复查 → 销号, with 返工, 改派, 延期,
挂账 and 作废. One table of allowed (state, action, role); one service applies it; every
transition is an immutable ProblemEvent. Nothing else writes a problem's status.

Who acts: the office, and the handler's liaisons (its unit or a unit above it). A department
charged for the problem (its 条 view) that is not the handler reads it and comments (留言: an
event that changes nothing else), but does not act as the handler: it did not sign for it, and
two units answering for one rectification would blur who is accountable. Comments are open to
every reader with a working role; a leader (read only) changes nothing, comments included."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaign.models import Unit
from campaign.selectors import scope_for
from inspections import photo_checks
from inspections.choices import ProblemStatus as S
from inspections.models import Photo, PhotoFlag, Problem
from inspections.triage import reports_problem_closed

from .choices import Action as A
from .choices import NotificationKind as K
from .choices import RecheckStatus
from .models import ProblemEvent, Recheck
from .notify import notify, notify_many, office_user_ids
from .rollup import rollup_refresh

OFFICE, HANDLER, READER = "office", "handler", "reader"
OPEN = (S.NEW, S.ASSIGNED, S.RECTIFYING, S.REVIEWING)
WORKING = (S.ASSIGNED, S.RECTIFYING)

# (state, action, role) → the state after. The whole of who may do what.
TRANSITIONS: dict[tuple[str, str, str], str] = {
    (S.NEW, A.ASSIGN, OFFICE): S.ASSIGNED,
    (S.ASSIGNED, A.ACCEPT, HANDLER): S.RECTIFYING,
    (S.RECTIFYING, A.SUBMIT, HANDLER): S.REVIEWING,
    (S.REVIEWING, A.APPROVE, OFFICE): S.CLOSED,
    (S.REVIEWING, A.REJECT, OFFICE): S.RECTIFYING,
    **{(state, A.REQUEST_REASSIGN, HANDLER): state for state in WORKING},
    **{(state, A.REASSIGN, OFFICE): S.ASSIGNED for state in WORKING},
    **{(state, A.REFUSE_REASSIGN, OFFICE): state for state in WORKING},
    **{(state, A.REQUEST_EXTENSION, HANDLER): state for state in WORKING},
    **{(state, A.GRANT_EXTENSION, OFFICE): state for state in WORKING},
    **{(state, A.DENY_EXTENSION, OFFICE): state for state in WORKING},
    **{(state, A.SHELVE, OFFICE): state for state in OPEN},
    **{(state, A.RESUME, OFFICE): state for state in OPEN},
    **{(state, A.VOID, OFFICE): S.VOID for state in OPEN},
    # 抽查复核 recorded 不属实 (accountability/recheck.py): the closed problem goes back to 返工.
    (S.CLOSED, A.RECHECK_FAIL, OFFICE): S.RECTIFYING,
}


class TransitionRefused(ValidationError):
    """The action is not allowed for this user on this problem now; nothing changed."""


class TransitionConflict(Exception):
    """Someone else changed the problem since the user saw it; nothing changed."""

    message = "该问题已被他人处理，请刷新后查看最新状态。"


@dataclass
class TransitionInput:
    action: str
    note: str = ""
    photos: tuple[int, ...] = ()
    handler: Unit | None = None
    co_handlers: tuple[Unit, ...] | None = None
    deadline: datetime.date | None = None
    expected_version: int | None = None


def roles_of(user, problem: Problem) -> set[str]:
    """The roles a user holds on a problem: the office; the handler's liaison (its unit or a unit
    above it). Leaders and inspectors act on nothing here."""
    scope = scope_for(user)
    roles = set()
    if scope.is_office:
        roles.add(OFFICE)
    if problem.handler_id and scope.is_liaison and scope.covers(problem.handler):
        roles.add(HANDLER)
    return roles


def can_comment(user) -> bool:
    """Any reader of a problem with a working role may comment; a leader (read only) may not."""
    return not scope_for(user).read_only


def allowed_actions(user, problem: Problem) -> list[str]:
    """What the user can do now: the table, narrowed by the problem's pending request and shelving
    (the same preconditions problem_transition checks), so pages offer only what will work. A
    comment is not a transition: see can_comment."""
    roles = roles_of(user, problem)
    preconditions = {
        A.REFUSE_REASSIGN: problem.pending_request == "reassign",
        A.GRANT_EXTENSION: problem.pending_request == "extension",
        A.DENY_EXTENSION: problem.pending_request == "extension",
        A.REQUEST_REASSIGN: not problem.pending_request,
        A.REQUEST_EXTENSION: not problem.pending_request,
        A.SHELVE: not problem.shelved,
        A.RESUME: problem.shelved,
        A.RECHECK_FAIL: False,  # only by recording a 抽查复核 (recheck_record), never offered alone
    }
    actions = []
    for state, action, role in TRANSITIONS:
        if state == problem.status and role in roles and preconditions.get(action, True) and action not in actions:
            actions.append(action)
    return actions


def default_deadline(problem: Problem, *, start: datetime.date | None = None) -> datetime.date:
    """Working days by severity (or the check item's own limit) from the day of assignment."""
    from .calendar import add_working_days

    days = (problem.check_item.deadline_days if problem.check_item_id else None) or settings.DEADLINE_WORKING_DAYS[
        problem.severity
    ]
    return add_working_days(start or timezone.localdate(), days)


def default_handler(problem: Problem) -> Unit | None:
    """The check item's first department if it names any, else the point's street."""
    if problem.check_item_id:
        department = problem.check_item.departments.order_by("path").first()
        if department is not None:
            return department
    unit = problem.unit
    if unit.kind == "community" and unit.parent_id:
        return unit.parent
    return unit


def _require(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise TransitionRefused({field: message})


@transaction.atomic
def problem_transition(*, user, problem: Problem, data: TransitionInput) -> Problem:
    """Apply one action. Locks the row, so of two racing users exactly one wins; the other gets a
    TransitionConflict (their view was stale) or a TransitionRefused, and nothing changes."""
    locked = (
        Problem.objects.select_for_update(of=("self",))
        .select_related("handler", "check_item", "unit")
        .get(pk=problem.pk)
    )
    if data.action == A.COMMENT:
        return _comment(user, locked, data.note)
    if data.expected_version is not None and locked.version != data.expected_version:
        raise TransitionConflict(TransitionConflict.message)
    roles = roles_of(user, locked)
    if not roles:
        raise PermissionDenied("您不能处理该问题。")
    if data.action not in A.values:
        raise TransitionRefused({"action": f"未知的操作“{data.action}”。"})
    role = next((r for r in (OFFICE, HANDLER) if r in roles and (locked.status, data.action, r) in TRANSITIONS), None)
    if role is None:
        raise TransitionRefused(
            {"action": f"问题当前为“{locked.get_status_display()}”，您不能执行“{A(data.action).label}”。"}
        )
    to_status = TRANSITIONS[(locked.status, data.action, role)]
    note = (data.note or "").strip()
    reopened_from = None
    changes: dict[str, list] = {}

    def change(field: str, value) -> None:
        old = getattr(locked, field)
        if old != value:
            changes[field] = [_plain(old), _plain(value)]
            setattr(locked, field, value)

    action = data.action
    if action in (A.ASSIGN, A.REASSIGN):
        handler = data.handler or (default_handler(locked) if action == A.ASSIGN else None)
        _require(handler is not None, "handler", "请选择主办单位。")
        _require(handler.active, "handler", "主办单位已停用。")
        if action == A.REASSIGN:
            _require(handler.pk != locked.handler_id, "handler", "改派需选择另一个主办单位。")
        change("handler", handler)
        if action == A.ASSIGN:
            deadline = data.deadline or default_deadline(locked)
            _require(deadline >= timezone.localdate(), "deadline", "整改期限不能早于今天。")
            change("deadline", deadline)
            change("original_deadline", deadline)
        change("pending_request", "")
        change("requested_deadline", None)
        change("request_reason", "")
    elif action == A.SUBMIT:
        _require(bool(note), "note", "请填写整改情况说明。")
        _require(bool(data.photos), "photos", "请至少上传一张整改后的照片。")
    elif action == A.REJECT:
        _require(bool(note), "note", "退回返工时请写明原因。")
        change("rework_count", locked.rework_count + 1)
    elif action == A.APPROVE:
        flagged = _report_flags(locked)
        if flagged:
            reasons = "、".join(dict.fromkeys(flag.get_code_display() for flag in flagged))
            _require(bool(note), "note", f"整改照片有疑点（{reasons}），请填写核实说明后再通过复查。")
        change("closed_at", timezone.now())
        change("shelved", False)
    elif action in (A.REQUEST_REASSIGN, A.REQUEST_EXTENSION):
        _require(not locked.pending_request, "action", "已有待处理的申请，请等待创建办答复。")
        _require(bool(note), "note", "请填写申请理由。")
        if action == A.REQUEST_EXTENSION:
            _require(data.deadline is not None, "deadline", "请填写申请延期到的日期。")
            _require(locked.deadline is None or data.deadline > locked.deadline, "deadline", "延期日期须晚于当前期限。")
            change("requested_deadline", data.deadline)
        change("pending_request", "reassign" if action == A.REQUEST_REASSIGN else "extension")
        change("request_reason", note)
    elif action in (A.REFUSE_REASSIGN, A.DENY_EXTENSION, A.GRANT_EXTENSION):
        wanted = "reassign" if action == A.REFUSE_REASSIGN else "extension"
        _require(locked.pending_request == wanted, "action", "没有待处理的相应申请。")
        if action == A.GRANT_EXTENSION:
            deadline = data.deadline or locked.requested_deadline
            _require(
                deadline is not None and (locked.deadline is None or deadline > locked.deadline),
                "deadline",
                "新的期限须晚于当前期限。",
            )
            change("deadline", deadline)
        else:
            _require(bool(note), "note", "请写明驳回理由。")
        change("pending_request", "")
        change("requested_deadline", None)
        change("request_reason", "")
    elif action == A.SHELVE:
        _require(not locked.shelved, "action", "该问题已挂账。")
        _require(bool(note), "note", "挂账需写明原因。")
        _require(data.deadline is not None, "deadline", "请填写挂账的计划完成日期。")
        change("shelved", True)
        change("shelved_until", data.deadline)
    elif action == A.RESUME:
        _require(locked.shelved, "action", "该问题未挂账。")
        change("shelved", False)
        change("shelved_until", None)
    elif action == A.VOID:
        _require(bool(note), "note", "作废需写明原因。")
    elif action == A.RECHECK_FAIL:
        _require(bool(note), "note", "请写明抽查复核不属实的情况。")
        _require(
            Recheck.objects.filter(problem=locked, status=RecheckStatus.PENDING).exists(),
            "action",
            "只有记录抽查复核不属实时才能重新打开已销号的问题。",
        )
        reopened_from = locked.closed_at  # the week it was closed is recomputed too
        change("rework_count", locked.rework_count + 1)
        change("closed_at", None)

    photos = list(Photo.objects.filter(pk__in=data.photos, uploaded_by=user)) if data.photos else []
    if len(photos) != len(set(data.photos)):
        raise TransitionRefused({"photos": "照片不存在或不是您上传的。"})
    if action == A.SUBMIT:
        _flag_report_photos(locked, photos)

    from_status = locked.status
    if to_status != from_status:
        changes["status"] = [from_status, to_status]
    locked.status = to_status
    co_handler_ids: list[int] = []
    if data.co_handlers is not None and action in (A.ASSIGN, A.REASSIGN):
        old = sorted(locked.co_handlers.values_list("pk", flat=True))
        new = sorted(u.pk for u in data.co_handlers if u.pk != locked.handler_id)
        if old != new:
            changes["co_handlers"] = [old, new]
            locked.co_handlers.set(new)
        co_handler_ids = new
    elif action in (A.ASSIGN, A.REASSIGN):
        co_handler_ids = list(locked.co_handlers.values_list("pk", flat=True))
    fields = [f for f in changes if f not in ("co_handlers",)]
    updated = Problem.objects.filter(pk=locked.pk, version=locked.version).update(
        version=F("version") + 1, **{f: getattr(locked, f) for f in fields}
    )
    if updated != 1:  # only possible without the row lock (e.g. SQLite); the loser changes nothing
        raise TransitionConflict(TransitionConflict.message)
    event = ProblemEvent.objects.create(
        problem=locked,
        action=action,
        actor=user,
        role=role,
        unit=locked.handler if role == HANDLER else None,
        from_status=from_status,
        to_status=to_status,
        note=note,
        changes=changes,
    )
    event.photos.set(photos)
    locked.version += 1
    _notify(locked, action, note, event, co_handler_ids)
    if to_status in (S.CLOSED, S.VOID) and from_status != to_status:
        # The reply owed to the citizens and the 12345 tickets behind the problem, shown on the public
        # status page: the office's closing note (its own words), else a plain sentence — never the
        # handler's internal report, nor a voiding reason.
        reports_problem_closed(
            problem=locked,
            note=note if to_status == S.CLOSED else "",
            at=locked.closed_at or timezone.now(),
        )
    # A computed week whose numbers this changes is recomputed (a published one gets a new draft
    # only if something would change).
    moments = [
        locked.found_at,
        locked.deadline,
        locked.original_deadline,
        locked.closed_at,
        reopened_from,
        timezone.now(),
    ]
    campaign_id = locked.campaign_id
    transaction.on_commit(
        lambda: rollup_refresh(campaign_id=campaign_id, moments=moments, reason=f"问题 #{locked.pk} {A(action).label}")
    )
    return locked


# Who is told of each action (accountability.notify): the handler's liaisons (with the
# co-handlers' on 交办/改派), or the office for what awaits its decision. 签收 tells nobody.
TO_HANDLER = {
    A.ASSIGN: K.ASSIGNED,
    A.REASSIGN: K.ASSIGNED,
    A.APPROVE: K.CLOSED,
    A.REJECT: K.RETURNED,
    A.REFUSE_REASSIGN: K.RETURNED,
    A.DENY_EXTENSION: K.RETURNED,
    A.GRANT_EXTENSION: K.APPROVED,
    A.SHELVE: K.STATUS,
    A.RESUME: K.STATUS,
    A.VOID: K.STATUS,
    A.RECHECK_FAIL: K.RETURNED,
}
TO_OFFICE = {A.SUBMIT: K.REVIEW, A.REQUEST_REASSIGN: K.REQUEST, A.REQUEST_EXTENSION: K.REQUEST}


def _day(day: datetime.date | None) -> str:
    """A deadline in a message; a problem from older data may have none (never a TypeError here)."""
    return f"{day:%m月%d日}" if day else "未定"


def _message(problem: Problem, action: str, note: str) -> str:
    what = f"问题 #{problem.pk}（{problem.description[:40]}）"
    reason = f"：{note[:80]}" if note else "。"
    handler = problem.handler.name if problem.handler_id else ""
    if action == A.ASSIGN:
        return f"新交办{what}，请签收整改，期限 {_day(problem.deadline)}。"
    if action == A.REASSIGN:
        return f"{what}已改派贵单位主办，请签收整改，期限 {_day(problem.deadline)}。"
    if action == A.SUBMIT:
        return f"{handler}提交了{what}的整改报告，请复查{reason}"
    if action == A.APPROVE:
        return f"{what}复查通过，已销号。"
    if action == A.REJECT:
        return f"{what}复查未通过，退回返工{reason}"
    if action in (A.REQUEST_REASSIGN, A.REQUEST_EXTENSION):
        wish = "改派" if action == A.REQUEST_REASSIGN else f"延期至 {_day(problem.requested_deadline)}"
        return f"{handler}申请{wish}：{what}{reason}"
    if action == A.GRANT_EXTENSION:
        return f"{what}的延期申请已同意，新期限 {_day(problem.deadline)}。"
    if action in (A.REFUSE_REASSIGN, A.DENY_EXTENSION):
        wish = "改派" if action == A.REFUSE_REASSIGN else "延期"
        return f"{what}的{wish}申请被驳回{reason}"
    if action == A.RECHECK_FAIL:
        return f"{what}抽查复核不属实，退回返工{reason}"
    return f"{what}{A(action).label}{reason}"


def _notify(problem: Problem, action: str, note: str, event: ProblemEvent, co_handler_ids: list[int]) -> None:
    """Tell the people an action concerns (a few statements, never raising: accountability.notify)."""
    key = f"event:{event.pk}"
    if action in TO_HANDLER and problem.handler_id:
        items = [
            {
                "units": [problem.handler_id, *co_handler_ids],
                "kind": TO_HANDLER[action],
                "message": _message(problem, action, note),
                "problem": problem,
                "key": key,
            }
        ]
        previous = (event.changes.get("handler") or [None])[0] if action == A.REASSIGN else None
        if previous:  # the unit it was taken from: its liaisons would otherwise just see it gone
            items.append(
                {
                    "units": [previous],
                    "kind": K.STATUS,
                    "message": f"问题 #{problem.pk}（{problem.description[:40]}）已改派{problem.handler.name}主办，"
                    "贵单位无需再办理。",
                    "problem": problem,
                    "key": key,
                }
            )
        notify_many(items)
    elif action in TO_OFFICE:
        notify(
            users=office_user_ids(),
            kind=TO_OFFICE[action],
            message=_message(problem, action, note),
            problem=problem,
            key=key,
        )


# Flags of an after-photo that make approving it need a note. A photo without EXIF is shown as
# such but needs none alone: chat apps strip EXIF, so its absence proves nothing either way.
NOTE_FLAGS = tuple(code for code in PhotoFlag.Code.values if code != PhotoFlag.Code.NO_EXIF)


def _report_flags(problem: Problem) -> list[PhotoFlag]:
    """The flags (those needing a note) of the photos of the problem's latest rectification report."""
    report = ProblemEvent.objects.filter(problem=problem, action=A.SUBMIT).order_by("-at", "-id").first()
    if report is None:
        return []
    return list(PhotoFlag.objects.filter(photo__problem_events=report, code__in=NOTE_FLAGS).order_by("photo_id", "id"))


def _flag_report_photos(problem: Problem, photos: list[Photo]) -> None:
    """Flags a rectification photo needs its problem for: taken far from the point, taken before
    the problem was assigned, or already cited by an earlier report. A few queries per report."""
    if not photos:
        return
    assigned = (
        ProblemEvent.objects.filter(problem=problem, action__in=(A.ASSIGN, A.REASSIGN))
        .order_by("-at", "-id")
        .values_list("at", flat=True)
        .first()
    )
    point = problem.point
    flags = photo_checks.before_assigned_flags(photos, assigned_at=assigned)
    if point is not None:
        flags += photo_checks.place_flags(photos, latitude=point.latitude, longitude=point.longitude)
    cited = {}
    for photo_id, problem_id, at in ProblemEvent.photos.through.objects.filter(
        photo_id__in=[p.pk for p in photos]
    ).values_list("photo_id", "problemevent__problem_id", "problemevent__at"):
        cited.setdefault(photo_id, (problem_id, at))
    for photo in photos:
        if photo.pk in cited:
            problem_id, at = cited[photo.pk]
            when = timezone.localtime(at).strftime("%Y-%m-%d")
            flags.append(
                PhotoFlag(
                    photo=photo,
                    code=PhotoFlag.Code.DUPLICATE,
                    message=f"疑似重复：此照片已在问题 #{problem_id} 的整改报告中使用过（{when}）。",
                )
            )
    photo_checks.store_flags(flags)


def _comment(user, problem: Problem, note: str) -> Problem:
    """A comment: one event, the status and version unchanged (a comment never makes someone
    else's open form stale) and no roll-up refresh (no number moves). The caller found the problem
    through problem_list, so the user reads it."""
    if not can_comment(user):
        raise PermissionDenied("领导只读，不能留言。")
    note = (note or "").strip()
    _require(bool(note), "note", "请填写留言内容。")
    _require(len(note) <= 2000, "note", "留言不能超过 2000 字。")
    roles = roles_of(user, problem)
    role = OFFICE if OFFICE in roles else HANDLER if HANDLER in roles else READER
    scope = scope_for(user)
    # The unit a liaison speaks for: the one covering the handler, else its first unit.
    unit = None
    if scope.liaison_units:
        covering = [u for u in scope.liaison_units if problem.handler_id and problem.handler.path.startswith(u.path)]
        unit = (covering or list(scope.liaison_units))[0]
    ProblemEvent.objects.create(
        problem=problem,
        action=A.COMMENT,
        actor=user,
        role=role,
        unit=unit if role != OFFICE else None,
        from_status=problem.status,
        to_status=problem.status,
        note=note,
    )
    return problem


def _plain(value):
    if isinstance(value, Unit):
        return value.pk
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value
