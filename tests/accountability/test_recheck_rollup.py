"""The week's 证据疑点 and 抽查复核不属实 in the roll-up (unit rows and the citywide row, computed in
SQL) and the accountability rule 抽查复核不属实 (on when the campaign's setting is)."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import load_workbook

from accountability.bulletin import bulletin_xlsx
from accountability.choices import Action as A
from accountability.choices import CaseLevel, CaseRule
from accountability.models import AccountabilityCase, RollupVersion, UnitWeekScore
from accountability.recheck import recheck_draw, recheck_record
from accountability.rollup import cases_raise, rollup_compute
from accountability.workflow import TransitionInput, problem_transition
from inspections.selectors import iso_week_of
from inspections.services import ObservationInput, inspection_submit, photo_upload
from tests.inspections.test_photo_checks import scene

WEEK = iso_week_of(timezone.now())


def png(seed: int) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    scene(seed).save(buffer, format="PNG")  # no EXIF: flagged 无拍摄信息
    return SimpleUploadedFile("p.png", buffer.getvalue())


def act(user, problem, action, **kwargs):
    return problem_transition(user=user, problem=problem, data=TransitionInput(action=action, **kwargs))


@pytest.fixture
def failed_week(problem, office, liaison_jia, inspector, city, later, round_, market_yi, stall_item, campaign):
    """甲: a problem closed on a report with a flagged photo, drawn and recorded 不属实; 乙: an
    inspection with a flagged photo."""
    act(office, problem, A.ASSIGN, handler=city.street_jia, deadline=later)
    act(liaison_jia, problem, A.ACCEPT)
    photo = photo_upload(user=liaison_jia, file=png(71))
    act(liaison_jia, problem, A.SUBMIT, note="已整改", photos=(photo.pk,))
    act(office, problem, A.APPROVE, note="已核实")
    recheck = recheck_draw(user=office, campaign=campaign, week_from=WEEK, week_to=WEEK, count=1).rechecks.get()
    recheck_record(user=office, recheck=recheck, outcome=False, note="仍未整改")
    yi = photo_upload(user=inspector, file=png(72))
    inspection_submit(
        user=inspector,
        round_=round_,
        point=market_yi,
        client_uuid=uuid.uuid4(),
        observations=[ObservationInput(stall_item.pk, "pass", photos=[yi.pk])],
    )
    return problem


def figures(version):
    rows = UnitWeekScore.objects.filter(rollup=version)
    return {(row.unit.name if row.unit else "全市"): (row.evidence_flagged, row.rechecks_failed) for row in rows}


def test_the_week_counts_flagged_evidence_and_failed_rechecks(failed_week, campaign, city):
    version, _ = rollup_compute(campaign=campaign, week=WEEK)
    found = figures(version)
    # The report's flagged photo: the problem's located community, its handler (甲街道) and above.
    assert found["甲一社区"] == (1, 1)
    assert found["甲街道"] == (1, 1)
    assert found["甲区"] == (1, 1)
    # The inspection's flagged photo: charged to 乙街道 and 乙区.
    assert found["乙街道"] == (1, 0) and found["乙区"] == (1, 0)
    assert found["乙一社区"] == (0, 0)
    assert found["全市"] == (2, 1)


def test_a_failed_recheck_raises_a_case(failed_week, campaign, city):
    version, _ = rollup_compute(campaign=campaign, week=WEEK)
    cases_raise(version=version)
    case = AccountabilityCase.objects.get(unit=city.street_jia, rule=CaseRule.RECHECK_FAILED)
    assert case.level == CaseLevel.INTERVIEW and "抽查复核不属实 1 个" in case.reason
    assert case.evidence["problems"] == [failed_week.pk]
    assert case.get_rule_display() == "抽查复核不属实"
    assert set(
        AccountabilityCase.objects.filter(rule=CaseRule.RECHECK_FAILED).values_list("unit__name", flat=True)
    ) == {
        "甲街道",
        "甲区",
    }


def test_the_campaign_setting_turns_the_rule_off(failed_week, campaign, city):
    campaign.recheck_failed_raises_case = False
    campaign.save(update_fields=["recheck_failed_raises_case"])
    version, _ = rollup_compute(campaign=campaign, week=WEEK)
    assert version.rules["recheck_failed_raises_case"] is False
    cases_raise(version=version)
    assert not AccountabilityCase.objects.filter(rule=CaseRule.RECHECK_FAILED).exists()
    assert figures(version)["甲街道"] == (1, 1)  # still counted in the numbers


def test_the_ranking_row_the_unit_page_and_the_bulletin_workbook_show_them(failed_week, campaign, city, office, client):
    version, _ = rollup_compute(campaign=campaign, week=WEEK)
    client.force_login(office)
    html = client.get(f"/rankings/?campaign={campaign.pk}&week={WEEK}&population=street").content.decode()
    assert "证据疑点 1" in html and "抽查复核不属实 1" in html
    assert f"/rankings/evidence-flags/?week={WEEK}&amp;unit={city.street_jia.pk}" in html
    page = client.get(f"/rankings/units/{city.street_jia.pk}/?campaign={campaign.pk}&week={WEEK}").content.decode()
    assert "本周证据疑点" in page and "抽查复核不属实 1 个" in page
    version = RollupVersion.objects.select_related("campaign").get(pk=version.pk)
    sheet = load_workbook(io.BytesIO(bulletin_xlsx(version=version)))["街道排名"]
    header = [c.value for c in sheet[1]]
    rows = {row[header.index("单位")]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["甲街道"][header.index("证据疑点")] == 1
    assert rows["甲街道"][header.index("抽查复核不属实")] == 1
    assert rows["乙街道"][header.index("抽查复核不属实")] == 0
