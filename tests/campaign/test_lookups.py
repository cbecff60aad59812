"""Unit references in a spreadsheet cell: several per cell, any separator, ambiguity named."""

import pytest

from campaign.choices import UnitKind
from campaign.lookups import UnitLookup
from campaign.services import unit_create


@pytest.fixture
def units(db):
    district = unit_create(name="示范市东湖区", short_name="东湖区", code="DH", kind=UnitKind.DISTRICT)
    other = unit_create(name="示范市西山区", short_name="西山区", code="XS", kind=UnitKind.DISTRICT)
    return {
        "gov": unit_create(
            name="东湖区政务服务办公室", short_name="区政务办", code="DH-ZW", kind=UnitKind.DEPARTMENT, parent=district
        ),
        "fire": unit_create(
            name="东湖区消防救援大队", short_name="消防大队", code="DH-XF", kind=UnitKind.DEPARTMENT, parent=district
        ),
        "spaced": unit_create(name="市 城管局", code="D-CG", kind=UnitKind.DEPARTMENT),
        "street_a": unit_create(
            name="东湖区城关镇", short_name="城关镇", code="DH-CG", kind=UnitKind.STREET, parent=district
        ),
        "street_b": unit_create(
            name="西山区城关镇", short_name="城关镇", code="XS-CG", kind=UnitKind.STREET, parent=other
        ),
    }


def test_a_department_may_sit_under_a_district(units):
    assert units["gov"].parent.kind == UnitKind.DISTRICT


@pytest.mark.parametrize(
    "cell",
    [
        "区政务办 消防大队",
        "区政务办　消防大队",
        "区政务办、消防大队",
        "区政务办,\n消防大队",
        "区政务办  消防大队；区政务办",
    ],
)
def test_several_units_in_a_cell_split_on_any_separator_including_spaces(units, cell):
    found, errors = UnitLookup().resolve_many(cell, kinds={UnitKind.DEPARTMENT})
    assert errors == []
    assert found == [units["gov"], units["fire"]]


def test_a_name_holding_a_space_is_kept_whole(units):
    found, errors = UnitLookup().resolve_many("市 城管局", kinds={UnitKind.DEPARTMENT})
    assert (found, errors) == ([units["spaced"]], [])


def test_a_spaced_part_that_names_no_unit_reports_each_piece(units):
    found, errors = UnitLookup().resolve_many("区政务办 无此部门", kinds={UnitKind.DEPARTMENT})
    assert found == [units["gov"]]
    assert len(errors) == 1 and errors[0].startswith("找不到单位“无此部门”")


def test_an_ambiguous_name_names_its_candidates(units):
    unit, message = UnitLookup().resolve("城关镇")
    assert unit is None
    assert "东湖区城关镇（编码 DH-CG）" in message and "西山区城关镇（编码 XS-CG）" in message
