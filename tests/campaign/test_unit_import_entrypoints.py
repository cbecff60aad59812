"""Unit import through its three doors: the API, `manage.py import_units` and the upload page.
Each previews without writing, imports all or nothing, and refuses anyone but the office.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from campaign.models import Unit
from tests.campaign.xlsx import XLSX_CONTENT_TYPE, make_xlsx, upload
from tests.conftest import unit_snapshot

HEADER = ["名称", "简称", "编码", "类型", "上级单位", "主要负责人", "联络员", "联系电话"]
CJK = re.compile(r"[\u4e00-\u9fff]")
API_URL = "/api/v1/units/import/"
PAGE_URL = "/units/import/"

# Two new units: 丙区 and 丙街道 under it.
GOOD_ROWS = [
    ["丙区", "", "BING", "区", "", "王五", "", ""],
    ["丙街道", "", "BING-1", "街道", "丙区", "", "", ""],
]
# Row 3 names a type nobody knows; row 2 is fine but must not be written either.
BAD_ROWS = [
    ["丙区", "", "BING", "区", "", "", "", ""],
    ["丙街道", "", "BING-1", "街坊", "丙区", "", "", ""],
]
NOT_A_SPREADSHEET = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"


def good_file():
    return upload("units.xlsx", make_xlsx([HEADER, *GOOD_ROWS]))


def bad_file():
    return upload("units.xlsx", make_xlsx([HEADER, *BAD_ROWS]))


def new_codes() -> set[str]:
    return set(Unit.objects.filter(code__startswith="BING").values_list("code", flat=True))


# --- API -----------------------------------------------------------------------------------------


def test_api_dry_run_previews_and_writes_nothing(api, office):
    before = unit_snapshot()

    response = api(office).post(API_URL, {"file": good_file(), "dry_run": "1"}, format="multipart")

    assert response.status_code == 200
    body = response.json()
    assert {"created", "updated", "unchanged", "errors"} <= set(body)
    assert (body["dry_run"], body["created"], body["updated"], body["unchanged"], body["errors"]) == (
        True,
        2,
        0,
        0,
        [],
    )
    assert body["detail"] == "预览：将新增 2 条，更新 0 条，0 条不变。"
    assert [(r["row"], r["action"]) for r in body["rows"]] == [(2, "create"), (3, "create")]
    assert unit_snapshot() == before


def test_api_import_writes_all_rows(api, office):
    response = api(office).post(API_URL, {"file": good_file()}, format="multipart")

    assert response.status_code == 200
    body = response.json()
    assert (body["dry_run"], body["created"], body["updated"], body["unchanged"], body["errors"]) == (
        False,
        2,
        0,
        0,
        [],
    )
    assert new_codes() == {"BING", "BING-1"}
    assert Unit.objects.get(code="BING-1").parent.code == "BING"


def test_api_reimport_reports_everything_unchanged(api, office):
    client = api(office)
    client.post(API_URL, {"file": good_file()}, format="multipart")
    before = unit_snapshot()

    body = client.post(API_URL, {"file": good_file()}, format="multipart").json()

    assert (body["created"], body["updated"], body["unchanged"], body["errors"]) == (0, 0, 2, [])
    assert unit_snapshot() == before


@pytest.mark.parametrize(
    ("make_upload", "errors"),
    [
        pytest.param(bad_file, [(3, "类型", "街坊")], id="row-error"),
        pytest.param(lambda: upload("logo.png", NOT_A_SPREADSHEET), [(None, "", "")], id="not-a-spreadsheet"),
        pytest.param(lambda: upload("units.xls", b"\xd0\xcf\x11\xe0" + bytes(508)), [(None, "", "")], id="legacy-xls"),
    ],
)
@pytest.mark.parametrize("dry_run", ["1", "0"], ids=["preview", "import"])
def test_api_bad_file_is_a_400_listing_every_error(api, office, make_upload, errors, dry_run):
    before = unit_snapshot()

    response = api(office).post(API_URL, {"file": make_upload(), "dry_run": dry_run}, format="multipart")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "import_invalid"
    assert CJK.search(body["detail"])
    assert [(e["row"], e["column"], e["value"]) for e in body["errors"]] == errors
    for error in body["errors"]:
        assert set(error) == {"row", "column", "value", "message"}
        assert CJK.search(error["message"])
    assert unit_snapshot() == before


def test_api_without_a_file_is_a_chinese_400(api, office):
    response = api(office).post(API_URL, {"dry_run": "1"}, format="multipart")

    assert response.status_code == 400
    assert response.json()["detail"] == "请上传文件（字段 file）。"


def test_api_empty_file_is_a_chinese_400_and_writes_nothing(api, office):
    before = unit_snapshot()

    response = api(office).post(API_URL, {"file": upload("units.xlsx", b"")}, format="multipart")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "import_invalid"
    assert body["errors"] == [
        {"row": None, "column": "", "value": "", "message": "文件是空的，请选择填好内容的 Excel 表格。"}
    ]
    assert unit_snapshot() == before


@pytest.mark.parametrize("persona", ["leader", "liaison_jia", "liaison_yi", "inspector"])
@pytest.mark.parametrize("dry_run", ["1", "0"], ids=["preview", "import"])
def test_api_refuses_everyone_but_the_office(api, request, persona, dry_run):
    user = request.getfixturevalue(persona)
    before = unit_snapshot()

    response = api(user).post(API_URL, {"file": good_file(), "dry_run": dry_run}, format="multipart")

    assert response.status_code == 403
    assert CJK.search(response.json()["detail"])
    assert unit_snapshot() == before


def test_api_refuses_anonymous(api, city):
    before = unit_snapshot()

    response = api().post(API_URL, {"file": good_file()}, format="multipart")

    assert response.status_code in (401, 403)
    assert unit_snapshot() == before


# --- Management command --------------------------------------------------------------------------


def write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_command_dry_run_writes_nothing(tmp_path, city):
    path = write(tmp_path, "units.xlsx", make_xlsx([HEADER, *GOOD_ROWS]))
    before, out = unit_snapshot(), io.StringIO()

    call_command("import_units", path, "--dry-run", stdout=out, stderr=io.StringIO())

    assert "预览：将新增 2 条，更新 0 条，0 条不变。" in out.getvalue()
    assert "第 3 行 新增 丙街道（BING-1）" in out.getvalue()
    assert unit_snapshot() == before


def test_command_imports(tmp_path, city):
    path = write(tmp_path, "units.xlsx", make_xlsx([HEADER, *GOOD_ROWS]))
    out = io.StringIO()

    call_command("import_units", path, stdout=out, stderr=io.StringIO())

    assert "已新增 2 条，更新 0 条，0 条不变。" in out.getvalue()
    assert new_codes() == {"BING", "BING-1"}


def test_command_imports_csv(tmp_path, city):
    text = "名称,编码,类型,上级单位\n丙区,BING,区,\n丙街道,BING-1,街道,BING\n"
    path = write(tmp_path, "units.csv", text.encode("gbk"))

    call_command("import_units", path, stdout=io.StringIO(), stderr=io.StringIO())

    assert new_codes() == {"BING", "BING-1"}


@pytest.mark.parametrize(
    ("name", "data", "stderr_fragment"),
    [
        pytest.param("units.xlsx", make_xlsx([HEADER, *BAD_ROWS]), "第 3 行 [类型] 街坊", id="row-error"),
        pytest.param("logo.png", NOT_A_SPREADSHEET, "无法读取该文件", id="not-a-spreadsheet"),
        pytest.param("empty.xlsx", b"", "文件是空的", id="empty"),
    ],
)
@pytest.mark.parametrize("dry_run", [True, False], ids=["preview", "import"])
def test_command_bad_file_raises_and_writes_nothing(tmp_path, city, name, data, stderr_fragment, dry_run):
    path = write(tmp_path, name, data)
    before, err = unit_snapshot(), io.StringIO()
    args = [path, "--dry-run"] if dry_run else [path]

    with pytest.raises(CommandError, match="未写入任何数据"):
        call_command("import_units", *args, stdout=io.StringIO(), stderr=err)

    assert stderr_fragment in err.getvalue()
    assert unit_snapshot() == before


def test_command_missing_file_raises(tmp_path, city):
    with pytest.raises(CommandError, match="无法打开文件"):
        call_command("import_units", str(tmp_path / "nope.xlsx"), stdout=io.StringIO(), stderr=io.StringIO())


# --- Upload page ---------------------------------------------------------------------------------


def test_page_preview_then_confirm(web, office):
    client = web(office)
    before = unit_snapshot()

    preview = client.post(PAGE_URL, {"file": good_file()})

    assert preview.status_code == 200
    html = preview.content.decode()
    assert "预览：将新增 2 条，更新 0 条，0 条不变。" in html
    assert "丙街道（BING-1）" in html
    token = preview.context["token"]
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    assert f'<input type="hidden" name="token" value="{token}">' in html
    assert unit_snapshot() == before  # the preview writes nothing

    confirm = client.post(PAGE_URL, {"token": token})

    assert confirm.status_code == 302
    assert confirm["Location"] == reverse("unit-list")
    assert new_codes() == {"BING", "BING-1"}
    assert Unit.objects.get(code="BING-1").parent.code == "BING"


def test_page_token_cannot_be_used_twice(web, office):
    client = web(office)
    token = client.post(PAGE_URL, {"file": good_file()}).context["token"]
    client.post(PAGE_URL, {"token": token})
    before = unit_snapshot()

    again = client.post(PAGE_URL, {"token": token})

    assert again.status_code == 400
    assert "预览已过期" in again.content.decode()
    assert unit_snapshot() == before


def test_page_bad_file_lists_row_errors_and_offers_no_confirm(web, office):
    client = web(office)
    before = unit_snapshot()

    response = client.post(PAGE_URL, {"file": bad_file()})

    assert response.status_code == 400
    html = response.content.decode()
    assert "第 3 行" in html
    assert "无法识别的类型“街坊”" in html
    assert "文件有 1 处错误，未写入任何数据。" in html
    assert 'name="token"' not in html
    assert unit_snapshot() == before


def test_page_unreadable_file_is_a_400_with_a_chinese_message(web, office):
    response = web(office).post(PAGE_URL, {"file": upload("logo.png", NOT_A_SPREADSHEET)})

    assert response.status_code == 400
    assert "无法读取该文件" in response.content.decode()


def test_page_file_over_the_size_limit_is_refused(web, office, settings):
    settings.IMPORT_MAX_BYTES = 100
    before = unit_snapshot()

    response = web(office).post(PAGE_URL, {"file": good_file()})

    assert response.status_code == 400
    assert "文件过大" in response.content.decode()
    assert unit_snapshot() == before


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("0123456789abcdef0123456789abcdef", id="never-issued"),
        pytest.param("../../settings", id="path-traversal"),
        pytest.param("not a token", id="garbage"),
    ],
)
def test_page_invalid_token_is_a_400_and_writes_nothing(web, office, token):
    before = unit_snapshot()

    response = web(office).post(PAGE_URL, {"token": token})

    assert response.status_code == 400
    assert "预览已过期，请重新上传文件。" in response.content.decode()
    assert unit_snapshot() == before


def test_page_expired_token_whose_upload_is_gone_is_a_400(web, office):
    from campaign.generic import import_storage

    client = web(office)
    token = client.post(PAGE_URL, {"file": good_file()}).context["token"]
    import_storage().delete(token)  # the kept upload has been cleaned away
    before = unit_snapshot()

    response = client.post(PAGE_URL, {"token": token})

    assert response.status_code == 400
    assert "预览已过期" in response.content.decode()
    assert unit_snapshot() == before


@pytest.mark.parametrize("persona", ["liaison_jia", "leader", "inspector"])
def test_page_refuses_everyone_but_the_office(web, request, persona):
    client = web(request.getfixturevalue(persona))
    before = unit_snapshot()

    assert client.get(PAGE_URL).status_code == 403
    assert client.get(PAGE_URL, {"template": 1}).status_code == 403
    assert client.post(PAGE_URL, {"file": good_file()}).status_code == 403
    assert unit_snapshot() == before


def test_page_a_liaison_cannot_confirm_the_office_preview(client, office, liaison_jia):
    client.force_login(office)
    token = client.post(PAGE_URL, {"file": good_file()}).context["token"]
    client.force_login(liaison_jia)
    before = unit_snapshot()

    assert client.post(PAGE_URL, {"token": token}).status_code == 403
    assert unit_snapshot() == before


def test_page_sends_anonymous_to_login(client, city):
    response = client.get(PAGE_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_page_template_has_the_column_headers(web, office):
    response = web(office).get(PAGE_URL, {"template": 1})

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [cell.value for cell in sheet[1]] == HEADER


def test_page_template_imports_as_is(web, office):
    # The downloaded template's sample rows are a valid file: five new units (a 区直部门 among them),
    # their parents by code (tests/campaign/test_units_roundtrip.py imports it into the demo city).
    client = web(office)
    template = client.get(PAGE_URL, {"template": 1}).content

    response = client.post(PAGE_URL, {"file": upload("单位导入模板.xlsx", template)})

    assert response.status_code == 200
    result = response.context["result"]
    assert (result.created, result.updated, result.unchanged, result.errors) == (5, 0, 0, [])
