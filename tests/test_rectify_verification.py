"""The coordinator's verification workbook (核验销号表, issue 15, item 4) on a real ledger,
SQLite and PostgreSQL: ``duban rectify sheet`` writes the claimed items, locked, with a verdict
dropdown and a signed hidden sheet; ``duban rectify verdicts`` turns a filled copy into
closures and returns, refuses a file with any bad row whole (every row named), and records a
file once however often, and however many at once, it is read. By email (the loopback SMTP
server and dovecot), the sheet from the coordinator's address is recorded the same way and
answered; from another address, or unsigned, it is held and nothing is recorded."""

from __future__ import annotations

import email
import email.policy
import hashlib
import imaplib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner, Result

from duban.adapters.xlsx.token import VERIFICATION_SHEET, SheetIdentity, verify
from duban.cli.app import app
from duban.clock import FixedClock
from duban.implement.commands import collect
from duban.ledger.db import make_engine, session_scope
from duban.ledger.schema import EventRow, IntakeFileRow, IntakeRow
from duban.runtime import Runtime
from duban.selfcheck.items import Item, NewItem
from duban.selfcheck.ledger import apply_move, create_items, get_item
from duban.selfcheck.states import Action, Move
from duban.selfcheck.verifysheet import SheetMeta, write_verification_sheet
from duban.settings import load_settings
from duban.testing.imapserver import LocalImapServer
from duban.testing.mailserver import LocalSmtpServer

from .conftest import EXAMPLE
from .test_collect import PASSWORD, USER, _empty_mailbox, imap  # noqa: F401  (imap)

runner = CliRunner()
CAMPAIGN = str(EXAMPLE)
CID = "nlzf-2026"
ZONE = ZoneInfo("Asia/Shanghai")
RECORDED = datetime(2026, 7, 1, 9, 0, tzinfo=ZONE)
CLAIMED = datetime(2026, 7, 10, 15, 30, tzinfo=ZONE)
NOW = "2026-07-15T10:20"
SECRET = "verification-secret-0123456789abcdef"
ROOT = Path(__file__).resolve().parent.parent
FINDINGS = {
    "ZG-B03-001": ("B03", "学习制度落实不到位", date(2026, 7, 10)),
    "ZG-B03-002": ("B03", "窗口服务效率不高", date(2026, 9, 30)),
    "ZG-B03-003": ("B03", "公务用车管理不规范", date(2026, 9, 30)),
    "ZG-T01-001": ("T01", "值班纪律松弛", None),
    "ZG-T01-002": ("T01", "会议室长明灯", date(2026, 8, 31)),
}
CLAIMS = ("ZG-B03-001", "ZG-B03-002", "ZG-T01-001", "ZG-T01-002")
"""Claimed, awaiting verification; ZG-B03-003 stays open."""
VERDICT, NOTE, REVIEWER = "I", "J", "K"


@dataclass
class Ledger:
    url: str
    engine: Engine
    home: Path

    def env(self, language: str = "en") -> dict[str, str | None]:
        return {"DUBAN_DATABASE_URL": self.url, "DUBAN_HOME": str(self.home), "DUBAN_NOW": NOW,
                "DUBAN_LANG": language, "DUBAN_SECRET": SECRET, "COLUMNS": "80"}  # fmt: skip

    def run(self, *args: str, language: str = "en") -> Result:
        return runner.invoke(app, ["rectify", *args], env=self.env(language))

    def item(self, code: str) -> Item:
        with session_scope(self.engine) as session:
            return get_item(session, CID, code)

    def events(self, kind: str | None = None) -> list[tuple[str | None, str, dict[str, Any]]]:
        query = select(EventRow.subject, EventRow.actor, EventRow.payload).order_by(EventRow.id)
        if kind is not None:
            query = query.where(EventRow.kind == kind)
        with session_scope(self.engine) as session:
            return [(s, a, dict(p)) for s, a, p in session.execute(query)]

    def count(self) -> int:
        with session_scope(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(EventRow)) or 0)

    def sheet(self, *args: str) -> Path:
        """``rectify sheet``, in Chinese; the workbook's path."""
        result = self.run("sheet", CAMPAIGN, *args, language="zh-CN")
        assert result.exit_code == 0, result.output
        return Path(result.output.split("\n")[0].strip())


@pytest.fixture
def ledger(ledger_url: str, tmp_path: Path) -> Iterator[Ledger]:
    home = tmp_path / "home"
    env = {"DUBAN_DATABASE_URL": ledger_url, "DUBAN_HOME": str(home), "DUBAN_NOW": "2026-07-01"}
    assert runner.invoke(app, ["init", CAMPAIGN], env=env).exit_code == 0
    engine = make_engine(ledger_url)
    items = [
        NewItem(unit, finding, measure=f"{finding}：整改", deadline=due, long_term=due is None)
        for unit, finding, due in FINDINGS.values()
    ]
    with session_scope(engine) as session:
        create_items(session, FixedClock(RECORDED), CID, items, actor="B03")
    for code in CLAIMS:
        move = Move(Action.CLAIM, code[3:6], role="unit", evidence=f"{code} 已整改，附制度文件",
                    completed_on=CLAIMED.date())  # fmt: skip
        with session_scope(engine) as session:
            apply_move(session, FixedClock(CLAIMED), CID, code, move, zone=ZONE)
    try:
        yield Ledger(ledger_url, engine, home)
    finally:
        engine.dispose()


def fill(path: Path, out: Path, verdicts: dict[str, dict[str, str]]) -> Path:
    """The coordinator's copy: each named item's row given the cells in ``verdicts`` (by
    column letter), saved as ``out`` (openpyxl, as Excel would save it)."""
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    rows = {sheet.cell(r, 2).value: r for r in range(2, sheet.max_row + 1)}
    for code, cells in verdicts.items():
        row = rows.get(code)
        if row is None:  # a row the coordinator typed under the others
            row = sheet.max_row + 1
            sheet.cell(row, 2).value = code
        for letter, value in cells.items():
            sheet[f"{letter}{row}"] = value
    book.save(out)
    return out


GOOD = {
    "ZG-B03-001": {VERDICT: "同意销号", NOTE: "已现场核实", REVIEWER: "督查一组 李四"},
    "ZG-B03-002": {VERDICT: "退回", NOTE: "缺少制度文件佐证"},
    "ZG-T01-002": {VERDICT: "同意销号"},
}


# --------------------------------------------------------------------------- the sheet


def test_sheet_lists_claimed_items_locked_with_a_verdict_dropdown(ledger: Ledger) -> None:
    path = ledger.sheet()
    assert path == ledger.home / "out" / CID / "rectification" / "核验销号表（2026-07-15）.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    assert sheet.title == "核验销号表"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("序号", "整改编号", "责任单位", "问题描述", "整改措施", "整改时限",
                       "完成情况", "申请销号日期", "核验结论", "核验意见", "复核人")  # fmt: skip
    assert [r[1] for r in rows[1:]] == list(CLAIMS)  # ZG-B03-003 is open: not listed
    first = rows[1]
    assert first[:5] == (1, "ZG-B03-001", "市委组织部", "学习制度落实不到位",
                         "学习制度落实不到位：整改")  # fmt: skip
    naive = datetime.combine(date(2026, 7, 10), datetime.min.time())  # a date cell, as read
    assert first[5] == naive
    assert first[6] == "ZG-B03-001 已整改，附制度文件"
    assert first[7] == naive
    assert first[8:] == (None, None, None)
    assert rows[3][5] == "长期坚持"  # ZG-T01-001
    assert sheet.protection.sheet
    for row in range(2, 6):
        for col in range(1, 9):
            cell = sheet.cell(row, col)
            assert cell.protection.locked, cell.coordinate
            assert cell.fill.fgColor.rgb.endswith("EDEDED"), cell.coordinate
        for col in (9, 10, 11):
            assert not sheet.cell(row, col).protection.locked
    [rule] = sheet.data_validations.dataValidation
    assert rule.type == "list"
    assert rule.formula1 == '"同意销号,退回"'
    assert str(rule.sqref) == "I2:I5"
    meta = book["_duban"]
    assert meta.sheet_state == "veryHidden"
    said = {str(r[0]): str(r[1]) for r in meta.iter_rows(values_only=True)}
    identity = SheetIdentity(VERIFICATION_SHEET, CID, "2026-07-15")
    assert said["kind"] == "verification"
    assert verify(SECRET.encode(), identity, said["token"])
    assert not verify(SECRET.encode(), SheetIdentity(VERIFICATION_SHEET, CID, "2026-07-16"),
                      said["token"])  # fmt: skip


def test_sheet_of_some_units_and_to_a_folder(ledger: Ledger, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    result = ledger.run("sheet", CAMPAIGN, "--unit", "T01", "--out", str(folder))
    assert result.exit_code == 0, result.output
    assert "2 items awaiting verification as of 2026-07-15" in result.output
    book = openpyxl.load_workbook(folder / "核验销号表（2026-07-15）.xlsx")
    codes = [r[1] for r in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert codes == ["ZG-T01-001", "ZG-T01-002"]
    unknown = ledger.run("sheet", CAMPAIGN, "--unit", "Z99")
    assert unknown.exit_code == 1
    assert "no unit 'Z99'" in unknown.output


def test_sheet_in_english(ledger: Ledger, tmp_path: Path) -> None:
    items = [ledger.item(code) for code in CLAIMS[:1]]
    meta = SheetMeta(SheetIdentity(VERIFICATION_SHEET, CID, "2026-07-15"), None)
    path = tmp_path / "verification.xlsx"
    assert write_verification_sheet(path, items, {"B03": "Organisation"}, meta,
                                    language="en", zone=ZONE) == 1  # fmt: skip
    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert sheet.title == "Verification"
    assert [c.value for c in sheet[1]] == ["No.", "Item", "Responsible unit", "Finding",
                                           "Measure", "Deadline", "Evidence", "Claimed on",
                                           "Verdict", "Note", "Second reviewer"]  # fmt: skip
    assert sheet["C2"].value == "Organisation"
    assert sheet.data_validations.dataValidation[0].formula1 == '"close,return"'


# --------------------------------------------------------------------------- the verdicts


def test_verdicts_close_and_return_items_with_their_events(ledger: Ledger, tmp_path: Path) -> None:
    path = fill(ledger.sheet(), tmp_path / "filled.xlsx", GOOD)
    before = ledger.count()
    result = ledger.run("verdicts", CAMPAIGN, str(path), "--by", "王主任")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert said == ("filled.xlsx: 2 closed (ZG-B03-001, ZG-T01-002); 1 returned (ZG-B03-002); "
                    "1 row left without a verdict"), said  # fmt: skip
    closed = ledger.item("ZG-B03-001")
    assert (closed.state, closed.closed_by, closed.reviewed_by) == ("closed", "王主任",
                                                                    "督查一组 李四")  # fmt: skip
    returned = ledger.item("ZG-B03-002")
    assert (returned.state, returned.last_reason) == ("in_progress", "缺少制度文件佐证")
    assert ledger.item("ZG-T01-001").state == "claimed"  # left blank
    assert ledger.count() == before + 4  # three moves and the import
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    [(subject, actor, payload)] = [e for e in ledger.events("rectification.closed")
                                   if e[0] == "ZG-B03-001"]  # fmt: skip
    assert (actor, payload["note"], payload["reviewer"]) == ("王主任", "已现场核实",
                                                             "督查一组 李四")  # fmt: skip
    assert payload["request_key"] == f"verdicts:{sha[:16]}:ZG-B03-001"
    [(_, _, back)] = ledger.events("rectification.returned")
    assert back["reason"] == "缺少制度文件佐证"
    [(subject, actor, payload)] = ledger.events("rectification.verdicts-imported")
    assert (subject, actor) == (f"verdicts:{sha}", "王主任")
    assert payload == {"file": "filled.xlsx", "sha256": sha, "sheet": "核验销号表",
                       "closed": ["ZG-B03-001", "ZG-T01-002"], "returned": ["ZG-B03-002"],
                       "already": [], "blank": 1}  # fmt: skip
    assert (ledger.home / "raw" / sha[:2] / sha[2:4] / sha).read_bytes() == path.read_bytes()


def test_every_bad_row_is_named_and_nothing_is_recorded(ledger: Ledger, tmp_path: Path) -> None:
    with session_scope(ledger.engine) as session:  # closed since the sheet was written
        apply_move(session, FixedClock(CLAIMED), CID, "ZG-T01-002", Move(Action.CLOSE, "王主任"),
                   zone=ZONE)  # fmt: skip
    path = fill(ledger.sheet("--unit", "B03"), tmp_path / "bad.xlsx", {
        "ZG-B03-001": {VERDICT: "同意销号", REVIEWER: "coordinator"},
        "ZG-B03-002": {VERDICT: "退回"},
        "ZG-T01-002": {VERDICT: "同意销号"},
        "ZG-B03-099": {VERDICT: "同意销号"},
        "zg-b03-003": {VERDICT: "同意"},
    })  # fmt: skip
    path = fill(path, path, {"ZG-T01-001": {VERDICT: "退回", NOTE: "未见佐证"}})
    before = ledger.count()
    result = ledger.run("verdicts", CAMPAIGN, str(path))
    assert result.exit_code == 1, result.output
    lines = [line.strip() for line in result.output.strip().splitlines()]
    assert lines == [
        "error: bad.xlsx: 5 problems; nothing was recorded",
        "- sheet '核验销号表', row 2, cell K2 (复核人): 'coordinator' is the one closing: the "
        "second reviewer must be someone else",
        "- sheet '核验销号表', row 3, cell J3 (核验意见): empty: a return needs the reason the "
        "unit will see",
        "- sheet '核验销号表', row 4, cell B4 (整改编号): ZG-T01-002 is closed now, not awaiting "
        "verification: leave its verdict empty, or write a new 核验销号表",
        "- sheet '核验销号表', row 5, cell B5 (整改编号): no item 'ZG-B03-099' in this campaign",
        "- sheet '核验销号表', row 6, cell I6 (核验结论): '同意' is not a verdict: choose 同意销号 "
        "(close) or 退回 (return)",
        "→ correct the file and run `duban rectify verdicts` again",
    ], result.output  # fmt: skip
    assert ledger.count() == before
    assert ledger.item("ZG-B03-001").state == "claimed"
    assert ledger.item("ZG-T01-001").state == "claimed"  # a good row: not recorded either
    sha = hashlib.sha256(path.read_bytes()).hexdigest()  # the raw store has only init's files
    assert not (ledger.home / "raw" / sha[:2] / sha[2:4] / sha).exists()
    again = ledger.run("verdicts", CAMPAIGN, str(path), language="zh-CN")
    assert "工作表“核验销号表”第 3 行 J3 单元格（核验意见）：为空：退回须写明理由" in again.output


def test_a_code_twice_and_a_verdict_without_code(ledger: Ledger, tmp_path: Path) -> None:
    path = fill(ledger.sheet(), tmp_path / "twice.xlsx", GOOD)
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    sheet.append([None, "zg-b03-001", None, None, None, None, None, None, "退回", "重复"])
    sheet.append([None, None, None, None, None, None, None, None, "同意销号"])
    book.save(path)
    result = ledger.run("verdicts", CAMPAIGN, str(path))
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "row 6, cell B6 (整改编号): ZG-B03-001 is already on row 2" in said
    assert "row 7, cell B7 (整改编号): empty: a verdict needs the item's code" in said
    assert ledger.item("ZG-B03-001").state == "claimed"


def test_the_same_file_twice_records_once(ledger: Ledger, tmp_path: Path) -> None:
    path = fill(ledger.sheet(), tmp_path / "filled.xlsx", GOOD)
    assert ledger.run("verdicts", CAMPAIGN, str(path)).exit_code == 0
    after = ledger.count()
    result = ledger.run("verdicts", CAMPAIGN, str(path), language="zh-CN")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert said == "filled.xlsx：没有记录任何核验结论；3 项结论此前已按本文件记录；1 行未填核验结论"
    assert ledger.count() == after
    assert len(ledger.events("rectification.verdicts-imported")) == 1


def test_two_imports_at_once_record_once(ledger: Ledger, tmp_path: Path) -> None:
    """Two processes read the same file at the same time: one records, one finds it done."""
    path = fill(ledger.sheet(), tmp_path / "filled.xlsx", GOOD)
    env = {**os.environ, **{k: v for k, v in ledger.env().items() if v is not None},
           "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}  # fmt: skip
    command = [sys.executable, "-m", "duban", "rectify", "verdicts", CAMPAIGN, str(path)]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True) for _ in range(2)]  # fmt: skip
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    said = sorted(" ".join(o.split()) for o in outputs)
    assert said == [
        "filled.xlsx: 2 closed (ZG-B03-001, ZG-T01-002); 1 returned (ZG-B03-002); 1 row left "
        "without a verdict",
        "filled.xlsx: nothing recorded; 3 of this file's verdicts were recorded before; 1 row "
        "left without a verdict",
    ], outputs  # fmt: skip
    assert len(ledger.events("rectification.closed")) == 2
    assert len(ledger.events("rectification.returned")) == 1
    assert len(ledger.events("rectification.verdicts-imported")) == 1


def test_a_file_that_is_no_verification_sheet(ledger: Ledger, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    assert book.active is not None
    book.active.append(["序号", "问题描述"])
    book.save(tmp_path / "other.xlsx")
    result = ledger.run("verdicts", CAMPAIGN, str(tmp_path / "other.xlsx"))
    assert result.exit_code == 1
    assert "no sheet has a header naming 整改编号 and 核验结论" in " ".join(result.output.split())
    missing = ledger.run("verdicts", CAMPAIGN, str(tmp_path / "none.xlsx"))
    assert missing.exit_code == 1
    assert "cannot read" in missing.output


# --------------------------------------------------------------------------- by email

COORDINATOR = "youhuaban@jt.example"  # roles.coordinator of the example campaign (市优化办)


def mail(mailbox: LocalImapServer, sender: str, path: Path, subject: str) -> None:
    """A message from ``sender`` to duban's intake mailbox with the sheet attached, filed in
    the mailbox as the office's mail server would."""
    message = email.message.EmailMessage()
    message["From"] = sender
    message["To"] = "intake@jt.example"
    message["Subject"] = subject
    message["Message-ID"] = email.utils.make_msgid(domain="jt.example")
    message["Date"] = email.utils.format_datetime(CLAIMED)
    message.set_content("核验销号表见附件。")
    message.add_attachment(path.read_bytes(), maintype="application", subtype="octet-stream",
                           filename=path.name)  # fmt: skip
    client = imaplib.IMAP4("127.0.0.1", mailbox.port)
    client.login(USER, PASSWORD)
    client.append("INBOX", "", imaplib.Time2Internaldate(CLAIMED), message.as_bytes())
    client.logout()


def collect_now(ledger: Ledger, smtp: LocalSmtpServer, mailbox: LocalImapServer) -> list[str]:
    """``duban collect`` at the ledger's moment; the texts of the messages it sent, each with
    its recipients first."""
    before = len(smtp.messages)
    settings = load_settings(home=ledger.home, database_url=ledger.url, now=NOW, secret=SECRET,
                             smtp_url=smtp.url(), intake=mailbox.url(USER, PASSWORD))  # fmt: skip
    with Runtime(settings, EXAMPLE) as rt:
        collect(rt)
    texts = []
    for delivery in smtp.messages[before:]:
        message = email.message_from_bytes(delivery.raw, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        body = message.get_body(("plain",))
        assert body is not None
        said = " ".join(str(body.get_content()).split())
        texts.append(f"{','.join(delivery.rcpt_tos)} {message['Subject']} {said}")
    return texts


def intake_files(ledger: Ledger) -> list[tuple[str | None, str, str, str | None]]:
    """Each received file: its sender, outcome, reason and digest."""
    query = select(
        IntakeRow.sender, IntakeFileRow.outcome, IntakeFileRow.reason, IntakeFileRow.sha256
    ).join(IntakeRow, IntakeFileRow.intake_id == IntakeRow.id)
    with session_scope(ledger.engine) as session:
        return [tuple(r) for r in session.execute(query.order_by(IntakeFileRow.id))]


@pytest.fixture
def smtp(imap: LocalImapServer) -> Iterator[LocalSmtpServer]:  # noqa: F811
    _empty_mailbox(imap)
    with LocalSmtpServer() as server:
        yield server


def test_the_coordinator_mails_the_sheet_back(
    ledger: Ledger,
    smtp: LocalSmtpServer,
    imap: LocalImapServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    """From the coordinator's address the verdicts are recorded as ``rectify verdicts``
    records them, and the coordinator is answered; from anyone else the sheet is held, its
    bytes kept, nothing recorded; the same sheet again records nothing; a sheet with a bad
    row is answered with the problems and records nothing."""
    filled = fill(ledger.sheet(), tmp_path / "核验销号表.xlsx", GOOD)
    sha = hashlib.sha256(filled.read_bytes()).hexdigest()
    mail(imap, "duchao1@jt.example", filled, "转：核验销号表")
    before = ledger.count()
    assert collect_now(ledger, smtp, imap) == []  # a held item gets no answer
    assert ledger.item("ZG-B03-001").state == "claimed"
    assert not ledger.events("rectification.verdicts-imported")
    assert intake_files(ledger) == [("duchao1@jt.example", "held", "not-from-coordinator", sha)]
    assert (ledger.home / "raw" / sha[:2] / sha[2:4] / sha).read_bytes() == filled.read_bytes()
    review = runner.invoke(app, ["review", CAMPAIGN], env={**ledger.env("zh-CN"), "COLUMNS": "300"})
    assert "核验销号表须由牵头部门（youhuaban@jt.example）的邮箱发回，发件人 duchao1@jt.example " \
           "不是该邮箱，未记录任何核验结论" in review.output, review.output  # fmt: skip

    mail(imap, COORDINATOR, filled, "回复：核验销号表")
    [answer] = collect_now(ledger, smtp, imap)
    assert answer.startswith(f"{COORDINATOR} 【已记录】核验销号表：销号 2 项，退回 1 项 ")
    assert "销号 2 项：ZG-B03-001、ZG-T01-002 退回 1 项：ZG-B03-002" in answer
    assert "未填核验结论 1 行，仍待核验。" in answer
    closed = ledger.item("ZG-B03-001")
    assert (closed.state, closed.closed_by, closed.reviewed_by) == ("closed", "市优化办",
                                                                    "督查一组 李四")  # fmt: skip
    assert ledger.item("ZG-B03-002").last_reason == "缺少制度文件佐证"
    [(subject, actor, payload)] = ledger.events("rectification.verdicts-imported")
    assert (subject, actor, payload["closed"]) == (f"verdicts:{sha}", "市优化办",
                                                   ["ZG-B03-001", "ZG-T01-002"])  # fmt: skip
    moved = ledger.count()
    assert moved > before

    mail(imap, COORDINATOR, filled, "再发一次：核验销号表")
    [again] = collect_now(ledger, smtp, imap)
    assert "此前已按本文件记录 3 项（本次未再记录）：ZG-B03-001、ZG-B03-002、ZG-T01-002" in again
    assert len(ledger.events("rectification.verdicts-imported")) == 1
    assert len(ledger.events("rectification.closed")) == 2

    bad = fill(ledger.sheet(), tmp_path / "第二批.xlsx", {"ZG-T01-001": {VERDICT: "退回"}})
    mail(imap, COORDINATOR, bad, "核验销号表（第二批）")
    [refused] = collect_now(ledger, smtp, imap)
    assert refused.startswith(f"{COORDINATOR} 【未记录】核验销号表有 1 处问题 ")
    assert "1. 工作表“核验销号表”第 2 行 J2 单元格（核验意见）：为空：退回须写明理由" in refused
    assert ledger.item("ZG-T01-001").state == "claimed"
    assert len(ledger.events("rectification.returned")) == 1


def test_an_unsigned_sheet_by_email_is_held(
    ledger: Ledger,
    smtp: LocalSmtpServer,
    imap: LocalImapServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A sheet written without DUBAN_SECRET (or its token changed) is no sheet of duban's to
    intake, even from the coordinator: held, nothing recorded."""
    env = {**ledger.env("zh-CN"), "DUBAN_SECRET": None}
    written = runner.invoke(app, ["rectify", "sheet", CAMPAIGN], env=env)
    assert written.exit_code == 0, written.output
    assert "未签名（没有设置 DUBAN_SECRET）" in written.output
    path = Path(written.output.split("\n")[0].strip())
    filled = fill(path, tmp_path / "unsigned.xlsx", GOOD)
    mail(imap, COORDINATOR, filled, "回复：核验销号表")
    assert collect_now(ledger, smtp, imap) == []
    [(sender, outcome, reason, _)] = intake_files(ledger)
    assert (sender, outcome, reason) == (COORDINATOR, "held", "bad-token")
    assert ledger.item("ZG-B03-001").state == "claimed"
    assert not ledger.events("rectification.verdicts-imported")
