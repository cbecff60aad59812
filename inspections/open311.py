"""Open311 GeoReport v2 (issue 15 item 4) at /open311/v2/: outside systems list the campaign's
public categories as services, read the status of the public's reports and file new ones with an
API key the office issued (inspections/intake_keys.py).

What is published and how (the spec: wiki.open311.org/GeoReport_v2):

- Format by the URL's suffix, `.json` or `.xml` (any other suffix: 404). JSON is UTF-8 without
  escapes; XML has the declaration, `<services><service>…`, `<service_definition>…`,
  `<service_requests><request>…` and errors as `<errors><error><code/><description/></error></errors>`
  (JSON: `[{"code": 403, "description": "…"}]`). Descriptions are in Chinese.
- `discovery.(json|xml)`: the spec's service discovery (the endpoint's URL, formats, how to get a key).
- `jurisdiction_id` is the campaign's id (Campaign has no code of its own). Without it, GETs read the
  current campaign (`campaign_current`); a keyed POST is its key's campaign. An unknown id → 404.
- Services: the campaign's active `PublicCategory` rows: `service_code` = its code, `metadata` false
  (no extra attributes: a service definition answers an empty `attributes` list), `type` realtime,
  `keywords` the point types the category maps to, `group`.
- Requests: only reports that came in as 随手拍 or through Open311 — 12345 tickets are the hotline
  platform's and carry callers' details, so they are never published here. `service_request_id` is
  the report's public reference; status and `status_notes` are `intake.report_public_status` (the
  one definition of what outsiders see, shared with the citizen's status page); `agency_responsible`
  the handling unit once assigned; `expected_datetime` the end of the problem's deadline day;
  `media_url` empty (photos are not published). No reporter name, phone or e-mail in any answer,
  and a phone number typed into the description or address is hidden (`public_text`). The
  citizen's own words (description, address) are published only once the office has accepted or
  merged the report: a pending or rejected report shows its status, category, time and place only
  (nothing unmoderated goes out under the city's name).
  Filters: `service_request_id` (comma-separated; overrides the others, as the spec says),
  `service_code` and `status` (comma-separated), `start_date`/`end_date` on the request time (W3C
  datetimes or dates; default the last 90 days, a window of at most 90 days); newest first, at most
  1000 per answer (`page`, `page_size` ≤ 1000 for more). One query for the page, whatever its size.
- POST requests (form-encoded): `api_key` (an active key; missing or bad → 403, nothing written),
  `service_code`, a location (`lat` + `long`, or `address_string`, or `address_id`), `description`,
  `first_name`/`last_name`/`phone` (kept on the report for the office only), `email` (not stored),
  `media_url` (never fetched: the server has no internet; ignored, and the answer's service_notice
  says so), `device_id`/`account_id`/`attribute[…]` ignored. The report goes through
  `intake.report_submit(channel="open311", intake_key=…)`; per key at most OPEN311_RATE_PER_KEY
  reports an hour (429). No CSRF: the key is the credential, never a cookie.
"""

from __future__ import annotations

import datetime
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.csrf import csrf_exempt

from campaign.models import Campaign
from campaign.selectors import campaign_current

from .choices import ProblemStatus, ReportChannel, ReportStatus
from .intake import reference_normalize, report_public_status, report_submit
from .intake_keys import intake_key_verify
from .models import IntakeKey, PublicCategory, Report

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
PUBLISHED_CHANNELS = (ReportChannel.CITIZEN, ReportChannel.OPEN311)
MAX_PAGE_SIZE = 1000  # the spec's "maximum 1000 requests" per answer
WINDOW = datetime.timedelta(days=90)  # the spec's default and largest date range
MAX_IDS = 1000
FIELD_MAX = 2000  # any one form value longer than this is refused before anything is read from it
MEDIA_NOTICE = "本接口不下载远程图片，media_url 已忽略；如需附图，请通过随手拍页面提交。"
RECEIVED_NOTICE = "已收到，待分拣。可凭 service_request_id 查询办理进展。"
# Open311's status from ours: closed when rejected or when the problem it became is closed or void;
# the same rule as `report_public_status` (tests/inspections/test_open311.py holds them together).
CLOSED_Q = Q(status=ReportStatus.REJECTED) | (
    Q(status__in=(ReportStatus.ACCEPTED, ReportStatus.MERGED))
    & Q(problem__status__in=(ProblemStatus.CLOSED, ProblemStatus.VOID))
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# A phone number a reporter typed into the text (a mobile, or a landline with its area code): hidden
# when published — the text is the public's to read, the number is the reporter's.
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(?:(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}|0\d{2,3}[-\s]?\d{7,8})(?!\d)")
PHONE_HIDDEN = "（电话已隐去）"


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


# --- Rendering ----------------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _CONTROL.sub("", str(value))


def _xml(root: str, item: str, rows: Iterable[dict]) -> bytes:
    top = ET.Element(root)
    for row in rows:
        element = ET.SubElement(top, item) if item else top
        _xml_fields(element, row)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8", xml_declaration=False)


# A list's items in XML: <attributes><attribute>…, discovery's <endpoints><endpoint>… and <formats><format>.
XML_ITEM = {"attributes": "attribute", "endpoints": "endpoint", "formats": "format"}


def _xml_fields(element: ET.Element, row: dict) -> None:
    for name, value in row.items():
        child = ET.SubElement(element, name)
        if isinstance(value, list):
            for entry in value:
                item = ET.SubElement(child, XML_ITEM[name])
                if isinstance(entry, dict):
                    _xml_fields(item, entry)
                else:
                    item.text = _text(entry)
        else:
            child.text = _text(value)


def render(fmt: str, root: str, item: str, data, status: int = 200) -> HttpResponse:
    """`data`: a list of rows (JSON: the list; XML: <root><item>…</item></root>) or, with `item`
    empty, one object (XML: <root>fields</root>)."""
    if fmt == "xml":
        body = _xml(root, item, data if item else [data])
    else:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    response = HttpResponse(body, status=status, content_type=FORMATS[fmt])
    response["Cache-Control"] = "no-store"
    return response


def error(fmt: str, status: int, description: str) -> HttpResponse:
    return render(
        fmt if fmt in FORMATS else "json", "errors", "error", [{"code": status, "description": description}], status
    )


def _format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise Open311Error(404, "不支持的格式：请在地址末尾使用 .json 或 .xml。")


def _digits(raw: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts "²" or "①", which int() then refuses (a 500)."""
    return raw.isascii() and raw.isdigit()


def _w3c(moment: datetime.datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def open311_view(methods: tuple[str, ...]):
    """A view of the API: the format checked first, then the method (405 with `Allow`), and
    `Open311Error`s answered in the spec's shape."""

    def wrap(function):
        def view(request: HttpRequest, fmt: str, **kwargs):
            try:
                _format(fmt)
                if request.method not in methods:
                    raise Open311Error(405, f"本地址不接受 {request.method[:10]} 请求，只接受 {'、'.join(methods)}。")
                return function(request, fmt, **kwargs)
            except Open311Error as exc:
                response = error(fmt, exc.status, exc.description)
                if exc.status == 405:
                    response["Allow"] = ", ".join(methods)
                return response

        view.__name__ = function.__name__
        view.__doc__ = function.__doc__
        return csrf_exempt(view)

    return wrap


# --- Jurisdiction -------------------------------------------------------------------------------


def jurisdiction(request: HttpRequest) -> Campaign:
    """The campaign a request reads: `jurisdiction_id` (a campaign's id), else the current one."""
    raw = (request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id") or "").strip()
    if raw:
        campaign = Campaign.objects.filter(pk=int(raw)).first() if _digits(raw) and len(raw) < 10 else None
        if campaign is None:
            raise Open311Error(404, f"未找到 jurisdiction_id“{raw[:20]}”对应的创建活动。")
        return campaign
    campaign = campaign_current()
    if campaign is None:
        raise Open311Error(404, "暂无创建活动，暂不受理。")
    return campaign


# --- Service discovery --------------------------------------------------------------------------

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"


@open311_view(("GET",))
def discovery(request, fmt):
    """GET discovery.(json|xml): the spec's required service discovery — where the GeoReport v2
    endpoint is, its formats, whom to ask and how to get a key. `changeset` is the time of the
    answer: categories keep no time of change, so a client is never told its copy is current."""
    base = request.build_absolute_uri(reverse("open311-services", kwargs={"fmt": fmt})).rsplit("/services.", 1)[0]
    changeset = _w3c(timezone.now())
    data = {
        "changeset": changeset,
        "contact": "创建办（本平台的创城工作办公室）",
        "key_service": "提交服务请求需要接口密钥（api_key）：请向创建办申请，由创建办在平台“接口密钥”页签发；读取无需密钥。",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base,
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(fmt, "discovery", "", data)


# --- Services -----------------------------------------------------------------------------------


def service_rows(campaign: Campaign) -> list[dict]:
    """The campaign's active categories as Open311 services (two queries: the categories and their
    point types)."""
    categories = PublicCategory.objects.filter(campaign=campaign, active=True).prefetch_related("point_types")
    return [
        {
            "service_code": category.code,
            "service_name": category.name,
            "description": category.description,
            "metadata": False,
            "type": "realtime",
            "keywords": ",".join(point_type.name for point_type in category.point_types.all()),
            "group": category.group,
        }
        for category in categories.order_by("order", "id")
    ]


@open311_view(("GET",))
def services(request, fmt):
    """GET services.(json|xml): the services (categories) of the jurisdiction."""
    return render(fmt, "services", "service", service_rows(jurisdiction(request)))


@open311_view(("GET",))
def service_definition(request, fmt, service_code: str):
    """GET services/{service_code}.(json|xml): no metadata, so no attributes."""
    campaign = jurisdiction(request)
    if not PublicCategory.objects.filter(campaign=campaign, code=service_code, active=True).exists():
        raise Open311Error(404, f"未找到服务编码（service_code）“{service_code[:40]}”。")
    return render(fmt, "service_definition", "", {"service_code": service_code, "attributes": []})


# --- Requests -----------------------------------------------------------------------------------


def published_reports():
    """The reports Open311 may show, with what their status needs, in one query."""
    return Report.objects.filter(channel__in=PUBLISHED_CHANNELS).select_related(
        "category", "problem", "problem__handler"
    )


def public_text(text: str) -> str:
    """A reporter's text as published: phone numbers typed into it hidden."""
    return _PHONE_IN_TEXT.sub(PHONE_HIDDEN, text or "")


def request_row(report: Report) -> dict:
    """One report as a GeoReport service request: public fields only."""
    public = report_public_status(report)
    problem = report.problem
    deadline = problem.deadline if problem is not None else None
    expected = (
        timezone.make_aware(datetime.datetime.combine(deadline, datetime.time(23, 59, 59)))
        if deadline and public.open311_status == "open"
        else None
    )
    # Unmoderated text is never published: the words appear once the office accepted or merged it.
    moderated = report.status in (ReportStatus.ACCEPTED, ReportStatus.MERGED)
    return {
        "service_request_id": report.reference,
        "status": public.open311_status,
        "status_notes": f"{public.label}：{public.note}" if public.note else public.label,
        "service_name": report.category.name if report.category_id else report.category_text,
        "service_code": report.category.code if report.category_id else "",
        "description": public_text(report.description) if moderated else "",
        "agency_responsible": problem.handler.name if problem is not None and problem.handler_id else "",
        "service_notice": "",
        "requested_datetime": _w3c(report.submitted_at),
        "updated_datetime": _w3c(public.updated_at),
        "expected_datetime": _w3c(expected),
        "address": public_text(report.address) if moderated else "",
        "address_id": "",
        "zipcode": "",
        "lat": float(report.latitude) if report.latitude is not None else None,
        "long": float(report.longitude) if report.longitude is not None else None,
        "media_url": "",
    }


def _moment(raw: str, name: str, *, end: bool = False) -> datetime.datetime:
    """A W3C datetime (or a date: its start, or for an end date its end) as an aware datetime."""
    raw = raw.strip()
    try:
        moment = parse_datetime(raw)
        day = None if moment else parse_date(raw)
    except ValueError:
        moment = day = None
    if day is not None:
        moment = datetime.datetime.combine(day, datetime.time.max if end else datetime.time.min)
    if moment is None:
        raise Open311Error(400, f"{name} 格式不正确，应为 W3C 日期时间，如 2026-11-05T08:15:30+08:00。")
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _positive(raw: str | None, name: str, default: int, largest: int) -> int:
    if raw in (None, ""):
        return default
    if not _digits(raw) or len(raw) > 10 or not 1 <= int(raw) <= largest:
        raise Open311Error(400, f"{name} 应为 1 到 {largest} 之间的整数。")
    return int(raw)


def _csv(raw: str | None) -> list[str]:
    return list(dict.fromkeys(part.strip() for part in (raw or "").split(",") if part.strip()))


def request_list(campaign: Campaign, params) -> list[dict]:
    """GET requests: the filters of the spec on the campaign's published reports."""
    reports = published_reports().filter(campaign=campaign)
    ids = _csv(params.get("service_request_id"))
    if ids:
        if len(ids) > MAX_IDS:
            raise Open311Error(400, f"service_request_id 一次最多 {MAX_IDS} 个。")
        reports = reports.filter(reference__in=[reference_normalize(value) for value in ids])
    else:
        codes = _csv(params.get("service_code"))
        if codes:
            reports = reports.filter(category__code__in=codes)
        statuses = _csv(params.get("status"))
        if any(value not in ("open", "closed") for value in statuses):
            raise Open311Error(400, "status 只能为 open 或 closed（可用逗号分隔）。")
        if len(statuses) == 1:
            reports = reports.filter(CLOSED_Q) if statuses[0] == "closed" else reports.exclude(CLOSED_Q)
        start_raw, end_raw = params.get("start_date") or "", params.get("end_date") or ""
        start = _moment(start_raw, "start_date") if start_raw.strip() else None
        end = _moment(end_raw, "end_date", end=True) if end_raw.strip() else None
        if start is None and end is None:
            end = timezone.now()
        if start is None:
            start = end - WINDOW
        if end is None:
            end = start + WINDOW
        if start > end:
            raise Open311Error(400, "start_date 不能晚于 end_date。")
        if end - start > WINDOW + datetime.timedelta(days=1):
            raise Open311Error(400, "start_date 与 end_date 相隔不能超过 90 天。")
        reports = reports.filter(submitted_at__gte=start, submitted_at__lte=end)
    size = _positive(params.get("page_size"), "page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    page = _positive(params.get("page"), "page", 1, 10**6)
    rows = reports.order_by("-submitted_at", "-id")[(page - 1) * size : page * size]
    return [request_row(report) for report in rows]


@open311_view(("GET", "POST"))
def requests_view(request, fmt):
    """GET requests.(json|xml): service requests; POST: file one (with an api_key)."""
    if request.method == "POST":
        return _create(request, fmt)
    return render(fmt, "service_requests", "request", request_list(jurisdiction(request), request.GET))


@open311_view(("GET",))
def request_detail(request, fmt, service_request_id: str):
    """GET requests/{service_request_id}.(json|xml): a one-element list."""
    reports = published_reports().filter(reference=reference_normalize(service_request_id))
    if request.GET.get("jurisdiction_id"):
        reports = reports.filter(campaign=jurisdiction(request))
    report = reports.first()
    if report is None:
        raise Open311Error(404, f"未找到服务请求（service_request_id）“{service_request_id[:20]}”。")
    return render(fmt, "service_requests", "request", [request_row(report)])


# --- POST a request -----------------------------------------------------------------------------

# report_submit's fields → the Open311 parameter a client sent.
PARAM_OF = {
    "category": "service_code",
    "description": "description",
    "address": "address_string",
    "latitude": "lat",
    "longitude": "long",
    "reporter_name": "first_name/last_name",
    "reporter_phone": "phone",
}


def _reporter_name(first: str, last: str) -> str:
    first, last = first.strip(), last.strip()
    if first.isascii() and last.isascii():
        return " ".join(part for part in (first, last) if part)
    return f"{last}{first}"  # 姓 then 名


def rate_limited(key: IntakeKey) -> bool:
    """The key filed OPEN311_RATE_PER_KEY reports in the last hour already (counted in the table)."""
    since = timezone.now() - datetime.timedelta(hours=1)
    limit = int(getattr(settings, "OPEN311_RATE_PER_KEY", 120))
    return Report.objects.filter(intake_key=key, submitted_at__gte=since).count() >= limit


def _create(request, fmt) -> HttpResponse:
    data = request.POST
    key = intake_key_verify(data.get("api_key"))
    if key is None:
        raise Open311Error(403, "api_key 缺失、无效或已停用，不能提交服务请求。请向创建办申请接口密钥。")
    if any(len(value) > FIELD_MAX for values in data.lists() for value in values[1]):
        raise Open311Error(400, f"参数过长：每个参数不能超过 {FIELD_MAX} 字。")
    raw_jurisdiction = (data.get("jurisdiction_id") or "").strip()
    if raw_jurisdiction and raw_jurisdiction != str(key.campaign_id):
        raise Open311Error(400, "jurisdiction_id 与接口密钥所属的创建活动不一致。")
    code = (data.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "缺少 service_code（服务编码）。")
    category = PublicCategory.objects.filter(campaign_id=key.campaign_id, code=code, active=True).first()
    if category is None:
        raise Open311Error(400, f"未找到服务编码（service_code）“{code[:40]}”，请先读取服务列表。")
    lat, lng = (data.get("lat") or "").strip(), (data.get("long") or "").strip()
    address = (data.get("address_string") or "").strip()
    address_id = (data.get("address_id") or "").strip()
    if not (lat and lng) and not address and not address_id:
        raise Open311Error(400, "缺少位置：请提供 lat 和 long，或 address_string，或 address_id。")
    if not address and address_id:
        address = f"地址编号 {address_id}"
    with transaction.atomic():
        # One key's posts in turn (its row locked): two at once cannot both pass the hourly count.
        IntakeKey.objects.select_for_update().filter(pk=key.pk).values_list("pk").first()
        if rate_limited(key):
            raise Open311Error(429, "该接口密钥本小时提交的服务请求已达上限，请稍后再试。")
        try:
            report = report_submit(
                campaign=key.campaign,
                channel=ReportChannel.OPEN311,
                category=category,
                description=data.get("description") or "",
                latitude=lat or None,
                longitude=lng or None,
                address=address,
                reporter_name=_reporter_name(data.get("first_name") or "", data.get("last_name") or ""),
                reporter_phone=data.get("phone") or "",
                intake_key=key,
            )
        except ValidationError as exc:
            raise Open311Error(400, _messages(exc)) from None
    notice = RECEIVED_NOTICE + (MEDIA_NOTICE if (data.get("media_url") or "").strip() else "")
    row = {"service_request_id": report.reference, "service_notice": notice, "account_id": None}
    return render(fmt, "service_requests", "request", [row])


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "；".join(
            f"{PARAM_OF.get(field, field)}：{message}"
            for field, errors in exc.message_dict.items()
            for message in errors
        )
    return "；".join(exc.messages)
