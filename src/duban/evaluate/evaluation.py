"""One call from figures to sheets: what the flow, the CLI and the bench run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from duban.evaluate.explain import ScoreSheet, score_sheets
from duban.evaluate.figures import Figure
from duban.evaluate.ranking import Placing, rank_units
from duban.evaluate.scores import UnitScore, score_units
from duban.model.scoring import Scoring


@dataclass(frozen=True)
class Evaluation:
    scores: tuple[UnitScore, ...]
    placings: tuple[Placing, ...]
    sheets: tuple[ScoreSheet, ...]


def evaluate(
    scoring: Scoring,
    groups: Mapping[str, str],
    figures: Mapping[str, Mapping[str, Figure]],
    seed: str,
) -> Evaluation:
    """Scores, placings and score sheets of every unit of ``groups`` (unit → group id, from
    ``scores.unit_groups``), from its figures by source id, the draw seeded by ``seed``."""
    scores = score_units(scoring, groups, figures)
    placings = rank_units(scoring, scores, seed)
    return Evaluation(
        tuple(scores), tuple(placings), tuple(score_sheets(scoring, scores, placings))
    )
