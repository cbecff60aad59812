"""The unit tree: paths, subtree and ancestor look-ups, kind rules, moves, scopes."""

import pytest
from django.core.exceptions import ValidationError

from campaign import services
from campaign.choices import UnitKind
from campaign.models import Unit
from campaign.selectors import scope_for, unit_ancestors, unit_list, unit_subtree
from tests.conftest import unit_snapshot


def test_paths_follow_the_tree(city):
    assert city.district_jia.path == f"/{city.district_jia.pk}/"
    assert city.community_jia1.path == f"/{city.district_jia.pk}/{city.street_jia.pk}/{city.community_jia1.pk}/"
    assert [city.district_jia.depth, city.street_jia.depth, city.community_jia1.depth] == [0, 1, 2]


def test_subtree_and_ancestors_cost_one_query_whatever_the_depth(city, django_assert_num_queries):
    deep = city.community_jia1
    for level in range(6):  # other units may nest deeply under a community
        deep = services.unit_create(name=f"网格{level}", code=f"G{level}", kind=UnitKind.OTHER, parent=deep)
    with django_assert_num_queries(1):
        names = [u.name for u in unit_ancestors(unit=deep)]
    assert names == ["甲区", "甲街道", "甲一社区", "网格0", "网格1", "网格2", "网格3", "网格4"]
    with django_assert_num_queries(1):
        codes = sorted(unit_subtree(unit=city.street_jia).values_list("code", flat=True))
    assert codes == ["G0", "G1", "G2", "G3", "G4", "G5", "JIA-1", "JIA-1-1", "JIA-1-2"]


@pytest.mark.parametrize(
    ("kind", "parent_attr", "message"),
    [
        (UnitKind.STREET, None, "街道乡镇必须有上级单位"),
        (UnitKind.COMMUNITY, "district_jia", "社区村的上级不能是区县"),
        (UnitKind.STREET, "dept_cg", "街道乡镇的上级不能是市直部门"),
        (UnitKind.DISTRICT, "street_jia", "区县的上级不能是街道乡镇"),
        (UnitKind.DEPARTMENT, "street_jia", "市直部门的上级不能是街道乡镇"),
    ],
)
def test_wrong_parent_kind_is_refused_and_nothing_written(city, kind, parent_attr, message):
    before = unit_snapshot()
    parent = getattr(city, parent_attr) if parent_attr else None
    with pytest.raises(ValidationError) as info:
        services.unit_create(name="新单位", code="NEW", kind=kind, parent=parent)
    assert message in info.value.message_dict["parent"][0]
    assert unit_snapshot() == before


def test_duplicate_code_is_refused(city):
    with pytest.raises(ValidationError) as info:
        services.unit_create(name="另一个", code="JIA", kind=UnitKind.DISTRICT)
    assert info.value.message_dict["code"] == ["编码“JIA”已被其他单位使用。"]


def test_moving_a_street_moves_its_whole_subtree(city, django_assert_max_num_queries):
    services.unit_update(unit=city.street_jia, parent=city.district_yi)
    city.community_jia1.refresh_from_db()
    assert city.community_jia1.path == f"/{city.district_yi.pk}/{city.street_jia.pk}/{city.community_jia1.pk}/"
    assert city.community_jia1.depth == 2
    assert set(unit_subtree(unit=city.district_yi).values_list("name", flat=True)) == {
        "乙区",
        "乙街道",
        "乙一社区",
        "甲街道",
        "甲一社区",
        "甲二社区",
    }
    assert not unit_subtree(unit=city.district_jia, include_self=False).exists()


def test_a_unit_cannot_move_under_its_own_descendant(city):
    other = services.unit_create(name="片区", code="OT", kind=UnitKind.OTHER)
    child = services.unit_create(name="片区下级", code="OT-1", kind=UnitKind.OTHER, parent=other)
    before = unit_snapshot()
    with pytest.raises(ValidationError) as info:
        services.unit_update(unit=other, parent=child)
    assert info.value.message_dict["parent"] == ["上级单位不能是该单位自己或它的下级单位。"]
    assert unit_snapshot() == before


def test_changing_kind_checks_the_children(city):
    with pytest.raises(ValidationError) as info:
        services.unit_update(unit=city.street_jia, kind=UnitKind.OTHER)
    assert "甲一社区" in info.value.message_dict["kind"][0]
    city.street_jia.refresh_from_db()
    assert city.street_jia.kind == UnitKind.STREET


def test_delete_refuses_units_with_children_or_members(city, liaison_dept):
    with pytest.raises(ValidationError):
        services.unit_delete(unit=city.street_jia)
    with pytest.raises(ValidationError):
        services.unit_delete(unit=city.dept_cg)
    services.unit_delete(unit=city.community_jia2)
    assert not Unit.objects.filter(code="JIA-1-2").exists()


def test_scopes_per_persona(city, office, inspector, leader, liaison_jia, liaison_yi, liaison_dept):
    everything = Unit.objects.count()
    assert unit_list(user=office).count() == everything
    assert unit_list(user=inspector).count() == everything
    assert unit_list(user=leader).count() == everything
    assert sorted(unit_list(user=liaison_jia).values_list("name", flat=True)) == ["甲一社区", "甲二社区", "甲街道"]
    assert sorted(unit_list(user=liaison_yi).values_list("name", flat=True)) == ["乙一社区", "乙街道"]
    assert list(unit_list(user=liaison_dept).values_list("name", flat=True)) == ["示范市城市管理局"]
    assert scope_for(leader).read_only and not scope_for(office).read_only
    assert scope_for(liaison_jia).covers(city.community_jia1)
    assert not scope_for(liaison_jia).covers(city.district_jia)


def test_scope_is_computed_once_per_user_object(city, liaison_jia, django_assert_num_queries):
    with django_assert_num_queries(1):
        scope_for(liaison_jia)
        scope_for(liaison_jia)


def test_a_user_without_role_sees_nothing(city, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password="x-pass-123456")
    assert unit_list(user=nobody).count() == 0


def test_normalising_keeps_roman_numeral_codes():
    from campaign.importing import normalize_text

    assert normalize_text("  Ⅲ－57　无障碍设施 ") == "Ⅲ-57 无障碍设施"
    assert normalize_text("①公益广告") == "①公益广告"
    assert normalize_text("ＡＢＣ１２３") == "ABC123"


def test_normalising_keeps_chinese_punctuation_in_titles():
    from campaign.importing import normalize_text

    assert normalize_text("和平巷（湖滨街道），一处；二处：三处！") == "和平巷（湖滨街道），一处；二处：三处！"
    assert normalize_text("区（县）") == "区（县）"


def test_kind_labels_with_chinese_brackets():
    from campaign.services import unit_kind_from_label

    assert unit_kind_from_label("区（县）") == "district"
    assert unit_kind_from_label("社区（村）") == "community"
