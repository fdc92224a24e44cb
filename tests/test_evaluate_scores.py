"""The evaluation's pure core (评议考核) against a small example worked out by hand.

Two groups: towns T1–T4 and departments B1–B3. Sources: timeliness 20 (rate, missing → zero),
inspection 40 (points of 100, missing → group average), public evaluation 30 (满意 100,
基本满意 80, 不满意 0; one highest and one lowest dropped; at least 3 marks; missing →
reweight), adjustments 10 (base 100). Every expected number below was worked out on paper:

=====  ==========  ==============  ============  ===========  ======
unit   timeliness  inspection      public        adjustments  total
=====  ==========  ==============  ============  ===========  ======
T1     4/4 → 20.00  92 → 36.80      93.33 → 28.00  0 → 10.00    94.80
T2     3/4 → 15.00  (90+86)/2=88 → 35.20  86.67 → 26.00  −3 → 9.70  85.90
T3     2/4 → 10.00  avg 86.67 → 34.67  100 → 30.00  0 → 10.00    84.67
T4     none → 0    80 → 45.71 (÷70)  2 marks: dropped  −5 → 13.57 (÷70)  59.28
B1     3/3 → 20.00  95 → 38.00      86.67 → 26.00  0 → 10.00    94.00
B2     2/3 → 13.33  95 → 38.00      100 → 30.00   −2 → 9.80    91.13
B3     3/3 → 20.00  90 → 36.00      93.33 → 28.00  +1 −1 → 10.00  94.00
=====  ==========  ==============  ============  ===========  ======

T3's inspection is its group's average of T1, T2 and T4 (260 ÷ 3 = 86.67); T4 has too few
ballots, so its other weights (20 + 40 + 10 = 70) make up the whole. B1 and B3 tie at 94.00:
B1's higher inspection puts it first. T4 is flagged; B2, last of the departments, is exempt
(inspection ≥ 95 and public evaluation ≥ 95).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from duban.evaluate.ballots import (
    Ballot,
    counted_ballots,
    points_of,
    public_figure,
    tally_units,
)
from duban.evaluate.evaluation import Evaluation, evaluate
from duban.evaluate.explain import PLACE_LINES, WHOLE, ScoreSheet
from duban.evaluate.figures import (
    Adjustment,
    Deduction,
    Duty,
    Figure,
    InspectionRound,
    ItemRecord,
    adjustments_figure,
    completeness_figure,
    inspection_figure,
    rectification_figure,
    timeliness_figure,
)
from duban.evaluate.ranking import ticket
from duban.model.scoring import BallotSpec, Scoring

D = Decimal
CLOSE = datetime(2026, 12, 10, tzinfo=UTC)
GROUPS = {"T1": "towns", "T2": "towns", "T3": "towns", "T4": "towns"} | {
    "B1": "departments",
    "B2": "departments",
    "B3": "departments",
}


def scoring(source_changes: dict[str, dict[str, Any]] | None = None, **changes: Any) -> Scoring:
    """The example's scoring; ``source_changes`` by source id, ``changes`` at the top."""
    data: dict[str, Any] = {
        "sources": [
            {"id": "timeliness", "title": "报送及时率", "weight": 20, "missing": "zero"},
            {"id": "inspection", "title": "督查考评", "weight": 40, "missing": "group-average"},
            {
                "id": "public-evaluation",
                "title": "民主评议",
                "weight": 30,
                "ballots": {"trim": 1, "minimum": 3},
            },
            {"id": "adjustments", "kind": "adjustments", "title": "加分扣分", "weight": 10},
        ],
        "missing": "reweight",
        "groups": [
            {"id": "towns", "title": "镇区", "tags": ["镇区"]},
            {
                "id": "departments",
                "title": "市级机关",
                "tags": ["市级机关"],
                "exempt_when": {"targets": {"inspection": 95, "public-evaluation": 95}},
            },
        ],
        "ties": [{"higher": "inspection"}, {"higher": "timeliness"}, "draw"],
        "flag_last": 1,
        "commend_top": 1,
    }
    data.update(changes)
    for source in data["sources"]:
        source.update((source_changes or {}).get(source["id"], {}))
    return Scoring.model_validate(data)


def duties(on_time: int, late: int = 0, missing: int = 0) -> list[Duty]:
    def duty(n: int, state: str) -> Duty:
        due = date(2026, 3, 5) + timedelta(days=30 * n)
        received = None if state == "missing" else due + timedelta(days=2 * (state == "late"))
        return Duty("progress", f"2026-{n:02d}", due, received, state)  # type: ignore[arg-type]

    states = ["on-time"] * on_time + ["late"] * late + ["missing"] * missing
    return [duty(n + 1, s) for n, s in enumerate(states)]


def inspected(*deducted: list[tuple[str, str]]) -> list[InspectionRound]:
    """One round per list of (points, reason) deductions, each of 100."""
    return [
        InspectionRound(
            f"2026-q{n + 1}",
            D(100),
            tuple(Deduction(f"item{i}", f"检查项{i}", D(p), why) for i, (p, why) in enumerate(d)),
        )
        for n, d in enumerate(deducted)
    ]


MARKS = {
    "T1": ["满意", "满意", "基本满意", "不满意", "满意"],
    "T2": ["基本满意", "基本满意", "基本满意", "满意", "满意"],
    "T3": ["满意"] * 5,
    "T4": ["满意", "基本满意"],
    "B1": ["基本满意", "基本满意", "基本满意", "满意", "满意"],
    "B2": ["满意"] * 3,
    "B3": ["满意", "满意", "基本满意", "不满意", "满意"],
}


def ballots(marks: dict[str, list[str]]) -> list[Ballot]:
    """Evaluator n rates the n-th mark of every unit (five evaluators, one ballot each)."""
    at = CLOSE - timedelta(days=3)
    return [
        Ballot(
            f"b{n}",
            f"e{n}",
            "",
            at,
            {unit: unit_marks[n] for unit, unit_marks in marks.items() if n < len(unit_marks)},
        )
        for n in range(5)
    ]


def example_inputs() -> dict[str, Any]:
    return {
        "duties": {
            "T1": duties(4),
            "T2": duties(3, late=1),
            "T3": duties(2, late=1, missing=1),
            "T4": [],
            "B1": duties(3),
            "B2": duties(2, late=1),
            "B3": duties(3),
        },
        "rounds": {
            "T1": inspected([("5", "主要负责人未专题研究"), ("3", "一项重点工作滞后")]),
            "T2": inspected([("10", "未制定实施方案")], [("4", "迟到"), ("10", "推诿扯皮")]),
            "T3": [],
            "T4": inspected([("20", "明察暗访发现脱岗")]),
            "B1": inspected([("5", "整改逾期")]),
            "B2": inspected([("5", "整改逾期")]),
            "B3": inspected([("10", "推诿扯皮")]),
        },
        "marks": {u: list(m) for u, m in MARKS.items()},
        "adjustments": {
            "T2": [Adjustment(D(-3), "信访事项处置不力", "通报", "扣分!A2")],
            "T4": [Adjustment(D(-5), "安全生产事故", "事故报告", "扣分!A3")],
            "B2": [Adjustment(D(-2), "会议缺席", "签到表", "扣分!A4")],
            "B3": [
                Adjustment(D(1), "省级表彰", "表彰文件", "加分!A2"),
                Adjustment(D(-1), "材料差错", "通报", "扣分!A5"),
            ],
        },
    }


def run(
    inputs: dict[str, Any], rules: Scoring | None = None, seed: str = "seed-2026"
) -> Evaluation:
    rules = rules or scoring()
    spec = rules.source("public-evaluation").ballot_spec
    counted, _ = counted_ballots(ballots(inputs["marks"]), CLOSE)
    tallies = tally_units(counted, spec)
    figures: dict[str, dict[str, Figure]] = {
        unit: {
            "timeliness": timeliness_figure(inputs["duties"][unit]),
            "inspection": inspection_figure(inputs["rounds"][unit]),
            "public-evaluation": public_figure(tallies.get(unit), spec),
            "adjustments": adjustments_figure(inputs["adjustments"].get(unit, [])),
        }
        for unit in GROUPS
    }
    return evaluate(rules, GROUPS, figures, seed)


def weighted(result: Evaluation) -> dict[str, tuple[Decimal, ...]]:
    return {s.unit_id: (*(line.weighted for line in s.sources), s.total) for s in result.scores}


def test_the_example_scores_as_worked_out_by_hand() -> None:
    result = run(example_inputs())
    assert weighted(result) == {
        "T1": (D("20.00"), D("36.80"), D("28.00"), D("10.00"), D("94.80")),
        "T2": (D("15.00"), D("35.20"), D("26.00"), D("9.70"), D("85.90")),
        "T3": (D("10.00"), D("34.67"), D("30.00"), D("10.00"), D("84.67")),
        "T4": (D("0.00"), D("45.71"), D("0.00"), D("13.57"), D("59.28")),
        "B1": (D("20.00"), D("38.00"), D("26.00"), D("10.00"), D("94.00")),
        "B2": (D("13.33"), D("38.00"), D("30.00"), D("9.80"), D("91.13")),
        "B3": (D("20.00"), D("36.00"), D("28.00"), D("10.00"), D("94.00")),
    }
    t4 = next(s for s in result.scores if s.unit_id == "T4")
    assert [(s.state, s.share) for s in t4.sources] == [
        ("zero", D("28.57")),
        ("measured", D("57.14")),
        ("dropped", D("0")),
        ("measured", D("14.29")),
    ]
    t3 = next(s for s in result.scores if s.unit_id == "T3").source("inspection")
    assert (t3.state, t3.normalised, t3.reference) == ("group-average", D("86.67"), D("86.67"))


def test_ranks_ties_flags_and_commendations_as_worked_out_by_hand() -> None:
    placed = {
        p.unit_id: (p.rank, p.decided_by, p.flagged, p.exempt, p.commended)
        for p in run(example_inputs()).placings
    }
    assert placed == {
        "T1": (1, None, False, False, True),
        "T2": (2, "total", False, False, False),
        "T3": (3, "total", False, False, False),
        "T4": (4, "total", True, False, False),
        "B1": (1, None, False, False, True),
        "B3": (2, "higher:inspection", False, False, False),
        "B2": (3, "total", False, True, False),
    }


def test_the_bottom_unit_without_the_exemption_is_flagged() -> None:
    inputs = example_inputs()
    inputs["rounds"]["B2"] = inspected([("6", "整改逾期")])  # 94 < the target of 95
    b2 = next(p for p in run(inputs).placings if p.unit_id == "B2")
    assert (b2.rank, b2.flagged, b2.exempt) == (3, True, False)


def sheet(result: Evaluation, unit_id: str) -> ScoreSheet:
    return next(s for s in result.sheets if s.unit_id == unit_id)


def test_the_score_sheet_explains_every_point() -> None:
    result = run(example_inputs())
    t2 = [
        (line.source_id, line.what, line.subject, line.value) for line in sheet(result, "T2").lines
    ]
    assert t2 == [
        ("timeliness", "late", "progress 2026-04", None),
        ("timeliness", "figure", "", D("0.7500")),
        ("timeliness", "normalised", "", D("75.00")),
        ("timeliness", "weighted", "", D("15.00")),
        ("inspection", "round", "2026-q1", D("90.00")),
        ("inspection", "deduction", "2026-q1 检查项0", D("-10")),
        ("inspection", "round", "2026-q2", D("86.00")),
        ("inspection", "deduction", "2026-q2 检查项0", D("-4")),
        ("inspection", "deduction", "2026-q2 检查项1", D("-10")),
        ("inspection", "figure", "", D("88.00")),
        ("inspection", "normalised", "", D("88.00")),
        ("inspection", "weighted", "", D("35.20")),
        ("public-evaluation", "pool", "", D("86.67")),
        ("public-evaluation", "ballots", "", D("86.67")),
        ("public-evaluation", "figure", "", D("86.67")),
        ("public-evaluation", "normalised", "", D("86.67")),
        ("public-evaluation", "weighted", "", D("26.00")),
        ("adjustments", "penalty", "扣分!A2", D("-3")),
        ("adjustments", "figure", "", D("-3.00")),
        ("adjustments", "normalised", "", D("97.00")),
        ("adjustments", "weighted", "", D("9.70")),
        (WHOLE, "total", "", D("85.90")),
        (WHOLE, "rank", "towns", D(2)),
        (WHOLE, "to-pass", "", D("8.91")),
    ]
    lines = sheet(result, "T2").lines
    late = lines[0]
    assert late.facts == (("due", "2026-07-03"), ("received", "2026-07-05"))
    assert lines[5].reason == "未制定实施方案"
    assert dict(lines[12].facts) == {"count": "5", "dropped_high": "100", "dropped_low": "80"}
    assert lines[17].reason == "信访事项处置不力"
    assert dict(lines[3].facts) == {"weight": "20", "share": "20.00"}
    assert dict(lines[20].facts) == {"weight": "10", "share": "10.00"}


def test_the_sheet_says_how_a_missing_source_was_filled_and_what_passing_takes() -> None:
    result = run(example_inputs())
    t3 = {(line.source_id, line.what): line for line in sheet(result, "T3").lines}
    filled = t3[("inspection", "filled")]
    assert filled.value == D("86.67")
    assert filled.facts == (("policy", "group-average"), ("group_average", "86.67"))
    assert t3[(WHOLE, "to-pass")].value == D("1.24")
    t4 = {(line.source_id, line.what): line for line in sheet(result, "T4").lines}
    assert t4[("public-evaluation", "dropped")].facts == (("policy", "reweight"),)
    assert ("insufficient", "true") in t4[("public-evaluation", "figure")].facts
    assert t4[("timeliness", "filled")].facts == (("policy", "zero"),)
    assert str(t4[("timeliness", "filled")].value) == "0.00"  # printed like every line
    assert (WHOLE, "flagged") in t4
    b3 = {(line.source_id, line.what): line for line in sheet(result, "B3").lines}
    assert b3[(WHOLE, "to-pass")].value == D("0.01")  # equal total, lost on inspection
    assert dict(b3[(WHOLE, "rank")].facts)["decided_by"] == "higher:inspection"
    b2 = {(line.source_id, line.what) for line in sheet(result, "B2").lines}
    assert (WHOLE, "exempt") in b2
    assert (WHOLE, "flagged") not in b2


@pytest.mark.parametrize(
    ("policy", "lines", "total"),
    [
        ("zero", (D("10.00"), D("0.00"), D("30.00"), D("10.00")), D("50.00")),
        ("reweight", (D("16.67"), D("0.00"), D("50.00"), D("16.67")), D("83.34")),
        ("group-average", (D("10.00"), D("34.67"), D("30.00"), D("10.00")), D("84.67")),
    ],
)
def test_a_missing_inspection_under_each_policy(
    policy: str, lines: tuple[Decimal, ...], total: Decimal
) -> None:
    """T3 was never inspected. zero: 0 of 40. reweight: 20 + 30 + 10 = 60 make the whole
    (50 × 20/60 = 16.67, 100 × 30/60 = 50.00, 100 × 10/60 = 16.67). group-average: the
    mean of T1, T2 and T4, 86.67 × 40/100 = 34.67."""
    result = run(example_inputs(), scoring({"inspection": {"missing": policy}}))
    t3 = next(s for s in result.scores if s.unit_id == "T3")
    assert tuple(s.weighted for s in t3.sources) == lines
    assert t3.total == total


def test_a_trimmed_mean_per_category_the_latest_ballot_and_the_close() -> None:
    """代表 (weight 2): 100, 80, 80, 0 → drop 0 and 100 → 80.00; 群众 (weight 1): 100, 100
    (two marks: too few to drop any) → 100.00; unit: (80 × 2 + 100) ÷ 3 = 86.67. e1's first
    ballot (不满意) is replaced by its later one (满意); e9's came after the close; 很满意 is
    not on the scale (spoiled). Satisfied: 5 of 6 marks worth 60 or more = 0.8333."""
    spec = BallotSpec(categories={"代表": D(2), "群众": D(1)}, trim=1, minimum=3)
    day = CLOSE - timedelta(days=1)
    sent = [
        Ballot("b1", "e1", "代表", day - timedelta(hours=5), {"X": "不满意"}),
        Ballot("b2", "e1", "代表", day, {"X": "满意"}, {"X": "服务热情"}),
        Ballot("b3", "e2", "代表", day, {"X": "基本满意"}),
        Ballot("b4", "e3", "代表", day, {"X": "基本满意"}),
        Ballot("b5", "e4", "代表", day, {"X": "不满意"}, {"X": "办事拖拉"}),
        Ballot("b6", "e5", "群众", day, {"X": "满意"}),
        Ballot("b7", "e6", "群众", day, {"X": "满意", "Y": ""}),
        Ballot("b8", "e7", "群众", day, {"X": "很满意"}),
        Ballot("b9", "e9", "群众", CLOSE, {"X": "不满意"}),
    ]
    counted, aside = counted_ballots(sent, CLOSE)
    assert [b.ballot_id for b in counted] == ["b2", "b3", "b4", "b5", "b6", "b7", "b8"]
    assert [(a.ballot_id, a.reason) for a in aside] == [("b1", "superseded"), ("b9", "late")]
    tally = tally_units(counted, spec)
    assert list(tally) == ["X"]
    x = tally["X"]
    assert [(p.category, p.count, p.dropped_high, p.dropped_low, p.mean) for p in x.pools] == [
        ("代表", 4, (D(100),), (D(0),), D("80.00")),
        ("群众", 2, (), (), D("100.00")),
    ]
    assert (x.valid, x.spoiled, x.satisfied) == (6, 1, 5)
    assert (x.trimmed_mean, x.satisfaction, x.insufficient) == (D("86.67"), D("0.8333"), False)
    assert x.comments == ("办事拖拉", "服务热情")
    assert public_figure(x, spec).raw == D("86.67")
    rate = spec.model_copy(update={"figure": "satisfaction-rate"})
    assert public_figure(x, rate).raw == D("0.8333")
    too_few = spec.model_copy(update={"minimum": 7})
    assert tally_units(counted, too_few)["X"].trimmed_mean is None


def test_marks_on_a_numeric_scale() -> None:
    spec = BallotSpec(scale="0-100")
    assert points_of(" 85.5 ", spec) == D("85.5")
    assert points_of("100", spec) == D(100)
    assert points_of("101", spec) is None
    assert points_of("满意", spec) is None
    assert points_of("NaN", spec) is None
    assert points_of("基本满意", BallotSpec()) == D(80)


def test_a_tie_on_every_rule_is_drawn_by_the_tickets() -> None:
    """U1–U3 score alike. Tickets, by ``printf '%s%s' seed-2026 U1 | sha256sum``:
    U1 ff926e4f…, U2 35e3505e…, U3 485acf84… — so U2, U3, U1."""
    rules = scoring(groups=[], ties=[{"higher": "inspection"}])
    same = Figure(D("0.9"))
    figures = {u: {"timeliness": same} for u in ("U1", "U2", "U3")}
    result = evaluate(rules, dict.fromkeys(figures, "all"), figures, "seed-2026")
    assert [(p.unit_id, p.decided_by, p.flagged) for p in result.placings] == [
        ("U2", None, False),
        ("U3", "draw", False),
        ("U1", "draw", True),
    ]
    assert result.placings[0].ticket is not None
    assert result.placings[0].ticket.startswith("35e3505e")
    assert ticket("seed-2026", "U1").startswith("ff926e4f")


Key = tuple[str, str, str]


def changed(before: Evaluation, after: Evaluation) -> set[Key]:
    """(unit, source or whole-line kind, 'lines') of every sheet part that differs."""

    def parts(result: Evaluation) -> dict[Key, tuple[object, ...]]:
        found: dict[Key, list[object]] = {}
        for s in result.sheets:
            for line in s.lines:
                part = line.what if line.source_id == WHOLE else line.source_id
                found.setdefault((s.unit_id, part, "lines"), []).append(line)
        return {k: tuple(v) for k, v in found.items()}

    a, b = parts(before), parts(after)
    return {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}


def own(unit: str, source: str) -> set[Key]:
    return {(unit, source, "lines"), (unit, "total", "lines")}


def places(keys: set[Key]) -> set[Key]:
    return {k for k in keys if k[1] in PLACE_LINES}


Change = Callable[[dict[str, Any]], None]


def _one_ballot(inputs: dict[str, Any]) -> None:
    inputs["marks"]["T2"][0] = "满意"  # 80 80 100 100 100 → 93.33: 28.00, total 87.90


def _one_late_duty(inputs: dict[str, Any]) -> None:
    inputs["duties"]["T3"] = duties(3, missing=1)  # 3/4: 15.00, total 89.67: passes T2


def _one_inspection(inputs: dict[str, Any]) -> None:
    inputs["rounds"]["B3"] = inspected([("4", "推诿扯皮")])  # 96: 38.40, total 96.40: first


@pytest.mark.parametrize(
    ("change", "unit", "source", "ranks"),
    [
        (_one_ballot, "T2", "public-evaluation", {"T1": 1, "T2": 2, "T3": 3, "T4": 4}),
        (_one_late_duty, "T3", "timeliness", {"T1": 1, "T3": 2, "T2": 3, "T4": 4}),
        (_one_inspection, "B3", "inspection", {"B3": 1, "B1": 2, "B2": 3}),
    ],
    ids=["ballot", "late-duty", "inspection"],
)
def test_one_input_changes_only_its_units_lines_and_the_ranks_they_imply(
    change: Change, unit: str, source: str, ranks: dict[str, int]
) -> None:
    before = run(example_inputs())
    inputs = example_inputs()
    change(inputs)
    after = run(inputs)
    differ = changed(before, after)
    assert differ - places(differ) == own(unit, source)
    group = GROUPS[unit]
    assert {k[0] for k in places(differ)} <= {u for u, g in GROUPS.items() if g == group}
    assert {p.unit_id: p.rank for p in after.placings if p.group_id == group} == ranks


def test_a_relative_rule_ties_together_exactly_its_groups_lines() -> None:
    """Inspection by ``best``: T1's 92 is the towns' best. T1 at 96 changes every town's
    inspection lines (88/96, 80/96, and T3's average of them) and no department's."""
    relative = scoring({"inspection": {"rule": "best"}})
    before = run(example_inputs(), relative)
    inputs = example_inputs()
    inputs["rounds"]["T1"] = inspected([("4", "一项重点工作滞后")])
    after = run(inputs, relative)
    differ = changed(before, after)
    towns = [u for u, g in GROUPS.items() if g == "towns"]
    tied = {k for u in towns if u != "T1" for k in own(u, "inspection")}
    # T1 stays the best (100): its inspection evidence changes, its total does not
    assert differ - places(differ) == tied | {("T1", "inspection", "lines")}
    t2 = {(line.source_id, line.what): line for line in sheet(after, "T2").lines}
    # 88 ÷ 96 × 100 = 91.666… → 91.67; × 40 ÷ 100 = 36.668 → 36.67
    assert t2[("inspection", "normalised")].value == D("91.67")
    assert t2[("inspection", "normalised")].facts == (("rule", "best"), ("best", "96.00"))
    assert t2[("inspection", "weighted")].value == D("36.67")


def test_weights_scaled_divide_by_their_sum() -> None:
    """Weights 30 and 30 (sum 60) scaled: 90.25 × 30/60 = 45.125, half up 45.13 (not the
    banker's 45.12), and 70 × 30/60 = 35.00."""
    rules = Scoring.model_validate(
        {
            "sources": [
                {"id": "timeliness", "title": "a", "weight": 30},
                {"id": "completeness", "title": "b", "weight": 30},
            ],
            "weights": "scaled",
        }
    )
    figures = {"U1": {"timeliness": Figure(D("0.9025")), "completeness": Figure(D("0.7"))}}
    [score] = evaluate(rules, {"U1": "all"}, figures, "s").scores
    assert [s.weighted for s in score.sources] == [D("45.13"), D("35.00")]
    assert score.total == D("80.13")


def test_the_same_inputs_give_the_same_sheets() -> None:
    assert run(example_inputs()) == run(example_inputs())


def test_completeness_and_rectification_figures() -> None:
    """Completeness counts late as received: 3 of 4 = 0.7500, the missing duty named.
    Rectification: 2 of 3 items closed = 0.6667, the open one named with its deadline."""
    completeness = completeness_figure(duties(2, late=1, missing=1))
    assert completeness.raw == D("0.7500")
    assert [(e.kind, e.subject) for e in completeness.evidence] == [("missing", "progress 2026-04")]
    assert completeness.basis == (("expected", "4"), ("received", "3"))
    items = [
        ItemRecord("ZG-T01-002", "台账不全", date(2026, 10, 31), None),
        ItemRecord("ZG-T01-001", "制度缺失", date(2026, 9, 30), date(2026, 9, 20)),
        ItemRecord("ZG-T01-003", "公示滞后", date(2026, 11, 30), date(2026, 12, 2)),
    ]
    closure = rectification_figure(items)
    assert closure.raw == D("0.6667")
    assert [(e.kind, e.subject, e.reason, e.facts) for e in closure.evidence] == [
        ("open-item", "ZG-T01-002", "台账不全", (("due", "2026-10-31"),))
    ]
    assert completeness_figure([]).raw is None
    assert rectification_figure([]).raw is None
    assert adjustments_figure([]).raw == D("0.00")
