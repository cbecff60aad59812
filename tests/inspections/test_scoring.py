"""The deduction rule, table-driven."""

from decimal import Decimal

import pytest

from inspections.scoring import score_observation


@pytest.mark.parametrize(
    ("result", "occurrences", "per", "cap", "deduction", "loss", "score"),
    [
        ("pass", 0, "0.5", "2", "0.00", "0", "1"),
        ("pass", 3, "0.5", "2", "0.00", "0", "1"),  # occurrences do not count on a pass
        ("fail", 1, "0.5", "2", "0.50", "0.25", "0.75"),
        ("fail", 3, "0.5", "2", "1.50", "0.75", "0.25"),
        ("fail", 4, "0.5", "2", "2.00", "1", "0"),
        ("fail", 9, "0.5", "2", "2.00", "1", "0"),  # capped: 扣完为止
        ("fail", 0, "0.5", "2", "0.50", "0.25", "0.75"),  # a failure is at least one occurrence
        ("severe", 1, "0.5", "2", "2.00", "1", "0"),  # 严重不合格 takes the cap
        ("fail", 1, "1", "1", "1.00", "1", "0"),  # a pass/fail item
        ("fail", 1, "0.3", "1", "0.30", "0.3", "0.7"),
        ("fail", 1, "1", "3", "1.00", "0.333333", "0.666667"),
    ],
)
def test_score(result, occurrences, per, cap, deduction, loss, score):
    scored = score_observation(result=result, occurrences=occurrences, per_occurrence=Decimal(per), cap=Decimal(cap))
    assert (scored.deduction, scored.loss, scored.score) == (Decimal(deduction), Decimal(loss), Decimal(score))


def test_unknown_result_is_refused():
    with pytest.raises(ValueError):
        score_observation(result="maybe", occurrences=1, per_occurrence=Decimal(1), cap=Decimal(1))


@pytest.mark.parametrize(
    ("result", "given", "cap", "deduction", "loss", "score"),
    [
        ("fail", "0.3", "1", "0.30", "0.3", "0.7"),  # an evaluator's 扣分 0.3 of a cap of 1
        ("pass", "0", "1", "0.00", "0", "1"),
        ("fail", "0.0", "1", "0.00", "0", "1"),
        ("severe", "0.5", "2", "0.50", "0.25", "0.75"),  # a given value wins over the result's rule
        ("fail", "1", "1", "1.00", "1", "0"),
        ("fail", "0.25", "3", "0.25", "0.083333", "0.916667"),
        ("fail", "2", "2", "2.00", "1", "0"),
    ],
)
def test_a_given_deduction_is_scored_as_given(result, given, cap, deduction, loss, score):
    scored = score_observation(
        result=result, occurrences=0, per_occurrence=Decimal("0.5"), cap=Decimal(cap), deduction=Decimal(given)
    )
    assert (scored.deduction, scored.loss, scored.score) == (Decimal(deduction), Decimal(loss), Decimal(score))


@pytest.mark.parametrize("given", ["-0.1", "1.01", "0.333"])
def test_a_given_deduction_outside_the_cap_or_with_three_decimals_is_refused(given):
    with pytest.raises(ValueError):
        score_observation(
            result="fail", occurrences=0, per_occurrence=Decimal(1), cap=Decimal(1), deduction=Decimal(given)
        )
