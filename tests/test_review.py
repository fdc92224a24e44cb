"""The coordinator's review of what intake held (待核), end to end over real mail: held messages
and held files listed, opened and decided through `duban review`; and `duban status` counting
what is held and every refused reply to a notice. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import json
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner, Result

from duban.cli.app import app
from duban.ledger.db import session_scope
from duban.ledger.schema import EventRow, InstanceRow, IntakeFileRow, IntakeRow, SubmissionRow
from duban.model.loader import CampaignBundle
from duban.testing.helpers import attachment_of, fill_workbook, reply_to_notice
from duban.testing.imapserver import LocalImapServer

from .conftest import EXAMPLE
from .test_collect import (
    ON_TIME,
    PASSWORD,
    SECRET,
    USER,
    VALID,
    World,
    hostile_bomb,
    make_world,
    plan_row,
)

runner = CliRunner()
REVIEW_NOW = "2026-03-09T10:00"  # Asia/Shanghai: 02:00 UTC
REVIEWED_AT = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def imap() -> Iterator[LocalImapServer]:
    folder = Path(tempfile.mkdtemp(prefix="duban-review-"))
    folder.chmod(0o711)
    try:
        with LocalImapServer(folder, {USER: PASSWORD}) as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def world(
    imap: LocalImapServer, example_bundle: CampaignBundle, tmp_path: Path, ledger_url: str
) -> Iterator[World]:
    with make_world(imap, example_bundle, tmp_path, ledger_url) as w:
        yield w


def duban(world: World, *args: str) -> Result:
    env = {
        "DUBAN_DATABASE_URL": world.engine.url.render_as_string(hide_password=False),
        "DUBAN_HOME": str(world.store.parent),
        "DUBAN_SECRET": SECRET.decode(),
        "DUBAN_SMTP_URL": world.answers.url(),
        "DUBAN_NOW": REVIEW_NOW,
        "COLUMNS": "250",
    }
    return runner.invoke(app, list(args), env=env)


def review(world: World, *args: str) -> Result:
    return duban(world, "review", str(EXAMPLE), *args)


def listed(world: World) -> list[dict[str, Any]]:
    result = review(world, "--json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.output)
    return rows


def status(world: World, *args: str) -> dict[str, Any]:
    result = duban(world, "status", "--json", *args)
    assert result.exit_code == 0, result.output
    campaign: dict[str, Any] = json.loads(result.output)["campaigns"][0]
    return campaign


def refused(result: Result, *words: str) -> None:
    """One `error:` line and its hint, exit 1, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.output.count("error:") == 1
    assert "→" in result.output
    for word in words:
        assert word in result.output, result.output


def question(sender: str, when: datetime) -> bytes:
    """A message from an address on no roster, with no workbook: a question and a PDF."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "youhuaban@jt.example"
    message["Subject"] = "咨询：实施方案模板在哪里下载"
    message["Date"] = format_datetime(when)
    message["Message-ID"] = "<question-1@qq.example>"
    message.set_content("您好，我是金城镇新来的联络员，请问模板在哪里下载？")
    message.add_attachment(b"%PDF-1.4\n%%EOF\n", maintype="application", subtype="pdf",
                           filename="说明.pdf")  # fmt: skip
    return message.as_bytes()


def without_metadata(filled: bytes) -> bytes:
    """The template with duban's hidden sheet removed: a workbook of no campaign."""
    book = load_workbook(io.BytesIO(filled))
    del book["_duban"]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def attachment_bytes(raw: bytes) -> bytes:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return attachment_of(message)[1]


def mail_with_key(world: World, key: str) -> list[EmailMessage]:
    found = []
    for delivery in world.answers.messages:
        message = email.message_from_bytes(delivery.raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        if message["X-Duban-Key"] == key:
            found.append(message)
    return found


def test_a_held_message_and_a_held_file_from_intake_to_decision(
    world: World, tmp_path: Path
) -> None:
    world.deliver(question("zhangsan@qq.example", ON_TIME), ON_TIME)
    sent_file = world.reply("T06", VALID, sender="stranger@evil.example")
    world.collect()
    assert world.answers.messages == []  # unknown senders get no automatic answer

    # listable: both kinds, with id, local time, sender, subject, file and reason in Chinese
    message, file = listed(world)
    assert message["kind"] == "message"
    assert message["id"].startswith("M")
    assert message["received"] == "2026-03-04 18:00"
    assert message["sender"] == "zhangsan@qq.example"
    assert message["subject"] == "咨询：实施方案模板在哪里下载"
    assert message["file"] == "说明.pdf"
    assert message["reason"] == "发件人 zhangsan@qq.example 未登记，且邮件中没有报送表格"
    assert file["kind"] == "file"
    assert file["id"].startswith("F")
    assert file["sender"] == "stranger@evil.example"
    assert file["file"] == "实施方案-指前镇.xlsx"
    assert file["reason"] == "发件人 stranger@evil.example 不是“指前镇”登记的报送邮箱"
    table = review(world)
    assert "held for review: 2" in table.output
    for text in (message["id"], file["id"], "2026-03-04 18:00", "未登记，且邮件中没有报送表格"):
        assert text in table.output
    assert status(world)["held"] == 2
    assert "held for review: 2" in duban(world, "status").output

    # openable: the raw message as received, the file's own bytes
    opened = review(world, "--open", message["id"], "--out", str(tmp_path / "q.eml"))
    assert opened.exit_code == 0, opened.output
    raw = (tmp_path / "q.eml").read_bytes()
    with session_scope(world.engine) as session:
        row = session.get_one(IntakeRow, int(message["id"][1:]))
        assert hashlib.sha256(raw).hexdigest() == row.raw_sha256
    assert email.message_from_bytes(raw, policy=email.policy.default)["Subject"] == (
        "咨询：实施方案模板在哪里下载"
    )
    (tmp_path / "opened").mkdir()
    opened = review(world, "--open", file["id"].lower(), "--out", str(tmp_path / "opened"))
    assert opened.exit_code == 0, opened.output
    [written] = (tmp_path / "opened").iterdir()
    assert written.name == f"{file['id']}-实施方案-指前镇.xlsx"
    assert written.read_bytes() == attachment_bytes(sent_file)

    # decidable: the file rejected with a note sent to its sender, exactly once
    note = "该邮箱未登记，请使用单位登记邮箱重新报送"
    for attempt in range(2):
        rejected = review(world, "--reject", file["id"], "--note", note, "--by", "李科长")
        assert rejected.exit_code == 0, rejected.output
        assert ("already rejected" in rejected.output) is (attempt == 1)
    [answer] = mail_with_key(world, f"review:{file['id']}")
    assert answer["To"] == "stranger@evil.example"
    assert answer["In-Reply-To"]
    body = answer.get_body(("plain",))
    assert body is not None
    assert f"经审核未予受理：{note}" in body.get_content()
    assert len(world.answers.messages) == 1

    # the message attached to a unit as correspondence: recorded, nothing submitted or sent
    why = "电话核实：金城镇新联络员的个人邮箱"
    attached = review(world, "--attach", message["id"], "--unit", "T01", "--note", why,
                      "--by", "李科长")  # fmt: skip
    assert attached.exit_code == 0, attached.output
    assert "attached" in attached.output
    with session_scope(world.engine) as session:
        row = session.get_one(IntakeRow, int(message["id"][1:]))
        assert (row.status, row.unit_id, row.reviewed_by) == ("attached", "T01", "李科长")
        assert row.reviewed_at == REVIEWED_AT
        assert row.detail["note"] == why
        file_row = session.get_one(IntakeFileRow, int(file["id"][1:]))
        assert (file_row.outcome, file_row.reviewed_by) == ("rejected", "李科长")
        events = {
            e.kind: e for e in session.scalars(select(EventRow).where(EventRow.actor == "李科长"))
        }
        assert set(events) == {"review.attached", "review.rejected"}
        assert events["review.attached"].payload["unit"] == "T01"
        assert events["review.attached"].payload["note"] == why
        assert events["review.attached"].at == REVIEWED_AT
        assert events["review.rejected"].payload["note"] == note
        assert session.scalars(select(SubmissionRow)).all() == []
    assert len(world.answers.messages) == 1
    assert listed(world) == []
    assert "held for review: 0" in review(world).output
    assert status(world)["held"] == 0


def test_accepting_files_their_metadata_does_not_identify(world: World) -> None:
    name, template = attachment_of(world.notices["T06"])
    bare = without_metadata(fill_workbook(template, "实施方案", VALID))
    world.deliver(reply_to_notice(world.notices["T06"], "zhangsan@qq.example", [(name, bare)],
                                  when=ON_TIME), ON_TIME)  # fmt: skip
    # B01's registered address sends B05's template: another unit's template
    world.reply("B05", VALID, sender="shiweiban@jt.example")
    world.collect()
    no_template, other_unit = listed(world)
    assert no_template["reason"] == "发件人 zhangsan@qq.example 未登记，附件也不是本次下发的模板"
    assert "属于“市委办公室”，但附件是“市纪委监委”的模板" in other_unit["reason"]

    refused(review(world, "--accept", no_template["id"]), "names no unit", "--unit")
    refused(review(world, "--accept", no_template["id"], "--unit", "T06"), "--deliverable",
            "plan")  # fmt: skip
    refused(review(world, "--accept", no_template["id"], "--unit", "X99", "--deliverable",
                   "plan"), "no unit X99")  # fmt: skip
    accepted = review(world, "--accept", no_template["id"], "--unit", "T06", "--deliverable",
                      "plan", "--by", "王主任")  # fmt: skip
    assert accepted.exit_code == 0, accepted.output
    assert f"{no_template['id']}: accepted" in accepted.output
    accepted = review(world, "--accept", other_unit["id"], "--unit", "B01")
    assert accepted.exit_code == 0, accepted.output
    again = review(world, "--accept", other_unit["id"], "--unit", "B01")
    assert "already accepted" in again.output

    with session_scope(world.engine) as session:
        versions = {
            i.unit_id: (i.deliverable_id, i.period, s.version, s.on_time)
            for s, i in session.execute(
                select(SubmissionRow, InstanceRow).join(
                    InstanceRow, InstanceRow.id == SubmissionRow.instance_id
                )
            ).tuples()
        }
        kinds = session.scalars(select(EventRow.kind).where(EventRow.kind.like("review.%"))).all()
    assert versions == {"T06": ("plan", "once", 1, True), "B01": ("plan", "once", 1, True)}
    assert sorted(kinds) == ["review.accepted", "review.accepted"]
    plan = status(world, "--deliverable", "plan", "--as-of", "2026-03-10")
    assert (plan["deliverables"][0]["received"], plan["held"]) == (2, 0)


def test_wrong_ids_and_wrong_actions_are_named_with_a_hint(world: World) -> None:
    world.deliver(question("zhangsan@qq.example", ON_TIME), ON_TIME)
    world.reply("T06", VALID, sender="stranger@evil.example")
    world.collect()
    message, file = (item["id"] for item in listed(world))
    number = file[1:]
    refused(review(world, "--accept", number), f"say M{number} for a message",
            f"F{number} for a file", "duban review")  # fmt: skip
    refused(review(world, "--open", "X1"), "not an item id", "M<number>")
    refused(review(world, "--accept", "F999999"), "no file F999999")
    refused(review(world, "--open", "M999999"), "no message M999999")
    refused(review(world, "--accept", message), "is a message, not a file", "--attach")
    refused(review(world, "--attach", file, "--unit", "T01", "--note", "x"),
            "is a file, not a message", "--reject")  # fmt: skip
    refused(review(world, "--reject", file), "--note")
    refused(review(world, "--attach", message, "--note", "x"), "--unit")
    refused(review(world, "--accept", file, "--reject", file), "one thing at a time")
    refused(review(world, "--dismiss", message, "--unit", "T01", "--note", "x"),
            "--unit does not go with --dismiss")  # fmt: skip

    dismissed = review(world, "--dismiss", message, "--note", "广告邮件", "--by", "李科长")
    assert dismissed.exit_code == 0, dismissed.output
    assert "dismissed" in dismissed.output
    again = review(world, "--attach", message, "--unit", "T01", "--note", "x")
    refused(again, f"{message} is not held: it was dismissed by 李科长 on 2026-03-09 10:00")
    assert review(world, "--dismiss", file, "--note", "垃圾邮件").exit_code == 0
    refused(review(world, "--reject", file, "--note", "x"), "is not held")
    assert listed(world) == []
    assert world.answers.messages == []  # dismissing sends nothing
    with session_scope(world.engine) as session:
        row = session.get_one(IntakeRow, int(message[1:]))
        assert (row.status, row.reason) == ("dismissed", "reviewed-dismissed")


def test_status_counts_every_refused_reply_to_a_notice_and_what_is_held(world: World) -> None:
    world.reply("T02", [plan_row(1, category="作风建设")])  # invalid cells: names its duty
    world.reply("T09", VALID, attach=False)  # a reply with nothing attached
    world.reply("T07", VALID, change=hostile_bomb)  # quarantined: never read
    world.reply("T08", VALID, change=without_metadata)  # not duban's template
    # B02 writes a new message (no reply to anything) with nothing attached: no duty to name
    b02 = EmailMessage()
    b02["From"], b02["To"], b02["Subject"] = (
        "zhengfuban@jt.example",
        "youhuaban@jt.example",
        "实施方案",
    )
    b02.set_content("稍后报送。")
    world.deliver(b02.as_bytes(), ON_TIME)
    # B01's address answers B05's notice with nothing attached: not B05's reply
    world.reply("B05", VALID, sender="shiweiban@jt.example", attach=False)
    world.reply("T06", VALID, sender="stranger@evil.example")  # held
    world.collect()

    plan = status(world, "--deliverable", "plan", "--units", "--as-of", "2026-03-10")
    [row] = plan["deliverables"]
    assert (row["rejected"], row["missing"], row["received"]) == (4, 26, 0)
    states = {u["unit"]: u["state"] for u in plan["units"]}
    assert {u for u, s in states.items() if s == "rejected"} == {"T02", "T07", "T08", "T09"}
    assert (states["B02"], states["B05"], states["T06"]) == ("overdue",) * 3
    assert plan["held"] == 1


def test_item_ids() -> None:
    from duban.implement.review import FILE, MESSAGE, ItemId, parse_item, safe_name

    assert parse_item("F34") == ItemId(FILE, 34)
    assert parse_item(" m12 ") == ItemId(MESSAGE, 12)
    assert parse_item(7) == ItemId(FILE, 7)
    assert str(ItemId(MESSAGE, 12)) == "M12"
    assert safe_name("../../etc/pass\x00wd", "file") == "passwd"
    assert safe_name("C:\\Users\\a\\报表.xlsx", "file") == "报表.xlsx"
    assert safe_name("..", "file") == "file"
