"""Strict inputs (issue 12): an unknown query parameter on a list, or an unknown field in a body,
is a 400 in the shared error shape naming it — for every list and every write the schema lists,
so a new endpoint is covered by itself. `?point_type=24` once returned every point; a PATCH with a
misspelt field once answered 200 having changed nothing."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.test import Client
from openpyxl import Workbook

from campaign.models import Unit
from tests.fuzz.test_api_fuzz import RESOURCE_KIND, SCHEMA

UNKNOWN = "zzz_unknown"
NOT_YET_STRICT: set[str] = set()  # every list and write is strict (rankings.py too, since)


def _lists() -> list[str]:
    return sorted(path for path, ops in SCHEMA.raw_schema["paths"].items() if "get" in ops and "{" not in path)


def _writes_with_body() -> list[tuple[str, str]]:
    return sorted(
        (method.upper(), path)
        for path, ops in SCHEMA.raw_schema["paths"].items()
        for method, op in ops.items()
        if method in {"post", "put", "patch"} and op.get("requestBody")
    )


def _client(world, persona: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {world.tokens[persona]}")


def _url(world, path: str) -> str:
    if "{" not in path:
        return path
    kind = RESOURCE_KIND[path.removeprefix("/api/v1/").split("/")[0]]
    path = path.replace("{week}", world.week)  # a published week's pack: the world's week
    return re.sub(r"{\w+}", str(world.obj(kind, "A").pk), path, count=1)


def _is_unknown_refusal(response, name: str, message: str) -> bool:
    if response.status_code != 400:
        return False
    body = response.json()
    return body.get("code") == "invalid" and any(m.startswith(message) for m in body.get("fields", {}).get(name, []))


@pytest.mark.parametrize("path", _lists())
def test_an_unknown_query_parameter_is_a_400_naming_it(fuzz_world, db, path):
    if path in NOT_YET_STRICT:
        pytest.xfail("rankings.py: not yet strict")
    response = _client(fuzz_world, "office").get(path, {UNKNOWN: "1"})
    assert _is_unknown_refusal(response, UNKNOWN, f"未知的查询参数“{UNKNOWN}”。可用的参数："), response.content


def test_the_point_list_names_the_filters_it_knows(fuzz_world, db):
    response = _client(fuzz_world, "office").get("/api/v1/points/", {"point_type": "24"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"].startswith("未知的查询参数“point_type”。可用的参数：") and "type" in body["detail"]
    assert set(body["fields"]) == {"point_type"}
    # The filters the list does read still work, with the page, search, ordering and format.
    known = {"type": fuzz_world.obj("point_type", "A").pk, "page": 1, "page_size": 5, "ordering": "name"}
    answer = _client(fuzz_world, "office").get("/api/v1/points/", {**known, "search": "", "format": "json"})
    assert answer.status_code == 200 and answer.json()["count"] == 1
    near = _client(fuzz_world, "office").get("/api/v1/points/", {"near": "31.5,120.3"})
    assert near.status_code == 200


def test_a_campaign_list_reads_its_declared_parameters(fuzz_world, db):
    client = _client(fuzz_world, "office")
    assert client.get("/api/v1/problems/", {"campaign": "all", "status": "assigned"}).status_code == 200
    assert client.get("/api/v1/history/", {"model": "checkitem", "from": "2026-01-01", "page": 1}).status_code == 200
    assert client.get(f"/api/v1/problems/{fuzz_world.obj('problem', 'A').pk}/events/", {"page": 1}).status_code == 200
    refused = client.get(f"/api/v1/problems/{fuzz_world.obj('problem', 'A').pk}/events/", {"action": "assign"})
    assert refused.status_code == 400 and "action" in refused.json()["fields"]


@pytest.mark.parametrize("value", ["-1.5e288", "2.9e19", "1e60"])
def test_a_number_filter_beyond_any_id_is_a_400(fuzz_world, db, value):
    response = _client(fuzz_world, "office").get("/api/v1/risk-events/", {"system": value})
    assert response.status_code == 400, response.content
    assert set(response.json()["fields"]) == {"system"}


def _send_with_unknown(client, method: str, path: str, url: str):
    content = SCHEMA.raw_schema["paths"][path][method.lower()]["requestBody"]["content"]
    if "application/json" in content:
        return client.generic(method, url, json.dumps({UNKNOWN: "1"}), content_type="application/json")
    return client.post(url, {UNKNOWN: "1"})  # multipart only (uploads)


@pytest.mark.parametrize(("method", "path"), _writes_with_body())
def test_an_unknown_body_field_is_a_400_naming_it(fuzz_world, db, method, path):
    """Sent as the office, else an inspector, else the liaison (a persona the endpoint serves):
    no one may get a 2xx, and one of them gets the field named."""
    if path in NOT_YET_STRICT:
        pytest.xfail("rankings.py: not yet strict")
    url = _url(fuzz_world, path)
    answers = {}
    for persona in ("office", "inspector", "liaison_a"):
        response = _send_with_unknown(_client(fuzz_world, persona), method, path, url)
        answers[persona] = response
        assert response.status_code >= 400, (
            f"{method} {url} as {persona}: {response.status_code} {response.content[:200]}"
        )
        if _is_unknown_refusal(response, UNKNOWN, f"未知的字段“{UNKNOWN}”。可提交的字段："):
            return
    detail = {p: (r.status_code, r.content[:160]) for p, r in answers.items()}
    pytest.fail(f"{method} {url}: nobody was told the field is unknown: {detail}")


def test_a_misspelt_patch_field_changes_nothing_and_says_so(fuzz_world, db):
    unit = fuzz_world.obj("unit", "A")
    response = _client(fuzz_world, "office").patch(
        f"/api/v1/units/{unit.pk}/", json.dumps({"nmae": "新名称"}), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["fields"]["nmae"][0].startswith("未知的字段“nmae”。可提交的字段：")
    assert Unit.objects.get(pk=unit.pk).name == unit.name
    # Echoing a read-only field back (a GET body PUT again) is known, and ignored.
    echoed = _client(fuzz_world, "office").patch(
        f"/api/v1/units/{unit.pk}/", json.dumps({"depth": 7, "kind_display": "x"}), content_type="application/json"
    )
    assert echoed.status_code == 200 and echoed.json()["depth"] == unit.depth


def test_dry_run_in_the_query_string_previews(fuzz_world, db):
    """The schema documents `dry_run` as a query parameter: honoured there as in the form."""
    book = Workbook()
    sheet = book.active
    sheet.append(["名称", "编码", "类型", "上级单位"])
    sheet.append(["丙区", "BING", "区县", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "units.xlsx"
    response = _client(fuzz_world, "office").post("/api/v1/units/import/?dry_run=1", {"file": buffer})
    assert response.status_code == 200, response.content
    assert response.json()["dry_run"] is True and response.json()["created"] == 1
    assert not Unit.objects.filter(code="BING").exists()
    bad = _client(fuzz_world, "office").post("/api/v1/units/import/?dry_run=maybe", {"file": buffer})
    assert bad.status_code == 400 and "dry_run" in bad.json()["fields"]
