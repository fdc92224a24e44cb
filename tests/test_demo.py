"""`make demo` runs the production flows on the example: here it runs twice in a temp folder."""

from __future__ import annotations

import email
import email.policy
import mailbox
import random
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from rich.console import Console
from sqlalchemy import create_engine, distinct, func, select
from sqlalchemy.orm import Session

from demo.evaluation import LATE, OFF_SCALE, SPOILED, TWICE
from demo.keytasks import LATE_PARTNER, WRONG_LEAD
from demo.run import MARKER, run_demo
from demo.units import form_rows, is_percent, wrong_value
from duban.evaluate.ballot_ledger import ballots_of
from duban.evaluate.ballots import counted_ballots
from duban.ledger.schema import (
    AppealRow,
    EvaluationRow,
    EventRow,
    InspectionAssignmentRow,
    InspectionScoreRow,
    InstanceRow,
    IntakeFileRow,
    MessageRow,
    RectificationRow,
    SubmissionRow,
)
from duban.model.loader import load_campaign
from duban.model.validation import check_cell, column_letter

from .conftest import EXAMPLE, ROOT

CID = "nlzf-2026"
CAMPAIGNS = [EXAMPLE, *sorted((ROOT / "tests" / "campaigns").glob("*/campaign.yaml"))]


def test_the_demo_delivers_every_notice_and_answers_every_reply(
    prefect_harness: None, tmp_path: Path
) -> None:
    home = tmp_path / "demo"
    (home / "out").mkdir(parents=True)
    (home / "out" / "stale.txt").write_text("from an earlier run", encoding="utf-8")
    (home / MARKER).write_text("made by the demo", encoding="utf-8")  # as a second run finds it
    console = Console(record=True, width=140)
    run_demo(EXAMPLE, home, console)
    assert not (home / "out" / "stale.txt").exists()  # a second run starts from nothing
    text = console.export_text()
    assert "mobilize plan" in text
    assert "mobilize progress" in text
    assert "compile progress" in text
    assert "replies to every notice sent" in text
    assert "every reply received (Maildir)" in text
    sent = [m["X-Duban-Key"] for m in mailbox.Maildir(home / "mail" / "sent")]
    notices = [k for k in sent if k.startswith("notice:")]
    # plan to all, Q1 progress to the 8 partners and the 5 leads, self-check to all,
    # September's 整改进展 to all
    assert len(notices) == 30 + 8 + 5 + 30 + 30
    assert len(sent) > len(notices)  # answers to the units that replied
    _assert_every_deliverable_sent_was_answered(home / "duban.sqlite3")
    [summary] = (home / "out").rglob("plan-once/*汇总表.xlsx")
    units = {row[1]: row for row in load_workbook(summary)["报送情况"].iter_rows(values_only=True)}
    for late in ("薛埠镇", "市交通运输局", "市审计局"):  # they replied after 5 March
        assert "逾期" in str(units[late])
    assert "未报送" in str(units["市农业农村局"])  # silent
    [bulletin] = (home / "out").rglob("plan-once/*通报.html")
    assert "市审计局" in bulletin.read_text(encoding="utf-8")  # B19, late
    [progress] = (home / "out").rglob("progress-2026-Q1/*汇总表.xlsx")
    assert "重点工作推进情况" in load_workbook(progress, read_only=True).sheetnames
    _assert_each_bulletin_sent_was_the_one_reviewed(home)
    _assert_the_key_tasks_were_reported_in_two_steps(home, text)
    _assert_the_items_were_reported_on_and_verified(home)
    _assert_the_quarter_was_inspected(home, text)
    _assert_the_year_was_evaluated(home, text)
    _assert_the_board_opens_on_the_demo(home, text)
    _assert_the_year_was_archived(home, text)


def _assert_each_bulletin_sent_was_the_one_reviewed(home: Path) -> None:
    """Each period is compiled for review, then sent: the send mails the reviewed files."""
    engine = create_engine(f"sqlite:///{home / 'duban.sqlite3'}")
    with Session(engine) as session:
        kinds = session.scalars(
            select(EventRow.subject).where(EventRow.kind == "compile.written")
        ).all()
        reused = session.scalars(
            select(EventRow.subject).where(EventRow.kind == "compile.reused")
        ).all()
    engine.dispose()
    assert kinds
    assert Counter(kinds) == Counter(reused)


def _assert_the_year_was_archived(home: Path, text: str) -> None:
    """Issue 19: the demo ends by filing the year as a bag, verified from the bag alone; the bag
    holds the campaign file, the replies received, the outputs and the event log."""
    from duban.archive.verify import verify_bag

    assert "The archive (归档)" in text
    bag = home / "archive"
    verified = verify_bag(bag)
    assert verified.campaign_id == CID
    assert verified.events > 100
    assert set(verified.algorithms) == {"sha256", "sm3"}
    assert all(verified.properties.values()), verified.properties  # 四性 all pass
    assert verified.replay is not None
    assert verified.replay.problems == []
    assert len(verified.replay.done) > 20  # every output written again and compared, but:
    left = [en for en, _zh in verified.replay.not_replayed]
    allowed = (
        "evaluation_ballots:",
        "data/outputs/evaluation/意见建议汇总-",  # the ballots
        "data/outputs/inspections/双随机抽查结果公示-",
    )  # the draw's page: from the ledger
    assert all(line.startswith(allowed) for line in left), left
    posts = list((bag / "data" / "sent").glob("*.json"))  # the group-bot posts, as posted
    assert any("【通报】" in post.read_text("utf-8") for post in posts)
    assert list(bag.rglob("*汇总表.xlsx"))
    assert list(bag.rglob("campaign.yaml"))
    assert (bag / "bagit.txt").is_file()


def _assert_the_board_opens_on_the_demo(home: Path, text: str) -> None:
    """Issue 18: the demo ends saying how to open the board, and its account signs in there
    (the settings `make board` reads), seeing the demo's year: 市审计局 late with its plan."""
    import re
    import shlex

    from fastapi.testclient import TestClient

    from demo.board import DEMO_PASSWORD, DEMO_USER
    from duban.board.app import create_app
    from duban.board.context import Board
    from duban.settings import Settings

    assert "make board" in text
    assert DEMO_PASSWORD in text
    env = dict(shlex.split(line)[0].split("=", 1)
               for line in (home / "board.env").read_text("utf-8").splitlines())  # fmt: skip
    settings = Settings(home=Path(env["DUBAN_HOME"]), secret=env["DUBAN_SECRET"],
                        now=env["DUBAN_NOW"])  # fmt: skip
    board = Board.open(settings, [EXAMPLE])
    try:
        client = TestClient(create_app(board))
        found = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
        assert found is not None
        client.post("/login", data={"username": DEMO_USER, "password": DEMO_PASSWORD,
                                    "csrf": found.group(1)})  # fmt: skip
        late = client.get(f"/c/{CID}/matrix", params={"state": "late", "deliverable": "plan"})
        assert late.status_code == 200
        assert "市审计局" in late.text
    finally:
        board.engine.dispose()


def _assert_the_key_tasks_were_reported_in_two_steps(home: Path, text: str) -> None:
    """Issue 21 (牵头汇总、配合报送): the partners' parts all in before their due day (18 March)
    but one, still missing when its lead was reminded (20 March, naming it) and in the next
    working day; each lead sent its consolidated copy (【汇总】) when its parts were in or on
    the day after the partners' due day (naming the late partner), the late partner's lead
    again once its part was in; each lead answered its latest copy, on time, accepted, its
    report holding every partner's rows under the partner's name (报送单位)."""
    bundle = load_campaign(EXAMPLE)
    names = {u.id: u.name for u in bundle.units}
    [task] = [t for t in bundle.campaign.key_tasks if LATE_PARTNER in t.partners]
    zone = ZoneInfo("Asia/Shanghai")
    reminded = datetime(2026, 3, 20, 9, 0, tzinfo=zone)  # the leads' reminder rung (-3)
    engine = create_engine(f"sqlite:///{home / 'duban.sqlite3'}")
    try:
        with Session(engine) as session:
            found = session.execute(
                select(InstanceRow.deliverable_id, InstanceRow.unit_id, SubmissionRow.version,
                       SubmissionRow.received_at, SubmissionRow.on_time, SubmissionRow.rows)
                .join(SubmissionRow, SubmissionRow.instance_id == InstanceRow.id)
                .where(InstanceRow.deliverable_id.in_(["progress", "progress-parts"]),
                       InstanceRow.period == "2026-Q1")
                .order_by(SubmissionRow.version)
            ).tuples().all()  # fmt: skip
            sent = session.execute(
                select(InstanceRow.unit_id, MessageRow.sent_at, MessageRow.subject)
                .join(InstanceRow, InstanceRow.id == MessageRow.instance_id)
                .where(MessageRow.kind == "lead-copy", InstanceRow.period == "2026-Q1")
                .order_by(MessageRow.sent_at)
            ).tuples().all()  # fmt: skip
    finally:
        engine.dispose()
    copies = [(u, at.astimezone(zone), subject) for u, at, subject in sent if at is not None]
    parts = {u: (at.astimezone(zone), on_time) for d, u, _, at, on_time, _ in found
             if d == "progress-parts"}  # fmt: skip
    late_at, late_on_time = parts.pop(LATE_PARTNER)
    assert not late_on_time
    assert late_at > reminded
    assert all(on_time and at.date() < date(2026, 3, 18) for at, on_time in
               parts.values())  # fmt: skip
    leads = {t.lead for t in bundle.campaign.key_tasks}
    assert {u for u, _, _ in copies} == leads  # every lead got its copy
    assert all(s.startswith("【汇总】") for _, _, s in copies)  # none had reported yet
    mine = [at for u, at, _ in copies if u == task.lead]
    assert len(mine) == 2  # the partners' due day gone, then the late part in
    assert mine[0] < reminded < late_at < mine[1]
    copy_key = f"lead-copy:{CID}:progress:2026-Q1:{task.lead}:"
    copy_texts = _bodies(home, lambda m: str(m["X-Duban-Key"]).startswith(copy_key))
    assert sum("逾期未报送的配合单位" in b and names[LATE_PARTNER] in b
               for b in copy_texts) == 1  # fmt: skip
    assert sum("逾期未报送" not in b for b in copy_texts) == 1
    [reminder] = _bodies(home, lambda m: str(m["X-Duban-Key"])
                         == f"chase:{CID}:{task.lead}:2026-03-20")  # fmt: skip
    assert f"配合单位{names[LATE_PARTNER]}的部分逾期未报送，请督促其尽快报送" in reminder

    reports = {u: (at.astimezone(zone), on_time, rows) for d, u, _, at, on_time, rows in found
               if d == "progress"}  # fmt: skip
    assert set(reports) == leads
    for lead, (at, on_time, sheets) in reports.items():
        assert on_time, lead
        assert at > max(c for u, c, _ in copies if u == lead)  # the latest
        rows = [r for rs in sheets.values() for r in rs]
        theirs = sorted((r["task"], r["reported_by"]) for r in rows if r.get("reported_by"))
        assert theirs == sorted((t.title, names[p]) for t in bundle.campaign.key_tasks
                                if t.lead == lead for p in t.partners)  # fmt: skip
        assert any(not r.get("reported_by") and r.get("progress") for r in rows)  # its own
    assert "重点工作（牵头汇总）" in text
    assert f"naming its late partner: {names[LATE_PARTNER]}" in text
    assert f"late partner named: {names[LATE_PARTNER]}" in text


def _assert_the_year_was_evaluated(home: Path, text: str) -> None:
    """The evaluation ends the year: 15 ballots sent, 16 returned (one evaluator twice, the
    later counting; one after the close, recorded, told and not counted; one with 很好, a
    mark off the scale, recorded, spoiled and told); computed as of the close and published
    to the 30 units; the appellant's reply recorded as an appeal on its timeliness line,
    upheld (an event, the unit told), version 2 sent to the units whose sheet changed only;
    frozen, each unit its final sheet and the bulletin, which also went to the distribution."""
    steps = ("evaluate ballots", "evaluate compute", "evaluate decide A1", "evaluate freeze",
             "evaluate publish", "the year's evaluation (评议考核)")  # fmt: skip
    for step in steps:
        assert step in text
    engine = create_engine(f"sqlite:///{home / 'duban.sqlite3'}")
    try:
        with Session(engine) as session:
            ballots = ballots_of(session, CID, "public-evaluation", "2026")
            keys = select(MessageRow.idempotency_key, MessageRow.recipients)
            sent = dict(session.execute(keys).tuples().all())
            [appeal] = session.scalars(select(AppealRow)).all()
            runs = session.scalars(select(EvaluationRow).order_by(EvaluationRow.version)).all()
            kinds = session.scalars(
                select(EventRow.kind).where(EventRow.kind.like("evaluation.%"))
            ).all()
    finally:
        engine.dispose()
    close = datetime(2026, 12, 8, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert [r.closes_at for r in runs] == [close, close]
    assert sum(k.startswith(f"ballot:{CID}:") for k in sent) == 15
    assert len(ballots) == 16
    counted, aside = counted_ballots(ballots, close)
    assert len(counted) == 14  # 15 evaluators, one of them late
    assert sum(b.evaluator == TWICE for b in ballots) == 2
    assert sorted((a.evaluator, a.reason) for a in aside) == [(TWICE, "superseded"),
                                                              (LATE, "late")]  # fmt: skip
    assert max((b for b in ballots if b.evaluator == TWICE), key=lambda b: b.received_at) in counted
    [spoiled] = [b for b in counted if b.evaluator == SPOILED]
    assert OFF_SCALE in spoiled.marks.values()
    said = _bodies(home, lambda m: "测评表" in str(m["Subject"]))
    assert any("下列评价不在评价档次之内，不计入测评结果" in b and OFF_SCALE in b for b in said)
    assert any("本表晚于测评截止时间" in b and "不计入测评结果" in b for b in said)
    assert any("本表替代您" in b for b in said)

    assert appeal.state == "upheld"
    assert appeal.correction is not None
    assert appeal.correction["source"] == "timeliness"
    assert appeal.line.endswith("报送及时率")
    assert kinds.count("evaluation.appealed") == kinds.count("evaluation.appeal-upheld") == 1
    assert f"appeal-decision:{CID}:2026:A{appeal.id}" in sent
    first, again, final = (
        {k.rsplit(":", 1)[1] for k in sent if k.startswith(f"evaluation-sheet:{CID}:2026:{stage}:")}
        for stage in ("v1", "v2", "final")
    )
    assert len(first) == len(final) == 30
    assert appeal.unit_id in again
    assert 1 <= len(again) < 30  # the corrected sheets only to the units whose sheet changed
    assert [(r.version, r.state) for r in runs] == [(1, "preliminary"), (2, "frozen")]
    assert "evaluation.frozen" in kinds
    assert sent[f"evaluation-bulletin:{CID}:2026:final"] == [
        "shiweiban@jt.example", "zhengfuban@jt.example", "jiwei@jt.example"
    ]  # fmt: skip
    folder = home / "out" / CID / "evaluation"
    for name in ("考核排名表-2026-final.xlsx", "考核通报-2026-final.docx",
                 "问责名单-2026-final.xlsx"):  # fmt: skip
        assert (folder / name).is_file()
    assert len(list((folder / "得分说明-2026-final").glob("*.xlsx"))) == 30


def _bodies(home: Path, wanted: Callable[[EmailMessage], bool]) -> list[str]:
    """The plain text of the messages duban sent that ``wanted`` picks."""
    bodies = []
    for message in mailbox.Maildir(home / "mail" / "sent", factory=None):
        parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
        if isinstance(parsed, EmailMessage) and wanted(parsed):
            body = parsed.get_body(("plain",))
            bodies.append(body.get_content() if isinstance(body, EmailMessage) else "")
    return bodies


def _assert_the_quarter_was_inspected(home: Path, text: str) -> None:
    """One quarterly round: 8 units over two strata, teams of two, one inspector recused and
    replaced, approved, the draw published, the teams told; every unit's sheet returned (one
    refused for a score above its maximum and corrected, one late), each finding an item of
    the inspected unit, listed in the 整改台账 written after."""
    assert "quarterly inspection drawn" in text
    engine = create_engine(f"sqlite:///{home / 'duban.sqlite3'}")
    try:
        with Session(engine) as session:
            kinds = session.scalars(
                select(EventRow.kind)
                .where(EventRow.kind.like("inspection.%"))
                .order_by(EventRow.id)
            ).all()
            teams = session.scalars(select(InspectionAssignmentRow)).all()
            scores = session.scalars(select(InspectionScoreRow)).all()
            refused = session.scalar(
                select(func.count())
                .select_from(IntakeFileRow)
                .where(IntakeFileRow.outcome == "rejected", IntakeFileRow.instance_id.is_(None))
            )
            found = session.scalars(
                select(RectificationRow.code).where(RectificationRow.source == "inspection")
            ).all()
    finally:
        engine.dispose()
    assert kinds == [
        "inspection.committed", "inspection.drawn", "inspection.recused",
        "inspection.approved", "inspection.published", "inspection.notified",
        *["inspection.scored"] * 8,  # one a unit: the refused sheet recorded nothing
        "inspection.reported",
    ]  # fmt: skip
    assert len(teams) == 8
    assert sorted({t.stratum for t in teams}) == ["市级机关", "镇区"]
    assert all(len(t.inspectors) == 2 for t in teams)
    assert sorted(s.unit_id for s in scores) == sorted(t.unit_id for t in teams)
    assert sum(not s.on_time for s in scores) == 1
    assert sorted(s.total for s in scores) == [94, 95, 96, 97, 98, 99, 100, 100]
    assert refused == 1  # the score above its maximum, corrected the next day
    assert len(found) == 8  # one finding a unit, each an item of its own
    [ledger] = (home / "out").rglob("rectification/整改台账*.xlsx")
    book = load_workbook(ledger, read_only=True)
    listed = {row[1] for name in book.sheetnames for row in book[name].iter_rows(values_only=True)}
    assert set(found) <= listed
    [page] = (home / "out").rglob("inspections/双随机抽查结果公示-quarterly-2026-Q4.html")
    assert "近亲属在该单位任职" in page.read_text(encoding="utf-8")
    _assert_the_round_was_reported(home, scores)


def _assert_the_round_was_reported(home: Path, scores: Sequence[InspectionScoreRow]) -> None:
    """The summary workbook ranks the eight units (two tied first at full marks) and the
    bulletin (督查通报) went to the distribution list, naming the lowest-scoring unit."""
    [summary] = (home / "out").rglob("inspections/督查汇总表-季度常规督查-2026-Q4.xlsx")
    rows = list(load_workbook(summary)["得分汇总"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows[:8]] == [1, 1, 3, 4, 5, 6, 7, 8]
    lowest = min(scores, key=lambda s: s.total).unit_id
    assert rows[7][1] == lowest
    sent = []
    for message in mailbox.Maildir(home / "mail" / "sent", factory=None):
        parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
        if "督查" in str(parsed["Subject"]) and "通报" in str(parsed["Subject"]):
            sent.append(parsed)
    [bulletin] = sent
    assert "jiwei@jt.example" in str(bulletin["To"])
    body = bulletin.get_body(("plain",))
    assert isinstance(body, EmailMessage)
    assert "三、得分较低的单位" in body.get_content()


def _assert_the_items_were_reported_on_and_verified(home: Path) -> None:
    """The progress templates went out pre-filled, one unit deleted a row (told in its receipt
    that the item stays as it was), one claimed a completion before the item existed (refused,
    naming the cell), the coordinator closed the claims but one, returned; the 整改台账 holds
    every item."""
    bodies = []
    for message in mailbox.Maildir(home / "mail" / "sent", factory=None):
        parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
        if "整改进展月报" in str(parsed["Subject"]) and isinstance(parsed, EmailMessage):
            body = parsed.get_body(("plain",))
            bodies.append(body.get_content() if isinstance(body, EmailMessage) else "")
    assert any("不能早于该问题登记的日期" in b and "2026-08-15" in b for b in bodies)
    assert any("该行被删除" in b and "本次未作变更" in b for b in bodies)
    engine = create_engine(f"sqlite:///{home / 'duban.sqlite3'}")
    try:
        with Session(engine) as session:
            kinds = dict(
                session.execute(
                    select(EventRow.kind, func.count())
                    .where(EventRow.kind.like("rectification.%"))
                    .group_by(EventRow.kind)
                )
                .tuples()
                .all()
            )
            codes = set(session.scalars(select(RectificationRow.code)))
    finally:
        engine.dispose()
    assert kinds["rectification.created"] == len(codes)
    assert kinds["rectification.returned"] == 1
    assert kinds["rectification.closed"] == kinds["rectification.claimed"] - 1 > 0
    [ledger] = (home / "out").rglob("rectification/整改台账*.xlsx")
    book = load_workbook(ledger, read_only=True)
    listed = {
        row[1]
        for name in book.sheetnames
        if name not in ("汇总", "逾期未完成")
        for row in book[name].iter_rows(min_row=2, values_only=True)
    }
    assert listed == codes  # one sheet per tag: every item is on one at least


def _assert_every_deliverable_sent_was_answered(ledger: Path) -> None:
    """Every deliverable period the demo sent notices for has accepted submissions; a unit
    whose file was rejected sent a corrected one that was accepted; and the percentages typed
    into cells formatted as percentages were recorded as the units meant them (50, not 0.5)."""
    campaign = load_campaign(EXAMPLE).campaign
    forms = {f.id: f for f in campaign.forms}
    percent_keys = {
        (d.id, sheet.name): [c.key for c in sheet.columns if is_percent(c)]
        for d in campaign.deliverables
        for sheet in forms[d.form].sheets
    }
    engine = create_engine(f"sqlite:///{ledger}")
    try:
        with Session(engine) as session:
            noticed = set(
                session.execute(
                    select(InstanceRow.deliverable_id, InstanceRow.period)
                    .join(MessageRow, MessageRow.instance_id == InstanceRow.id)
                    .where(MessageRow.kind == "notice")
                    .distinct()
                )
                .tuples()
                .all()
            )
            accepted = dict(
                session.execute(
                    select(InstanceRow.deliverable_id, func.count(distinct(InstanceRow.unit_id)))
                    .join(SubmissionRow, SubmissionRow.instance_id == InstanceRow.id)
                    .group_by(InstanceRow.deliverable_id)
                )
                .tuples()
                .all()
            )
            files = session.execute(
                select(InstanceRow.deliverable_id, InstanceRow.unit_id, IntakeFileRow.outcome)
                .select_from(IntakeFileRow)
                .outerjoin(InstanceRow, IntakeFileRow.instance_id == InstanceRow.id)
            ).tuples()
            outcomes: dict[tuple[str | None, str], int] = {}
            rejected, answered = set(), set()
            for deliverable, unit, outcome in files:
                outcomes[deliverable, outcome] = outcomes.get((deliverable, outcome), 0) + 1
                if outcome == "rejected":
                    rejected.add((deliverable, unit))
                if outcome == "accepted":
                    answered.add((deliverable, unit))
            listed = session.scalar(
                select(func.count(distinct(RectificationRow.unit_id))).where(
                    RectificationRow.source == "self-check"
                )
            )
            recorded = session.execute(
                select(InstanceRow.deliverable_id, SubmissionRow.rows).join(
                    SubmissionRow, SubmissionRow.instance_id == InstanceRow.id
                )
            ).tuples()
            percents = [
                row[key]
                for deliverable, sheets in recorded
                for sheet, rows in sheets.items()
                for row in rows
                for key in percent_keys.get((deliverable, sheet), ())
                if row[key] is not None
            ]
    finally:
        engine.dispose()
    assert noticed == {
        ("plan", "once"),
        ("progress-parts", "2026-Q1"),
        ("progress", "2026-Q1"),
        ("self-check", "once"),
        ("rectification", "2026-09"),
    }
    for deliverable, period in sorted(noticed):
        assert accepted.get(deliverable, 0) > 0, f"no {deliverable} {period} was accepted"
    # plan: 30 less two silent, one held for review, one quarantined; progress: the 8 partners
    # and the 5 leads, each; self-check and September's rectification progress: 30 less three
    # silent (a tenth)
    assert accepted == {"plan": 26, "progress-parts": 8, "progress": 5, "self-check": 27,
                        "rectification": 27}  # fmt: skip
    assert listed == 27  # every accepted problem list became rectification items
    assert rejected
    assert rejected <= answered  # each unit told to fix a file sent one that was accepted
    assert outcomes["plan", "accepted"] == 27  # one unit sent a second version
    assert outcomes["plan", "rejected"] == 1  # the wrong value, corrected the next day
    # the unit that sent another unit's template: held, noted against the duty it claims
    assert outcomes["plan", "held"] == 1
    assert outcomes[None, "quarantined"] == 1  # the hostile file
    assert outcomes["progress", "rejected"] == 1  # a lead's 完成比例 120, corrected the next day
    assert ("progress", WRONG_LEAD) in rejected
    assert ("progress-parts", "rejected") not in outcomes
    assert outcomes["rectification", "rejected"] == 2  # a wrong state, a back-dated completion
    assert percents
    assert all(10 <= Decimal(str(v)) <= 100 for v in percents)  # 50 % typed is 50, not 0.5


@pytest.mark.parametrize("path", CAMPAIGNS, ids=lambda p: p.parent.name)
def test_the_simulated_units_fill_every_form_from_its_declaration(path: Path) -> None:
    """What the units type passes each column's checks (percentages as whole numbers here);
    the wrong value they type fails them."""
    rng = random.Random(7)
    for form in load_campaign(path).campaign.forms:
        for sheet in form.sheets:
            rows = form_rows(sheet, rng, 2026, 20)
            for number, row in enumerate(rows, start=3):
                for index, (column, value) in enumerate(zip(sheet.columns, row, strict=True)):
                    cell = f"{column_letter(index + 1)}{number}"
                    _, problem = check_cell(sheet.name, cell, column, value)
                    assert problem is None, (form.id, problem)
                    if is_percent(column) and value is not None:
                        assert 10 <= value <= 100
            index, value = wrong_value(sheet)
            _, problem = check_cell(sheet.name, "A3", sheet.columns[index], value)
            assert problem is not None, (form.id, sheet.name, value)


def test_the_demo_refuses_to_empty_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(FileExistsError):
        run_demo(EXAMPLE, tmp_path, Console(record=True))
    assert (tmp_path / "precious.txt").exists()
