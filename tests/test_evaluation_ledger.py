"""Issue 17's evaluation computed from the ledger, on SQLite and PostgreSQL: the example worked
out by hand in ``test_evaluate_scores`` (towns T1–T4, departments B1–B3; timeliness 20 with a
missing source counted zero, inspection 40 filled by the group's average, public evaluation
30 trimmed and reweighted when too few marked, adjustments 10) written into a ledger as the
phases leave it (duties and their accepted replies, approved inspection rounds and their
scoresheets, ballots, bonuses and penalties), then computed by ``duban evaluate compute``.

What the close cuts is in the ledger too, and must not count: a reply, a scoresheet version,
a ballot and a penalty recorded after it, and an evaluator's ballot replaced by their later
one. One input changed (a late duty extended, a scoresheet corrected, a ballot sent again)
changes only its unit's lines and the ranks that follow. An upheld appeal is an event and a
new version changed only through its correction; freezing waits for every appeal; a frozen
evaluation is not computed again, and ``verify`` finds a ballot altered in the ledger. The
same figures under a changed scoring are a version of their own; of one evaluator's ballots
received at once, the last recorded counts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from duban.cli.app import app
from duban.evaluate import commands
from duban.evaluate.explain import PLACE_LINES, WHOLE
from duban.evaluate.runs import Computed, EvaluationError, recomputed
from duban.evaluate.snapshot import result_json, sha256
from duban.inspect.rounds import APPROVED
from duban.inspect.sheetcheck import ItemScore
from duban.ledger.db import make_engine, session_scope
from duban.ledger.schema import (
    AdjustmentRow,
    BallotRow,
    EvaluationRow,
    EvaluationScoreRow,
    EventRow,
    InspectionAssignmentRow,
    InspectionRoundRow,
    InspectionScoreRow,
    InstanceRow,
    SubmissionRow,
)
from duban.runtime import Runtime
from duban.settings import load_settings
from duban.testing.helpers import copy_campaign, edit_campaign

from .conftest import EXAMPLE
from .test_evaluate_scores import MARKS, scoring

runner = CliRunner()
CID, LABEL = "nlzf-2026", "2026"
ZONE = ZoneInfo("Asia/Shanghai")
CLOSES = "2026-12-10T18:00"
CLOSE = datetime(2026, 12, 10, 18, 0, tzinfo=ZONE)
NOW = "2026-12-11T09:00"
AFTER = datetime(2026, 12, 11, 8, 0, tzinfo=ZONE)
"""When what must not count was recorded: after the close, before the computation."""

ROSTER = """id,name,tags,emails,head_email,supervisor_email
T1,金城镇,镇区,t1@jt.example,,
T2,儒林镇,镇区,t2@jt.example,,
T3,直溪镇,镇区,t3@jt.example,,
T4,朱林镇,镇区,t4@jt.example,,
B1,市委办公室,市级机关,b1@jt.example,,
B2,市政府办公室,市级机关,b2@jt.example,,
B3,市审计局,市级机关,b3@jt.example,,
"""
GROUPS = {"towns": ["T1", "T2", "T3", "T4"], "departments": ["B1", "B2", "B3"]}

DUTIES = {"T1": "OOOO", "T2": "OOOL", "T3": "OOLM", "B1": "OOO", "B2": "OOL", "B3": "OOO"}
"""Each unit's monthly duties in order: O replied on time, L late, M never (T3's reply came
after the close). Towns owe ``progress`` for July to October, departments ``report`` for
August to October (due on the 25th); T4 owes nothing."""
POINTS = {"leadership": 20, "tasks": 30, "conduct": 30, "rectification": 20}
"""The example checklist's items and their points (100 in all)."""
ROUNDS: dict[str, dict[str, dict[str, tuple[int, str]]]] = {
    "2026-Q2": {
        "T1": {"leadership": (5, "主要负责人未专题研究"), "tasks": (3, "一项重点工作滞后")},
        "T2": {"leadership": (10, "未制定实施方案")},
        "T4": {"conduct": (20, "明察暗访发现脱岗")},
        "B1": {"rectification": (5, "整改逾期")},
        "B2": {"rectification": (5, "整改逾期")},
        "B3": {"conduct": (10, "推诿扯皮")},
    },
    "2026-Q3": {"T2": {"conduct": (4, "迟到"), "tasks": (10, "推诿扯皮")}},
}
"""Each approved round's deductions per unit (item → points, reason). T3 is drawn in 2026-Q3
but never scored."""
ADJUSTMENTS = [("T2", "-3", "信访事项处置不力", "通报"), ("T4", "-5", "安全生产事故", "事故报告"),
               ("B2", "-2", "会议缺席", "签到表"), ("B3", "1", "省级表彰", "表彰文件"),
               ("B3", "-1", "材料差错", "通报")]  # fmt: skip
EVALUATORS = [f"EV-0{n}" for n in range(1, 7)]
"""EV-01 … EV-05 rate (evaluator n the n-th mark of ``MARKS``); EV-06's ballot comes late."""

WEIGHTED = {
    "T1": ("20.00", "36.80", "28.00", "10.00", "94.80"),
    "T2": ("15.00", "35.20", "26.00", "9.70", "85.90"),
    "T3": ("10.00", "34.67", "30.00", "10.00", "84.67"),
    "T4": ("0.00", "45.71", "0.00", "13.57", "59.28"),
    "B1": ("20.00", "38.00", "26.00", "10.00", "94.00"),
    "B2": ("13.33", "38.00", "30.00", "9.80", "91.13"),
    "B3": ("20.00", "36.00", "28.00", "10.00", "94.00"),
}
"""The hand-worked table of ``test_evaluate_scores``: each source's weighted points, total."""
PLACES = {
    "T1": (1, None, "commended"),
    "T2": (2, "total", ""),
    "T3": (3, "total", ""),
    "T4": (4, "total", "flagged"),
    "B1": (1, None, "commended"),
    "B3": (2, "higher:inspection", ""),
    "B2": (3, "total", "exempt"),
}
"""Rank, what decided it against the unit above, flag, exemption or commendation: B1 and B3
tie at 94.00 and B1's higher inspection wins; B2, last, met both targets of 95."""
SOURCES = ("timeliness", "inspection", "public-evaluation", "adjustments")


@dataclass
class World:
    url: str
    engine: Engine
    home: Path
    campaign: Path

    def runtime(self, now: str = NOW) -> Runtime:
        return Runtime(load_settings(home=self.home, database_url=self.url, now=now),
                       self.campaign)  # fmt: skip

    def cli(self, *args: str, lang: str = "en", now: str = NOW) -> Result:
        env = {"DUBAN_DATABASE_URL": self.url, "DUBAN_HOME": str(self.home), "DUBAN_NOW": now,
               "DUBAN_LANG": lang, "COLUMNS": "200"}  # fmt: skip
        command, *rest = args
        return runner.invoke(app, [*command.split(), str(self.campaign), *rest], env=env)

    def compute(self) -> Result:
        done = self.cli("evaluate compute", "--label", LABEL, "--closes", CLOSES)
        assert done.exit_code == 0, done.output
        return done

    def sheets(self, version: int) -> dict[str, EvaluationScoreRow]:
        with session_scope(self.engine) as session:
            rows = session.scalars(
                select(EvaluationScoreRow)
                .join(EvaluationRow, EvaluationRow.id == EvaluationScoreRow.evaluation_id)
                .where(EvaluationRow.label == LABEL, EvaluationRow.version == version)
            )  # fmt: skip
            found = {row.unit_id: row for row in rows}
            session.expunge_all()
        return found

    def run(self, version: int) -> EvaluationRow:
        with session_scope(self.engine) as session:
            row = session.scalars(select(EvaluationRow).where(
                EvaluationRow.label == LABEL, EvaluationRow.version == version)).one()  # fmt: skip
            session.expunge(row)
        return row

    def rows(self, query: Any) -> list[Any]:
        with session_scope(self.engine) as session:
            return list(session.scalars(query))

    def count(self, query: Any) -> int:
        with session_scope(self.engine) as session:
            return int(session.scalar(query) or 0)


@pytest.fixture
def world(ledger_url: str, tmp_path: Path) -> Iterator[World]:
    campaign = hand_worked_campaign(tmp_path / "campaign")
    home = tmp_path / "home"
    env = {"DUBAN_DATABASE_URL": ledger_url, "DUBAN_HOME": str(home), "DUBAN_NOW": "2026-07-01"}
    done = runner.invoke(app, ["init", str(campaign)], env=env)
    assert done.exit_code == 0, done.output
    engine = make_engine(ledger_url)
    try:
        prepared = World(ledger_url, engine, home, campaign)
        prepare(prepared)
        yield prepared
    finally:
        engine.dispose()


def hand_worked_campaign(folder: Path) -> Path:
    """The example campaign with the seven units of the hand-worked example, its scoring, and
    two monthly deliverables giving the duties of ``DUTIES`` (and nothing else owed). The
    registers of inspectors and evaluators name units it no longer has: left out."""
    path = copy_campaign(EXAMPLE, folder)
    (folder / "roster.csv").write_text(ROSTER, encoding="utf-8")

    def change(data: dict[str, Any]) -> None:
        for register in ("inspectors", "evaluators"):
            del data[register]
        data["key_tasks"] = []
        data["deliverables"] = [
            monthly("progress", "重点工作月度进展", {"tags": ["镇区"], "exclude": ["T4"]}, 7),
            monthly("report", "机关工作月度进展", {"tags": ["市级机关"]}, 8),
        ]
        data["scoring"] = scoring().model_dump(mode="json", exclude_unset=True)

    return edit_campaign(path, change)


def monthly(deliverable: str, title: str, assign: dict[str, Any], first: int) -> dict[str, Any]:
    due = {"every": "month", "day": 25, "start": f"2026-{first:02d}-01", "end": "2026-10-31"}
    return {"id": deliverable, "phase": "implement", "title": title, "form": "progress",
            "assign": assign, "due": due}  # fmt: skip


# --------------------------------------------------------------------------- the ledger


def prepare(world: World) -> None:
    with session_scope(world.engine) as session:
        add_replies(session)
        add_rounds(session)
        for n, evaluator in enumerate(EVALUATORS[:5]):
            at = datetime(2026, 12, 7, 10, n, tzinfo=ZONE)
            add_ballot(session, evaluator, at, {u: m[n] for u, m in MARKS.items() if n < len(m)})
        # EV-01's first ballot, replaced by the one above; EV-06's, after the close (it would
        # give T4 a third mark: enough to rank it on this source)
        add_ballot(session, "EV-01", datetime(2026, 12, 5, 9, 0, tzinfo=ZONE),
                   dict.fromkeys(MARKS, "不满意"))  # fmt: skip
        add_ballot(session, "EV-06", CLOSE + timedelta(minutes=30), dict.fromkeys(MARKS, "不满意"))
        for row, (unit, points, reason, evidence) in enumerate(ADJUSTMENTS, start=3):
            add_adjustment(session, unit, points, reason, evidence, row, CLOSE - timedelta(days=2))
        add_adjustment(session, "T1", "-10", "迟报事故信息", "通报", 99, AFTER)


def add_replies(session: Session) -> None:
    """One accepted reply per duty replied: a day before it was due, or two days after;
    T3's missing duty was replied to after the close."""
    duties = session.scalars(select(InstanceRow).order_by(InstanceRow.unit_id,
                                                          InstanceRow.period))  # fmt: skip
    by_unit: dict[str, list[InstanceRow]] = {}
    for duty in duties:
        by_unit.setdefault(duty.unit_id, []).append(duty)
    assert {u: len(d) for u, d in by_unit.items()} == {u: len(s) for u, s in DUTIES.items()}
    for unit, states in DUTIES.items():
        for duty, state in zip(by_unit[unit], states, strict=True):
            at = {"O": duty.due_at - timedelta(days=1), "L": duty.due_at + timedelta(days=2),
                  "M": AFTER}[state]  # fmt: skip
            add_reply(session, duty, at)


def add_reply(session: Session, duty: InstanceRow, at: datetime, version: int = 1) -> None:
    digest = hashlib.sha256(f"{duty.unit_id} {duty.period} {version}".encode()).hexdigest()
    session.add(SubmissionRow(instance_id=duty.id, version=version, sha256=digest,
                              received_at=at, on_time=at < duty.effective_due, row_count=1,
                              rows={}))  # fmt: skip


def add_rounds(session: Session) -> None:
    for quarter, (label, scored) in enumerate(ROUNDS.items(), start=2):
        at = datetime(2026, 3 * quarter, 1, 9, 0, tzinfo=ZONE)
        round_row = InspectionRoundRow(
            campaign_id=CID, inspection_id="quarterly", label=label, state=APPROVED,
            announced=True, created_at=at, created_by="coordinator", approved_at=at,
            approved_by="coordinator",
        )  # fmt: skip
        session.add(round_row)
        session.flush()
        drawn = [*scored, "T3"] if label == "2026-Q3" else list(scored)
        for position, unit in enumerate(drawn, start=1):
            session.add(InspectionAssignmentRow(
                round_id=round_row.id, campaign_id=CID, unit_id=unit, stratum="",
                position=position, inspectors=["I01", "I02"],
            ))  # fmt: skip
        for unit, deducted in scored.items():
            add_sheet(session, round_row.id, unit, deducted, at + timedelta(days=10))
    q2 = session.scalars(select(InspectionRoundRow.id).where(
        InspectionRoundRow.label == "2026-Q2")).one()  # fmt: skip
    add_sheet(session, q2, "T1", {}, AFTER, version=2)  # full marks, after the close


def add_sheet(
    session: Session,
    round_id: int,
    unit: str,
    deducted: dict[str, tuple[int, str]],
    at: datetime,
    version: int = 1,
) -> None:
    """A scoresheet as ``inspect.results`` records one: each item's score and reason."""
    scores = [
        ItemScore(item, Decimal(points), Decimal(points - deducted.get(item, (0, ""))[0]),
                  deducted[item][1] if item in deducted else None)
        for item, points in POINTS.items()
    ]  # fmt: skip
    data = [s.as_json() for s in scores]
    session.add(InspectionScoreRow(
        round_id=round_id, campaign_id=CID, unit_id=unit, version=version,
        intake_file_id=None, sha256=sha256(data), inspector_id="I01",
        sender="duchao1@jt.example", received_at=at, on_time=True, recorded_at=at,
        total=sum((s.score for s in scores), Decimal(0)), maximum=Decimal(100), scores=data,
        findings=[],
    ))  # fmt: skip


def add_ballot(
    session: Session,
    evaluator: str,
    at: datetime,
    marks: dict[str, str],
    comments: dict[str, str] | None = None,
) -> None:
    number, said = EVALUATORS.index(evaluator) + 1, comments or {}
    session.add(BallotRow(
        campaign_id=CID, source_id="public-evaluation", label=LABEL, evaluator_id=evaluator,
        category="", sha256=sha256([evaluator, at.isoformat(), marks, said]),
        intake_file_id=None, sender=f"pingyi{number}@jt.example", received_at=at,
        recorded_at=at, marks=marks, comments=said,
    ))  # fmt: skip


def add_adjustment(
    session: Session, unit: str, points: str, reason: str, evidence: str, row: int, at: datetime
) -> None:
    session.add(AdjustmentRow(
        campaign_id=CID, unit_id=unit, points=Decimal(points), reason=reason, evidence=evidence,
        ref=f"{'a1' * 8}:加减分:{row}", recorded_at=at, recorded_by="coordinator",
    ))  # fmt: skip


# --------------------------------------------------------------------------- reading sheets


Line = dict[str, Any]


def lines_of(row: EvaluationScoreRow, source: str, what: str) -> list[Line]:
    return [line for line in row.lines if (line["source"], line["what"]) == (source, what)]


def line(row: EvaluationScoreRow, source: str, what: str) -> Line:
    [found] = lines_of(row, source, what)
    return found


def facts(found: Line) -> dict[str, str]:
    return dict(found["facts"])


def weighted(row: EvaluationScoreRow) -> tuple[str, ...]:
    return (*(line(row, s, "weighted")["value"] for s in SOURCES), str(row.total))


def placed(row: EvaluationScoreRow) -> tuple[int, str | None, str]:
    ranked = line(row, WHOLE, "rank")
    notes = [what for what in ("flagged", "exempt", "commended") if lines_of(row, WHOLE, what)]
    assert row.flagged == ("flagged" in notes)
    assert row.commended == ("commended" in notes)
    assert int(Decimal(ranked["value"])) == row.rank
    return row.rank, facts(ranked).get("decided_by"), "".join(notes)


def parts(sheets: dict[str, EvaluationScoreRow]) -> dict[tuple[str, str], list[Line]]:
    """Each unit's lines by source (and the whole's by kind), without the lines that follow
    from the other units' totals (rank, flags, what passing takes)."""
    found: dict[tuple[str, str], list[Line]] = {}
    for unit, row in sheets.items():
        for each in row.lines:
            if each["source"] == WHOLE and each["what"] in PLACE_LINES:
                continue
            found.setdefault((unit, each["source"] or each["what"]), []).append(each)
    return found


def changed(before: int, after: int, world: World) -> set[tuple[str, str]]:
    a, b = parts(world.sheets(before)), parts(world.sheets(after))
    return {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}


def ranks(world: World, version: int, group: str) -> dict[str, int]:
    sheets = world.sheets(version)
    return {u: sheets[u].rank for u in sorted(GROUPS[group], key=lambda u: sheets[u].rank)}


# --------------------------------------------------------------------------- tests


def test_the_example_computed_from_the_ledger_as_worked_out_by_hand(world: World) -> None:
    done = world.compute()
    assert done.output.startswith("2026: version 1\n")
    sheets = world.sheets(1)
    assert {u: weighted(row) for u, row in sheets.items()} == WEIGHTED
    assert {u: placed(row) for u, row in sheets.items()} == PLACES
    t1, t3, t4 = sheets["T1"], sheets["T3"], sheets["T4"]
    # a trimmed mean: 100 100 80 0 100, the 0 and one 100 dropped; EV-01's first ballot and
    # EV-06's late one not counted
    assert facts(line(t1, "public-evaluation", "pool")) == {
        "count": "5", "dropped_high": "100", "dropped_low": "0"}  # fmt: skip
    assert line(t1, "public-evaluation", "figure")["value"] == "93.33"
    # a missing source under each policy
    assert facts(line(t3, "inspection", "filled")) == {"policy": "group-average",
                                                       "group_average": "86.67"}  # fmt: skip
    assert facts(line(t4, "timeliness", "filled")) == {"policy": "zero"}
    assert facts(line(t4, "public-evaluation", "dropped")) == {"policy": "reweight"}
    assert facts(line(t4, "public-evaluation", "figure"))["insufficient"] == "true"
    # what the close cut: T3's reply, T1's second scoresheet and its penalty came after it
    assert [(x["what"], x["subject"], facts(x)) for x in t3.lines if x["what"] in ("late",
            "missing")] == [
        ("late", "progress 2026-09", {"due": "2026-09-25", "received": "2026-09-28"}),
        ("missing", "progress 2026-10", {"due": "2026-10-25"}),
    ]  # fmt: skip
    assert line(t1, "inspection", "figure")["value"] == "92.00"
    assert line(t1, "adjustments", "figure")["value"] == "0.00"
    run = world.run(1)
    assert (run.state, run.closes_at, run.seed) == ("preliminary", CLOSE, run.inputs_digest[:16])


def test_nothing_changed_records_nothing(world: World) -> None:
    world.compute()
    again = world.cli("evaluate compute", "--label", LABEL)
    assert again.exit_code == 0, again.output
    assert again.output.startswith("2026: version 1 (nothing changed)\n")
    assert world.count(select(func.count()).select_from(EvaluationRow)) == 1


def test_a_changed_scoring_is_a_new_version(world: World) -> None:
    """The same figures, the first two of each group commended: the result the command shows
    is recorded as a version of its own, never shown as the version that holds another."""
    world.compute()
    edit_campaign(world.campaign, lambda data: data["scoring"].update(commend_top=2))
    assert world.compute().output.startswith("2026: version 2\n")
    assert world.run(2).inputs_digest == world.run(1).inputs_digest
    commended = {u for u, row in world.sheets(2).items() if row.commended}
    assert commended == {"T1", "T2", "B1", "B3"}
    verified = world.cli("evaluate verify", "--label", LABEL)
    assert (verified.exit_code, verified.output.split()) == (0, ["inputs:", "matches",
                                                                 "result:", "matches"])  # fmt: skip


def test_ballots_received_at_once_count_in_the_order_recorded(world: World) -> None:
    """One message carrying EV-02's ballot four times (8, 9, 10, 11 in the ledger): the last
    recorded counts, whatever the number of digits of its id. T2: 80 100 80 100 100 → 93.33."""
    at = CLOSE - timedelta(hours=2)
    with session_scope(world.engine) as session:
        for copy, mark in enumerate(("不满意", "不满意", "不满意", "满意"), start=1):
            marks = {u: m[1] for u, m in MARKS.items() if len(m) > 1} | {"T2": mark}
            add_ballot(session, "EV-02", at, marks, {"T2": f"第{copy}份"})
    ids = world.rows(select(BallotRow.id).where(BallotRow.received_at == at).order_by(BallotRow.id))
    assert ids == [8, 9, 10, 11]
    world.compute()
    assert line(world.sheets(1)["T2"], "public-evaluation", "figure")["value"] == "93.33"


Change = Callable[[World], None]


def _extend_t3s_late_duty(world: World) -> None:
    """Due on 25 September, replied on the 28th: extended to the 30th, it was on time."""
    done = world.cli("extend", "--deliverable", "progress", "--unit", "T3", "--period",
                     "2026-09", "--to", "2026-09-30", "--reason", "系统故障")  # fmt: skip
    assert done.exit_code == 0, done.output


def _correct_b3s_scoresheet(world: World) -> None:
    """A corrected sheet before the close: 4 points off conduct, not 10 (96)."""
    with session_scope(world.engine) as session:
        q2 = session.scalars(select(InspectionRoundRow.id).where(
            InspectionRoundRow.label == "2026-Q2")).one()  # fmt: skip
        add_sheet(session, q2, "B3", {"conduct": (4, "推诿扯皮")}, CLOSE - timedelta(days=1), 2)


def _ballot_sent_again(world: World) -> None:
    """EV-01 sends its ballot again before the close, T2 now 满意 (80 80 100 100 100)."""
    marks = {u: m[0] for u, m in MARKS.items()} | {"T2": "满意"}
    with session_scope(world.engine) as session:
        add_ballot(session, "EV-01", CLOSE - timedelta(hours=1), marks)


@pytest.mark.parametrize(
    ("change", "unit", "source", "expected"),
    [
        # 3 of 4 on time: 15.00, total 89.67, past T2's 85.90
        (_extend_t3s_late_duty, "T3", "timeliness", {"T1": 1, "T3": 2, "T2": 3, "T4": 4}),
        # 96: 38.40, total 96.40, first
        (_correct_b3s_scoresheet, "B3", "inspection", {"B3": 1, "B1": 2, "B2": 3}),
        # 93.33: 28.00, total 87.90, still second
        (_ballot_sent_again, "T2", "public-evaluation", {"T1": 1, "T2": 2, "T3": 3, "T4": 4}),
    ],
    ids=["late-duty", "inspection", "ballot"],
)
def test_one_input_changes_only_its_units_lines_and_the_ranks_they_imply(
    world: World, change: Change, unit: str, source: str, expected: dict[str, int]
) -> None:
    world.compute()
    change(world)
    assert world.compute().output.startswith("2026: version 2\n")
    assert changed(1, 2, world) == {(unit, source), (unit, "total")}
    group = next(g for g, units in GROUPS.items() if unit in units)
    assert ranks(world, 2, group) == expected
    other = next(g for g in GROUPS if g != group)
    assert ranks(world, 2, other) == ranks(world, 1, other)
    assert world.run(2).seed == world.run(1).seed


def test_appeals_freezing_and_verifying(world: World) -> None:
    world.compute()
    with world.runtime() as rt:
        first = commands.appeal(rt, "T3", "timeliness: progress 2026-09", "邮件服务器故障", LABEL)
        again = commands.appeal(rt, "T3", "timeliness: progress 2026-09", "再次申请", LABEL)
        other = commands.appeal(rt, "B2", "adjustments", "已整改", LABEL)
    assert (first.new, again.new, again.appeal_id) == (True, False, first.appeal_id)

    upheld = world.cli("evaluate decide", f"A{first.appeal_id}", "--uphold", "timeliness=0.75",
                       "--reason", "经核实属实", "--label", LABEL)  # fmt: skip
    assert upheld.exit_code == 0, upheld.output
    assert upheld.output.strip() == f"A{first.appeal_id} upheld: version 2 computed"
    with session_scope(world.engine) as session:
        [event] = session.scalars(select(EventRow).where(
            EventRow.kind == "evaluation.appeal-upheld")).all()  # fmt: skip
        assert (event.actor, event.payload["unit"], event.payload["correction"]) == (
            "coordinator", "T3", {"source": "timeliness", "raw": "0.75"})  # fmt: skip
    assert changed(1, 2, world) == {("T3", "timeliness"), ("T3", "total")}
    t3_before, t3 = world.sheets(1)["T3"], world.sheets(2)["T3"]
    added = [x for x in t3.lines if x not in t3_before.lines]
    assert [(x["source"], x["what"], x["value"]) for x in added] == [
        ("timeliness", "correction", "0.75"), ("timeliness", "figure", "0.75"),
        ("timeliness", "normalised", "75.00"), ("timeliness", "weighted", "15.00"),
        (WHOLE, "total", "89.67"), (WHOLE, "rank", "2"),
        (WHOLE, "to-pass", str(Decimal("94.80") - Decimal("89.67") + Decimal("0.01"))),
    ]  # fmt: skip
    correction = added[0]
    assert (correction["subject"], correction["reason"], facts(correction)) == (
        "timeliness: progress 2026-09", "经核实属实", {"was": "0.5000"})  # fmt: skip

    refused = world.cli("evaluate freeze", "--label", LABEL)
    assert refused.exit_code != 0
    assert f"appeals still open: A{other.appeal_id} (B2)" in refused.output
    rejected = world.cli("evaluate decide", f"A{other.appeal_id}", "--reason", "扣分属实",
                         "--label", LABEL)  # fmt: skip
    assert rejected.output.strip() == f"A{other.appeal_id}: rejected"
    frozen = world.cli("evaluate freeze", "--label", LABEL)
    assert frozen.output.splitlines()[0] == "version 2 frozen"
    assert frozen.output.strip().endswith(f"考核通报-{LABEL}-final.html")
    assert world.cli("evaluate freeze", "--label", LABEL).output.splitlines()[0] == (
        "version 2 was frozen before")  # fmt: skip

    after = world.cli("evaluate compute", "--label", LABEL)
    assert after.exit_code != 0
    assert "evaluation 2026 was frozen at version 2: it is not computed again" in after.output
    with pytest.raises(EvaluationError), world.runtime() as rt:
        commands.appeal(rt, "T4", "inspection", "检查不公", LABEL)
    assert world.count(select(func.count()).select_from(EvaluationRow)) == 2

    verified = world.cli("evaluate verify", "--label", LABEL)
    assert (verified.exit_code, verified.output.split()) == (0, ["inputs:", "matches",
                                                                 "result:", "matches"])  # fmt: skip
    run = world.run(2)
    with world.runtime() as rt:
        assert sha256(result_json(recomputed(rt.bundle, run))) == run.result_digest
    assert (run.state, run.frozen_by) == ("frozen", "coordinator")

    with session_scope(world.engine) as session:  # EV-03 "said" 满意 of T4 after all
        session.execute(update(BallotRow).where(BallotRow.evaluator_id == "EV-03").values(
            marks={u: m[2] for u, m in MARKS.items() if len(m) > 2} | {"T4": "满意"}))  # fmt: skip
    tampered = world.cli("evaluate verify", "--label", LABEL)
    assert (tampered.exit_code, tampered.output.split()) == (1, ["inputs:", "DIFFERS",
                                                                 "result:", "matches"])  # fmt: skip
    in_chinese = world.cli("evaluate verify", "--label", LABEL, lang="zh-CN")
    assert (in_chinese.exit_code, in_chinese.output.split()) == (1, ["输入：不一致", "结果：一致"])


def test_two_computations_at_once_record_one_version(world: World) -> None:
    def compute(_: int) -> Computed:
        with world.runtime() as rt:
            return commands.compute(rt, LABEL, closes_at=CLOSE)

    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(compute, range(2)))
    assert sorted(c.new for c in done) == [False, True]
    assert {c.row.version for c in done} == {1}
    assert world.count(select(func.count()).select_from(EvaluationRow)) == 1
    assert world.count(select(func.count()).where(EventRow.kind == "evaluation.computed")) == 1
    assert len(world.sheets(1)) == 7


def test_evaluators_stay_anonymous(world: World) -> None:
    """What an evaluation keeps of the ballots is counts and means: no evaluator's id or
    address, in its inputs or on any sheet."""
    world.compute()
    run, sheets = world.run(1), world.sheets(1)
    kept = json.dumps([run.inputs, [row.lines for row in sheets.values()]], ensure_ascii=False)
    assert "EV-0" not in kept
    assert "pingyi" not in kept
    assert facts(line(sheets["B3"], "public-evaluation", "ballots"))["valid"] == "5"


def test_comments_reach_the_coordinator_without_names(world: World) -> None:
    """The 意见建议汇总: each unit's comments from the ballots that count (a superseded ballot's
    and a late one's left out), sorted, a formula-looking comment kept as text; no output
    workbook names an evaluator."""
    with session_scope(world.engine) as session:
        again = {u: m[1] for u, m in MARKS.items() if len(m) > 1}  # EV-02's marks, unchanged
        add_ballot(session, "EV-02", datetime(2026, 12, 8, 9, 0, tzinfo=ZONE), again,
                   {"T1": "服务热情", "B3": '=HYPERLINK("http://x.example","点击")'})  # fmt: skip
        add_ballot(session, "EV-04", datetime(2026, 12, 5, 9, 0, tzinfo=ZONE),
                   dict.fromkeys(MARKS, "满意"), {"T2": "旧的意见"})  # fmt: skip
        add_ballot(session, "EV-06", CLOSE + timedelta(hours=1), dict.fromkeys(MARKS, "满意"),
                   {"T3": "迟到的意见"})  # fmt: skip
        add_ballot(
            session,
            "EV-03",
            datetime(2026, 12, 8, 9, 30, tzinfo=ZONE),
            {u: m[2] for u, m in MARKS.items() if len(m) > 2},
            {"T1": "办事效率高"},
        )
    done = world.compute()
    folder = world.home / "out" / CID / "evaluation"
    assert str(folder / f"意见建议汇总-{LABEL}-v1.xlsx") in done.output.replace("\n", "")
    book = openpyxl.load_workbook(folder / f"意见建议汇总-{LABEL}-v1.xlsx")
    rows = [row for row in book.worksheets[0].iter_rows(min_row=2, values_only=True) if row[2]]
    assert [(r[2], r[4], r[5], r[6]) for r in rows] == [
        ("T1", "民主评议", 2, "办事效率高"),
        ("T1", "民主评议", 2, "服务热情"),
        ("B3", "民主评议", 1, '=HYPERLINK("http://x.example","点击")'),
    ]
    cell = next(c for c in book.worksheets[0]["G"] if c.value and "HYPERLINK" in str(c.value))
    assert cell.data_type == "s"  # text, never a formula
    for path in folder.glob("*.xlsx"):
        cells = [str(c) for ws in openpyxl.load_workbook(path).worksheets
                 for row in ws.iter_rows(values_only=True) for c in row if c]  # fmt: skip
        assert not [c for c in cells if "EV-0" in c or "pingyi" in c], path.name
