"""The one rounding every figure of the evaluation goes through.

Offices round half up (四舍五入) to two places, and a unit checks its sheet by hand: so every
figure is a ``Decimal`` rounded ROUND_HALF_UP to 0.01 where it is shown, and a sum is the sum of
the rounded lines (never re-derived from unrounded parts). Rates are kept as fractions rounded
to 0.0001 (0.01 % once shown as a percentage).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
RATE_STEP = Decimal("0.0001")
ZERO = Decimal(0)
HUNDRED = Decimal(100)


def cents(value: Decimal) -> Decimal:
    """``value`` rounded half up to 0.01."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def rate(part: int, whole: int) -> Decimal | None:
    """``part ÷ whole`` rounded half up to 0.0001; ``None`` when nothing is expected."""
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE_STEP, rounding=ROUND_HALF_UP)


def mean(values: Iterable[Decimal]) -> Decimal | None:
    """The arithmetic mean rounded to 0.01; ``None`` of nothing."""
    found = list(values)
    if not found:
        return None
    return cents(sum(found, ZERO) / len(found))


def clamp(value: Decimal, low: Decimal = ZERO, high: Decimal = HUNDRED) -> Decimal:
    return max(low, min(high, value))
