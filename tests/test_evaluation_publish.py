"""``duban evaluate publish`` (issue 17 items 5 and 6) on SQLite and PostgreSQL, over the
loopback SMTP server: the hand-worked evaluation of ``test_evaluation_ledger`` published to its
seven units, each its own score sheet and appeal form, the appeal window (five working days)
recorded once and told; again, or twice at once, nothing is sent twice. Each decided appeal
is told to its unit, once. After an upheld appeal, publishing the new version reaches only the
units whose sheet changed, the window kept. Once frozen, each unit gets its final sheet and the
bulletin, and the distribution list the bulletin, once."""

from __future__ import annotations

import email
import email.policy
import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from duban.evaluate import commands
from duban.evaluate.publication import PUBLISHED_EVENT
from duban.evaluate.publish import PublishReport
from duban.ledger.schema import EventRow
from duban.runtime import Runtime
from duban.settings import load_settings
from duban.testing.helpers import edit_campaign
from duban.testing.mailserver import LocalSmtpServer

from .test_evaluation_ledger import CLOSES, LABEL, NOW, WEIGHTED, ZONE, World, world

__all__ = ["world"]  # the fixture, imported to be used here

UNITS = {"T1": "金城镇", "T2": "儒林镇", "T3": "直溪镇", "T4": "朱林镇", "B1": "市委办公室",
         "B2": "市政府办公室", "B3": "市审计局"}  # fmt: skip
SECRET = "publish test secret, long enough"
APPEALS_CLOSE = datetime(2026, 12, 19, 0, 0, tzinfo=ZONE)
"""Published on Friday 11 December: the fifth working day after is Friday 18th, counted whole."""


@pytest.fixture
def smtp() -> Iterator[LocalSmtpServer]:
    with LocalSmtpServer() as server:
        yield server


def runtime(world: World, smtp: LocalSmtpServer, now: str = NOW) -> Runtime:
    settings = load_settings(home=world.home, database_url=world.url, now=now,
                             smtp_url=smtp.url(), secret=SECRET)  # fmt: skip
    return Runtime(settings, world.campaign)


def publish(world: World, smtp: LocalSmtpServer, now: str = NOW) -> PublishReport:
    with runtime(world, smtp, now) as rt:
        return commands.publish(rt, LABEL)


def received(smtp: LocalSmtpServer) -> list[EmailMessage]:
    found = []
    for delivery in smtp.messages:
        parsed = email.message_from_bytes(delivery.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        found.append(parsed)
    return found


def to_unit(message: EmailMessage) -> str:
    address = str(message["To"]).rsplit("<", 1)[-1].strip(">").strip()
    return address.split("@", 1)[0].upper()


def attachments(message: EmailMessage) -> dict[str, bytes]:
    return {part.get_filename() or "": part.get_content() for part in message.iter_attachments()}


def test_the_preliminary_result_goes_to_every_unit_once_with_its_window(
    world: World, smtp: LocalSmtpServer
) -> None:
    world.compute()
    done = publish(world, smtp)
    assert (done.version, done.final, done.units, done.sent) == (1, False, 7, 7)
    assert done.appeals_close == APPEALS_CLOSE
    messages = received(smtp)
    assert sorted(to_unit(m) for m in messages) == sorted(UNITS)
    for message in messages:
        unit = to_unit(message)
        assert str(message["Subject"]).endswith(f"（{UNITS[unit]}）")
        assert "考核初步结果及得分说明" in str(message["Subject"])
        body = message.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert f"综合得分为 {WEIGHTED[unit][-1]} 分" in text
        assert "2026年12月18日（星期五）24:00前" in text
        files = attachments(message)
        assert sorted(files) == [f"复核申请表-{UNITS[unit]}.xlsx", f"得分说明-{UNITS[unit]}.xlsx"]
        sheet = files[f"得分说明-{UNITS[unit]}.xlsx"]
        book = openpyxl.load_workbook(io.BytesIO(sheet), read_only=True)
        cells = [c for row in book.worksheets[0].iter_rows(values_only=True) for c in row]
        assert UNITS[unit] in cells
        assert float(WEIGHTED[unit][-1]) in [c for c in cells if isinstance(c, float | int)]
    folder = world.home / "out" / "nlzf-2026" / "evaluation" / f"得分说明-{LABEL}-v1"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"得分说明-{name}.xlsx" for name in UNITS.values()
    )
    again = publish(world, smtp, now="2026-12-14T09:00")
    assert (again.sent, again.appeals_close) == (0, APPEALS_CLOSE)
    assert len(smtp.messages) == 7
    assert world.count(select(func.count()).select_from(EventRow).where(
        EventRow.kind == PUBLISHED_EVENT)) == 1  # fmt: skip


def test_two_publications_at_once_send_each_unit_one_message(
    world: World, smtp: LocalSmtpServer
) -> None:
    world.compute()
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda _: publish(world, smtp), range(2)))
    assert sum(r.sent for r in reports) == 7
    assert sorted(to_unit(m) for m in received(smtp)) == sorted(UNITS)
    assert world.count(select(func.count()).select_from(EventRow).where(
        EventRow.kind == PUBLISHED_EVENT)) == 1  # fmt: skip


def test_a_corrected_version_reaches_only_the_units_whose_sheet_changed(
    world: World, smtp: LocalSmtpServer
) -> None:
    world.compute()
    publish(world, smtp)
    later = "2026-12-15T10:00"
    with runtime(world, smtp, later) as rt:
        lodged = commands.appeal(rt, "B2", "1. 报送及时率", "十月报告按时报送", LABEL)
        decided = commands.decide(rt, lodged.appeal_id, "邮件服务器延误，予以更正",
                                  correction=("timeliness", Decimal(1)), label=LABEL)  # fmt: skip
        rejected = commands.appeal(rt, "T4", "3. 民主评议", "评议票数太少", LABEL)
        no = commands.decide(rt, rejected.appeal_id, "有效票数不足五张，按规则不计入", label=LABEL)
        again = commands.decide(rt, rejected.appeal_id, "再次处理", label=LABEL)
    assert (decided.state, decided.version, decided.told) == ("upheld", 2, True)
    assert (no.state, no.version, no.told, again.told) == ("rejected", None, True, False)
    told = received(smtp)[7:]
    assert [to_unit(m) for m in told] == ["B2", "T4"]
    assert "复核成立" in str(told[0]["Subject"])
    assert "复核不成立" in str(told[1]["Subject"])
    said = told[0].get_body(("plain",))
    assert said is not None
    assert "邮件服务器延误，予以更正" in said.get_content()
    assert "已据此更正并重新计算（第 2 版）" in said.get_content()
    done = publish(world, smtp, now=later)
    assert done.version == 2
    assert done.appeals_close == APPEALS_CLOSE  # the window first told, not a new one
    resent = received(smtp)[9:]
    # B2 (now 20 on timeliness: 97.80) passes B1 and B3 (94.00): the three departments' totals,
    # ranks or what it takes to pass change; the towns' sheets read as before
    assert sorted(to_unit(m) for m in resent) == ["B1", "B2", "B3"]
    assert all("更正" in str(m["Subject"]) for m in resent)
    assert done.units == 3


def test_the_frozen_result_goes_to_each_unit_and_the_bulletin_to_the_distribution(
    world: World, smtp: LocalSmtpServer
) -> None:
    world.compute()
    publish(world, smtp)
    frozen = world.cli("evaluate freeze", "--label", LABEL, now="2026-12-21T09:00")
    assert frozen.exit_code == 0, frozen.output
    done = publish(world, smtp, now="2026-12-21T10:00")
    assert (done.final, done.sent, done.units) == (True, 7, 7)
    final = received(smtp)[7:]
    bulletins = [m for m in final if "shiweiban@jt.example" in str(m["To"])]
    assert len(bulletins) == 1
    assert any(name.endswith(".docx") for name in attachments(bulletins[0]))
    for message in (m for m in final if m not in bulletins):
        files = attachments(message)
        unit = to_unit(message)
        wanted = [f"得分说明-{UNITS[unit]}.xlsx", f"考核通报-{LABEL}-final.docx"]
        assert sorted(files) == sorted(wanted)
        assert "考核结果" in str(message["Subject"])
    assert publish(world, smtp, now="2026-12-22T10:00").sent == 0
    assert len(smtp.messages) == 7 + 8


def test_an_english_campaign_is_published_in_english(
    world: World, smtp: LocalSmtpServer, tmp_path: Path
) -> None:
    edit_campaign(world.campaign, lambda data: data.update(language="en"))
    done = world.cli("evaluate compute", "--label", LABEL, "--closes", CLOSES)
    assert done.exit_code == 0, done.output
    publish(world, smtp)
    message = received(smtp)[0]
    assert "preliminary result and score sheet" in str(message["Subject"])
    body = message.get_body(("plain",))
    assert body is not None
    assert "Friday 18 December 2026, by the end of the day" in body.get_content()
    names = sorted(attachments(message))
    assert [n.split("-", 1)[0] for n in names] == ["appeal", "score"]
