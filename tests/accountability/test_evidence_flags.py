"""疑点 list (issue 14 item 4): flagged 督查照片 and 整改照片 per unit and week, scoped like problems
(office and leaders all, a liaison its units', others 404), filters, export, one statement for a
page's rows; the API with the same filters and strict query parameters."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from accountability.choices import Action as A
from accountability.recheck import evidence_flag_list
from accountability.workflow import TransitionInput, problem_transition
from campaign.selectors import scope_for
from inspections.models import PhotoFlag, Problem
from inspections.selectors import iso_week_of
from inspections.services import ObservationInput, inspection_submit, photo_upload
from tests.inspections.test_photo_checks import scene

PAGE = "/rankings/evidence-flags/"
API = "/api/v1/evidence-flags/"


def png(seed: int) -> bytes:
    buffer = io.BytesIO()
    scene(seed).save(buffer, format="PNG")  # no EXIF: flagged 无拍摄信息 at upload
    return buffer.getvalue()


def upload(user, data: bytes, name="现场.png"):
    return photo_upload(user=user, file=SimpleUploadedFile(name, data))


def submit(inspector, round_, point, item, photos):
    inspection_submit(
        user=inspector,
        round_=round_,
        point=point,
        client_uuid=uuid.uuid4(),
        observations=[ObservationInput(item.pk, "fail", 1, photos=[p.pk for p in photos])],
    )
    return Problem.objects.get(point=point, check_item=item)


def act(user, problem, action, **kwargs):
    return problem_transition(user=user, problem=problem, data=TransitionInput(action=action, **kwargs))


@pytest.fixture
def evidence(inspector, office, liaison_jia, city, round_, market, market_yi, ads_item, later):
    """甲: an inspection photo without EXIF, then a report citing a copy of it (疑似重复 naming the
    inspection photo, and 无拍摄信息); 乙: an inspection photo without EXIF; an unattached flagged
    photo (not evidence)."""
    before = upload(inspector, png(31))
    problem = submit(inspector, round_, market, ads_item, [before])
    act(office, problem, A.ASSIGN, handler=city.street_jia, deadline=later)
    act(liaison_jia, problem, A.ACCEPT)
    after = upload(liaison_jia, png(31), name="整改后.png")
    act(liaison_jia, problem, A.SUBMIT, note="已整改", photos=(after.pk,))
    yi_photo = upload(inspector, png(32))
    yi_problem = submit(inspector, round_, market_yi, ads_item, [yi_photo])
    loose = upload(inspector, png(33))
    return {
        "before": before,
        "after": after,
        "problem": problem,
        "yi": yi_photo,
        "yi_problem": yi_problem,
        "loose": loose,
    }


def listed(user, **filters):
    queryset = evidence_flag_list(user=user)
    return sorted((f.photo_id, f.code) for f in queryset)


def test_office_lists_every_flag_of_cited_evidence(evidence, office):
    e = evidence
    assert listed(office) == sorted(
        [
            (e["before"].pk, "no_exif"),
            (e["after"].pk, "duplicate"),
            (e["after"].pk, "no_exif"),
            (e["yi"].pk, "no_exif"),
        ]
    )
    duplicate = evidence_flag_list(user=office).get(photo=e["after"], code="duplicate")
    assert duplicate.earlier_photo_id == e["before"].pk
    assert duplicate.problem_ref == e["problem"].pk
    assert duplicate.unit_name == "甲街道"
    first = evidence_flag_list(user=office).get(photo=e["before"])
    assert first.problem_ref == e["problem"].pk and first.unit_name == "甲一社区"


def test_a_liaison_reads_its_units_flags_only(evidence, liaison_jia, liaison_yi, leader):
    e = evidence
    assert {p for p, _ in listed(liaison_jia)} == {e["before"].pk, e["after"].pk}
    assert {p for p, _ in listed(liaison_yi)} == {e["yi"].pk}
    assert len(listed(leader)) == 4


def test_others_get_404(evidence, inspector, client, api):
    client.force_login(inspector)
    assert client.get(PAGE).status_code == 404
    assert api(inspector).get(API).status_code == 404
    assert api().get(API).status_code == 403


def test_filters(evidence, office, client, city):
    e = evidence
    client.force_login(office)
    week = iso_week_of(timezone.now())

    def photos(query):
        response = client.get(PAGE + query)
        assert response.status_code == 200
        return sorted(f.photo_id for f in response.context["object_list"])

    assert photos("?kind=rectification") == [e["after"].pk, e["after"].pk]
    assert photos("?kind=inspection") == sorted([e["before"].pk, e["yi"].pk])
    assert photos("?code=duplicate") == [e["after"].pk]
    assert photos(f"?unit={city.street_yi.pk}") == [e["yi"].pk]
    assert photos(f"?unit={city.street_jia.pk}&kind=rectification&code=no_exif") == [e["after"].pk]
    assert len(photos(f"?week={week}")) == 4
    assert photos("?week=2020-W10") == []
    response = client.get(PAGE + "?week=2020-W10")
    assert "没有符合条件的疑点" in response.content.decode()


def test_the_page_shows_thumbnails_reasons_and_links(evidence, office, client):
    e = evidence
    client.force_login(office)
    html = client.get(PAGE).content.decode()
    assert f"/problems/photos/{e['after'].pk}/thumb/" in html
    assert f"/problems/photos/{e['before'].pk}/thumb/" in html  # also the duplicate's earlier photo
    assert PhotoFlag.objects.get(photo=e["after"], code="duplicate").message in html
    assert f"/inspections/problems/{e['problem'].pk}/" in html
    assert "整改照片" in html and "督查照片" in html
    assert "第" in html and "周" in html


def test_empty_state_says_what_it_means(office, client, campaign):
    client.force_login(office)
    html = client.get(PAGE).content.decode()
    assert "没有疑点" in html


def test_export_has_every_filtered_row(evidence, office, client):
    client.force_login(office)
    response = client.get(PAGE + "?kind=inspection&export=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("周次", "证据类型", "单位", "疑点")
    assert len(rows) == 3 and {r[1] for r in rows[1:]} == {"督查照片"}


def test_a_page_reads_its_rows_in_one_statement(evidence, office, client, inspector, round_, market, stall_item):
    client.force_login(office)
    client.get(PAGE)  # warm the session, the campaign choices

    def statements():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(PAGE).status_code == 200
        return len(captured)

    few = statements()
    submit(inspector, round_, market, stall_item, [upload(inspector, png(40 + i)) for i in range(3)])
    assert PhotoFlag.objects.count() == 8  # 7 of them cited as evidence
    assert statements() == few
    scope_for(office)  # the memberships, read once per request
    with CaptureQueriesContext(connection) as captured:
        rows = list(evidence_flag_list(user=office)[:50])
        shown = [(f.photo.observation and f.photo.observation.inspection_id, f.problem_ref, f.unit_name) for f in rows]
    assert len(shown) == 7 and len(captured) == 1  # the rows, their photo, observation, inspection, problem and report


def test_api_lists_with_the_same_filters(evidence, office, liaison_yi, api):
    e = evidence
    body = api(office).get(API, {"kind": "rectification", "code": "duplicate"}).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (row["photo"], row["earlier_photo"], row["problem"], row["kind"], row["kind_label"]) == (
        e["after"].pk,
        e["before"].pk,
        e["problem"].pk,
        "rectification",
        "整改照片",
    )
    assert row["code_label"] == "疑似重复" and row["week"] == iso_week_of(timezone.now())
    assert api(liaison_yi).get(API).json()["count"] == 1


def test_api_query_params_are_strict(evidence, office, api):
    client = api(office)
    unknown = client.get(API, {"colour": "red"})
    assert unknown.status_code == 400 and "未知的查询参数" in unknown.json()["detail"]
    assert client.get(API, {"week": "2026-W99"}).status_code == 400
    assert client.get(API, {"kind": "other"}).status_code == 400
    assert client.get(API, {"campaign": "999999"}).status_code == 400
    assert client.get(API, {"campaign": "all"}).json()["count"] == 4
    assert client.get(API, {"unit": "1" * 30}).status_code == 400
