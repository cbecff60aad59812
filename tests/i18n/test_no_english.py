"""Issue 13 item 8: Chinese throughout. The crawl.

As each signed-in persona (office, inspector, leader, a street's liaison, a department's liaison) it
GETs every page route of the URLconf that answers that persona 200 with HTML (the routes and their
URL arguments are the access matrix's: tests/access/matrix.py, over its world), keeps the text a
reader sees — no <script>/<style>, no attribute values but title, placeholder, aria-label, alt and
the value of buttons — and fails on any ASCII word of two or more letters outside `ALLOWED`, and on
any user's login shown where the user has a name. The 周通报's PDF (read back with pdftotext) and
workbook, and the xlsx export of every list page (its header row and first rows, without the
columns of codes and logins: 编码, 账号, ID — on a page, table cells so labelled), are read the same way.

Test data, not product text, is taken out first: the world's district markers (甲区专用…XYZ), its
unit codes and the notifications it writes with the persona's key in the message.

Not part of `make fuzz` (that runs tests/fuzz only); about a minute on SQLite.
"""

from __future__ import annotations

import datetime
import html
import io
import json
import re
import shutil
import subprocess
import uuid
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accountability.bulletin import bulletin_pdf, bulletin_xlsx
from accountability.rollup import rollup_compute
from campaign import services
from campaign.celery import app as celery_app
from inspections import services as inspection_services
from tests.access.conftest import MARKER_A, MARKER_B, build_world
from tests.access.matrix import ROUTES, SIDES, Route
from tests.campaign.xlsx import make_xlsx, upload

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CRAWLED = ("office", "inspector", "leader", "liaison_a", "dept")

# ASCII words a Chinese reader is expected to read: names of file formats, programs and keys that
# have no better-known Chinese name. Each is shown somewhere today (the crawl without the list finds
# them all); keep the list short.
ALLOWED = {
    "PDF",  # the 周通报 and materials' files
    "Excel",  # what the imports and exports are made for (导入 Excel)
    "xlsx",  # the extension a file dialog shows (Excel（.xlsx）)
    "CSV",  # the admin's export format
    "Word",  # 可上传 PDF、Word (.docx)… : the program's name
    "docx",
    "JPG",  # photo formats accepted
    "PNG",
    "WebP",
    "ID",  # a record's number where Django labels it (the admin's read-only job runs)
    "API",  # the API docs link and the token page: the integrators' word
    "WGS",  # WGS84 coordinates (the digits are not a word)
    "GPS",  # a photo's position as the camera writes it (photo details, when the photo has one)
    "EXIF",
    "Ctrl",  # the key as printed on the keyboard (按住 Ctrl 可多选)
    "Open",  # Open311, the standard's name (the 接口密钥 pages, the Open311 channel)
}

# The names the crawl gives the world's users (build_world names them by their logins).
NAMES = {
    "office": "李文明",
    "inspector": "周督查",
    "leader": "王领导",
    "liaison_a": "陈甲联",
    "liaison_b": "赵乙联",
    "dept": "孙城管",
}

WORD = re.compile(r"[A-Za-z][A-Za-z_]+")
EMPTY_CHOICE = re.compile(r"-{9}")  # a drop-down's empty choice reads 全部 (or 请选择), not ---------
WEEK_CODE = re.compile(r"\d{4}-W\d{2}")  # shown as 第48周（11月24日—11月30日）, the code only in URLs
FILE_NAME = re.compile(r"[\w.-]+\.(?:png|jpe?g|webp|pdf|xlsx|docx)\b", re.IGNORECASE)  # uploads keep their names
# Columns of a workbook that hold codes and logins: data, not words.
CODE_COLUMNS = ("编码", "账号", "ID", "代码", "用户名")


# --- The world ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The access matrix's world (tests/access/conftest.py), its users given Chinese names, built
    once for the module inside a transaction rolled back at its end."""
    media = tmp_path_factory.mktemp("i18n-media")
    celery_app.conf.task_always_eager = True
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        built = build_world()
        for persona, user in built.users.items():
            get_user_model().objects.filter(pk=user.pk).update(first_name=NAMES[persona])
            user.first_name = NAMES[persona]
        _draft_and_runs(built)
        built.media_root = media
        yield built
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _world_media(request, _eager_celery, settings):
    if "world" in request.fixturenames:
        settings.MEDIA_ROOT = request.getfixturevalue("world").media_root


def _draft_and_runs(world) -> None:
    """What the access world lacks and pages show: a draft of the published week that differs from
    it (the ranking page's diff), and finished runs of the jobs with their results (/jobs/)."""
    year, number = (int(part) for part in world.week.split("-W"))
    observed = datetime.datetime.combine(
        datetime.date.fromisocalendar(year, number, 4), datetime.time(11), tzinfo=timezone.get_default_timezone()
    )
    item = world.obj("check_item", "A")
    inspection_services.inspection_submit(
        user=world.users["inspector"],
        round_=world.obj("round", "A"),
        point=world.obj("point", "A"),
        client_uuid=uuid.uuid4(),
        observations=[inspection_services.ObservationInput(item.pk, "pass")],
        observed_at=observed,
    )
    version, _ = rollup_compute(campaign=world.campaign, week=world.week)
    assert version.status == "draft", "the crawl needs a draft beside the published version"
    results = {
        "weekly_rollup": {
            "version": version.pk,
            "number": version.number,
            "rows": version.rows,
            "outcome": "new_version",
        },
        "bulletin_render": {"version": version.pk, "week": world.week, "number": 1, "pdf_bytes": 1, "xlsx_bytes": 1},
        "import": {"dry_run": False, "created": 8, "updated": 0, "unchanged": 0, "errors": 0, "detail": "x.json"},
        "reminders_send": {"sent": 1, "due_soon": 0, "due_today": 1, "overdue": 0, "escalated": 0},
    }
    for name, result in results.items():
        services.job_run_finish(run=services.job_run_create(name=name, user=world.users["office"]), result=result)


REPORT_REFERENCE = re.compile(r"(?<![A-Za-z0-9])(?:SP|RX|OP)\d{6}[0-9A-HJKMNP-TV-Z]{6}(?![A-Za-z0-9])")


def _scrub(text: str, world) -> str:
    """Take the world's own test data out of a text (see the module docstring)."""
    text = re.sub(rf"(?:{MARKER_A}|{MARKER_B})[^\s<]*?XYZ", " ", text)
    for unit in (getattr(world.city, field) for field in world.city.__dataclass_fields__):
        text = re.sub(rf"(?<![A-Za-z]){re.escape(unit.code)}(?![A-Za-z])", " ", text)
    for persona in world.users:
        text = text.replace(f"{persona} 的提醒", " ")
    text = REPORT_REFERENCE.sub(" ", text)  # 受理编号 (SP/RX/OP + date + Crockford base32): codes, not words
    return FILE_NAME.sub(" ", text)


# --- Visible text -----------------------------------------------------------------------------------


class VisibleText(HTMLParser):
    """The text of a page as a reader sees it, line by line."""

    SKIP = {"script", "style", "template", "noscript"}
    SPOKEN = ("title", "placeholder", "aria-label", "alt")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.code_cell = False  # inside a table cell of codes or logins (data-label 编码, 账号…)

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.hidden += 1
            return
        attrs = dict(attrs)
        if tag == "td" and any(c in (attrs.get("data-label") or "") for c in CODE_COLUMNS):
            self.code_cell = True
        if tag == "svg":  # icons
            self.hidden += 1
            return
        for name in self.SPOKEN:
            if attrs.get(name):
                self.parts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button", "reset") and attrs.get("value"):
            self.parts.append(attrs["value"])
        if tag in ("br", "p", "div", "tr", "li", "td", "th", "option", "h1", "h2", "h3", "h4"):
            self.parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag not in ("svg",):
            self.handle_starttag(tag, attrs)
            if tag in self.SKIP:
                self.hidden -= 1

    def handle_endtag(self, tag):
        if tag == "td":
            self.code_cell = False
        if tag in self.SKIP or tag == "svg":
            self.hidden = max(0, self.hidden - 1)

    def handle_data(self, data):
        if not self.hidden and not self.code_cell:
            self.parts.append(data)

    def text(self) -> str:
        return " ".join(self.parts)


JSON_SCRIPT = re.compile(r'<script[^>]*type="application/json"[^>]*>(.*?)</script>', re.S)
SHOWN_KEYS = {"label", "labels", "name", "title", "span", "text", "series"}  # what charts draw


def _shown_json(value, shown: bool = False) -> list[str]:
    """The strings of a page's JSON data (json_script) that its charts and maps draw as text."""
    if isinstance(value, dict):
        return [s for key, inner in value.items() for s in _shown_json(inner, key in SHOWN_KEYS)]
    if isinstance(value, list):
        return [s for inner in value for s in _shown_json(inner, shown)]
    return [value] if shown and isinstance(value, str) else []


def visible_text(page: str) -> str:
    parser = VisibleText()
    parser.feed(page)
    parser.close()
    data = [s for block in JSON_SCRIPT.findall(page) for s in _shown_json(json.loads(block))]
    return html.unescape(parser.text()) + "\n" + "\n".join(data)


def _around(text: str, match) -> str:
    return re.sub(r"\s+", " ", text[max(0, match.start() - 30) : match.end() + 30]).strip()


def offences(text: str, world) -> list[str]:
    """Each ASCII word outside ALLOWED, and each login of the world, with the text around it."""
    text = _scrub(text, world)
    found = [f"week code {m.group(0)!r} in “{_around(text, m)}”" for m in WEEK_CODE.finditer(text)]
    found += [f"Django's empty choice {m.group(0)!r} in “{_around(text, m)}”" for m in EMPTY_CHOICE.finditer(text)]
    logins = {user.username for user in world.users.values()}
    for match in WORD.finditer(text):
        word = match.group(0)
        if word in ALLOWED:
            continue
        found.append(f"{'login ' if word in logins else ''}{word!r} in “{_around(text, match)}”")
    return list(dict.fromkeys(found))


# --- The pages ----------------------------------------------------------------------------------


def _own(expect):
    return expect[0] if isinstance(expect, tuple) else expect


def _page_cases():
    return [
        pytest.param(name, persona, id=f"{name}-{persona}")
        for name, route in sorted(ROUTES.items())
        if not name.startswith(("api:", "api-")) and "-api:" not in name
        for persona in CRAWLED
        if _own(route.get[persona]) == 200
    ]


def _url(world, name: str, route: Route, persona: str) -> str:
    side = SIDES[persona][0]
    kwargs = route.kwargs(world, side) if route.kwargs else {}
    return reverse(name, kwargs=kwargs) + route.query.format(week=world.week)


@pytest.mark.parametrize(("name", "persona"), _page_cases())
def test_pages_show_no_english(world, db, name, persona):
    route = ROUTES[name]
    url = _url(world, name, route, persona)
    response = world.client(persona).get(url)
    kind = response.get("Content-Type", "")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if response.status_code == 200 and kind.startswith(XLSX):  # a download: a template or an export
        found = offences(workbook_text(body), world)
    elif response.status_code != 200 or not kind.startswith("text/html"):
        pytest.skip(f"{url} answers {response.status_code} {kind}: not a page")
    else:
        found = offences(visible_text(body.decode()), world)
    assert not found, f"GET {url} as {persona}: English or logins shown:\n" + "\n".join(found)


def test_pages_a_ranking_number_opens_show_no_english(world, db):
    """The pages the ranking's numbers open, with their query strings (the week, the count)."""
    unit, week = world.city.street_jia.pk, world.week
    problems = []
    for url in (
        f"/rankings/?week={week}&population=street",
        f"/rankings/units/{unit}/?week={week}",
        f"/inspections/observations/?charged={unit}&week={week}",
        f"/inspections/problems/?responsible={unit}&counted=overdue_open&counted_week={week}",
        f"/inspections/problems/?week={week}",
        f"/rankings/cases/?week={week}",
    ):
        response = world.client("office").get(url)
        assert response.status_code == 200, url
        problems += [f"{url}: {f}" for f in offences(visible_text(response.content.decode()), world)]
    assert not problems, "English or codes shown:\n" + "\n".join(problems)


def test_the_sign_in_and_error_pages_show_no_english(world, db):
    """What the crawl's 200s miss: the sign-in page, the product's 404 and 403, a refused form."""
    anon = world.client("anon")
    pages = [
        ("anon /accounts/login/", anon.get(reverse("login")), 200),
        ("anon wrong password", anon.post(reverse("login"), {"username": "nobody", "password": "x"}), 200),
        ("office 404", world.client("office").get("/不存在的页面/"), 404),  # it names the path asked for
        ("inspector 403", world.client("inspector").get(reverse("jobrun-list")), 403),
        ("office empty form", world.client("office").post(reverse("unit-create"), {}), 400),
    ]
    problems = []
    for where, response, status in pages:
        assert response.status_code == status, where
        problems += [f"{where}: {f}" for f in offences(visible_text(response.content.decode()), world)]
    assert not problems, "English shown:\n" + "\n".join(problems)


def test_an_import_preview_with_row_errors_shows_no_english(world, db):
    """An import's preview names each row's error in Chinese (the units import: the kernel's)."""
    sheet = make_xlsx(
        [["名称", "编码", "类型", "上级单位"], ["新社区", "NEW-1", "星球", "不存在的街道"], ["", "", "", ""]]
    )
    response = world.client("office").post(reverse("unit-import"), {"file": upload("units.xlsx", sheet)})
    assert response.status_code in (200, 400)
    text = visible_text(response.content.decode())
    assert "无法识别的类型“星球”" in text  # the preview shows the row's error
    found = offences(text.replace("NEW-1", " "), world)
    assert not found, "English in the preview:\n" + "\n".join(found)


def test_the_admin_names_columns_and_fields_in_chinese(world, db):
    """Every list's column headers and every add and change form's field labels in the admin (the office's
    back office). Django's own texts there (boolean icons' alt, its help for multiple selection)
    are Django's catalogue's, not checked."""
    from django.contrib import admin
    from django.test import RequestFactory

    problems = []
    for model in admin.site._registry:
        meta = model._meta
        # The change page of an existing row too, where the office edits (read-only models' detail
        # pages keep their bookkeeping fields' code names: not checked).
        first = model._default_manager.order_by("pk").first()
        urls = [f"/admin/{meta.app_label}/{meta.model_name}/", f"/admin/{meta.app_label}/{meta.model_name}/add/"]
        request = RequestFactory().get("/admin/")
        request.user = world.users["office"]
        editable = admin.site._registry[model].has_change_permission(request, first)
        urls += [f"/admin/{meta.app_label}/{meta.model_name}/{first.pk}/change/"] if first and editable else []
        for url in urls:
            response = world.client("office").get(url)
            if response.status_code != 200:  # read-only models have no add form
                continue
            page = response.content.decode()
            results = re.search(r'<table id="result_list">(.*?)</table>', page, re.S)
            form = re.search(r'<form [^>]*id="\w+_form"[^>]*>(.*?)</form>', page, re.S)
            parts = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', results.group(1), re.S) if results else []
            parts += re.findall(r"<label[^>]*>(.*?)</label>", form.group(1), re.S) if form else []
            text = "\n".join(visible_text(part) for part in parts)
            problems += [f"{url}: {f}" for f in offences(text, world)]
    assert not problems, "The admin labels in English:\n" + "\n".join(problems)


# --- Exports -----------------------------------------------------------------------------------------


def workbook_text(data: bytes, rows: int | None = 6) -> str:
    """Every sheet's title, header row and first rows, without the columns of codes and logins."""
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    lines = []
    for sheet in workbook:
        lines.append(sheet.title)
        codes: set[int] | None = None  # the header row's columns of codes, once it is found
        for number, row in enumerate(sheet.iter_rows(values_only=True)):
            if rows is not None and number > rows:
                break
            if codes is None and sum(isinstance(v, str) for v in row) > 1:
                codes = {i for i, v in enumerate(row) if isinstance(v, str) and any(c in v for c in CODE_COLUMNS)}
                lines.append(" | ".join(str(v) for v in row if v is not None))
                continue
            lines.append(" | ".join(str(v) for i, v in enumerate(row) if v is not None and i not in (codes or ())))
    return "\n".join(lines)


def _export_cases():
    return [
        pytest.param(name, id=name)
        for name, route in sorted(ROUTES.items())
        if route.export and not name.startswith("api")
    ]


@pytest.mark.parametrize("name", _export_cases())
def test_exports_show_no_english(world, db, name):
    route = ROUTES[name]
    read = 0
    for persona in CRAWLED:  # each persona's own workbook (a list of one's own tasks differs per reader)
        if _own(route.get[persona]) != 200:
            continue
        url = _url(world, name, route, persona)
        response = world.client(persona).get(url + ("&" if "?" in url else "?") + "export=xlsx")
        if not response["Content-Type"].startswith(XLSX):
            continue  # this reader has no workbook here (e.g. 我的任务 of the office)
        read += 1
        data = b"".join(response.streaming_content) if response.streaming else response.content
        found = offences(workbook_text(data), world)
        assert not found, f"{url} export as {persona}: English or logins:\n" + "\n".join(found)
    assert read, f"{name}: no persona got a workbook"


# --- The 周通报 ---------------------------------------------------------------------------------------


def test_bulletin_workbook_shows_no_english(world, db):
    data = bulletin_xlsx(version=world.obj("version", "A"))
    found = offences(workbook_text(data, rows=None), world)
    assert not found, "周通报 workbook: English or logins:\n" + "\n".join(found)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
def test_bulletin_pdf_shows_no_english(world, db, tmp_path):
    path = tmp_path / "bulletin.pdf"
    path.write_bytes(bulletin_pdf(version=world.obj("version", "A")))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout
    found = offences(text, world)
    assert not found, "周通报 PDF: English or logins:\n" + "\n".join(found)


# --- The checker itself ---------------------------------------------------------------------------


def test_the_checker_sees_words_and_ignores_markup(world, db):
    page = (
        "<html><head><title>周评比</title><style>.x{color:red}</style></head><body>"
        '<script>var composite = 1;</script><a href="/x?week=2026-W48" class="btn">第48周</a>'
        '<span title="failing_observations">不合格</span><input type="submit" value="Save">'
        f"<p>{MARKER_A}点位XYZ 导出 Excel</p></body></html>"
    )
    found = offences(visible_text(page), world)
    assert [f.split(" in ")[0] for f in found] == ["'failing_observations'", "'Save'"]
    assert offences(f"由 {world.users['office'].username} 提交", world)[0].startswith("login ")
    assert offences("周次 2026-W48", world)[0].startswith("week code ")
    chart = '<script id="d" type="application/json">{"points": [{"label": "Week 48", "week": "2026-W48"}]}</script>'
    assert [f.split(" in ")[0] for f in offences(visible_text(chart), world)] == ["'Week'"]
    table = '<table><tr><td data-label="账号">office_clerk</td><td data-label="姓名">李文明 Bob</td></tr></table>'
    assert [f.split(" in ")[0] for f in offences(visible_text(table), world)] == ["'Bob'"]


# --- The admin (the office's back office) ---------------------------------------------------------


def test_the_admin_index_shows_its_sections_in_chinese(world, db):
    """The admin's index and each app's section (基础数据, 测评体系, 实地督查, 整改与评比) read in
    Chinese, as the office sees them. Django's own captions for screen readers (its zh-hans catalogue
    lacks them) are left out. The model pages are not crawled: Django's boolean icons (alt True/False)
    and the labels of fields the services derive (path, effective weight…, renamed only by a
    migration) remain there."""
    from django.contrib import admin

    problems = []
    urls = ["/admin/"] + sorted({f"/admin/{model._meta.app_label}/" for model in admin.site._registry})
    for url in urls:
        response = world.client("office").get(url)
        if response.status_code != 200:  # a section none of whose models the office may open (axes)
            continue
        page = re.sub(
            r'<(thead|th|caption)[^>]*class="visually-hidden"[^>]*>.*?</\1>', " ", response.content.decode(), flags=re.S
        )
        problems += [f"{url}: {f}" for f in offences(visible_text(page), world)]
    assert not problems, "The admin shows English:\n" + "\n".join(problems)
    index = visible_text(world.client("office").get("/admin/").content.decode())
    for section in ("基础数据", "测评体系", "实地督查", "创城指挥平台"):  # accountability has no admin
        assert section in index, section
