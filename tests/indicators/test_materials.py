"""Declaration materials: submit, review, resubmit with versions; who may do what."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from campaign import services as campaign_services
from campaign.files import minimal_pdf, tiny_png
from indicators import services
from indicators.choices import MaterialAction, MaterialStatus
from indicators.models import Material, MaterialEvent, MaterialFile
from indicators.services import sniff_material_type

PDF = minimal_pdf()
PNG = tiny_png()


def pdf(name="材料.pdf", data=PDF):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def snapshot():
    return (
        list(Material.objects.values_list("pk", "status", "description", "return_reason").order_by("pk")),
        list(MaterialFile.objects.values_list("pk", "version", "current").order_by("pk")),
        MaterialEvent.objects.count(),
    )


def docx_bytes(part="word/document.xml"):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PDF, "pdf"),
        (PNG, "png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "jpg"),
        (docx_bytes(), "docx"),
        (docx_bytes("xl/workbook.xml"), "xlsx"),
        (docx_bytes("ppt/presentation.xml"), None),
        (b"PK\x03\x04 not really a zip", None),
        (b"MZ\x90\x00 an executable", None),
        ("纯文本，改名为 pdf".encode(), None),
    ],
)
def test_the_type_comes_from_the_content(data, kind):
    assert sniff_material_type(data) == kind


def test_liaison_submits_for_an_inherited_indicator(tree, city, liaison_jia):
    material = services.material_submit(
        user=liaison_jia, indicator=tree["st1"], unit=city.street_jia, description="宣传栏照片", files=[pdf()]
    )
    assert material.status == MaterialStatus.PENDING
    stored = material.files.get()
    assert (stored.original_name, stored.version, stored.current, stored.content_type) == (
        "材料.pdf",
        1,
        True,
        "application/pdf",
    )
    assert stored.file.read() == PDF
    assert list(material.events.values_list("action", flat=True)) == [MaterialAction.SUBMIT]


def test_a_renamed_text_file_is_refused_and_nothing_written(tree, city, liaison_jia):
    before = snapshot()
    with pytest.raises(ValidationError) as info:
        services.material_submit(
            user=liaison_jia,
            indicator=tree["st1"],
            unit=city.street_jia,
            description="x",
            files=[pdf("假的.pdf", "不是PDF".encode())],
        )
    assert "类型不受支持" in info.value.message_dict["files"][0]
    assert snapshot() == before


def test_size_limit(tree, city, liaison_jia, settings):
    settings.MATERIAL_MAX_BYTES = 10
    with pytest.raises(ValidationError) as info:
        services.material_submit(
            user=liaison_jia, indicator=tree["st1"], unit=city.street_jia, description="x", files=[pdf()]
        )
    assert "过大" in info.value.message_dict["files"][0]
    assert not Material.objects.exists()


def test_other_streets_liaison_cannot_submit(tree, city, liaison_yi):
    with pytest.raises(PermissionDenied):
        services.material_submit(
            user=liaison_yi, indicator=tree["st1"], unit=city.street_jia, description="x", files=[pdf()]
        )
    assert not Material.objects.exists()


def test_an_indicator_the_unit_does_not_own_is_refused(tree, city, liaison_jia):
    with pytest.raises(ValidationError) as info:
        services.material_submit(
            user=liaison_jia, indicator=tree["c3"], unit=city.street_jia, description="x", files=[pdf()]
        )
    assert info.value.message_dict["indicator"] == ["该指标不属于本单位的牵头或责任范围。"]
    assert not Material.objects.exists()


def test_office_and_leaders_do_not_submit(tree, city, office, leader):
    for user in (office, leader):
        with pytest.raises(PermissionDenied):
            services.material_submit(
                user=user, indicator=tree["st1"], unit=city.street_jia, description="x", files=[pdf()]
            )
    assert not Material.objects.exists()


def test_first_submission_needs_a_file_and_a_description(tree, city, liaison_jia):
    with pytest.raises(ValidationError):
        services.material_submit(user=liaison_jia, indicator=tree["st1"], unit=city.street_jia, description="x")
    with pytest.raises(ValidationError):
        services.material_submit(
            user=liaison_jia, indicator=tree["st1"], unit=city.street_jia, description=" ", files=[pdf()]
        )
    assert not Material.objects.exists()


@pytest.fixture
def submitted(tree, city, liaison_jia):
    return services.material_submit(
        user=liaison_jia, indicator=tree["st1"], unit=city.street_jia, description="宣传栏照片", files=[pdf()]
    )


def test_return_needs_a_reason_then_resubmit_keeps_the_old_version(submitted, office, liaison_jia, tree, city):
    before = snapshot()
    with pytest.raises(ValidationError):
        services.material_review(user=office, material=submitted, approve=False, reason="  ")
    assert snapshot() == before
    returned = services.material_review(user=office, material=submitted, approve=False, reason="照片不清晰")
    assert (returned.status, returned.return_reason) == (MaterialStatus.RETURNED, "照片不清晰")

    old = submitted.files.get()
    again = services.material_submit(
        user=liaison_jia,
        indicator=tree["st1"],
        unit=city.street_jia,
        description="宣传栏照片（重拍）",
        replace={old.pk: pdf("材料-重拍.pdf")},
    )
    assert again.status == MaterialStatus.PENDING
    files = list(again.files.order_by("version").values_list("original_name", "version", "current", "replaces"))
    assert files == [("材料.pdf", 1, False, None), ("材料-重拍.pdf", 2, True, old.pk)]
    assert list(again.events.values_list("action", "status_after")) == [
        (MaterialAction.SUBMIT, MaterialStatus.PENDING),
        (MaterialAction.RETURN, MaterialStatus.RETURNED),
        (MaterialAction.RESUBMIT, MaterialStatus.PENDING),
    ]
    approved = services.material_review(user=office, material=again, approve=True)
    assert (approved.status, approved.return_reason, approved.reviewed_by) == (MaterialStatus.APPROVED, "", office)


def test_a_resubmission_must_change_something(submitted, office, liaison_jia, tree, city):
    services.material_review(user=office, material=submitted, approve=False, reason="缺少说明")
    before = snapshot()
    with pytest.raises(ValidationError):
        services.material_submit(
            user=liaison_jia, indicator=tree["st1"], unit=city.street_jia, description="宣传栏照片"
        )
    assert snapshot() == before


def test_an_approved_material_is_closed(submitted, office, liaison_jia, tree, city):
    services.material_review(user=office, material=submitted, approve=True)
    before = snapshot()
    with pytest.raises(ValidationError):
        services.material_submit(
            user=liaison_jia, indicator=tree["st1"], unit=city.street_jia, description="更新", files=[pdf()]
        )
    with pytest.raises(ValidationError):
        services.material_review(user=office, material=submitted, approve=False, reason="再退回")
    assert snapshot() == before


@pytest.mark.parametrize("persona", ["liaison_jia", "liaison_yi", "leader", "inspector"])
def test_who_may_not_review(submitted, persona, request):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.material_review(user=request.getfixturevalue(persona), material=submitted, approve=True)
    assert snapshot() == before


def test_a_work_group_leader_reviews_its_units_materials(submitted, leader, campaign, city):
    campaign_services.work_group_create(
        campaign=campaign, name="城市建设管理组", leaders=[leader], units=[city.district_jia]
    )
    reviewed = services.material_review(user=leader, material=submitted, approve=True)
    assert reviewed.status == MaterialStatus.APPROVED


def test_a_work_group_leader_of_other_units_may_not(submitted, leader, campaign, city):
    campaign_services.work_group_create(
        campaign=campaign, name="社会事业组", leaders=[leader], units=[city.district_yi]
    )
    with pytest.raises(PermissionDenied):
        services.material_review(user=leader, material=submitted, approve=True)
