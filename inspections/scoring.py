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


def score_observation(*, result: str, occurrences: int, per_occurrence: Decimal, cap: Decimal) -> Scored:
    """deduction = min(occurrences × per-occurrence, cap); 严重不合格 = cap; 合格 = 0;
    loss = deduction / cap in [0, 1]; score = 1 − loss."""
    if cap <= 0 or per_occurrence <= 0:
        raise ValueError("per-occurrence deduction and cap must be positive")
    if result == Result.PASS:
        deduction = Decimal(0)
    elif result == Result.SEVERE:
        deduction = cap
    elif result == Result.FAIL:
        deduction = min(max(occurrences, 1) * per_occurrence, cap)
    else:
        raise ValueError(f"unknown result {result!r}")
    loss = (deduction / cap).quantize(SIX_PLACES, rounding=ROUND_HALF_UP)
    return Scored(deduction=deduction.quantize(Decimal("0.01")), loss=loss, score=Decimal(1) - loss)
