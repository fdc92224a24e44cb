"""What a summary workbook and a bulletin are made from: plain data gathered from the ledger.

The writers never query anything; ``duban.compile.gather`` builds a ``CompileInput`` from the
ledger, so the figures in the workbook and in the bulletin are the ledger's, never typed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from duban.compile.rectification import RectificationFigures
from duban.implement.chain_status import TaskStanding
from duban.model.campaign import Language
from duban.model.forms import Form
from duban.model.status import completeness, timeliness


@dataclass(frozen=True)
class UnitLine:
    """One unit's standing for the deliverable period (a row of the per-unit status sheet)."""

    unit_id: str
    unit_name: str
    tags: tuple[str, ...]
    state: str  # a duban.status.State value: on-time, late, overdue, rejected, exempted, ...
    due_at: datetime
    first_valid_at: datetime | None  # decides on time / late
    latest_version: int | None
    latest_received_at: datetime | None
    versions: int
    late_working_days: int | None = None


@dataclass(frozen=True)
class SubmissionData:
    """The latest valid version of one unit: its validated rows, per sheet name."""

    unit_id: str
    unit_name: str
    version: int
    received_at: datetime
    sha256: str
    rows: dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Totals:
    expected: int
    received: int
    on_time: int
    late: int
    missing: int
    rejected: int
    pending: int
    exempted: int

    @property
    def completeness(self) -> float | None:
        return completeness(self.received, self.expected)

    @property
    def timeliness(self) -> float | None:
        return timeliness(self.on_time, self.expected)


@dataclass(frozen=True)
class CompileInput:
    campaign_id: str
    campaign_title: str
    language: Language
    zone: ZoneInfo
    deliverable_id: str
    deliverable_title: str
    period: str
    due_text: str
    as_of: datetime
    coordinator_name: str
    form: Form
    totals: Totals
    units: list[UnitLine]
    submissions: Iterable[SubmissionData] = field(default_factory=list)
    rectification: RectificationFigures | None = None  # a progress report's period only
    key_tasks: list[TaskStanding] | None = None  # a key task chain's lead deliverable only

    def in_state(self, *states: str) -> list[UnitLine]:
        return [u for u in self.units if u.state in states]
