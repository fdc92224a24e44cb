"""The rectification progress report (整改进展, issue 15 point 3): each unit's template comes
pre-filled with its open items, and what it sends back moves them.

Pure tests read a report against items held in memory (``selfcheck.progress``), one tampering
case each, checking the words the unit gets: the row and cell, what was found and what was
expected. The end-to-end test sends the self-check notice and the progress notice over SMTP,
takes the units' replies from a real IMAP mailbox (dovecot), on SQLite and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from duban.adapters.mail.mailer import SmtpMailer
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.clock import FixedClock
from duban.errors import InvalidInputError
from duban.implement.intake.rawstore import RawStore
from duban.ledger.db import session_scope
from duban.ledger.schema import IntakeFileRow, IntakeRow
from duban.mobilize.send import NoticeRequest, plan_notices, send_notices
from duban.model.campaign import ProgressSpec
from duban.model.loader import CampaignBundle, load_campaign
from duban.selfcheck.items import Item
from duban.selfcheck.ledger import history, list_items
from duban.selfcheck.progress import Finding, Reading, Report, prefill_rows, read_report
from duban.selfcheck.reporting import progress_sheet, record_progress
from duban.selfcheck.states import State
from duban.testing.helpers import attachment_of, reply_to_notice
from duban.testing.imapserver import LocalImapServer
from duban.testing.mailserver import LocalSmtpServer

from .test_campaign_file import replace_in
from .test_collect import ENV, SECRET, World, imap, make_world  # noqa: F401  (imap: fixture)
from .test_problem_lists import problem

ZONE = ZoneInfo("Asia/Shanghai")
RECORDED = datetime(2026, 9, 19, 10, 0, tzinfo=ZONE)
TODAY = date(2026, 10, 9)
SHEET = "整改进展"


@pytest.fixture
def spec(example_bundle: CampaignBundle) -> ProgressSpec:
    found = example_bundle.campaign.deliverable("rectification").rectification_progress
    assert found is not None
    return found


def problems_of(path: Path) -> list[str]:
    with pytest.raises(InvalidInputError) as caught:
        load_campaign(path)
    return caught.value.details("en")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("state: state, completed_on", "state: status, completed_on",
         "deliverables[3].rectification_progress.columns.state: deliverable 'rectification': "
         "form 'rectification-progress' has no column 'status'"),
        ("      claimed: 已完成 ", "      claimed: 已销号 ",
         "deliverables[3].rectification_progress.claimed: deliverable 'rectification': the state "
         "column 'state' must be a choice column offering '已销号' (what claims completion)"),
        ("state: state, completed_on: completed_on,", "state: state, completed_on: progress,",
         "deliverables[3].rectification_progress.columns.completed_on: deliverable "
         "'rectification': column 'progress' is a text column; completed_on needs a date column"),
        ("      columns: {code: item, finding: finding,", "      columns: {finding: finding,",
         "columns must map code to a form column"),
        ("    rectification_progress:", "    rectification: {columns: {finding: finding, "
         "due: due}}\n    rectification_progress:",
         "a deliverable either lists problems (rectification) or reports on the items "
         "(rectification_progress), not both"),
    ],
    ids=["no-column", "claim-not-a-choice", "day-not-a-date", "no-code", "both"],
)  # fmt: skip
def test_a_wrong_progress_mapping_is_named_in_the_campaign_file(
    example_copy: Path, old: str, new: str, expected: str
) -> None:
    replace_in(example_copy, old, new)
    [problem] = problems_of(example_copy)
    assert expected in problem


def item(n: int, state: State = State.OPEN, **fields: Any) -> Item:
    """Item n of B03, recorded on 19 September."""
    base = Item(
        code=f"ZG-B03-00{n}", campaign_id="nlzf-2026", unit_id="B03", seq=n, source="self-check",
        finding=f"问题{n}：学习制度落实不到位", category=None, cause=None, measure=f"措施{n}",
        owner="张三", partners=(), deadline=date(2026, 12, 31), first_deadline=date(2026, 12, 31),
        long_term=False, state=str(state), created_at=RECORDED.astimezone(UTC), created_by="t",
        updated_at=RECORDED.astimezone(UTC),
    )  # fmt: skip
    return replace(base, **fields)


def sent_rows(
    bundle: CampaignBundle, spec: ProgressSpec, items: list[Item]
) -> list[dict[str, Any]]:
    """The rows as the template carries them, read back as intake validates them (dates as
    ISO text): what a unit that changes nothing sends."""
    sheet = progress_sheet(bundle.campaign, bundle.campaign.deliverable("rectification"))
    rows = prefill_rows(items, spec, sheet)
    return [{k: v.isoformat() if isinstance(v, date) else v for k, v in r.items()} for r in rows]


def read(
    bundle: CampaignBundle,
    spec: ProgressSpec,
    items: list[Item],
    rows: list[dict[str, Any]],
    numbers: list[int] | None = None,
) -> Reading:
    sheet = progress_sheet(bundle.campaign, bundle.campaign.deliverable("rectification"))
    numbers = numbers or list(range(3, 3 + len(rows)))
    report = Report(rows, numbers, "B03", "intake-file:7")
    return read_report(report, items, spec, sheet, today=TODAY, zone=ZONE)


def words(findings: list[Finding]) -> list[str]:
    return [f.describe("zh-CN") for f in findings]


def with_claim(row: dict[str, Any], **cells: Any) -> dict[str, Any]:
    return {**row, "state": "已完成", "progress": "已建立周学习制度", "completed_on": "2026-10-08",
            "evidence": "制度文件及学习记录", **cells}  # fmt: skip


def test_an_unchanged_report_asks_for_nothing(
    example_bundle: CampaignBundle, spec: ProgressSpec
) -> None:
    items = [item(1), item(2, State.IN_PROGRESS, progress="已起草"), item(3, State.CLAIMED,
             progress="完成", evidence="文件", completed_on=date(2026, 10, 1))]  # fmt: skip
    rows = sent_rows(example_bundle, spec, items)
    assert rows[0]["item"] == "ZG-B03-001"
    assert rows[0]["state"] is None
    assert rows[1]["state"] == "整改中"
    assert rows[1]["progress"] == "已起草"
    assert (rows[2]["state"], rows[2]["completed_on"]) == ("已完成", "2026-10-01")
    assert read(example_bundle, spec, items, rows) == Reading()


def test_progress_and_a_claim_become_moves_by_the_unit_keyed_by_the_file(
    example_bundle: CampaignBundle, spec: ProgressSpec
) -> None:
    items = [item(1), item(2)]
    first, second = sent_rows(example_bundle, spec, items)
    reading = read(example_bundle, spec, items,
                   [{**first, "progress": "已起草制度"}, with_claim(second)])  # fmt: skip
    assert not reading.refusals
    assert not reading.notes
    progress, claim = reading.moves
    assert (progress.row, progress.code, progress.move.action, progress.move.note) == (
        3, "ZG-B03-001", "progress", "已起草制度")  # fmt: skip
    assert (claim.code, claim.move.action, claim.move.evidence, claim.move.completed_on) == (
        "ZG-B03-002", "claim", "制度文件及学习记录", date(2026, 10, 8))  # fmt: skip
    assert (claim.move.actor, claim.move.role) == ("unit:B03", "unit")
    assert claim.move.request_key == "intake-file:7:ZG-B03-002"


def test_a_code_typed_in_lower_case_or_full_width_is_the_item(
    example_bundle: CampaignBundle, spec: ProgressSpec
) -> None:
    items = [item(1)]
    [first] = sent_rows(example_bundle, spec, items)
    reading = read(
        example_bundle, spec, items, [{**first, "item": "ｚｇ-b03-001 ", "progress": "x"}]
    )
    assert [m.code for m in reading.moves] == ["ZG-B03-001"]
    assert not reading.notes


def test_a_deleted_row_leaves_its_item_open_and_names_it(
    example_bundle: CampaignBundle, spec: ProgressSpec
) -> None:
    items = [item(1), item(2, State.IN_PROGRESS)]
    first, _ = sent_rows(example_bundle, spec, items)
    reading = read(example_bundle, spec, items, [first])
    assert not reading.refusals
    assert not reading.moves
    assert words(reading.notes) == [
        "ZG-B03-002（问题2：学习制度落实不到位）未在表中填报（该行被删除），仍为“整改中”，"
        "本次未作变更；请在下次报送时保留该行并填报进展"
    ]
    assert "stays in progress" in reading.notes[0].describe("en")


def test_an_edited_locked_cell_is_noted_and_the_ledger_keeps_its_own(
    example_bundle: CampaignBundle, spec: ProgressSpec
) -> None:
    items = [item(1), item(2)]
    first, second = sent_rows(example_bundle, spec, items)
    edited = {**second, "finding": "问题已改写", "due": "2027-06-30", "progress": "推进中"}
    reading = read(example_bundle, spec, items, [first, edited])
    assert not reading.refusals
    assert [m.code for m in reading.moves] == ["ZG-B03-002"]  # its progress still counts
    assert words(reading.notes) == [
        "整改进展!B4: ZG-B03-002 的“问题描述”是台账登记的内容，不能在本表中修改，台账仍为"
        "“问题2：学习制度落实不到位”；如需调整（如延长整改时限），请与牵头部门联系"
        "（填写的是“问题已改写”）",
        "整改进展!D4: ZG-B03-002 的“整改时限”是台账登记的内容，不能在本表中修改，台账仍为"
        "“2026-12-31”；如需调整（如延长整改时限），请与牵头部门联系（填写的是“2027-06-30”）",
    ]


def test_a_cleared_locked_cell_says_so_in_english_too(
    example_bundle: CampaignBundle, spec: ProgressSpec
) -> None:
    items = [item(1)]
    [first] = sent_rows(example_bundle, spec, items)
    [note] = read(example_bundle, spec, items, [{**first, "measure": None}]).notes
    assert note.describe("en") == (
        "整改进展!C3: “整改措施” of ZG-B03-001 is what the ledger recorded and cannot be changed "
        "here; the ledger keeps “措施1”; to change it (such as a later deadline) ask the "
        "coordinating office (the cell was emptied)"
    )


def test_an_unknown_code_rejects_the_file_naming_the_cell(
    example_bundle: CampaignBundle, spec: ProgressSpec
) -> None:
    items = [item(1)]
    [first] = sent_rows(example_bundle, spec, items)
    reading = read(example_bundle, spec, items, [first, {**first, "item": "ZG-B05-001"}])
    assert not reading.moves
    assert words(reading.refusals) == [
        "整改进展!A4: “问题编号”不是本单位（B03）的整改问题编号；请保留下发模板中预填的编号，"
        "不要修改；新发现的问题请另起一行，编号留空（填写的是“ZG-B05-001”）"
    ]


def test_a_duplicated_code_rejects_the_file_naming_both_rows(
    example_bundle: CampaignBundle, spec: ProgressSpec
) -> None:
    items = [item(1), item(2)]
    first, second = sent_rows(example_bundle, spec, items)
    reading = read(example_bundle, spec, items, [first, second, first], [3, 4, 6])
    assert words(reading.refusals) == [
        "整改进展!A6: 问题编号 ZG-B03-001 已在第 3 行填报，同一问题只能填一行；请删除重复的一行，"
        "或合并为一行后重新报送"
    ]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-09-18", "整改进展!G3: ZG-B03-001 的“完成时间”不能早于该问题登记的日期 2026-09-19"
         "（填写的是“2026-09-18”）"),
        ("2026-10-10", "整改进展!G3: ZG-B03-001 的“完成时间”不能晚于今天（2026-10-09）"
         "（填写的是“2026-10-10”）"),
    ],
)  # fmt: skip
def test_a_completion_before_recording_or_after_today_rejects_the_file(
    example_bundle: CampaignBundle, spec: ProgressSpec, day: str, expected: str
) -> None:
    items = [item(1)]
    [first] = sent_rows(example_bundle, spec, items)
    reading = read(example_bundle, spec, items, [with_claim(first, completed_on=day)])
    assert words(reading.refusals) == [expected]
    assert not reading.moves


def test_a_claim_needs_its_day_and_its_evidence(
    example_bundle: CampaignBundle, spec: ProgressSpec
) -> None:
    items = [item(1)]
    [first] = sent_rows(example_bundle, spec, items)
    bare = with_claim(first, completed_on=None, evidence=None)
    assert words(read(example_bundle, spec, items, [bare]).refusals) == [
        "整改进展!H3: ZG-B03-001 的整改状态为“已完成”（申请销号），须填写“佐证材料说明”："
        "做了什么、有哪些佐证材料",
        "整改进展!G3: ZG-B03-001 的整改状态为“已完成”（申请销号），须填写“完成时间”，如 2026-09-30",
    ]


def test_a_new_row_without_a_code_becomes_an_item_or_is_answered(
    example_bundle: CampaignBundle, spec: ProgressSpec
) -> None:
    items = [item(1)]
    [first] = sent_rows(example_bundle, spec, items)
    new = {"item": None, "finding": "新发现：窗口服务态度差", "measure": "培训",
           "due": "2026-12-15", "progress": "已约谈", "state": "整改中", "completed_on": None,
           "evidence": None}  # fmt: skip
    reading = read(example_bundle, spec, items, [first, new])
    [added] = reading.new
    assert (added.row, added.item.finding, added.item.deadline) == (
        4, "新发现：窗口服务态度差", date(2026, 12, 15))  # fmt: skip
    assert added.item.origin_key == "intake-file:7:row:4"
    assert added.progress == "已约谈"
    # claimed complete at once: recorded with its progress, the claim left for next time
    done = read(example_bundle, spec, items, [first, {**new, "state": "已完成"}])
    assert done.new[0].claimed
    assert words(done.notes) == [
        "整改进展!F4: 第 4 行是新登记的问题，本次只登记其进展；如已完成整改，请在下次报送时"
        "将“整改状态”选为“已完成”申请销号"
    ]
    # without its deadline it cannot be tracked: the file is refused, naming the cell
    undated = read(example_bundle, spec, items, [first, {**new, "due": None}])
    assert words(undated.refusals) == [
        "整改进展!D4: 第 4 行没有问题编号，将作为新发现的问题登记，须填写“整改时限”"
    ]
    # a campaign that takes no new problems here answers the row and records nothing
    closed = spec.model_copy(update={"new_items": False})
    refused = read(example_bundle, closed, items, [first, new])
    assert not refused.new
    assert not refused.refusals
    assert words(refused.notes) == [
        "整改进展!A4: 第 4 行没有问题编号；本表只填报已登记问题的进展，本行未作登记，"
        "新发现的问题请报牵头部门"
    ]


def test_rows_about_settled_or_claimed_items_are_noted_not_moved(
    example_bundle: CampaignBundle, spec: ProgressSpec
) -> None:
    items = [item(1, State.CLOSED), item(2, State.CLAIMED, evidence="文件",
             completed_on=date(2026, 10, 1))]  # fmt: skip
    closed_row = sent_rows(example_bundle, spec, [replace(items[0], state="open")])[0]
    claimed_row = sent_rows(example_bundle, spec, [items[1]])[0]
    rows = [{**closed_row, "progress": "x"}, {**claimed_row, "state": "整改中"}]
    reading = read(example_bundle, spec, items, rows)
    assert not reading.moves
    assert not reading.refusals
    assert words(reading.notes) == [
        "整改进展!A3: ZG-B03-001 当前为“已销号”，已办结，本行未作处理",
        "整改进展!F4: ZG-B03-002 已申请销号，正待牵头部门核验，本行的修改未予登记；如核验未通过，"
        "牵头部门会退回并说明理由",
    ]


# ------------------------------------------------------------------------------ end to end

LISTS_IN = datetime(2026, 9, 19, 2, 0, tzinfo=UTC)  # collected: the items are recorded
NOTIFIED = datetime(2026, 9, 25, 1, 0, tzinfo=UTC)  # the September progress report goes out
REPLIED = datetime(2026, 10, 9, 1, 0, tzinfo=UTC)
COLLECTED = datetime(2026, 10, 9, 2, 0, tzinfo=UTC)


@pytest.fixture
def lists(
    imap: LocalImapServer,  # noqa: F811
    example_bundle: CampaignBundle,
    tmp_path: Path,
    ledger_url: str,
) -> Iterator[World]:
    with make_world(imap, example_bundle, tmp_path, ledger_url, "self-check", "整改台账") as world:
        yield world


def progress_notices(world: World, unit_ids: tuple[str, ...]) -> dict[str, EmailMessage]:
    """The September progress report sent to these units over SMTP, as each received it."""
    clock = FixedClock(NOTIFIED)
    with LocalSmtpServer() as outgoing, session_scope(world.engine) as session:
        request = NoticeRequest("rectification", "2026-09", unit_ids)
        plan = plan_notices(session, world.bundle, request, clock=clock, secret=SECRET, env=ENV)
        with SmtpMailer(parse_smtp_url(outgoing.url())) as mailer:
            send_notices(session, world.bundle, plan.instance_ids, mailer=mailer, clock=clock,
                         secret=SECRET, env=ENV)  # fmt: skip
        found = {}
        for delivery in outgoing.messages:
            message = email.message_from_bytes(delivery.raw, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            unit = next(u for u in world.bundle.units if set(u.emails) == set(delivery.rcpt_tos))
            found[unit.id] = message
    return found


def template_rows(data: bytes) -> list[tuple[Any, ...]]:
    sheet = load_workbook(io.BytesIO(data))[SHEET]
    return [
        r for r in sheet.iter_rows(min_row=3, values_only=True) if any(v is not None for v in r)
    ]


def text_of(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def _decoded(raw: bytes) -> bytes:
    return text_of(raw).encode()


def answers_to(world: World, unit_id: str) -> list[str]:
    addresses = set(world.bundle.units_by_id[unit_id].emails)
    return [text_of(d.raw) for d in world.answers.messages if set(d.rcpt_tos) & addresses]


def test_a_progress_report_moves_the_units_open_items_and_says_what_it_did(lists: World) -> None:
    first, second, idle = sorted(lists.notices)[:3]
    lists.reply(first, [problem(1), problem(2), problem(3)])
    lists.reply(second, [problem(1)])
    lists.collect(clock_at=LISTS_IN)
    campaign_id = lists.bundle.campaign.id
    with session_scope(lists.engine) as session:  # the office cancels one: no longer open
        from duban.selfcheck.ledger import apply_move
        from duban.selfcheck.states import Action, Move

        apply_move(session, FixedClock(LISTS_IN), campaign_id, f"ZG-{first}-003",
                   Move(Action.CANCEL, "coordinator", reason="重复"), zone=ZONE)  # fmt: skip

    notices = progress_notices(lists, (first, second, idle))
    name, sent = attachment_of(notices[first])
    assert [r[:4] for r in template_rows(sent)] == [
        (f"ZG-{first}-00{n}", f"问题{n}：会议多、调研少", f"措施{n}：压减会议",
         datetime(2026, 10, 30)) for n in (1, 2)  # noqa: DTZ001 (what openpyxl reads)
    ]  # fmt: skip
    sheet = load_workbook(io.BytesIO(sent))[SHEET]
    assert sheet["A3"].protection.locked
    assert sheet["D4"].protection.locked
    assert not sheet["E3"].protection.locked
    assert not sheet["A5"].protection.locked
    assert [r[0] for r in template_rows(attachment_of(notices[second])[1])] == [f"ZG-{second}-001"]
    assert template_rows(attachment_of(notices[idle])[1]) == []  # the form, with no rows

    # the unit claims item 1 done and deletes the row of item 2
    book = load_workbook(io.BytesIO(sent))
    ws = book[SHEET]
    ws["E3"], ws["F3"], ws["G3"], ws["H3"] = (
        "已压减会议三成",
        "已完成",
        date(2026, 10, 8),
        "会议台账",
    )
    ws.delete_rows(4)
    out = io.BytesIO()
    book.save(out)
    filled = out.getvalue()
    sender = lists.bundle.units_by_id[first].emails[0]
    lists.deliver(reply_to_notice(notices[first], sender, [(name, filled)], when=REPLIED), REPLIED)
    # the other unit's report names an item that is not its own: refused, naming the cell
    name2, sent2 = attachment_of(notices[second])
    book = load_workbook(io.BytesIO(sent2))
    book[SHEET]["A3"] = f"ZG-{first}-001"
    out = io.BytesIO()
    book.save(out)
    refused = out.getvalue()
    sender2 = lists.bundle.units_by_id[second].emails[0]
    raw2 = reply_to_notice(notices[second], sender2, [(name2, refused)], when=REPLIED)
    lists.deliver(raw2, REPLIED)
    lists.collect(clock_at=COLLECTED)

    with session_scope(lists.engine) as session:
        items = {i.code: i for i in list_items(session, campaign_id)}
        claimed = items[f"ZG-{first}-001"]
        assert (claimed.state, claimed.evidence, claimed.completed_on, claimed.progress) == (
            "claimed", "会议台账", date(2026, 10, 8), "已压减会议三成")  # fmt: skip
        assert items[f"ZG-{first}-002"].state == "open"  # its row was deleted: it stays
        assert items[f"ZG-{second}-001"].state == "open"  # the refused report moved nothing
        [*_, event] = history(session, campaign_id, claimed.code)
        assert (event.kind, event.actor) == ("rectification.claimed", f"unit:{first}")
        assert event.payload["request_key"].endswith(f":ZG-{first}-001")
        # nothing lost: the reply and the workbook as received are in the raw store
        store = RawStore(lists.store)
        files = session.scalars(select(IntakeFileRow).order_by(IntakeFileRow.id)).all()
        kept = [store.get(f.sha256) for f in files]
        assert filled in kept
        assert refused in kept
        raws = session.scalars(select(IntakeRow.raw_sha256)).all()
        assert raw2.replace(b"\n", b"\r\n") in [store.get(sha) for sha in raws]  # as IMAP has it

    [ack] = [a for a in answers_to(lists, first) if "整改进展" in a]
    assert f"ZG-{first}-001（第 3 行）：已登记为“已申请销号”" in ack
    assert f"ZG-{first}-002（问题2：会议多、调研少）未在表中填报（该行被删除），仍为“未启动”" in ack
    [rejection] = [a for a in answers_to(lists, second) if "整改进展!A3" in a]
    assert f"“问题编号”不是本单位（{second}）的整改问题编号" in rejection
    assert f"（填写的是“ZG-{first}-001”）" in rejection
    [fresh] = [d.raw for d in lists.answers.messages if "整改进展!A3".encode() in _decoded(d.raw)]
    message = email.message_from_bytes(fresh, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    again = attachment_of(message)[1]  # the fresh template, pre-filled again
    assert [r[0] for r in template_rows(again)] == [f"ZG-{second}-001"]
    moves_once(lists, second)


def moves_once(world: World, unit_id: str) -> None:
    """A report read and recorded again (the same file: the same origin) moves nothing twice."""
    campaign = world.bundle.campaign
    deliverable = campaign.deliverable("rectification")
    assert deliverable.rectification_progress is not None
    sheet = progress_sheet(campaign, deliverable)
    clock = FixedClock(COLLECTED)
    for _ in range(2):
        with session_scope(world.engine) as session:
            items = list_items(session, campaign.id, unit_id=unit_id)
            [row] = sent_rows(world.bundle, deliverable.rectification_progress, items)
            report = Report([{**row, "progress": "已整改一半"}], [3], unit_id, "intake-file:99")
            reading = read_report(report, items, deliverable.rectification_progress, sheet,
                                  today=TODAY, zone=ZONE)  # fmt: skip
            record_progress(session, clock, campaign, reading, unit_id)
    with session_scope(world.engine) as session:
        kinds = [e.kind for e in history(session, campaign.id, f"ZG-{unit_id}-001")]
    assert kinds == ["rectification.created", "rectification.progress"]
