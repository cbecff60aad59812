"""导入人员 (issue 13 item 1): people and their roles from the city's sheet — preview, row errors with
row and column, all or nothing, re-import unchanged, existing accounts updated, one-time passwords
shown once and stored hashed, set-based (queries do not grow with rows), the template and the
export round-trip in the demo city."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from campaign import services
from campaign.choices import Role
from campaign.models import Membership, UserProfile, WorkGroup
from campaign.people import (
    PASSWORD_ALPHABET,
    PEOPLE_HEADERS,
    normalize_phone,
    people_export_rows,
    people_import,
)
from tests.campaign.xlsx import make_xlsx, upload

User = get_user_model()
HEADER = ["姓名", "手机号", "账号", "角色", "单位", "工作组"]


def sheet(*rows, header=HEADER):
    return upload("people.xlsx", make_xlsx([header, *rows]))


def snapshot():
    return (
        list(User.objects.order_by("pk").values_list("pk", "username", "first_name", "password", "is_active")),
        list(Membership.objects.order_by("pk").values_list("pk", "user_id", "role", "unit_id")),
        list(UserProfile.objects.order_by("pk").values_list("pk", "user_id", "phone", "must_change_password")),
        list(WorkGroup.leaders.through.objects.order_by("pk").values_list("user_id", "workgroup_id")),
    )


@pytest.fixture
def group(campaign, city):
    return services.work_group_create(campaign=campaign, name="宣传组", units=[city.street_jia])


GOOD = [
    ["张三", "138 0000-0001", "zhangsan", "单位联络员", "甲街道", ""],
    ["张三", "13800000001", "zhangsan", "督查员", "市文明办", ""],
    ["李四", "13800000002", "", "联络员", "JIA-1-1", ""],
    ["王五", "13800000003", "wangwu", "领导", "", "宣传组"],
]


def test_preview_lists_every_row_and_writes_nothing(city, group):
    before = snapshot()
    result = people_import(file=sheet(*GOOD), dry_run=True)
    assert result.ok, result.errors
    assert [(r.row, r.action) for r in result.rows] == [(2, "create"), (3, "create"), (4, "create"), (5, "create")]
    assert result.rows[0].changes["账号"] == ("", "新账号（生成初始密码）")
    assert "账号" not in result.rows[1].changes  # the same person, reported once
    assert result.rows[3].changes["牵头工作组"] == ("", "宣传组")
    assert result.passwords == []
    assert snapshot() == before


def test_import_creates_accounts_roles_profiles_and_group_leaders(city, group):
    result = people_import(file=sheet(*GOOD), dry_run=False)
    assert result.ok, result.errors
    assert result.summary == "已新增 4 条，更新 0 条，0 条不变。"
    zhang = User.objects.get(username="zhangsan")
    assert zhang.first_name == "张三"
    assert set(zhang.memberships.values_list("role", "unit__code")) == {
        (Role.LIAISON, "JIA-1"),
        (Role.INSPECTOR, "D-WM"),
    }
    # A blank 账号 is the mobile number.
    li = User.objects.get(username="13800000002")
    assert li.profile.phone == "13800000002" and li.profile.must_change_password
    assert li.memberships.get().unit == city.community_jia1
    wang = User.objects.get(username="wangwu")
    assert list(wang.led_work_groups.all()) == [group]
    assert wang.memberships.get().unit is None
    # History rows for the bulk-created memberships.
    assert Membership.history.filter(history_type="+").count() == 4


def test_one_time_passwords_are_returned_once_and_stored_hashed(city, group):
    result = people_import(file=sheet(*GOOD), dry_run=False)
    passwords = {p.username: p for p in result.passwords}
    assert set(passwords) == {"zhangsan", "13800000002", "wangwu"}
    entry = passwords["zhangsan"]
    assert entry.full_name == "张三"
    assert len(entry.password) == 10 and set(entry.password) <= set(PASSWORD_ALPHABET)
    user = User.objects.get(username="zhangsan")
    assert entry.password not in user.password
    assert user.check_password(entry.password)
    assert authenticate(username="zhangsan", password=entry.password) == user
    assert "passwords" not in result.as_dict() and entry.password not in str(result.as_dict())
    # Nothing else holds it: a second import of the same sheet creates no account and no password.
    again = people_import(file=sheet(*GOOD), dry_run=False)
    assert again.passwords == [] and again.created == 0


def test_reimport_of_the_same_sheet_changes_nothing(city, group):
    people_import(file=sheet(*GOOD), dry_run=False)
    before = snapshot()
    result = people_import(file=sheet(*GOOD), dry_run=False)
    assert result.ok and (result.created, result.updated, result.unchanged) == (0, 0, 4)
    assert snapshot() == before


def test_existing_account_is_updated_and_gets_new_roles_never_loses_any(city, group, liaison_jia):
    UserProfile.objects.create(user=liaison_jia, phone="13900000000")
    rows = [["甲联络员", "13900000009", "liaison_jia", "督查员", "", ""]]
    preview = people_import(file=sheet(*rows), dry_run=True)
    assert preview.ok, preview.errors
    change = preview.rows[0]
    assert change.action == "create"  # a new membership for an existing person
    assert change.changes == {"姓名": ("liaison_jia", "甲联络员"), "手机号": ("13900000000", "13900000009")}
    result = people_import(file=sheet(*rows), dry_run=False)
    assert result.passwords == []  # an existing account keeps its password
    liaison_jia.refresh_from_db()
    assert liaison_jia.first_name == "甲联络员" and liaison_jia.profile.phone == "13900000009"
    assert not liaison_jia.profile.must_change_password
    assert set(liaison_jia.memberships.values_list("role", flat=True)) == {Role.LIAISON, Role.INSPECTOR}


def test_an_update_of_name_only_is_an_update_row(city, liaison_jia):
    result = people_import(file=sheet(["新名字", "", "liaison_jia", "单位联络员", "甲街道", ""]), dry_run=False)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    liaison_jia.refresh_from_db()
    assert liaison_jia.first_name == "新名字"
    assert UserProfile.objects.filter(user=liaison_jia, must_change_password=False).exists()


def test_an_inactive_account_is_active_again_when_given_a_role(city, liaison_jia):
    liaison_jia.is_active = False
    liaison_jia.save()
    result = people_import(file=sheet(["liaison_jia", "", "liaison_jia", "督查员", "", ""]), dry_run=False)
    assert result.ok
    liaison_jia.refresh_from_db()
    assert liaison_jia.is_active


def test_row_errors_name_row_and_column_in_chinese_and_nothing_is_written(city, group):
    city_b = services.unit_create(name="甲街道", code="JIA-X", kind="community", parent=city.street_yi)
    assert city_b
    rows = [
        ["张三", "13800000001", "zhangsan", "单位联络员", "甲一社区", ""],  # fine, not written either
        ["赵六", "12345", "zhaoliu", "督查员", "", ""],  # bad phone
        ["钱七", "13800000007", "qianqi", "队长", "", ""],  # unknown role
        ["孙八", "13800000008", "sunba", "单位联络员", "", ""],  # liaison without unit
        ["周九", "13800000009", "zhoujiu", "单位联络员", "不存在的单位", ""],  # unknown unit
        ["吴十", "13800000010", "wushi", "单位联络员", "甲街道", ""],  # ambiguous unit
        ["张叁", "13800000001", "zhangsan", "督查员", "", ""],  # same 账号, another name
        ["郑一", "13800000011", "zhengyi", "督查员", "", "宣传组"],  # group on a non-leader row
        ["冯二", "13800000012", "fenger", "领导", "", "不存在组"],  # unknown group
        ["", "", "", "督查员", "", ""],  # no name, no account
        ["陈三", "13800000013", "chen san", "督查员", "", ""],  # a space in the login
        ["张三", "13800000001", "zhangsan", "单位联络员", "甲一社区", ""],  # duplicate of row 2
    ]
    before = snapshot()
    for dry_run in (True, False):
        result = people_import(file=sheet(*rows), dry_run=dry_run)
        assert not result.ok
        found = {(e.row, e.column) for e in result.errors}
        assert found == {
            (3, "手机号"),
            (4, "角色"),
            (5, "单位"),
            (6, "单位"),
            (7, "单位"),
            (8, "账号"),
            (9, "工作组"),
            (10, "工作组"),
            (11, "姓名"),
            (11, "账号"),
            (12, "账号"),
            (13, "角色"),
        }, result.errors
        messages = {(e.row, e.column): e.message for e in result.errors}
        assert "11 位" in messages[(3, "手机号")]
        assert "无法识别的角色“队长”" in messages[(4, "角色")] and "创建办" in messages[(4, "角色")]
        assert "单位联络员必须填写所属单位" in messages[(5, "单位")]
        assert "找不到单位“不存在的单位”" in messages[(6, "单位")]
        assert "有多个单位叫“甲街道”" in messages[(7, "单位")] and "JIA-X" in messages[(7, "单位")]
        assert "第 2 行" in messages[(8, "账号")] and "姓名" in messages[(8, "账号")]
        assert "领导" in messages[(9, "工作组")]
        assert "没有工作组“不存在组”" in messages[(10, "工作组")] and "宣传组" in messages[(10, "工作组")]
        assert "与第 2 行重复" in messages[(13, "角色")]
        assert result.summary.startswith("文件有 12 处错误")
        assert snapshot() == before


def test_phone_normalisation():
    assert normalize_phone("138 0000-0001") == "13800000001"
    assert normalize_phone("+86 138 0000 0001") == "13800000001"
    assert normalize_phone("（138）00000001") == "13800000001"
    assert normalize_phone("23800000001") is None
    assert normalize_phone("1380000000") is None


def test_header_variants_are_read(city):
    header = ["名字", "联系电话", "登录名", "身份", "所属单位"]
    result = people_import(
        file=sheet(["张三", "13800000001", "zs", "创建办", "市文明办"], header=header), dry_run=False
    )
    assert result.ok, result.errors
    assert Membership.objects.get(user__username="zs").role == Role.OFFICE


def test_a_file_that_is_not_a_sheet_is_refused(city):
    result = people_import(file=upload("people.xlsx", b"\x89PNG\r\n\x1a\n"), dry_run=True)
    assert not result.ok and result.errors[0].row is None


def test_phone_of_another_account_is_a_warning_not_an_error(city, liaison_jia):
    UserProfile.objects.create(user=liaison_jia, phone="13800000001")
    result = people_import(file=sheet(["张三", "13800000001", "zhangsan", "督查员", "", ""]), dry_run=True)
    assert result.ok
    assert [(w.row, w.column) for w in result.warnings] == [(2, "手机号")]


def test_one_phone_under_two_accounts_in_the_sheet_is_a_warning(city):
    rows = [["张三", "13800000001", "zhangsan", "督查员", "", ""], ["张三", "13800000001", "zs2", "领导", "", ""]]
    result = people_import(file=sheet(*rows), dry_run=True)
    assert result.ok
    assert [(w.row, w.column) for w in result.warnings] == [(3, "手机号")]
    assert "第 2 行" in result.warnings[0].message


def _rows(count: int, offset: int) -> list[list[str]]:
    units = ["甲街道", "乙街道", "甲一社区", "JIA-1-2", "市城管局"]
    return [
        [
            f"人员{offset + i}",
            f"139{offset + i:08d}",
            f"user{offset + i}",
            "单位联络员" if i % 3 else "领导",
            units[i % len(units)],
            "" if i % 3 else "宣传组",
        ]
        for i in range(count)
    ]


def test_query_count_does_not_grow_with_rows(city, group):
    """10 rows and 100 rows cost the same queries — preview, import and re-import — beyond the
    backend's own batching of one wide INSERT (SQLite binds at most 999 parameters a statement;
    PostgreSQL has no such batches)."""
    from math import ceil

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def user_batches(n: int) -> int:
        return ceil(n / connection.ops.bulk_batch_size(User._meta.concrete_fields, [None] * n))

    counts = {}
    for size, offset in ((10, 0), (100, 1000)):
        rows = _rows(size, offset)
        for dry_run in (True, False):
            with CaptureQueriesContext(connection) as queries:
                result = people_import(file=sheet(*rows), dry_run=dry_run)
            assert result.ok, result.errors[:3]
            counts[(size, dry_run)] = len(queries)
        with CaptureQueriesContext(connection) as queries:
            assert people_import(file=sheet(*rows), dry_run=False).unchanged == size
        counts[(size, "again")] = len(queries)
    assert counts[(10, True)] == counts[(100, True)]
    assert counts[(10, False)] == counts[(100, False)] - (user_batches(100) - user_batches(10))
    assert counts[(10, "again")] == counts[(100, "again")]
    assert WorkGroup.leaders.through.objects.count() == 4 + 34


def test_management_command_previews_and_imports(city, tmp_path):
    path = tmp_path / "people.xlsx"
    path.write_bytes(make_xlsx([HEADER, ["张三", "13800000001", "zhangsan", "督查员", "", ""]]))
    out = io.StringIO()
    call_command("import_people", str(path), "--dry-run", stdout=out)
    assert "预览：将新增 1 条" in out.getvalue()
    assert not User.objects.filter(username="zhangsan").exists()
    out = io.StringIO()
    call_command("import_people", str(path), stdout=out)
    assert "已新增 1 条" in out.getvalue() and "初始密码" in out.getvalue()
    password = out.getvalue().split("zhangsan\t张三\t")[1].split()[0]
    assert User.objects.get(username="zhangsan").check_password(password)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(make_xlsx([HEADER, ["李四", "1", "lisi", "督查员", "", ""]]))
    with pytest.raises(CommandError):
        call_command("import_people", str(bad), stdout=io.StringIO(), stderr=io.StringIO())


# --- Round trips in the demo city ---------------------------------------------------------------


@pytest.fixture
def demo_city(db):
    from campaign.demo import seed_all

    return seed_all(only=("campaign",))


def test_the_template_imports_into_the_demo_city_as_it_is(demo_city, client):
    client.force_login(demo_city["users"]["office"])
    response = client.get("/members/import/?template=1")
    assert response.status_code == 200
    data = response.content
    rows = [list(r) for r in load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)]
    assert rows[0][: len(PEOPLE_HEADERS)] == PEOPLE_HEADERS and len(rows) >= 2
    result = people_import(file=upload("template.xlsx", data), dry_run=False)
    assert result.ok, result.errors
    assert result.created == len(rows) - 1
    again = people_import(file=upload("template.xlsx", data), dry_run=False)
    assert again.ok and again.created == again.updated == 0


def test_the_export_reimports_unchanged_in_the_demo_city(demo_city, client):
    office = demo_city["users"]["office"]
    client.force_login(office)
    response = client.get("/members/?export=xlsx")
    assert response.status_code == 200
    rows = [list(r) for r in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)]
    assert rows[0] == PEOPLE_HEADERS
    leader_row = next(r for r in rows if r[2] == "leader")
    assert leader_row[0] == "王市长" and leader_row[3] == "领导" and "综合协调组" in leader_row[5]
    assert any(r[1] for r in rows[1:])  # demo people have phone numbers
    before = snapshot()
    result = people_import(file=upload("export.xlsx", response.content), dry_run=False)
    assert result.ok, result.errors
    assert result.created == result.updated == 0 and result.unchanged == len(rows) - 1
    assert snapshot() == before


def test_export_rows_cost_a_fixed_number_of_queries(demo_city, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        rows = people_export_rows(Membership.objects.all())
    assert len(rows) == Membership.objects.count()
