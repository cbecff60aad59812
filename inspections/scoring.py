"""The scoring rule of one observation, in one pure function (domain guide §4–§5)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .choices import Result

SIX_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class Scored:
    deduction: Decimal
    loss: Decimal
    score: Decimal


def score_observation(
    *, result: str, occurrences: int, per_occurrence: Decimal, cap: Decimal, deduction: Decimal | None = None
) -> Scored:
    """deduction = min(occurrences × per-occurrence, cap); 严重不合格 = cap; 合格 = 0;
    loss = deduction / cap in [0, 1]; score = 1 − loss.

    A deduction given as a value (a third-party evaluator's 扣分 0.3 of a cap of 1) is taken as
    given, whatever the result and occurrences say: loss = deduction / cap, score = 1 − loss. It
    must lie in [0, cap] with at most two decimals."""
    if cap <= 0 or per_occurrence <= 0:
        raise ValueError("per-occurrence deduction and cap must be positive")
    if deduction is not None:
        deduction = Decimal(deduction)
        if not 0 <= deduction <= cap:
            raise ValueError(f"deduction {deduction} outside [0, {cap}]")
        if deduction != deduction.quantize(Decimal("0.01")):
            raise ValueError(f"deduction {deduction} has more than two decimals")
    elif result == Result.PASS:
        deduction = Decimal(0)
    elif result == Result.SEVERE:
        deduction = cap
    elif result == Result.FAIL:
        deduction = min(max(occurrences, 1) * per_occurrence, cap)
    else:
        raise ValueError(f"unknown result {result!r}")
    loss = (deduction / cap).quantize(SIX_PLACES, rounding=ROUND_HALF_UP)
    return Scored(deduction=deduction.quantize(Decimal("0.01")), loss=loss, score=Decimal(1) - loss)
