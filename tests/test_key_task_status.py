"""The office's view of key tasks reported in two steps (issue 21, 重点工作推进情况): per key
task, the lead and each partner with their state, who is late and who holds the task up; in
``duban status``, in the lead's summary workbook and in its bulletin. On SQLite and PostgreSQL.

The example's quarterly progress report with partners reporting first (parts due 18 March,
the lead's report 25 March), and a third partner B18 for 提速增效 (B18 also partners 执行力强化):

=============  ====  ===============================  ==========================================
key task       lead  partners                         what happens
=============  ====  ===============================  ==========================================
training       B03   B10                              B10 on time; B03 never reports
efficiency     B17   B02, B16, B18                    B02 on time, B16 late, B18 never; B17 on
                                                      time
execution      B20   B05, B18                         B05 on time; B20 never reports
key-projects   B06   B07, B14                         B07 on time, B14 exempted; B06 late
conduct        B05   B04                              both on time
=============  ====  ===============================  ==========================================
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import docx
import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, event, select
from typer.testing import CliRunner

from duban.adapters.render import environment
from duban.cli.app import app
from duban.clock import FixedClock
from duban.compile.bulletin import render_bulletin_html, write_bulletin_docx
from duban.compile.outputs import compile_outputs
from duban.implement.chain_report import key_task_status
from duban.implement.chain_status import TaskStanding, chain_standing, latest_chain_period
from duban.implement.duties import exempt
from duban.implement.parts import chain_of
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import InstanceRow, SubmissionRow
from duban.ledger.store import instance_facts, register
from duban.model.loader import CampaignBundle, load_campaign

from .test_campaign_file import replace_in

SHEET = "进展情况"
TRAINING = "加强教育培训，推进干部素质优化工程"
EFFICIENCY = "创新服务举措，推进提速增效工程"
EXECUTION = "规范行政行为，推进执行力强化工程"
PROJECTS = "完善工作机制，实施重点项目推进工程"
CONDUCT = "开展专项行动，推进作风整顿工程"
ENV = environment()
runner = CliRunner()


def local(text: str) -> datetime:
    """A Shanghai moment (the campaign's zone) as UTC."""
    return datetime.fromisoformat(text + "+08:00").astimezone(UTC)


def shown(text: str) -> datetime:
    """A Shanghai moment as a workbook cell reads back: local, without a zone."""
    return local(text).astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)


PARTS_ONLY = local("2026-03-23T09:00")  # the parts are due (18 March), the leads' not yet
BOTH = local("2026-03-27T09:00")  # the leads' report was due 25 March

PARTS = [  # (partner, received, tasks it writes about)
    ("B02", "2026-03-16T10:00", [EFFICIENCY]),
    ("B16", "2026-03-20T10:00", [EFFICIENCY]),  # after its due day: late
    ("B10", "2026-03-17T10:00", [TRAINING]),
    ("B05", "2026-03-18T16:00", [EXECUTION]),
    ("B07", "2026-03-18T11:00", [PROJECTS]),
    ("B04", "2026-03-12T09:30", [CONDUCT]),
]
LEADS = [  # B03 and B20 never report
    ("B17", "2026-03-24T15:00", [EFFICIENCY]),
    ("B06", "2026-03-26T10:00", [PROJECTS]),  # late
    ("B05", "2026-03-25T17:00", [CONDUCT]),
]


@dataclass
class Office:
    engine: Engine
    bundle: CampaignBundle
    url: str
    campaign_file: Path

    def submit(self, deliverable: str, unit_id: str, at: str, tasks: list[str]) -> None:
        received = local(at)
        rows = [{"task": t, "progress": f"{unit_id}：推进中", "percent": 50, "reporter": "张三",
                 "phone": "13800000000"} for t in tasks]  # fmt: skip
        with session_scope(self.engine) as session:
            duty = session.scalars(select(InstanceRow).where(
                InstanceRow.deliverable_id == deliverable, InstanceRow.period == "2026-Q1",
                InstanceRow.unit_id == unit_id)).one()  # fmt: skip
            session.add(SubmissionRow(instance_id=duty.id, version=1, sha256=unit_id.ljust(64, "0"),
                                      received_at=received, on_time=received < duty.effective_due,
                                      row_count=len(rows), rows={SHEET: rows}))  # fmt: skip

    def standing(self, as_of: datetime) -> list[TaskStanding]:
        campaign = self.bundle.campaign
        chain = chain_of(campaign, campaign.deliverable("progress"))
        assert chain is not None
        with session_scope(self.engine) as session:
            facts = instance_facts(session, campaign.id)
        assert latest_chain_period(chain, facts, as_of) == "2026-Q1"
        names = {u.id: u.name for u in self.bundle.units}
        return chain_standing(campaign, chain, "2026-Q1", facts, names, as_of)


@pytest.fixture
def office(example_copy: Path, ledger_url: str) -> Iterator[Office]:
    replace_in(example_copy, "partners: [B02, B16]", "partners: [B02, B16, B18]")
    bundle = load_campaign(example_copy)
    engine = make_engine(ledger_url)
    migrate(engine)
    with session_scope(engine) as session:
        register(session, bundle, FixedClock(datetime(2026, 2, 9, tzinfo=UTC)))
        duty = session.scalars(select(InstanceRow).where(
            InstanceRow.deliverable_id == "progress-parts", InstanceRow.period == "2026-Q1",
            InstanceRow.unit_id == "B14")).one()  # fmt: skip
        exempt(session, duty, reason="机构调整", actor="office",
               clock=FixedClock(datetime(2026, 3, 10, tzinfo=UTC)))  # fmt: skip
    world = Office(engine, bundle, ledger_url, example_copy)
    for unit_id, at, tasks in PARTS:
        world.submit("progress-parts", unit_id, at, tasks)
    try:
        yield world
    finally:
        engine.dispose()


def with_leads(office: Office) -> Office:
    for unit_id, at, tasks in LEADS:
        office.submit("progress", unit_id, at, tasks)
    return office


def summary(tasks: list[TaskStanding]) -> dict[str, Any]:
    """Per task: the lead and its state, each partner and its state, the late, the holders."""
    return {
        t.task.id: (
            None if t.lead is None else (t.lead.unit_id, t.lead.state.value),
            [(p.unit_id, p.state.value) for p in t.partners],
            [u.unit_id for u in t.late],
            [u.unit_id for u in t.holding],
        )
        for t in tasks
    }


def test_partners_late_hold_the_task_up_before_the_leads_due_day(office: Office) -> None:
    assert summary(office.standing(PARTS_ONLY)) == {
        "training": (("B03", "due-soon"), [("B10", "on-time")], [], []),
        "efficiency": (("B17", "due-soon"),
                       [("B02", "on-time"), ("B16", "late"), ("B18", "overdue")],
                       ["B16", "B18"], ["B18"]),
        "execution": (("B20", "due-soon"), [("B05", "on-time"), ("B18", "overdue")],
                      ["B18"], ["B18"]),
        "key-projects": (("B06", "due-soon"), [("B07", "on-time"), ("B14", "exempted")], [], []),
        "conduct": (("B05", "due-soon"), [("B04", "on-time")], [], []),
    }  # fmt: skip


def test_the_lead_holds_the_task_up_once_every_part_is_in(office: Office) -> None:
    tasks = with_leads(office).standing(BOTH)
    assert summary(tasks) == {
        "training": (("B03", "overdue"), [("B10", "on-time")], ["B03"], ["B03"]),
        "efficiency": (("B17", "on-time"),
                       [("B02", "on-time"), ("B16", "late"), ("B18", "overdue")],
                       ["B16", "B18"], ["B18"]),
        # B20 is late too, but B18's part is still missing: B18 holds the task up
        "execution": (("B20", "overdue"), [("B05", "on-time"), ("B18", "overdue")],
                      ["B18", "B20"], ["B18"]),
        "key-projects": (("B06", "late"), [("B07", "on-time"), ("B14", "exempted")],
                         ["B06"], []),
        "conduct": (("B05", "on-time"), [("B04", "on-time")], [], []),
    }  # fmt: skip
    efficiency = next(t for t in tasks if t.task.id == "efficiency")
    assert efficiency.lead is not None
    assert efficiency.lead.received_at == local("2026-03-24T15:00")
    assert efficiency.lead.due_at == local("2026-03-26T00:00")
    assert [p.due_at for p in efficiency.partners] == [local("2026-03-19T00:00")] * 3


def test_the_status_report_reads_the_ledger_in_a_few_queries(office: Office) -> None:
    """Five key tasks or five hundred: the same few statements (no query per unit)."""
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(office.engine, "before_cursor_execute", count)
    try:
        with session_scope(office.engine) as session:
            [chain] = key_task_status(session, office.bundle.campaign, PARTS_ONLY)
    finally:
        event.remove(office.engine, "before_cursor_execute", count)
    assert len(statements) <= 6, statements
    assert (chain["deliverable"], chain["parts"], chain["period"]) == (
        "progress", "progress-parts", "2026-Q1")  # fmt: skip
    efficiency = chain["tasks"][1]
    assert efficiency["title"] == EFFICIENCY
    assert efficiency["lead"] == {
        "unit": "B17", "name": "市行政审批局", "role": "lead", "state": "due-soon",
        "due": "2026-03-25", "received": None,
    }  # fmt: skip
    assert efficiency["partners"][1] == {
        "unit": "B16", "name": "市市场监督管理局", "role": "partner", "state": "late",
        "due": "2026-03-18", "received": "2026-03-20T02:00:00+00:00",
    }  # fmt: skip
    assert (efficiency["late"], efficiency["holding"]) == (["B16", "B18"], ["B18"])


def cli(office: Office, *args: str, lang: str = "zh-CN") -> str:
    env = {"DUBAN_DATABASE_URL": office.url, "DUBAN_HOME": str(office.campaign_file.parent),
           "COLUMNS": "200", "DUBAN_LANG": lang}  # fmt: skip
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def line_of(output: str, *words: str) -> str:
    found = [line for line in output.splitlines() if all(w in line for w in words)]
    assert len(found) == 1, (words, output)
    return found[0]


def test_status_shows_each_key_task_with_its_lead_and_partners(office: Office) -> None:
    output = cli(office, "status", "--as-of", "2026-03-23T09:00")
    assert f"{office.bundle.campaign.id}：重点工作推进情况（progress 2026-Q1）" in output
    assert re.search(r"^重点工作\s+牵头单位\s+配合单位\s+逾期单位\s*$", output, re.M)
    efficiency = line_of(output, EFFICIENCY)
    assert "市行政审批局 临近截止 截止03-25" in efficiency  # the lead: not due yet
    assert "市政府办公室 按时报送 03-16" in efficiency  # the day its part came
    assert efficiency.rstrip().endswith("市市场监督管理局、市信访局*")  # late; B18 holds it up
    assert "市市场监督管理局 逾期报送 03-20" in output
    assert re.search(r"^\s+市信访局 逾期未报 截止03-18\s*$", output, re.M)
    assert "市商务局 免报 截止03-18" in line_of(output, "市商务局")
    assert line_of(output, CONDUCT).rstrip().endswith("—")  # nobody late
    assert "逾期单位：逾期报送或逾期未报的单位；标 * 的单位正卡住该项工作" in output


def test_status_in_english_and_as_json(office: Office) -> None:
    with_leads(office)
    output = cli(office, "status", "--as-of", "2026-03-27T09:00", lang="en")
    assert f"{office.bundle.campaign.id}: key tasks — progress 2026-Q1" in output
    assert re.search(r"^key task\s+lead\s+partners\s+late\s*$", output, re.M)
    training = line_of(output, TRAINING)
    assert "市委组织部 overdue due 03-25" in training
    assert training.rstrip().endswith("市委组织部*")  # every part is in: the lead holds it up
    assert line_of(output, PROJECTS).rstrip().endswith("市发展和改革委员会")  # late, holds nothing
    assert line_of(output, EXECUTION).rstrip().endswith("市信访局*, 市司法局")
    assert "late: reported late, or not at all past the due day; * holds the task up" in output
    report = json.loads(cli(office, "status", "--json", "--as-of", "2026-03-27T09:00"))
    [campaign] = report["campaigns"]
    [chain] = campaign["key_tasks"]
    assert [(t["task"], t["late"], t["holding"]) for t in chain["tasks"]] == [
        ("training", ["B03"], ["B03"]), ("efficiency", ["B16", "B18"], ["B18"]),
        ("execution", ["B18", "B20"], ["B18"]), ("key-projects", ["B06"], []),
        ("conduct", [], []),
    ]  # fmt: skip


def test_status_of_another_deliverable_shows_no_key_tasks(office: Office) -> None:
    output = cli(office, "status", "--deliverable", "plan", "--as-of", "2026-03-23T09:00")
    assert "重点工作推进情况" not in output
    report = json.loads(cli(office, "status", "--json", "--deliverable", "progress-parts",
                            "--as-of", "2026-03-23T09:00"))  # fmt: skip
    assert report["campaigns"][0]["key_tasks"][0]["period"] == "2026-Q1"
    before = json.loads(cli(office, "status", "--json", "--as-of", "2026-03-18T09:00"))
    assert "key_tasks" not in before["campaigns"][0]  # no part of the chain due yet


def compiled(office: Office, deliverable: str, tmp_path: Path) -> Any:
    return compile_outputs(office.engine, office.bundle, deliverable, "2026-Q1", as_of=BOTH,
                           out=tmp_path / "out", env=ENV, clock=FixedClock(BOTH))  # fmt: skip


def test_the_leads_summary_workbook_has_a_row_per_unit_of_each_chain(
    office: Office, tmp_path: Path
) -> None:
    result = compiled(with_leads(office), "progress", tmp_path)
    book = load_workbook(result.workbook)
    assert book.sheetnames[:3] == ["概览", "报送情况", "重点工作推进情况"]
    rows = list(book["重点工作推进情况"].iter_rows(values_only=True))
    assert rows[0] == ("重点工作", "角色", "单位编号", "单位名称", "截止时间",
                       "首次有效报送时间", "报送状态", "卡住该项工作")  # fmt: skip
    assert [(r[0], r[1], r[2], r[4], r[6], r[7]) for r in rows[1:]] == [
        (TRAINING, "牵头", "B03", "2026-03-25 24:00", "未报送", "是"),
        (TRAINING, "配合", "B10", "2026-03-18 24:00", "按时报送", None),
        (EFFICIENCY, "牵头", "B17", "2026-03-25 24:00", "按时报送", None),
        (EFFICIENCY, "配合", "B02", "2026-03-18 24:00", "按时报送", None),
        (EFFICIENCY, "配合", "B16", "2026-03-18 24:00", "逾期报送", None),
        (EFFICIENCY, "配合", "B18", "2026-03-18 24:00", "未报送", "是"),
        (EXECUTION, "牵头", "B20", "2026-03-25 24:00", "未报送", None),
        (EXECUTION, "配合", "B05", "2026-03-18 24:00", "按时报送", None),
        (EXECUTION, "配合", "B18", "2026-03-18 24:00", "未报送", "是"),
        (PROJECTS, "牵头", "B06", "2026-03-25 24:00", "逾期报送", None),
        (PROJECTS, "配合", "B07", "2026-03-18 24:00", "按时报送", None),
        (PROJECTS, "配合", "B14", "2026-03-18 24:00", "免报", None),
        (CONDUCT, "牵头", "B05", "2026-03-25 24:00", "按时报送", None),
        (CONDUCT, "配合", "B04", "2026-03-18 24:00", "按时报送", None),
    ]  # fmt: skip
    names = {r[2]: r[3] for r in rows[1:]}
    assert (names["B17"], names["B18"]) == ("市行政审批局", "市信访局")
    received = {(r[2], r[1]): r[5] for r in rows[1:]}
    assert received[("B16", "配合")] == shown("2026-03-20T10:00")
    assert received[("B03", "牵头")] is None
    partners = compiled(office, "progress-parts", tmp_path / "parts")
    assert "重点工作推进情况" not in load_workbook(partners.workbook).sheetnames


def test_the_leads_bulletin_names_the_late_units_of_each_key_task(
    office: Office, tmp_path: Path
) -> None:
    result = compiled(with_leads(office), "progress", tmp_path)
    text = result.bulletin.text
    lines = [
        "5项重点工作中，4项有牵头单位或配合单位逾期：",
        f"“{TRAINING}”（牵头单位：市委组织部）：市委组织部（牵头）逾期未报送。",
        f"“{EFFICIENCY}”（牵头单位：市行政审批局）：市市场监督管理局（配合）逾期报送、"
        "市信访局（配合）逾期未报送。",
        f"“{EXECUTION}”（牵头单位：市司法局）：市信访局（配合）逾期未报送、"
        "市司法局（牵头）逾期未报送。",
        f"“{PROJECTS}”（牵头单位：市发展和改革委员会）：市发展和改革委员会（牵头）逾期报送。",
    ]
    assert "　　四、重点工作推进情况\n" in text
    for line in lines:
        assert f"　　{line}\n" in text
        assert line in result.bulletin.html
    assert CONDUCT not in text  # nobody late in it
    document = docx.Document(io.BytesIO(result.docx.read_bytes()))
    paragraphs = [p.text for p in document.paragraphs]
    heading = next(i for i, p in enumerate(paragraphs) if p.endswith("重点工作推进情况"))
    assert paragraphs[heading] == "四、重点工作推进情况"  # after the three unit lists
    assert paragraphs[heading + 1 : heading + 6] == lines

    english = render_bulletin_html(replace(result.data, language="en"), ENV)
    assert "4. Key tasks\n   In 4 of the 5 key tasks a lead or partner unit is late:\n" in (
        english.text
    )
    assert (
        f"   “{EFFICIENCY}” (lead: 市行政审批局): 市市场监督管理局 (partner) reported late; "
        "市信访局 (partner) has not reported.\n"
    ) in english.text
    assert "4. Key tasks</td>" in english.html
    write_bulletin_docx(replace(result.data, language="en"), tmp_path / "en.docx")
    paragraphs = [p.text for p in docx.Document(str(tmp_path / "en.docx")).paragraphs]
    assert "4. Key tasks" in paragraphs
