"""People: accounts and their roles (导入人员, the membership API), beside the People services of
campaign/services.py.

A row of the people sheet is one (person, role, unit) membership; a person with several roles has
several rows under the same 账号. Accounts are matched by 账号 (a blank 账号 is the 手机号 itself, a
stable login the person already knows). New accounts get a random one-time password, returned once
to the caller (never stored in clear) and must change it at the first sign-in
(`UserProfile.must_change_password`, enforced by campaign/password_change.py). The import adds and
updates, never removes: memberships not in the sheet stay.

Set-based: the sheet is read once, the units, the current campaign's work groups, the accounts,
their profiles and memberships a query each; the writes are bulk statements — the number of
queries does not grow with the rows.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher, make_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch

from . import services
from .audit import history_record
from .choices import Role
from .importing import Column, ImportFileError, ImportResult, RowChange, RowError, read_table
from .lookups import UnitLookup, split_list
from .models import Membership, Unit, UserProfile, WorkGroup
from .selectors import campaign_current

User = get_user_model()

PEOPLE_COLUMNS = [
    Column("full_name", "姓名", ("名字",), required=True),
    Column("phone", "手机号", ("手机", "联系电话")),
    Column("username", "账号", ("用户名", "登录名")),
    Column("role", "角色", ("身份",), required=True),
    Column("unit", "单位", ("所属单位",)),
    Column("groups", "工作组", ()),
]
PEOPLE_HEADERS = [column.header for column in PEOPLE_COLUMNS]

# What offices write in the 角色 column.
ROLE_WORDS = {
    "创建办": Role.OFFICE,
    "督查员": Role.INSPECTOR,
    "联络员": Role.LIAISON,
    "单位联络员": Role.LIAISON,
    "领导": Role.LEADER,
}
ROLE_HELP = "、".join(ROLE_WORDS)

PEOPLE_IMPORT_HELP = (
    f"每行一个人员的一个角色（一人多个角色写多行，账号相同）。角色可填：{ROLE_HELP}。单位填名称、简称或编码，"
    "单位联络员必须填写单位。手机号为 11 位、以 1 开头（可带空格或短横线）。账号留空时以手机号作为账号。"
    "工作组只用于“领导”行：填当前创建活动的工作组名称（多个用顿号分隔），该领导成为这些工作组的牵头领导；"
    "其他角色的行请留空（工作组的成员单位在工作组中设置）。按账号匹配：已有账号更新姓名和手机号并补充新角色，"
    "新账号生成一次性初始密码，只在导入完成页显示一次，首次登录须修改。导入只新增、不删除：表中没有的角色保持不变，"
    "移除角色请在“成员与角色”中操作。同一文件重复导入不会产生变化。"
)

PHONE_JUNK = re.compile(r"[\s\-－—_()（）]+")
PHONE = re.compile(r"^1\d{10}$")
# No 0/O, 1/l/I: read aloud or copied from a printout without mistakes.
PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
PASSWORD_LENGTH = 10
# A one-time password is random (about 58 bits), not chosen by a person, and is replaced at the first
# sign-in (where Django also re-hashes it at the default work factor): a lighter PBKDF2 keeps an
# import of hundreds of accounts within a request.
ONE_TIME_PBKDF2_ITERATIONS = 20_000


def one_time_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def hash_one_time_password(password: str) -> str:
    hasher = get_hasher("default")
    if isinstance(hasher, PBKDF2PasswordHasher):
        return hasher.encode(password, hasher.salt(), iterations=min(ONE_TIME_PBKDF2_ITERATIONS, hasher.iterations))
    return make_password(password)


def normalize_phone(text: str) -> str | None:
    """The 11-digit mobile number in what was typed ("138 0000-0001", "+86 13800000001"), else None."""
    digits = PHONE_JUNK.sub("", text or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if PHONE.match(digits) else None


def display_name(user) -> str:
    """A person as users see them: the full name, the login only when there is no name."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


@dataclass
class InitialPassword:
    username: str
    full_name: str
    password: str


@dataclass
class PeopleImportResult(ImportResult):
    """An import's result plus the one-time passwords of the accounts it created (only after a real
    import; never part of as_dict, so never stored with a job's result)."""

    passwords: list[InitialPassword] = field(default_factory=list)


@dataclass
class _Person:
    username: str
    full_name: str
    phone: str
    first_row: int
    existing: object = None


@dataclass
class _PlannedRow:
    number: int
    person: _Person
    role: str
    unit: Unit | None
    groups: list[WorkGroup]


def _role_label(role: str) -> str:
    return Role(role).label


def people_import(*, file, dry_run: bool) -> PeopleImportResult:
    """Import people and their roles from an office's sheet: every row checked, then all or nothing."""
    try:
        rows = read_table(file, columns=PEOPLE_COLUMNS)
    except ImportFileError as exc:
        return PeopleImportResult(dry_run=dry_run, errors=exc.as_result(dry_run=dry_run).errors)
    result = PeopleImportResult(dry_run=dry_run)
    errors = result.errors
    username_validator = UnicodeUsernameValidator()
    name_limit = User._meta.get_field("first_name").max_length
    username_limit = User._meta.get_field("username").max_length

    lookup = UnitLookup()
    campaign = campaign_current()
    groups_by_name = {g.name: g for g in WorkGroup.objects.filter(campaign=campaign)} if campaign else {}

    people: dict[str, _Person] = {}
    planned: list[_PlannedRow] = []
    seen_memberships: dict[tuple, int] = {}
    for row in rows:
        number = row.number
        full_name = row.get("full_name")
        phone_text, username = row.get("phone"), row.get("username")
        role_text, unit_text, groups_text = row.get("role"), row.get("unit"), row.get("groups")
        if not any((full_name, phone_text, username, role_text, unit_text, groups_text)):
            continue
        ok = True
        if not full_name and not username:
            errors.append(RowError(number, "姓名", "", "姓名不能为空。"))
            ok = False
        elif len(full_name) > name_limit:
            errors.append(RowError(number, "姓名", full_name, f"姓名不能超过 {name_limit} 个字。"))
            ok = False
        phone = ""
        if phone_text:
            phone = normalize_phone(phone_text) or ""
            if not phone:
                message = "手机号应为 11 位数字、以 1 开头（可带空格或短横线）。"
                errors.append(RowError(number, "手机号", phone_text, message))
                ok = False
        if not username:
            if phone:
                username = phone
            elif not phone_text:
                errors.append(RowError(number, "账号", "", "账号和手机号不能都为空：账号留空时以手机号作为账号。"))
                ok = False
        elif len(username) > username_limit:
            errors.append(RowError(number, "账号", username, f"账号不能超过 {username_limit} 个字符。"))
            ok = False
        else:
            try:
                username_validator(username)
            except ValidationError:
                message = "账号只能包含字母、数字、汉字和 @ . + - _，不能有空格。"
                errors.append(RowError(number, "账号", username, message))
                ok = False
        role = ROLE_WORDS.get(role_text.replace(" ", ""))
        if role is None:
            message = "角色不能为空。" if not role_text else f"无法识别的角色“{role_text}”，可填写：{ROLE_HELP}。"
            errors.append(RowError(number, "角色", role_text, message))
            ok = False
        unit = None
        if unit_text:
            unit, message = lookup.resolve(unit_text)
            if unit is None:
                errors.append(RowError(number, "单位", unit_text, message))
                ok = False
        elif role == Role.LIAISON:
            errors.append(RowError(number, "单位", "", "单位联络员必须填写所属单位（名称、简称或编码）。"))
            ok = False
        groups: list[WorkGroup] = []
        group_names = split_list(groups_text)
        if group_names and role is not None and role != Role.LEADER:
            message = "只有角色为“领导”的行可以填写工作组（成为牵头领导）；其他角色请留空。"
            errors.append(RowError(number, "工作组", groups_text, message))
            ok = False
        elif group_names and campaign is None:
            errors.append(RowError(number, "工作组", groups_text, "还没有创建活动，无法指定工作组。"))
            ok = False
        else:
            for name in group_names:
                group = groups_by_name.get(name)
                if group is None:
                    known = "、".join(groups_by_name) or "无"
                    message = f"当前创建活动“{campaign.name}”没有工作组“{name}”。现有工作组：{known}。"
                    errors.append(RowError(number, "工作组", name, message))
                    ok = False
                elif group not in groups:
                    groups.append(group)
        if not ok:
            continue
        person = people.get(username)
        if person is None:
            person = people[username] = _Person(username=username, full_name=full_name, phone=phone, first_row=number)
        else:
            differs = [
                label
                for label, mine, theirs in (("姓名", full_name, person.full_name), ("手机号", phone, person.phone))
                if mine != theirs
            ]
            if differs:
                message = (
                    f"账号“{username}”在第 {person.first_row} 行是“{person.full_name}”"
                    f"{'（' + person.phone + '）' if person.phone else ''}，本行的{'、'.join(differs)}与之不同："
                    "同一账号的各行姓名和手机号须一致。"
                )
                errors.append(RowError(number, "账号", username, message))
                continue
        key = (username, role, unit.pk if unit else None)
        if key in seen_memberships:
            errors.append(
                RowError(number, "角色", role_text, f"与第 {seen_memberships[key]} 行重复（同一账号、角色和单位）。")
            )
            continue
        seen_memberships[key] = number
        planned.append(_PlannedRow(number=number, person=person, role=role, unit=unit, groups=groups))

    if not rows:
        errors.append(RowError(None, "", "", "表格中没有人员数据。"))

    # The accounts, their profiles and memberships: a query each, whatever the rows.
    existing = {}
    if people:
        existing = {u.username: u for u in User.objects.filter(username__in=list(people)).select_related("profile")}
    memberships: set[tuple] = set()
    led: set[tuple[int, int]] = set()
    if existing:
        ids = [user.pk for user in existing.values()]
        memberships = set(Membership.objects.filter(user_id__in=ids).values_list("user_id", "role", "unit_id"))
        if groups_by_name:
            through = WorkGroup.leaders.through
            led = set(
                through.objects.filter(user_id__in=ids, workgroup__campaign=campaign).values_list(
                    "user_id", "workgroup_id"
                )
            )
    phones = {p.phone for p in people.values() if p.phone}
    phone_owners: dict[str, list[str]] = {}
    if phones:
        for phone, owner in UserProfile.objects.filter(phone__in=phones).values_list("phone", "user__username"):
            phone_owners.setdefault(phone, []).append(owner)
    sheet_phones: dict[str, _Person] = {}
    for person in people.values():
        first = sheet_phones.setdefault(person.phone, person) if person.phone else person
        if first is not person:
            message = f"手机号 {person.phone} 与第 {first.first_row} 行的账号“{first.username}”相同，请确认不是同一人。"
            result.warnings.append(RowError(person.first_row, "手机号", person.phone, message))
        person.existing = existing.get(person.username)
        if person.existing is None and not person.full_name:
            errors.append(RowError(person.first_row, "姓名", "", "姓名不能为空（新账号须填写姓名）。"))
        others = [owner for owner in phone_owners.get(person.phone, []) if owner != person.username]
        if others:
            message = f"手机号 {person.phone} 已登记在账号“{'、'.join(others)}”下，请确认不是同一人。"
            result.warnings.append(RowError(person.first_row, "手机号", person.phone, message))

    # What would change, row by row (a person's own changes are reported on its first row).
    reported: set[str] = set()
    for plan in planned:
        person, user = plan.person, plan.person.existing
        unit_label = f" · {plan.unit.name}" if plan.unit else ""
        label = f"{person.full_name}（{person.username}）· {_role_label(plan.role)}{unit_label}"
        changes: dict[str, tuple[str, str]] = {}
        if user is None:
            if person.username not in reported:
                changes["账号"] = ("", "新账号（生成初始密码）")
            action = "create"
        else:
            if person.username not in reported:
                old_phone = profile_phone(user)
                if person.full_name and user.first_name != person.full_name:
                    changes["姓名"] = (user.first_name, person.full_name)
                if person.phone and old_phone != person.phone:
                    changes["手机号"] = (old_phone, person.phone)
                if not user.is_active:
                    changes["状态"] = ("停用", "启用")
            new_membership = (user.pk, plan.role, plan.unit.pk if plan.unit else None) not in memberships
            new_groups = [g.name for g in plan.groups if (user.pk, g.pk) not in led]
            if new_groups:
                changes["牵头工作组"] = ("", "、".join(new_groups))
            action = "create" if new_membership else ("update" if changes else "unchanged")
        if user is None and plan.groups:
            changes["牵头工作组"] = ("", "、".join(g.name for g in plan.groups))
        reported.add(person.username)
        result.rows.append(RowChange(plan.number, action, label, changes))

    result.errors.sort(key=lambda e: e.row or 0)
    if result.errors or dry_run:
        return result
    _people_apply(planned=planned, people=people, result=result)
    return result


def profile_phone(user) -> str:
    """The person's mobile number ("" without a profile)."""
    try:
        return user.profile.phone
    except UserProfile.DoesNotExist:
        return ""


@transaction.atomic
def _people_apply(*, planned: list[_PlannedRow], people: dict[str, _Person], result: PeopleImportResult) -> None:
    # New accounts, with their one-time passwords.
    new_people = [p for p in people.values() if p.existing is None]
    passwords = {p.username: one_time_password() for p in new_people}
    if new_people:
        User.objects.bulk_create(
            [
                User(
                    username=p.username, first_name=p.full_name, password=hash_one_time_password(passwords[p.username])
                )
                for p in new_people
            ]
        )
        created = {u.username: u for u in User.objects.filter(username__in=[p.username for p in new_people])}
        for person in new_people:
            person.existing = created[person.username]
        result.passwords = [InitialPassword(p.username, p.full_name, passwords[p.username]) for p in new_people]

    # Names, activity and profiles of every person of the sheet.
    changed_users, new_profiles, changed_profiles = [], [], []
    for person in people.values():
        user = person.existing
        if person.username in passwords:
            new_profiles.append(UserProfile(user=user, phone=person.phone, must_change_password=True))
            continue
        if (person.full_name and user.first_name != person.full_name) or not user.is_active:
            user.first_name, user.is_active = person.full_name or user.first_name, True
            changed_users.append(user)
        try:
            profile = user.profile
        except UserProfile.DoesNotExist:
            new_profiles.append(UserProfile(user=user, phone=person.phone))
            continue
        if person.phone and profile.phone != person.phone:
            profile.phone = person.phone
            changed_profiles.append(profile)
    if changed_users:
        User.objects.bulk_update(changed_users, ["first_name", "is_active"])
    if new_profiles:
        UserProfile.objects.bulk_create(new_profiles)
    if changed_profiles:
        UserProfile.objects.bulk_update(changed_profiles, ["phone"])

    # Memberships and work-group leadership: added, never removed.
    actions = {change.row: change.action for change in result.rows}
    new_memberships = [
        Membership(user=plan.person.existing, role=plan.role, unit=plan.unit)
        for plan in planned
        if actions[plan.number] == "create"
    ]
    if new_memberships:
        Membership.objects.bulk_create(new_memberships, ignore_conflicts=False)
        ids = [plan.person.existing.pk for plan in planned]
        wanted = {(m.user_id, m.role, m.unit_id) for m in new_memberships}
        written = [
            m
            for m in Membership.objects.filter(user_id__in=ids).select_related("user", "unit")
            if (m.user_id, m.role, m.unit_id) in wanted
        ]
        history_record(Membership, written, change="+")
    through = WorkGroup.leaders.through
    links = {(plan.person.existing.pk, group.pk) for plan in planned for group in plan.groups}
    if links:
        through.objects.bulk_create(
            [through(user_id=user_id, workgroup_id=group_id) for user_id, group_id in sorted(links)],
            ignore_conflicts=True,
        )


def people_export_rows(queryset) -> list[tuple[int, list[str]]]:
    """(membership id, row) of `queryset` in the import's own layout (PEOPLE_HEADERS), so that the
    export re-imports unchanged: the unit by its full name (by its code where another unit shares
    that name), a leader's row with the current campaign's groups it leads. A fixed number of queries."""
    campaign = campaign_current()
    led = WorkGroup.objects.filter(campaign=campaign) if campaign else WorkGroup.objects.none()
    queryset = queryset.select_related("user", "user__profile", "unit").prefetch_related(
        Prefetch("user__led_work_groups", queryset=led.order_by("order", "id"), to_attr="current_groups")
    )
    memberships = list(queryset)
    names: dict[str, int] = {}
    if any(m.unit_id for m in memberships):
        for name, short_name in Unit.objects.values_list("name", "short_name"):
            for written in {name, short_name} - {""}:
                names[written] = names.get(written, 0) + 1
    return [(m.pk, people_row(m, ambiguous=lambda name: names.get(name, 0) > 1)) for m in memberships]


def people_row(membership: Membership, *, ambiguous=lambda name: False) -> list[str]:
    user, unit = membership.user, membership.unit
    groups = getattr(user, "current_groups", [])
    return [
        user.first_name,
        profile_phone(user),
        user.username,
        membership.get_role_display(),
        (unit.code if ambiguous(unit.name) else unit.name) if unit is not None else "",
        "、".join(g.name for g in groups) if membership.role == Role.LEADER else "",
    ]


# --- Memberships (the API) ---------------------------------------------------------------------


@transaction.atomic
def person_create(*, full_name: str, phone: str = "", username: str = "") -> tuple[object, str]:
    """A new account with a one-time password (returned, to be shown once) and its profile."""
    full_name = (full_name or "").strip()
    if not full_name:
        raise ValidationError({"full_name": "请填写姓名。"})
    normalized = ""
    if phone:
        normalized = normalize_phone(phone) or ""
        if not normalized:
            raise ValidationError({"phone": "手机号应为 11 位数字、以 1 开头。"})
    username = (username or "").strip() or normalized
    if not username:
        raise ValidationError({"username": "请填写账号，或填写手机号（以手机号作为账号）。"})
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": f"账号“{username}”已存在。"})
    password = one_time_password()
    user = User(username=username, first_name=full_name, password=hash_one_time_password(password))
    user.full_clean(exclude=["password"])
    user.save()
    UserProfile.objects.create(user=user, phone=normalized, must_change_password=True)
    return user, password


def must_change_password(*, user) -> bool:
    """Whether the person still signs in with an office-issued one-time password."""
    return UserProfile.objects.filter(user=user, must_change_password=True).exists()


def password_changed(*, user) -> None:
    """The person chose a password: the one-time password's flag is cleared."""
    UserProfile.objects.filter(user=user, must_change_password=True).update(must_change_password=False)


@transaction.atomic
def membership_add(*, user, role: str, unit: Unit | None = None) -> Membership:
    """A role for a person (a deactivated account is active again)."""
    membership = services.membership_create(user=user, role=role, unit=unit)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    return membership


@transaction.atomic
def membership_add_person(
    *, user=None, full_name: str = "", phone: str = "", username: str = "", role: str, unit: Unit | None = None
) -> tuple[Membership, str | None]:
    """A role for an existing person (`user`), or for a new one created with a one-time password:
    both or nothing. Returns the membership and the new account's password (None for `user`)."""
    password = None
    if user is None:
        user, password = person_create(full_name=full_name, phone=phone, username=username)
    return membership_add(user=user, role=role, unit=unit), password


@transaction.atomic
def membership_change(*, membership: Membership, role: str | None = None, unit=...) -> Membership:
    """Change a membership's role or unit (a liaison keeps a unit; no duplicate of another role)."""
    role = membership.role if role is None else role
    unit = membership.unit if unit is ... else unit
    if role == Role.LIAISON and unit is None:
        raise ValidationError({"unit": "单位联络员必须指定所属单位。"})
    if role != Role.OFFICE and services.membership_is_last_office(membership):
        raise ValidationError({"role": "这是最后一个创建办账号，不能改为其他角色。"})
    services.membership_check(user=membership.user, role=role, unit=unit, exclude_pk=membership.pk)
    membership.role, membership.unit = role, unit
    membership.full_clean(validate_constraints=False)
    membership.save()
    return membership


@transaction.atomic
def membership_deactivate(*, membership: Membership) -> bool:
    """Remove a membership (the last 创建办 cannot go); a person left without any role is set
    inactive (cannot sign in). Returns whether the account is still active."""
    user = membership.user
    services.membership_delete(membership=membership)
    if not Membership.objects.filter(user=user).exists() and user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    return user.is_active
