"""The commitment: everything a draw depends on except the seed, fixed before the seed is known.

Its id is the SHA-256 of one canonical JSON object (keys sorted, no spaces, UTF-8)::

    {"algorithm": "duban-draw/1", "attempt": 1, "inspection": "quarterly",
     "inspectors": "<hash>", "parameters": {...}, "previous": "<hash>",
     "round": "2026-Q1", "units": "<hash>"}

where the three hashes are those of ``registers`` and ``parameters`` holds the sample rule.
Recorded before the seed is given, it lets anyone check afterwards that the registers and the
rule the draw used are the ones announced: a changed register row changes its hash, so the
commitment's id. A second attempt at the same round is a new commitment (``attempt`` + 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from duban.inspect.registers import (
    Assignment,
    Candidate,
    compact_json,
    digest,
    inspector_register,
    previous_register,
    unit_register,
)
from duban.model.inspectors import Inspector

ALGORITHM = "duban-draw/1"


@dataclass(frozen=True)
class Parameters:
    """The sample rule, the same in every stratum: ``count`` units, or a ``share`` of the
    stratum rounded up; at least ``minimum`` (never more than the stratum holds). ``weighted``
    draws by the units' weights (Efraimidis–Spirakis); ``team_size`` inspectors per unit;
    ``load_cap`` limits each inspector to ceil(units drawn × team size ÷ inspectors) + 1 units.
    """

    count: int | None = None
    share: Decimal | None = None
    minimum: int = 0
    weighted: bool = False
    team_size: int = 2
    load_cap: bool = False

    def __post_init__(self) -> None:
        if (self.count is None) == (self.share is None):
            raise ValueError("give either a count or a share, not both or neither")
        if self.count is not None and self.count < 0:
            raise ValueError(f"count must be ≥ 0, not {self.count}")
        if self.share is not None and not 0 < self.share <= 1:
            raise ValueError(f"share must be in (0, 1], not {self.share}")
        if self.minimum < 0 or self.team_size < 1:
            raise ValueError("minimum must be ≥ 0 and team_size ≥ 1")

    def sample_size(self, stratum_size: int) -> int:
        """k for a stratum of this many units: the count, or ceil(share × size) computed
        exactly (0.3 × 10 is 3, not 4 as in floating point), then the minimum, then the size."""
        if self.share is not None:
            wanted = math.ceil(Fraction(self.share) * stratum_size)
        else:
            wanted = self.count or 0
        return min(max(wanted, self.minimum), stratum_size)

    def as_json(self) -> dict[str, object]:
        share = None if self.share is None else format(self.share.normalize(), "f")
        return {
            "count": self.count,
            "share": share,
            "minimum": self.minimum,
            "weighted": self.weighted,
            "team_size": self.team_size,
            "load_cap": self.load_cap,
        }


@dataclass(frozen=True)
class DrawInputs:
    """What a draw reads, as the campaign file and the ledger give it.

    ``inspection`` and ``round`` name what is drawn (an inspection's id, and the period of a
    routine one, 2026-Q1, or any label of an ad hoc one): they enter every key, so the same
    seed typed in two rounds draws independently. ``previous`` are the previous round's
    assignments of the same inspection, which consecutive-round avoidance reads."""

    inspection: str
    round: str
    attempt: int
    units: tuple[Candidate, ...]
    inspectors: tuple[Inspector, ...]
    previous: frozenset[Assignment]
    parameters: Parameters


@dataclass(frozen=True)
class Commitment:
    inspection: str
    round: str
    attempt: int
    units: str
    """The unit register's hash."""
    inspectors: str
    previous: str
    parameters: Parameters
    algorithm: str = ALGORITHM

    def as_json(self) -> dict[str, object]:
        return {
            "algorithm": self.algorithm,
            "inspection": self.inspection,
            "round": self.round,
            "attempt": self.attempt,
            "units": self.units,
            "inspectors": self.inspectors,
            "previous": self.previous,
            "parameters": self.parameters.as_json(),
        }

    def canonical_json(self) -> bytes:
        return compact_json(self.as_json()).encode()

    @property
    def id(self) -> str:
        """The commitment id: the SHA-256 (hex) of its canonical JSON."""
        return digest(self.canonical_json())


def commit(inputs: DrawInputs) -> Commitment:
    return Commitment(
        inspection=inputs.inspection,
        round=inputs.round,
        attempt=inputs.attempt,
        units=digest(unit_register(inputs.units)),
        inspectors=digest(inspector_register(inputs.inspectors)),
        previous=digest(previous_register(inputs.previous)),
        parameters=inputs.parameters,
    )


def changed_parts(recorded: Mapping[str, object], now: Commitment) -> list[str]:
    """The keys of a recorded commitment's JSON whose value differs from ``now``'s."""
    current = now.as_json()
    return [key for key in current if recorded.get(key) != current[key]]
