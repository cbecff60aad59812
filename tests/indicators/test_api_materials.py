"""Declaration materials through the API: submit, review, return, resubmit with versions, download;
persona by persona. Every refused write leaves the database as it was."""

from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from campaign import services as campaign_services
from campaign.files import minimal_pdf, tiny_png
from indicators import services
from indicators.choices import MaterialStatus
from indicators.models import Material, MaterialEvent, MaterialFile

User = get_user_model()

PDF = minimal_pdf("first")
PDF_V2 = minimal_pdf("second take")
PNG = tiny_png()


def pdf(name="宣传栏照片.pdf", data=PDF):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def snapshot():
    """Materials, their files and their history, to assert that a refused write changed nothing."""
    return (
        list(
            Material.objects.order_by("pk").values_list(
                "pk",
                "indicator_id",
                "unit_id",
                "description",
                "status",
                "return_reason",
                "submitted_at",
                "reviewed_by",
                "reviewed_at",
            )
        ),
        list(MaterialFile.objects.order_by("pk").values_list("pk", "file", "version", "current", "replaces")),
        list(MaterialEvent.objects.order_by("pk").values_list("pk", "action", "status_after")),
    )


def stored_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def submit(api, user, indicator, unit, files=None, description="宣传栏照片"):
    data = {"indicator": indicator.pk, "description": description, "files": files if files is not None else [pdf()]}
    if unit is not None:
        data["unit"] = unit.pk
    return api(user).post("/api/v1/materials/", data, format="multipart")


@pytest.fixture
def material(tree, city, liaison_jia):
    """甲街道's pending material for 标准一 (it inherits the responsibility from Ⅱ-1)."""
    return services.material_submit(
        user=liaison_jia, indicator=tree["st1"], unit=city.street_jia, description="宣传栏照片", files=[pdf()]
    )


def review(api, user, material, action, reason=""):
    return api(user).post(
        f"/api/v1/materials/{material.pk}/review/", {"action": action, "reason": reason}, format="json"
    )


# --- Submitting ---------------------------------------------------------------------------------


def test_liaison_uploads_a_pdf_for_an_inherited_indicator(api, tree, city, liaison_jia):
    response = submit(api, liaison_jia, tree["st1"], city.street_jia)
    assert response.status_code == 201, response.json()
    material = Material.objects.get()
    stored = material.files.get()
    body = response.json()
    assert body == {
        "id": material.pk,
        "system": tree["st1"].system_id,
        "indicator": tree["st1"].pk,
        "indicator_label": "1) 标准一",
        "unit": city.street_jia.pk,
        "unit_name": "甲街道",
        "description": "宣传栏照片",
        "status": "pending",
        "status_display": "待审核",
        "return_reason": "",
        "submitted_at": body["submitted_at"],
        "reviewed_at": None,
        "files": [
            {
                "id": stored.pk,
                "name": "宣传栏照片.pdf",
                "size": len(PDF),
                "content_type": "application/pdf",
                "version": 1,
                "current": True,
                "uploaded_at": body["files"][0]["uploaded_at"],
                "url": f"http://testserver/api/v1/materials/{material.pk}/files/{stored.pk}/",
            }
        ],
        "events": [
            {
                "action": "submit",
                "action_display": "提交",
                "actor": "liaison_jia",
                "note": "宣传栏照片",
                "status_after": "pending",
                "at": body["events"][0]["at"],
            }
        ],
    }
    assert stored.file.read() == PDF


def test_the_unit_defaults_to_the_liaisons_only_unit(api, tree, city, liaison_jia):
    response = submit(api, liaison_jia, tree["c2"], None)
    assert response.status_code == 201, response.json()
    assert response.json()["unit"] == city.street_jia.pk


def test_posting_again_adds_to_the_pending_material(api, material, tree, city, liaison_jia):
    response = submit(
        api,
        liaison_jia,
        tree["st1"],
        city.street_jia,
        files=[SimpleUploadedFile("现场.png", PNG, content_type="image/png")],
        description="补充照片",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["id"] == material.pk
    assert sorted((f["name"], f["current"]) for f in response.json()["files"]) == [
        ("宣传栏照片.pdf", True),
        ("现场.png", True),
    ]
    assert Material.objects.count() == 1


def test_a_text_file_named_pdf_is_refused_and_nothing_written(api, tree, city, liaison_jia, settings):
    before = snapshot()
    response = submit(
        api, liaison_jia, tree["st1"], city.street_jia, files=[pdf("假的.pdf", "这只是一段文字".encode())]
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "detail": "文件“假的.pdf”的类型不受支持：只接受 PDF、Word (.docx)、Excel (.xlsx)、JPG、PNG。",
        "fields": {"files": ["文件“假的.pdf”的类型不受支持：只接受 PDF、Word (.docx)、Excel (.xlsx)、JPG、PNG。"]},
    }
    assert snapshot() == before
    assert stored_files(settings) == []


def test_a_first_submission_needs_a_file_and_a_description(api, tree, city, liaison_jia):
    before = snapshot()
    response = submit(api, liaison_jia, tree["st1"], city.street_jia, files=[])
    assert (response.status_code, response.json()["fields"]) == (400, {"files": ["请至少上传一个文件。"]})
    response = submit(api, liaison_jia, tree["st1"], city.street_jia, description="  ")
    assert (response.status_code, response.json()["fields"]) == (400, {"description": ["请填写材料说明。"]})
    assert snapshot() == before


def test_an_indicator_the_unit_does_not_own_is_refused(api, tree, city, liaison_jia):
    before = snapshot()
    response = submit(api, liaison_jia, tree["c3"], city.street_jia)
    assert response.status_code == 400
    assert response.json()["fields"] == {"indicator": ["该指标不属于本单位的牵头或责任范围。"]}
    # A community under 甲街道 is within the liaison's subtree but answers for nothing here.
    response = submit(api, liaison_jia, tree["st1"], city.community_jia1)
    assert response.status_code == 400
    assert snapshot() == before


def test_another_streets_liaison_cannot_upload_to_it(api, tree, city, liaison_yi, settings):
    before = snapshot()
    response = submit(api, liaison_yi, tree["st1"], city.street_jia)
    assert response.status_code == 403
    assert response.json() == {"code": "permission_denied", "detail": "只有本单位的联络员可以报送材料。"}
    response = submit(api, liaison_yi, tree["st1"], city.street_yi)
    assert response.status_code == 400
    assert response.json()["fields"] == {"indicator": ["该指标不属于本单位的牵头或责任范围。"]}
    response = submit(api, liaison_yi, tree["st1"], None)
    assert response.status_code == 400
    assert snapshot() == before
    assert stored_files(settings) == []


def test_a_departments_liaison_submits_for_what_it_leads(api, tree, city, liaison_dept):
    before = snapshot()
    assert submit(api, liaison_dept, tree["st1"], city.street_jia).status_code == 403
    assert snapshot() == before
    response = submit(api, liaison_dept, tree["st1"], city.dept_cg)
    assert response.status_code == 201, response.json()
    assert response.json()["unit"] == city.dept_cg.pk


@pytest.mark.parametrize("persona", ["office", "leader", "inspector"])
def test_only_liaisons_submit(api, tree, city, persona, request, settings):
    user = request.getfixturevalue(persona)
    before = snapshot()
    response = submit(api, user, tree["st1"], city.street_jia)
    assert response.status_code == 403
    assert response.json()["detail"] == "只有本单位的联络员可以报送材料。"
    assert snapshot() == before
    assert stored_files(settings) == []


# --- Reading and scope --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("office", True),
        ("leader", True),
        ("inspector", True),
        ("liaison_jia", True),
        ("liaison_yi", False),
        ("liaison_dept", False),
    ],
)
def test_who_sees_the_material_and_its_file(api, material, persona, visible, request):
    client = api(request.getfixturevalue(persona))
    stored = material.files.get()
    listed = [row["id"] for row in client.get("/api/v1/materials/").json()["results"]]
    assert listed == ([material.pk] if visible else [])
    assert client.get(f"/api/v1/materials/{material.pk}/").status_code == (200 if visible else 404)
    response = client.get(f"/api/v1/materials/{material.pk}/files/{stored.pk}/")
    assert response.status_code == (200 if visible else 404)
    if not visible:
        assert response.json() == {"code": "not_found", "detail": "未找到该对象，或您无权查看。"}


def test_the_download_streams_the_file_with_its_chinese_name(api, material, liaison_jia):
    stored = material.files.get()
    response = api(liaison_jia).get(
        f"/api/v1/materials/{material.pk}/files/{stored.pk}/", HTTP_ACCEPT="application/pdf"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f"attachment; filename*=utf-8''{quote('宣传栏照片.pdf')}"
    assert b"".join(response.streaming_content) == PDF


def test_a_file_of_another_material_is_404(api, material, tree, city, liaison_jia):
    other = services.material_submit(
        user=liaison_jia,
        indicator=tree["c2"],
        unit=city.street_jia,
        description="志愿服务台账",
        files=[pdf("台账.pdf")],
    )
    response = api(liaison_jia).get(f"/api/v1/materials/{material.pk}/files/{other.files.get().pk}/")
    assert response.status_code == 404


def test_another_streets_liaison_gets_404_and_nothing_changes(api, material, liaison_yi, settings):
    client = api(liaison_yi)
    before, files_before = snapshot(), stored_files(settings)
    responses = [
        client.post(f"/api/v1/materials/{material.pk}/review/", {"action": "approve"}, format="json"),
        client.post(
            f"/api/v1/materials/{material.pk}/resubmit/", {"description": "篡改", "files": [pdf()]}, format="multipart"
        ),
        client.post(
            f"/api/v1/materials/{material.pk}/resubmit/",
            {"description": "篡改", f"replace_{material.files.get().pk}": pdf()},
            format="multipart",
        ),
    ]
    assert [r.status_code for r in responses] == [404, 404, 404]
    assert snapshot() == before
    assert stored_files(settings) == files_before


def test_materials_cannot_be_edited_or_deleted_directly(api, material, office, liaison_jia):
    before = snapshot()
    for user in (office, liaison_jia):
        client = api(user)
        assert (
            client.patch(f"/api/v1/materials/{material.pk}/", {"description": "改"}, format="json").status_code == 405
        )
        assert client.delete(f"/api/v1/materials/{material.pk}/").status_code == 405
    assert snapshot() == before


def test_filters(api, material, tree, city, system, liaison_jia, liaison_dept, office):
    services.material_submit(
        user=liaison_dept, indicator=tree["c2"], unit=city.dept_cg, description="台账", files=[pdf()]
    )
    other = Material.objects.exclude(pk=material.pk).get()
    services.material_review(user=office, material=other, approve=True)
    client = api(office)

    def listed(**params):
        response = client.get("/api/v1/materials/", params)
        assert response.status_code == 200, response.json()
        return sorted(row["id"] for row in response.json()["results"])

    assert listed(status="pending") == [material.pk]
    assert listed(status="approved") == [other.pk]
    assert listed(unit=city.dept_cg.pk) == [other.pk]
    assert listed(indicator=tree["st1"].pk) == [material.pk]
    assert listed(system=system.pk) == sorted([material.pk, other.pk])
    assert listed(system=system.pk + 1000) == []
    assert client.get("/api/v1/materials/", {"status": "lost"}).status_code == 400


def test_the_list_does_not_query_per_material(
    api, tree, city, liaison_jia, liaison_dept, office, django_assert_num_queries
):
    services.material_submit(
        user=liaison_jia, indicator=tree["st1"], unit=city.street_jia, description="a", files=[pdf()]
    )

    # A fresh user object per request, so that its scope is not cached from the request before.
    def client():
        return api(User.objects.get(pk=office.pk))

    # scope + count + page (indicator, system, unit, people joined) + files + events with actors.
    reader = client()
    with django_assert_num_queries(5):
        first = reader.get("/api/v1/materials/")
    for key in ("st2", "c2"):
        services.material_submit(
            user=liaison_jia, indicator=tree[key], unit=city.street_jia, description=key, files=[pdf(), pdf("b.pdf")]
        )
        services.material_submit(
            user=liaison_dept, indicator=tree[key], unit=city.dept_cg, description=key, files=[pdf()]
        )
    reader = client()
    with django_assert_num_queries(5):
        second = reader.get("/api/v1/materials/")
    assert (first.json()["count"], second.json()["count"]) == (1, 5)


# --- Reviewing ----------------------------------------------------------------------------------


def test_a_liaison_cannot_review_its_own_material(api, material, liaison_jia):
    before = snapshot()
    response = review(api, liaison_jia, material, "approve")
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "detail": "只有创建办或该单位所属工作组的牵头领导可以审核。",
    }
    assert snapshot() == before
    material.refresh_from_db()
    assert material.status == MaterialStatus.PENDING


@pytest.mark.parametrize("persona", ["leader", "inspector", "liaison_dept"])
def test_others_cannot_review(api, material, persona, request):
    before = snapshot()
    response = review(api, request.getfixturevalue(persona), material, "return", "不行")
    assert response.status_code == (404 if persona == "liaison_dept" else 403)
    assert snapshot() == before


def test_office_returns_only_with_a_reason(api, material, office):
    before = snapshot()
    response = review(api, office, material, "return", "  ")
    assert response.status_code == 400
    assert response.json()["fields"] == {"reason": ["退回时请填写原因。"]}
    response = review(api, office, material, "reject", "照片不清晰")
    assert response.status_code == 400
    assert response.json()["detail"] == "审核操作只能是 approve（通过）或 return（退回）。"
    assert snapshot() == before

    response = review(api, office, material, "return", "照片不清晰")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["status_display"], body["return_reason"]) == ("returned", "退回", "照片不清晰")
    assert body["reviewed_at"] is not None
    assert [(e["action"], e["note"], e["actor"]) for e in body["events"]] == [
        ("submit", "宣传栏照片", "liaison_jia"),
        ("return", "照片不清晰", "office_clerk"),
    ]
    before = snapshot()
    assert review(api, office, material, "approve").status_code == 400  # only pending materials are reviewed
    assert snapshot() == before


def test_resubmitting_replaces_a_file_and_keeps_the_old_version(api, material, office, liaison_jia, settings):
    old = material.files.get()
    review(api, office, material, "return", "照片不清晰")
    response = api(liaison_jia).post(
        f"/api/v1/materials/{material.pk}/resubmit/",
        {"description": "宣传栏照片（重拍）", f"replace_{old.pk}": pdf("宣传栏照片-重拍.pdf", PDF_V2)},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["description"]) == ("pending", "宣传栏照片（重拍）")
    assert [(f["name"], f["version"], f["current"]) for f in body["files"]] == [
        ("宣传栏照片-重拍.pdf", 2, True),
        ("宣传栏照片.pdf", 1, False),
    ]
    assert [e["action"] for e in body["events"]] == ["submit", "return", "resubmit"]
    old.refresh_from_db()
    assert (old.version, old.current) == (1, False)
    new = MaterialFile.objects.get(current=True)
    assert (new.version, new.replaces) == (2, old)
    # Both versions stay downloadable.
    client = api(liaison_jia)
    assert b"".join(client.get(f"/api/v1/materials/{material.pk}/files/{old.pk}/").streaming_content) == PDF
    assert b"".join(client.get(f"/api/v1/materials/{material.pk}/files/{new.pk}/").streaming_content) == PDF_V2


def test_a_resubmission_is_checked_like_a_submission(api, material, office, liaison_jia, leader, settings):
    old = material.files.get()
    review(api, office, material, "return", "缺少说明")
    client = api(liaison_jia)
    url = f"/api/v1/materials/{material.pk}/resubmit/"
    before, files_before = snapshot(), stored_files(settings)
    response = client.post(
        url, {"description": "改过了", f"replace_{old.pk}": pdf("假的.pdf", b"plain text")}, format="multipart"
    )
    assert response.status_code == 400
    assert "类型不受支持" in response.json()["detail"]
    response = client.post(url, {"description": "宣传栏照片"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["detail"] == "重新提交前请修改说明或更新文件。"
    response = client.post(url, {"description": "改过了", "replace_abc": pdf()}, format="multipart")
    assert response.status_code == 400
    assert "replace_abc" in response.json()["fields"]
    response = client.post(url, {"description": "改过了", "replace_999999": pdf()}, format="multipart")
    assert response.status_code == 400
    assert response.json()["fields"] == {"files": ["要替换的文件不存在或已被替换。"]}
    response = api(leader).post(url, {"description": "领导代交", "files": [pdf()]}, format="multipart")
    assert response.status_code == 403
    assert snapshot() == before
    assert stored_files(settings) == files_before


def test_a_leader_who_leads_no_group_cannot_review(api, material, leader):
    before = snapshot()
    response = review(api, leader, material, "approve")
    assert response.status_code == 403
    assert snapshot() == before


def test_a_work_group_leader_approves_and_the_material_is_closed(
    api, material, leader, campaign, city, liaison_jia, settings
):
    campaign_services.work_group_create(
        campaign=campaign, name="城市建设管理组", leaders=[leader], units=[city.district_jia]
    )
    response = review(api, leader, material, "approve")
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["status_display"]) == ("approved", "通过")
    assert response.json()["events"][-1]["actor"] == "leader_wang"

    before, files_before = snapshot(), stored_files(settings)
    response = api(liaison_jia).post(
        f"/api/v1/materials/{material.pk}/resubmit/",
        {"description": "更新", "files": [pdf("新.pdf")]},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "该材料已审核通过，不能再修改；如需更新，请联系创建办。"
    assert submit(api, liaison_jia, material.indicator, city.street_jia).status_code == 400
    assert snapshot() == before
    assert stored_files(settings) == files_before


def test_a_work_group_leader_of_other_units_cannot_review(api, material, leader, campaign, city):
    campaign_services.work_group_create(
        campaign=campaign, name="社会事业组", leaders=[leader], units=[city.district_yi]
    )
    before = snapshot()
    assert review(api, leader, material, "approve").status_code == 403
    assert snapshot() == before


def test_a_random_body_behind_a_pdf_header_is_refused_and_nothing_saved(api, tree, city, liaison_jia):
    """Issue 12: the whole file must parse as what it claims (it used to pass on its first bytes)."""
    import os

    fake = SimpleUploadedFile("伪装.pdf", b"%PDF-1.4\n" + os.urandom(200_000), content_type="application/pdf")
    response = submit(api, liaison_jia, tree["st1"], city.street_jia, files=[fake])
    assert response.status_code == 400
    assert "不是完整的 PDF 文件" in response.json()["detail"]
    assert not Material.objects.exists() and not MaterialFile.objects.exists()
