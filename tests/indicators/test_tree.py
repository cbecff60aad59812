"""Derived fields of the tree: weights, shares, declaration leaves, inherited assignments."""

from decimal import Decimal

from indicators import services
from indicators.choices import AssignmentRole
from indicators.models import Assignment
from indicators.selectors import indicator_ancestors, indicator_tree


def units_of(node, role):
    return sorted(
        (a.unit.name, a.inherited) for a in Assignment.objects.filter(indicator=node, role=role).select_related("unit")
    )


def test_effective_weight_is_own_else_the_childrens_sum(tree):
    assert tree["p1"].weight is None
    assert tree["p1"].effective_weight == Decimal(10)
    assert tree["i1"].effective_weight == Decimal(10)
    assert tree["p2"].effective_weight == Decimal(10)
    assert tree["c3"].effective_weight is None


def test_a_disagreeing_sheet_is_visible(tree):
    services.indicator_update(indicator=tree["i1"], weight=Decimal(12))
    tree["i1"].refresh_from_db()
    assert (tree["i1"].effective_weight, tree["i1"].children_weight) == (Decimal(12), Decimal(10))


def test_leaf_shares_split_the_nearest_weight_and_sum_to_the_total(tree):
    shares = {k: tree[k].share_weight for k in ("st1", "st2", "c2", "c3")}
    assert shares == {"st1": Decimal(3), "st2": Decimal(3), "c2": Decimal(4), "c3": Decimal(10)}
    assert tree["p1"].share_weight == Decimal(0)  # only leaves carry a share


def test_declaration_leaves_take_methods_from_the_nearest_ancestor(tree):
    flags = {k: tree[k].is_declaration for k in ("st1", "st2", "c2", "c3", "c1")}
    assert flags == {"st1": True, "st2": True, "c2": True, "c3": False, "c1": False}


def test_assignments_are_inherited_per_role(tree):
    assert units_of(tree["st1"], AssignmentRole.LEAD) == [("示范市城市管理局", True)]
    assert units_of(tree["st1"], AssignmentRole.RESPONSIBLE) == [("甲街道", True)]
    assert units_of(tree["i1"], AssignmentRole.LEAD) == [("示范市城市管理局", False)]
    assert units_of(tree["p1"], AssignmentRole.LEAD) == [("示范市文明办", False)]
    assert units_of(tree["c3"], AssignmentRole.RESPONSIBLE) == [("乙街道", True)]
    assert units_of(tree["c3"], AssignmentRole.LEAD) == []


def test_own_units_replace_the_inherited_ones(tree, city):
    services.indicator_set_units(indicator=tree["c2"], role=AssignmentRole.LEAD, units=[city.dept_office])
    assert units_of(tree["c2"], AssignmentRole.LEAD) == [("示范市文明办", False)]
    services.indicator_set_units(indicator=tree["c2"], role=AssignmentRole.LEAD, units=[])
    assert units_of(tree["c2"], AssignmentRole.LEAD) == [("示范市城市管理局", True)]


def test_tree_in_order_with_a_fixed_number_of_queries(tree, django_assert_num_queries):
    with django_assert_num_queries(4):
        nodes = indicator_tree(system=tree["p1"].system)
        codes = [n.code for n in nodes]
        methods = [sorted(m.method for m in n.method_rows.all()) for n in nodes]
    assert codes == ["Ⅰ-1", "Ⅱ-1", "Ⅲ-1", "1)", "2)", "Ⅲ-2", "Ⅰ-2", "Ⅲ-3"]
    assert methods[2] == ["field", "online"]
    assert [(n.declaration_total, n.declaration_approved) for n in nodes][:3] == [(3, 0), (3, 0), (2, 0)]


def test_ancestors(tree):
    assert [n.code for n in indicator_ancestors(indicator=tree["st2"])] == ["Ⅰ-1", "Ⅱ-1", "Ⅲ-1"]
