"""What the evaluation's outputs are written from: a computed ``Evaluation`` and its setting.

The workbook, the accountability list, each unit's score sheet and the bulletin read one
``EvaluationReport``: the evaluation as computed (scores, placings, sheets), the scoring it
was computed under, what the ids are called, and the moment it stands for. Nothing here reads
the ledger or the clock: a frozen evaluation written again a year later is written from the
same report, so its workbook and documents have the same bytes (their times are ``moment``,
the freeze). Evaluators appear nowhere: the evaluation holds counts and trimmed values per
unit, never who rated what, and so does everything written from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from duban.evaluate.evaluation import Evaluation
from duban.evaluate.explain import ScoreSheet
from duban.evaluate.ranking import Placing
from duban.evaluate.scores import UnitScore
from duban.ledger.schema import EvaluationRow
from duban.model.campaign import Language
from duban.model.forms import display_title
from duban.model.loader import CampaignBundle
from duban.model.scoring import Group, ScoreSource, Scoring


@dataclass(frozen=True)
class EvaluationReport:
    """An evaluation and its setting. ``final``: frozen (最终结果), else preliminary
    (初步结果). ``moment``: the freeze, or the as-of of a preliminary computation; every time
    written is this one. ``deliverables`` and ``inspections`` name the ids a sheet line
    mentions (a late duty's deliverable, an inspection round); an id not named is shown as
    it is."""

    evaluation: Evaluation
    scoring: Scoring
    units: Mapping[str, str]
    campaign_title: str
    coordinator: str
    language: Language
    zone: ZoneInfo
    label: str
    moment: datetime
    final: bool
    campaign_id: str = ""
    deliverables: Mapping[str, str] = field(default_factory=dict)
    inspections: Mapping[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The campaign's title as the language prints it (“ ” in Chinese)."""
        return display_title(self.campaign_title, self.language)

    @cached_property
    def groups(self) -> list[Group]:
        """The ranking groups (the scoring makes them afresh each time it is asked)."""
        return self.scoring.ranking_groups

    @property
    def sources(self) -> list[ScoreSource]:
        return self.scoring.sources

    def name(self, unit_id: str) -> str:
        return self.units.get(unit_id, unit_id)

    def group(self, group_id: str) -> Group:
        return self._groups[group_id]

    def placings_of(self, group_id: str) -> list[Placing]:
        """The group's placings in rank order."""
        return self._by_group.get(group_id, [])

    def placing(self, unit_id: str) -> Placing:
        return self._placings[unit_id]

    def score(self, unit_id: str) -> UnitScore:
        return self._scores[unit_id]

    def sheet(self, unit_id: str) -> ScoreSheet:
        return self._sheets[unit_id]

    @cached_property
    def _by_group(self) -> dict[str, list[Placing]]:
        found: dict[str, list[Placing]] = {}
        for p in self.evaluation.placings:
            found.setdefault(p.group_id, []).append(p)
        return found

    @cached_property
    def _groups(self) -> dict[str, Group]:
        return {g.id: g for g in self.groups}

    @cached_property
    def _placings(self) -> dict[str, Placing]:
        return {p.unit_id: p for p in self.evaluation.placings}

    @cached_property
    def _scores(self) -> dict[str, UnitScore]:
        return {s.unit_id: s for s in self.evaluation.scores}

    @cached_property
    def _sheets(self) -> dict[str, ScoreSheet]:
        return {s.unit_id: s for s in self.evaluation.sheets}


def version_report(
    bundle: CampaignBundle, row: EvaluationRow, evaluation: Evaluation
) -> EvaluationReport:
    """The report of one recorded version (``evaluation``: as recomputed from its inputs),
    set as the campaign names things: what its outputs, the score sheets sent at publication
    and the appeal forms read back are all written from, so each says the same words."""
    campaign = bundle.campaign
    final = row.state == "frozen"
    moment = row.frozen_at if final and row.frozen_at else row.computed_at
    return EvaluationReport(
        evaluation=evaluation, scoring=campaign.scoring,
        units={u.id: u.name for u in bundle.units}, campaign_title=campaign.title,
        coordinator=campaign.roles.coordinator.name, language=campaign.language,
        zone=campaign.zone, label=row.label, moment=moment, final=final,
        campaign_id=campaign.id, deliverables={d.id: d.title for d in campaign.deliverables},
        inspections={i.id: i.title for i in campaign.inspections},
    )  # fmt: skip
