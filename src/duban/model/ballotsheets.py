"""The personal ballot an evaluator fills (民主评议测评表 / 满意度测评表), as a form.

A public evaluation's ballot is derived here from its declared scale as an ordinary ``Form``,
as the inspection scoresheet is from its checklist, so the same template builder, token,
pre-fill and cell validation serve it. Its one sheet lists the units the evaluator rates, one
row each, their id and name pre-filled and locked; the evaluator gives each a mark and, if
they wish, a comment (意见建议). A mark is a word of the scale from a dropdown (满意 / 基本满意
/ 不满意), or a number from 0 to 100 when the scale is ``0-100`` (decimals allowed, as the
count reads them: ``evaluate.ballots.points_of``). A mark left empty is no mark: an evaluator
may pass over a unit they do not know.

The rows differ by evaluator (a group, a sample, never their own unit), so the form is made
for a number of rows; every ballot of that length shares one master.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from duban.model.campaign import Language
from duban.model.forms import Column, Form, Sheet
from duban.model.roster import Unit
from duban.model.scoring import ScoreSource

BALLOT_KEYS = ("unit", "name", "mark", "comment")
PREFILLED_KEYS = ("unit", "name")
"""The columns written from the register and locked: the evaluator may not change them."""
COMMENT_LIMIT = 1000


@dataclass(frozen=True)
class BallotWords:
    sheet: str
    title: str
    labels: tuple[str, ...]
    numeric_help: str
    """The mark column's hint when the scale is 0–100."""


ZH = BallotWords(
    sheet="测评表",
    title="{source}测评表（每个单位选择一项评价，可填写意见建议）",
    labels=("单位编号", "被测评单位", "评价", "意见建议"),
    numeric_help="按百分制打分（0至100分）",
)
EN = BallotWords(
    sheet="Ballot",
    title="{source} ballot (one mark per unit; comments welcome)",
    labels=("Unit", "Unit rated", "Mark", "Comment"),
    numeric_help="a mark out of 100 (0 to 100)",
)
WORDS: dict[Language, BallotWords] = {"zh-CN": ZH, "en": EN}


def ballot_form(source: ScoreSource, rows: int, language: Language, version: int = 1) -> Form:
    """The ballot of a public-evaluation source listing ``rows`` units, on one sheet."""
    words = WORDS[language]
    keys_labels = dict(zip(BALLOT_KEYS, words.labels, strict=True))
    columns = [
        Column(key="unit", label=keys_labels["unit"], width=10),
        Column(key="name", label=keys_labels["name"], width=28),
        _mark_column(source, keys_labels["mark"], words),
        Column(key="comment", label=keys_labels["comment"], max_length=COMMENT_LIMIT, width=48),
    ]
    return Form(
        id=f"ballot-{source.id}"[:63],
        title=source.title,
        version=version,
        sheets=[
            Sheet(
                name=words.sheet,
                title=words.title.format(source=source.title),
                columns=columns,
                min_rows=rows,
                max_rows=max(rows, 1),
            )
        ],
    )


def _mark_column(source: ScoreSource, label: str, words: BallotWords) -> Column:
    scale = source.ballot_spec.scale
    if scale == "0-100":
        return Column(key="mark", label=label, type="decimal", min=0, max=100, width=10,
                      help=words.numeric_help)  # fmt: skip
    return Column(key="mark", label=label, type="choice", choices=list(scale), width=12)


def prefill_rows(units: Sequence[Unit]) -> list[dict[str, str | float]]:
    """The ballot's pre-filled rows: one per unit rated, in the order given."""
    return [{"unit": unit.id, "name": unit.name} for unit in units]
