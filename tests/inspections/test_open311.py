"""Open311 GeoReport v2 at /open311/v2/ (issue 15 item 4): the spec's shapes in JSON and XML, the
filters and the 90-day window, no personal data in any answer, keyed POSTs (bad or revoked key → 403
and nothing written), errors in the spec's shape, pinned query counts, and a real Open311 client
library (georeport) against a live server."""

from __future__ import annotations

import datetime
import json
import threading
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inspections.choices import ProblemStatus, ReportChannel, ReportStatus
from inspections.intake import report_public_status, report_submit
from inspections.intake_keys import intake_key_issue, intake_key_revoke
from inspections.models import IntakeKey, Problem, PublicCategory, Report
from inspections.open311 import CLOSED_Q
from tests.conftest import create_campaign

BASE = "/open311/v2"
# The spec's examples (wiki.open311.org/GeoReport_v2), as the fields each answer carries.
SPEC_SERVICE = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
SPEC_REQUEST = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
SPEC_POST_ANSWER = {"service_request_id", "service_notice", "account_id"}
SPEC_ERROR = {"code", "description"}
PRIVATE = ("张三丰", "13912345678", "李四", "13800001111", "zhang@example.com", "王五", "13700002222")


# --- Fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def categories(campaign, market_type):
    road = PublicCategory.objects.create(
        campaign=campaign, code="road-occupation", name="占道经营", description="摊贩占用道路经营", group="市容秩序"
    )
    road.point_types.set([market_type])
    litter = PublicCategory.objects.create(campaign=campaign, code="litter", name="垃圾乱堆", group="环境卫生", order=2)
    PublicCategory.objects.create(campaign=campaign, code="retired", name="已停用类别", active=False, order=3)
    return {"road": road, "litter": litter}


@pytest.fixture
def key(office, campaign):
    return intake_key_issue(campaign=campaign, name="市民通小程序", user=office)


def submit(campaign, category, channel=ReportChannel.CITIZEN, **extra) -> Report:
    values = {
        "description": "农贸市场门口摊贩占道",
        "latitude": Decimal("31.500000"),
        "longitude": Decimal("120.300000"),
        "address": "甲一农贸市场东门",
        "reporter_name": "张三丰",
        "reporter_phone": "13912345678",
    } | extra
    return report_submit(campaign=campaign, channel=channel, category=category, **values)


@pytest.fixture
def reports(campaign, categories, office, city):
    """A pending 随手拍, an Open311 request accepted as a problem being handled by 市城管局, one
    rejected, and a 12345 ticket (never published)."""
    pending = submit(campaign, categories["road"])
    handled = submit(
        campaign,
        categories["litter"],
        channel=ReportChannel.OPEN311,
        description="小区门口垃圾堆积",
        reporter_name="李四",
        reporter_phone="13800001111",
    )
    problem = Problem.objects.create(
        campaign=campaign,
        source="citizen",
        status=ProblemStatus.RECTIFYING,
        unit=city.street_jia,
        description="小区门口垃圾堆积",
        found_at=timezone.now(),
        created_by=office,
        handler=city.dept_cg,
        deadline=datetime.date(2026, 12, 31),
    )
    Report.objects.filter(pk=handled.pk).update(
        status=ReportStatus.ACCEPTED, problem=problem, triaged_at=timezone.now()
    )
    rejected = submit(campaign, categories["road"], description="不是本市的问题")
    Report.objects.filter(pk=rejected.pk).update(
        status=ReportStatus.REJECTED, reject_reason="不属于本市管辖", triaged_at=timezone.now()
    )
    hotline = submit(
        campaign, categories["road"], channel=ReportChannel.HOTLINE, reporter_name="王五", reporter_phone="13700002222"
    )
    return {"pending": pending, "handled": handled, "rejected": rejected, "hotline": hotline, "problem": problem}


def get(client, path: str, **params):
    return client.get(f"{BASE}/{path}", params)


def parse(response) -> list[dict] | dict:
    """The answer as plain data: JSON as it is, XML's items as dicts of their children's text."""
    if response["Content-Type"].startswith("application/json"):
        return json.loads(response.content)
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(response.content)
    if root.tag == "service_definition":
        return {child.tag: (child.text or "") for child in root}
    return [{child.tag: (child.text or "") for child in item} for item in root]


def as_text(row: dict) -> dict:
    """A JSON row as the XML carries it (text; None empty; booleans true/false)."""
    return {
        name: ("" if value is None else ("true" if value is True else "false" if value is False else str(value)))
        for name, value in row.items()
    }


# --- Service discovery --------------------------------------------------------------------------


def test_service_discovery_names_the_endpoint_its_formats_and_how_to_get_a_key(client, categories):
    response = get(client, "discovery.json")
    assert response.status_code == 200
    data = parse(response)
    assert set(data) == {"changeset", "contact", "key_service", "endpoints"} and "接口密钥" in data["key_service"]
    assert datetime.datetime.fromisoformat(data["changeset"]).tzinfo is not None  # W3C, with its offset
    [endpoint] = data["endpoints"]
    assert endpoint == {
        "specification": "http://wiki.open311.org/GeoReport_v2",
        "url": "http://testserver/open311/v2",
        "changeset": data["changeset"],
        "type": "production",
        "formats": ["text/xml", "application/json"],
    }
    # the endpoint it names answers
    assert client.get(endpoint["url"] + "/services.json").status_code == 200
    root = ET.fromstring(get(client, "discovery.xml").content)
    assert root.tag == "discovery" and [child.tag for child in root] == [
        "changeset",
        "contact",
        "key_service",
        "endpoints",
    ]
    xml_endpoint = root.find("endpoints/endpoint")
    assert xml_endpoint.find("specification").text == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in xml_endpoint.findall("formats/format")] == ["text/xml", "application/json"]


# --- Services -----------------------------------------------------------------------------------


def test_services_list_the_active_categories_in_the_spec_s_shape(client, categories, campaign):
    response = get(client, "services.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json; charset=utf-8"
    services = parse(response)
    assert [s["service_code"] for s in services] == ["road-occupation", "litter"]
    assert all(set(s) == SPEC_SERVICE for s in services)
    assert services[0] == {
        "service_code": "road-occupation",
        "service_name": "占道经营",
        "description": "摊贩占用道路经营",
        "metadata": False,
        "type": "realtime",
        "keywords": "集贸(农贸)市场",
        "group": "市容秩序",
    }
    xml = get(client, "services.xml")
    assert xml.status_code == 200 and ET.fromstring(xml.content).tag == "services"
    assert [item.tag for item in ET.fromstring(xml.content)] == ["service", "service"]
    assert parse(xml) == [as_text(s) for s in services]
    # jurisdiction_id is the campaign's id
    assert parse(get(client, "services.json", jurisdiction_id=campaign.pk)) == services


def test_jurisdiction_id_names_a_campaign_or_is_404(client, categories, campaign):
    for value in ("999999", "abc", "1" * 30, "²"):
        response = get(client, "services.json", jurisdiction_id=value)
        assert response.status_code == 404
        errors = parse(response)
        assert len(errors) == 1 and set(errors[0]) == SPEC_ERROR and errors[0]["code"] == 404
        assert "jurisdiction_id" in errors[0]["description"]
    xml = get(client, "services.xml", jurisdiction_id="999999")
    root = ET.fromstring(xml.content)
    assert xml.status_code == 404 and root.tag == "errors" and root.find("error/code").text == "404"
    assert "创建活动" in root.find("error/description").text


def test_another_campaign_s_services_by_its_jurisdiction_id(client, categories, campaign, office):
    from campaign.services import campaign_create

    other = campaign_create(
        name="创建国家卫生城市",
        level="national",
        start_date=datetime.date(2026, 3, 1),
        evaluation_date=datetime.date(2028, 6, 30),
    )
    PublicCategory.objects.create(campaign=other, code="pests", name="病媒生物")
    codes = [s["service_code"] for s in parse(get(client, "services.json", jurisdiction_id=other.pk))]
    assert codes == ["pests"]


def test_service_definition_has_no_attributes_and_unknown_codes_are_404(client, categories):
    response = get(client, "services/litter.json")
    assert response.status_code == 200
    assert parse(response) == {"service_code": "litter", "attributes": []}
    xml = get(client, "services/litter.xml")
    root = ET.fromstring(xml.content)
    assert root.tag == "service_definition" and root.find("service_code").text == "litter"
    assert root.find("attributes") is not None and list(root.find("attributes")) == []
    for code in ("retired", "nope"):
        missing = get(client, f"services/{code}.json")
        assert missing.status_code == 404 and parse(missing)[0]["code"] == 404


@pytest.mark.parametrize("path", ["services.csv", "services.html", "requests.yaml", "services/litter.txt"])
def test_an_unknown_format_suffix_is_404(client, categories, path):
    response = get(client, path)
    assert response.status_code == 404
    assert parse(response)[0]["code"] == 404 and ".json" in parse(response)[0]["description"]


# --- GET requests -------------------------------------------------------------------------------


def test_requests_carry_the_spec_s_fields_and_no_personal_data(client, reports):
    response = get(client, "requests.json")
    assert response.status_code == 200
    rows = parse(response)
    by_id = {row["service_request_id"]: row for row in rows}
    # 12345 tickets are never published; the others newest first
    assert list(by_id) == [reports["rejected"].reference, reports["handled"].reference, reports["pending"].reference]
    assert all(set(row) == SPEC_REQUEST for row in rows)
    pending = by_id[reports["pending"].reference]
    assert pending["status"] == "open" and pending["status_notes"].startswith("已收到，待分拣")
    assert pending["service_code"] == "road-occupation" and pending["service_name"] == "占道经营"
    assert pending["lat"] == 31.5 and pending["long"] == 120.3
    # Unmoderated words are not published: a pending report shows no description or address yet.
    assert pending["address"] == "" and pending["description"] == ""
    assert reports["pending"].address == "甲一农贸市场东门"
    assert pending["agency_responsible"] == "" and pending["expected_datetime"] is None and pending["media_url"] == ""
    submitted = timezone.localtime(reports["pending"].submitted_at).isoformat(timespec="seconds")
    assert pending["requested_datetime"] == submitted and "+08:00" in submitted
    handled = by_id[reports["handled"].reference]
    assert handled["status"] == "open" and handled["agency_responsible"] == "示范市城市管理局"
    assert handled["status_notes"] == "办理中：已交办至示范市城市管理局，正在整改。"
    assert handled["expected_datetime"] == "2026-12-31T23:59:59+08:00"
    rejected = by_id[reports["rejected"].reference]
    assert rejected["status"] == "closed" and "不属于本市管辖" in rejected["status_notes"]
    xml = get(client, "requests.xml")
    assert ET.fromstring(xml.content).tag == "service_requests"
    assert parse(xml) == [as_text(row) for row in rows]
    for body in (response.content.decode(), xml.content.decode()):
        for private in PRIVATE:
            assert private not in body


def test_phone_numbers_typed_into_the_text_are_hidden(client, campaign, categories):
    typed = submit(
        campaign,
        categories["road"],
        description="摊贩占道，请联系我 139 1234 5678 或 0510-83456789，编号 20261205 不是电话",
        address="甲一市场东门（电话13812345678）",
    )
    [row] = parse(get(client, "requests.json", service_request_id=typed.reference))
    assert row["description"] == row["address"] == ""  # not published before the office reads it
    Report.objects.filter(pk=typed.pk).update(status=ReportStatus.ACCEPTED)
    [row] = parse(get(client, "requests.json", service_request_id=typed.reference))
    assert row["description"] == "摊贩占道，请联系我 （电话已隐去） 或 （电话已隐去），编号 20261205 不是电话"
    assert row["address"] == "甲一市场东门（电话（电话已隐去））"
    body = get(client, f"requests/{typed.reference}.xml").content.decode()
    assert "1234 5678" not in body and "83456789" not in body and "13812345678" not in body
    typed.refresh_from_db()
    assert "139 1234 5678" in typed.description  # the office still reads what was written


def test_a_closed_problem_closes_the_request(client, reports):
    Problem.objects.filter(pk=reports["problem"].pk).update(status=ProblemStatus.CLOSED, closed_at=timezone.now())
    row = parse(get(client, f"requests/{reports['handled'].reference}.json"))[0]
    assert row["status"] == "closed" and row["status_notes"].startswith("已办结") and row["expected_datetime"] is None


def test_the_status_filter_agrees_with_report_public_status(client, reports, campaign, categories, office, city):
    """CLOSED_Q (SQL) and report_public_status (Python) name the same reports closed, in every state."""
    accepted_without_problem = submit(campaign, categories["litter"])
    Report.objects.filter(pk=accepted_without_problem.pk).update(status=ReportStatus.ACCEPTED)
    for problem_status in (ProblemStatus.NEW, ProblemStatus.CLOSED, ProblemStatus.VOID, ProblemStatus.REVIEWING):
        problem = Problem.objects.create(
            campaign=campaign,
            source="citizen",
            status=problem_status,
            unit=city.street_jia,
            description="合并的问题",
            found_at=timezone.now(),
            created_by=office,
        )
        merged = submit(campaign, categories["litter"], description=f"又一次反映（{problem_status}）")
        Report.objects.filter(pk=merged.pk).update(status=ReportStatus.MERGED, problem=problem)
    published = Report.objects.exclude(channel=ReportChannel.HOTLINE).select_related("problem__handler", "category")
    expected = {r.reference for r in published if report_public_status(r).open311_status == "closed"}
    assert (
        set(Report.objects.filter(CLOSED_Q).exclude(channel=ReportChannel.HOTLINE).values_list("reference", flat=True))
        == expected
    )
    closed = {row["service_request_id"] for row in parse(get(client, "requests.json", status="closed"))}
    opened = {row["service_request_id"] for row in parse(get(client, "requests.json", status="open"))}
    both = {row["service_request_id"] for row in parse(get(client, "requests.json", status="open,closed"))}
    assert closed == expected and not closed & opened and closed | opened == both == {r.reference for r in published}
    assert len(closed) == 3 and len(opened) == 5


def test_filters_by_id_code_and_dates(client, reports, campaign, categories):
    pending, handled = reports["pending"].reference, reports["handled"].reference
    # several ids, lower case and spaces accepted; the ids override the other filters (the spec)
    rows = parse(get(client, "requests.json", service_request_id=f"{pending.lower()}, {handled}", status="closed"))
    assert {row["service_request_id"] for row in rows} == {pending, handled}
    assert parse(get(client, "requests.json", service_request_id=reports["hotline"].reference)) == []
    litter = parse(get(client, "requests.json", service_code="litter"))
    assert [row["service_request_id"] for row in litter] == [handled]
    both = parse(get(client, "requests.json", service_code="litter,road-occupation"))
    assert len(both) == 3
    # the date window: by default the last 90 days
    old = submit(campaign, categories["road"], submitted_at=timezone.now() - datetime.timedelta(days=120))
    ids = {row["service_request_id"] for row in parse(get(client, "requests.json"))}
    assert old.reference not in ids and pending in ids
    day = timezone.localtime(old.submitted_at).date()
    window = {
        "start_date": (day - datetime.timedelta(days=1)).isoformat(),
        "end_date": f"{day + datetime.timedelta(days=1)}T00:00:00+08:00",
    }
    assert [row["service_request_id"] for row in parse(get(client, "requests.json", **window))] == [old.reference]
    # a start alone: 90 days from it
    start = {"start_date": f"{day - datetime.timedelta(days=1)}T00:00:00Z"}
    assert [row["service_request_id"] for row in parse(get(client, "requests.json", **start))] == [old.reference]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "pending"}, "status 只能为 open 或 closed"),
        ({"start_date": "yesterday"}, "start_date 格式不正确"),
        ({"end_date": "2026-13-45"}, "end_date 格式不正确"),
        ({"start_date": "2026-01-01", "end_date": "2026-06-01"}, "不能超过 90 天"),
        ({"start_date": "2026-06-01", "end_date": "2026-01-01"}, "不能晚于"),
        ({"page_size": "1001"}, "page_size 应为 1 到 1000"),
        ({"page": "0"}, "page 应为"),
        ({"page": "²"}, "page 应为"),  # a digit to str.isdigit(), not to int()
        ({"page_size": "９"}, "page_size 应为"),
        ({"service_request_id": ",".join(f"SP{i}" for i in range(1001))}, "最多 1000 个"),
    ],
)
def test_bad_filters_are_400_in_the_spec_s_shape(client, reports, params, message):
    for fmt in ("json", "xml"):
        response = get(client, f"requests.{fmt}", **params)
        assert response.status_code == 400
        error = parse(response)[0]
        assert str(error["code"]) == "400" and message in error["description"]


def test_pages(client, reports):
    first = parse(get(client, "requests.json", page_size=2))
    second = parse(get(client, "requests.json", page_size=2, page=2))
    assert len(first) == 2 and len(second) == 1
    assert {r["service_request_id"] for r in first + second} == {
        reports[k].reference for k in ("pending", "handled", "rejected")
    }


def test_one_request_by_its_id(client, reports):
    reference = reports["handled"].reference
    rows = parse(get(client, f"requests/{reference}.json"))
    assert len(rows) == 1 and rows[0]["service_request_id"] == reference and set(rows[0]) == SPEC_REQUEST
    xml = get(client, f"requests/{reference}.xml")
    assert parse(xml) == [as_text(rows[0])]
    for unknown in (reports["hotline"].reference, "SP000000AAAAAA"):
        response = get(client, f"requests/{unknown}.json")
        assert response.status_code == 404 and parse(response)[0]["code"] == 404
        for private in PRIVATE:
            assert private not in response.content.decode()


def test_reads_take_a_fixed_number_of_queries(client, reports, campaign, categories):
    def count(path: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert get(client, path).status_code == 200
        return len(queries)

    few = count("requests.json"), count("services.json"), count(f"requests/{reports['pending'].reference}.json")
    for i in range(6):
        submit(campaign, categories["litter"], description=f"第{i}次反映")
    PublicCategory.objects.create(campaign=campaign, code="graffiti", name="乱涂乱画")
    many = count("requests.json"), count("services.json"), count(f"requests/{reports['pending'].reference}.json")
    # the current campaign and the page's rows; the campaign, the categories and their point types;
    # the one report with its category, problem and handler
    assert few == many == (2, 3, 1)


# --- POST requests ------------------------------------------------------------------------------


def post(path: str, data: dict):
    """As an outside system would: no session, no CSRF token."""
    return Client(enforce_csrf_checks=True).post(f"{BASE}/{path}", data)


def form(raw_key: str, **extra) -> dict:
    return {
        "api_key": raw_key,
        "service_code": "litter",
        "lat": "31.501",
        "long": "120.301",
        "description": "小区门口垃圾堆积三天无人清运",
        "first_name": "丰",
        "last_name": "张",
        "phone": "13912345678",
        "email": "zhang@example.com",
        "device_id": "device-1",
        "account_id": "42",
    } | extra


def test_post_files_a_report_with_the_key(key, categories, campaign):
    row, raw = key
    response = post("requests.json", form(raw))
    assert response.status_code == 200, response.content.decode()
    answer = parse(response)
    assert len(answer) == 1 and set(answer[0]) == SPEC_POST_ANSWER and answer[0]["account_id"] is None
    assert "待分拣" in answer[0]["service_notice"] and "media_url" not in answer[0]["service_notice"]
    report = Report.objects.get(reference=answer[0]["service_request_id"])
    assert report.channel == ReportChannel.OPEN311 and report.intake_key == row and report.campaign == campaign
    assert report.category == categories["litter"] and report.status == ReportStatus.PENDING
    assert report.latitude == Decimal("31.501000") and report.longitude == Decimal("120.301000")
    assert report.reporter_name == "张丰" and report.reporter_phone == "13912345678"
    # the e-mail is stored nowhere
    assert "zhang@example.com" not in repr(Report.objects.filter(pk=report.pk).values().get())
    for private in PRIVATE:
        assert private not in response.content.decode()
    row.refresh_from_db()
    assert row.last_used_at is not None
    # the new request is listed
    assert report.reference in {r["service_request_id"] for r in parse(Client().get(f"{BASE}/requests.json"))}


def test_post_in_xml_with_an_address_and_a_media_url(key, categories):
    _row, raw = key
    data = form(
        raw, media_url="http://example.com/a.jpg", address_string="甲街道88号", first_name="John", last_name="Smith"
    )
    del data["lat"], data["long"]
    response = post("requests.xml", data)
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests" and root.find("request/account_id").text is None
    assert "media_url 已忽略" in root.find("request/service_notice").text
    report = Report.objects.get(reference=root.find("request/service_request_id").text)
    assert report.address == "甲街道88号" and report.latitude is None and report.reporter_name == "John Smith"
    assert not report.photos.exists()


def test_post_by_address_id(key, categories):
    _row, raw = key
    data = form(raw, address_id="A-1024")
    del data["lat"], data["long"]
    response = post("requests.json", data)
    assert response.status_code == 200
    assert Report.objects.get(reference=parse(response)[0]["service_request_id"]).address == "地址编号 A-1024"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_missing_bad_or_revoked_key_is_403_and_writes_nothing(key, categories, office, fmt):
    row, raw = key
    intake_key_revoke(key=row, user=office)
    before = (Report.objects.count(), list(IntakeKey.objects.values_list("pk", "active", "last_used_at")))
    for data in (form(""), form(raw + "x"), form("ck_" + "a" * 43), form(raw), {"service_code": "litter"}):
        response = post(f"requests.{fmt}", data)
        assert response.status_code == 403
        error = parse(response)[0]
        assert str(error["code"]) == "403" and "api_key" in error["description"]
    assert (Report.objects.count(), list(IntakeKey.objects.values_list("pk", "active", "last_used_at"))) == before


def test_another_campaign_s_key_cannot_post_into_this_one(key, categories, office):
    from campaign.services import campaign_create

    other = campaign_create(
        name="创建国家卫生城市",
        level="national",
        start_date=datetime.date(2026, 3, 1),
        evaluation_date=datetime.date(2028, 6, 30),
    )
    _other_key, other_raw = intake_key_issue(campaign=other, name="卫生城市小程序", user=office)
    response = post("requests.json", form(other_raw))  # "litter" is this campaign's service only
    assert response.status_code == 400 and "service_code" in parse(response)[0]["description"]
    response = post("requests.json", form(key[1], jurisdiction_id=str(other.pk)))
    assert response.status_code == 400 and "jurisdiction_id" in parse(response)[0]["description"]
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"service_code": ""}, "缺少 service_code"),
        ({"service_code": "nope"}, "未找到服务编码"),
        ({"service_code": "retired"}, "未找到服务编码"),
        ({"lat": "", "long": ""}, "缺少位置"),
        ({"long": ""}, "缺少位置"),
        ({"description": ""}, "description：请填写问题描述"),
        ({"description": "<script>alert(1)</script>"}, "网页代码"),
        ({"lat": "95"}, "lat："),
        ({"phone": "12345"}, "phone：联系电话格式不正确"),
        ({"description": "长" * 2001}, "参数过长"),
    ],
)
def test_invalid_posts_are_400_in_chinese_and_write_nothing(key, categories, change, message):
    _row, raw = key
    response = post("requests.json", form(raw, **change))
    assert response.status_code == 400
    error = parse(response)[0]
    assert error["code"] == 400 and message in error["description"], error
    assert not Report.objects.exists()


def test_posts_per_key_are_rate_limited(key, categories, settings):
    settings.OPEN311_RATE_PER_KEY = 2
    _row, raw = key
    assert [post("requests.json", form(raw)).status_code for _ in range(2)] == [200, 200]
    response = post("requests.xml", form(raw))
    assert response.status_code == 429
    root = ET.fromstring(response.content)
    assert root.find("error/code").text == "429" and "上限" in root.find("error/description").text
    assert Report.objects.count() == 2
    # another key has its own allowance
    _other, other_raw = intake_key_issue(campaign=key[0].campaign, name="另一个系统", user=key[0].created_by)
    assert post("requests.json", form(other_raw)).status_code == 200


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_racing_posts_cannot_both_pass_the_hourly_limit(transactional_db, key, categories, settings):
    settings.OPEN311_RATE_PER_KEY = 1
    _row, raw = key
    barrier = threading.Barrier(2)
    codes = [None, None]

    def run(index):
        try:
            barrier.wait()
            codes[index] = post("requests.json", form(raw, description=f"同时提交的第 {index + 1} 条")).status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(codes) == [200, 429], codes
    assert Report.objects.count() == 1


def test_other_methods_are_refused_in_the_spec_s_shape(client, categories):
    response = client.put(f"{BASE}/requests.json")
    assert response.status_code == 405 and response["Allow"] == "GET, POST"
    assert parse(response) == [{"code": 405, "description": "本地址不接受 PUT 请求，只接受 GET、POST。"}]
    xml = client.post(f"{BASE}/services.xml")
    assert xml.status_code == 405 and xml["Allow"] == "GET"
    assert parse(xml) == [{"code": "405", "description": "本地址不接受 POST 请求，只接受 GET。"}]
    assert client.delete(f"{BASE}/requests/SP1.json").status_code == 405


# --- A real Open311 client ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_georeport_client_reads_and_a_plain_client_posts(live_server, office, city, market_type):
    """georeport (PyPI, GeoReport v2 client: reads only — it cannot create requests) lists services
    and requests in JSON and XML against a live server; the POST goes through `requests`, as the
    spec describes it (form-encoded)."""
    georeport = pytest.importorskip("georeport")
    http = pytest.importorskip("requests")
    campaign = create_campaign()
    PublicCategory.objects.create(campaign=campaign, code="litter", name="垃圾乱堆", group="环境卫生")
    _key, raw = intake_key_issue(campaign=campaign, name="市民通", user=office)
    root = f"{live_server.url}{BASE}"
    for fmt in ("json", "xml"):
        client = georeport.GeoReport(root, jurisdiction=str(campaign.pk), output_format=fmt)
        services = client.get_service_list()
        service = services[0] if isinstance(services, list) else services  # xmltodict: one item is a dict
        assert service["service_code"] == "litter" and service["service_name"] == "垃圾乱堆"
        assert client.get_service_definition("litter")["service_code"] == "litter"
    posted = http.post(
        f"{root}/requests.json",
        data={"api_key": raw, "service_code": "litter", "lat": "31.5", "long": "120.3", "description": "垃圾堆积"},
        timeout=10,
    )
    assert posted.status_code == 200, posted.text
    reference = posted.json()[0]["service_request_id"]
    refused = http.post(f"{root}/requests.json", data={"api_key": "wrong", "service_code": "litter"}, timeout=10)
    assert refused.status_code == 403 and refused.json()[0]["code"] == 403
    for fmt in ("json", "xml"):
        client = georeport.GeoReport(root, jurisdiction=str(campaign.pk), output_format=fmt)
        found = client.get_service_requests(service_request_id=reference)
        found = found[0] if isinstance(found, list) else found
        assert found["service_request_id"] == reference and found["status"] == "open"
        listed = client.get_service_requests(status="open", service_code="litter")
        listed = listed if isinstance(listed, list) else [listed]
        assert [r["service_request_id"] for r in listed] == [reference]
    assert Report.objects.get(reference=reference).channel == ReportChannel.OPEN311


# --- The demo -----------------------------------------------------------------------------------


def test_the_demo_key_is_known_and_files_one_request(client, office, campaign, categories):
    from inspections import demo_open311

    context = {"campaign": campaign, "users": {"office": office}}
    demo_open311.seed(context)
    assert "demo-open311-key" in context["notes"][0]
    key = IntakeKey.objects.get()
    assert key.campaign == campaign and key.prefix == "demo-open3"
    rows = parse(get(client, "requests.json"))
    assert len(rows) == 1 and rows[0]["service_request_id"].startswith("OP")
    assert "网格员" not in json.dumps(rows, ensure_ascii=False)
    response = post("requests.json", form("demo-open311-key"))
    assert response.status_code == 200 and Report.objects.filter(intake_key=key).count() == 2
