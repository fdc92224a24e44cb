"""Chasing rectification items (issue 15, point 5): item deadlines go up the reminder ladder, and
a unit receives at most one reminder message a day from duban, naming everything it owes, items
and deliverables together, over a real SMTP server, on SQLite and PostgreSQL. The grouping and
an item's rung are also tested as pure functions."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any, cast
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine, select

from duban.adapters.bots import BotSender, parse_bots
from duban.adapters.mail.mailer import SmtpMailer
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.adapters.render import environment, render_message
from duban.clock import FixedClock
from duban.implement.chase import ChaseReport, chase
from duban.implement.owed import Owed, OwedItem, item_rung
from duban.implement.unit_day import COVERED, unit_days
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import EventRow
from duban.ledger.store import register
from duban.model.campaign import DEFAULT_LADDER, Rung
from duban.model.ladder import DueRung
from duban.model.loader import CampaignBundle
from duban.model.roster import Unit
from duban.model.workdays import WorkCalendar
from duban.selfcheck.items import Item, NewItem
from duban.selfcheck.ledger import apply_move, create_items
from duban.selfcheck.states import Action, Move, Role
from duban.sending.escalate import ledger_bot_poster
from duban.testing.botserver import LocalBotServer
from duban.testing.mailserver import LocalSmtpServer

SECRET = b"a test secret of more than sixteen bytes"
ENV = environment()
CID = "nlzf-2026"
ZONE = ZoneInfo("Asia/Shanghai")
RECORDED = datetime(2026, 7, 1, 9, 0, tzinfo=ZONE)


@dataclass
class Office:
    engine: Engine
    bundle: CampaignBundle
    smtp: LocalSmtpServer

    def at(self, day: date, hour: int = 9) -> datetime:
        return datetime.combine(day, time(hour, 0), tzinfo=ZONE)

    def chase(self, moment: datetime, **kw: Any) -> ChaseReport:
        with (
            session_scope(self.engine) as session,
            SmtpMailer(parse_smtp_url(self.smtp.url())) as mailer,
        ):
            return chase(session, self.bundle, as_of=moment, mailer=mailer, env=ENV,
                         secret=SECRET, clock=FixedClock(moment), **kw)  # fmt: skip

    def items(self, unit: str, deadlines: list[date | None], at: datetime = RECORDED) -> list[str]:
        """Record one item per deadline (None: long-term) for ``unit``: their codes."""
        new = [NewItem(unit, f"问题{n}：学习制度落实不到位，部分科室集中学习流于形式", deadline=d,
                       long_term=d is None, measure="建立周学习制度")
               for n, d in enumerate(deadlines, start=1)]  # fmt: skip
        with session_scope(self.engine) as session:
            recorded = create_items(session, FixedClock(at), CID, new, actor="王主任")
            return [r.item.code for r in recorded]

    def move(self, code: str, action: Action, at: datetime = RECORDED, **kw: Any) -> None:
        role: Role = "unit" if action in (Action.CLAIM, Action.PROGRESS) else "coordinator"
        with session_scope(self.engine) as session:
            apply_move(session, FixedClock(at), CID, code, Move(action, "王主任", role=role, **kw),
                       zone=ZONE)  # fmt: skip

    def close(self, code: str) -> None:
        self.move(code, Action.CLAIM, evidence="已整改，见附件")
        self.move(code, Action.CLOSE)

    def to_unit(self, unit: str) -> list[EmailMessage]:
        """The day messages ``unit`` received, in order."""
        found = []
        for delivery in self.smtp.messages:
            message = parse(delivery.raw)
            if str(message["X-Duban-Key"]).startswith(f"chase:{CID}:{unit}:"):
                found.append(message)
        return found

    def to_office(self) -> list[EmailMessage]:
        return [m for m in map(parse, (d.raw for d in self.smtp.messages))
                if str(m["X-Duban-Key"]).startswith(f"escalation:{CID}:items:")]  # fmt: skip


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def body(message: EmailMessage, kind: str = "plain") -> str:
    part = message.get_body((kind,))
    assert part is not None
    return str(cast(EmailMessage, part).get_content())


@pytest.fixture
def office(ledger_url: str, example_bundle: CampaignBundle) -> Iterator[Office]:
    engine = make_engine(ledger_url)
    migrate(engine)
    with session_scope(engine) as session:
        register(session, example_bundle, FixedClock(datetime(2026, 2, 9, tzinfo=UTC)))
    with LocalSmtpServer() as smtp:
        yield Office(engine, example_bundle, smtp)
    engine.dispose()


def test_twelve_items_due_the_same_day_make_one_message(office: Office) -> None:
    """Mon 20 Jul 2026: nothing of any deliverable is due to a unit that day, and twelve of
    T03's items are due: T03 gets one final notice naming all twelve, and nothing more that
    day, however often chase runs."""
    codes = office.items("T03", [date(2026, 7, 20)] * 12)
    closed, claimed, cancelled = office.items("T03", [date(2026, 7, 20)] * 3)
    office.close(closed)
    office.move(claimed, Action.CLAIM, evidence="已整改，见附件")
    office.move(cancelled, Action.CANCEL, reason="不属于本单位问题")
    [long_term] = office.items("T03", [None])
    report = office.chase(office.at(date(2026, 7, 20)))
    [message] = office.to_unit("T03")
    assert [m["X-Duban-Key"] for m in office.to_unit("T03")] == [f"chase:{CID}:T03:2026-07-20"]
    text, html = body(message), body(message, "html")
    for code in codes:
        assert code in text
        assert code in html
    for code in (closed, claimed, cancelled, long_term):
        assert code not in text
        assert code not in html
    assert str(message["Subject"]) == "【催办】请办理整改事项 12 项（直溪镇）"
    assert "今日到期" in text
    assert "2026年7月20日" in text
    assert report.items_named() == 12
    assert report.sent_by_rung() == {"final-notice": 1}
    assert not list(message.iter_attachments())  # items only: no workbook to fill
    unit = office.bundle.units_by_id["T03"]
    assert str(message["To"]).endswith(f"<{unit.emails[0]}>")
    assert message["Cc"] is None
    # the same moment again, later the same day: nothing more to T03
    sent = len(office.smtp.messages)
    again = office.chase(office.at(date(2026, 7, 20)))
    later = office.chase(office.at(date(2026, 7, 20), hour=15))
    assert len(office.smtp.messages) == sent
    assert again.items_named() == later.items_named() == 0


def test_two_chases_at_once_send_the_unit_s_message_once(office: Office) -> None:
    """Two runs at the same moment, each its own session and SMTP connection: the day's message
    is claimed by one of them; its rungs are recorded as covered once, by the run that sent."""
    codes = office.items("T03", [date(2026, 7, 20)] * 12)
    moment = office.at(date(2026, 7, 20))
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(office.chase, [moment, moment]))
    [message] = office.to_unit("T03")
    assert all(code in body(message) for code in codes)
    assert sorted(r.items_named() for r in reports) == [0, 12]
    with session_scope(office.engine) as session:
        covered = session.scalars(select(EventRow.subject).where(EventRow.kind == COVERED)).all()
    assert sorted(str(s) for s in covered) == sorted(
        f"item-rung:final-notice:{code}:2026-07-20" for code in codes
    )


# 60 workbooks made and mailed: on SQLite only (the tests above run the grouping on both)
@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
def test_a_unit_owing_a_deliverable_and_items_gets_one_message(office: Office) -> None:
    """Tue 15 Sep 2026: every unit's self-check reminder is due (3 working days before Fri 18);
    T03 also has two items due that day. T03 gets one message with both (named, and copied, as
    its highest rung: the items' final notice); every other unit its reminder alone. An item
    recorded after T03's message, already due, waits for the next day's message."""
    office.chase(office.at(date(2026, 9, 14)))  # the August progress report's overdue notice
    before = len(office.to_unit("T03"))
    codes = office.items("T03", [date(2026, 9, 15)] * 2, at=office.at(date(2026, 9, 14), 12))
    office.chase(office.at(date(2026, 9, 15)))
    [message] = office.to_unit("T03")[before:]
    text = body(message)
    assert "《自查自纠问题及整改台账》的报送截止时间为" in text
    assert all(code in text for code in codes)
    assert str(message["Subject"]) == (
        "【催办】请报送《自查自纠问题及整改台账》，办理整改事项 2 项（直溪镇）"
    )
    [workbook] = list(message.iter_attachments())  # the self-check workbook, freshly made
    assert str(workbook.get_filename()).endswith(".xlsx")
    today = f":{date(2026, 9, 15)}"
    for unit in office.bundle.units:
        got = [m for m in office.to_unit(unit.id) if str(m["X-Duban-Key"]).endswith(today)]
        assert len(got) == 1, unit.id  # every unit owes the self-check list
        assert ("整改事项" in str(got[0]["Subject"])) == (unit.id == "T03")
    # recorded at noon, due Wed 16 Sep (its reminder already due): not today, T03 had its message
    [late] = office.items("T03", [date(2026, 9, 16)], at=office.at(date(2026, 9, 15), 12))
    office.chase(office.at(date(2026, 9, 15), hour=15))
    assert len(office.to_unit("T03")) == before + 1
    office.chase(office.at(date(2026, 9, 16)))
    tomorrow = body(office.to_unit("T03")[-1])
    assert late in tomorrow
    assert "自查自纠" not in tomorrow  # its reminder was sent; the final notice is Fri's
    # yesterday's two are overdue now: named again a rung higher, the head in copy
    assert all(f"{code} | " in tomorrow and "2026年9月15日 | 1" in tomorrow for code in codes)
    assert str(office.to_unit("T03")[-1]["Cc"]) == office.bundle.units_by_id["T03"].head_email


def test_an_item_up_the_ladder_and_a_closed_one_never(office: Office) -> None:
    """One item due Mon 20 Jul up the default ladder, working days only: reminder Wed 15,
    final notice Mon 20, overdue notice Tue 21 with the head in copy, escalation to the
    coordinator Thu 23; each once. Its sibling closed on 14 Jul is never named."""
    open_code, closed = office.items("T05", [date(2026, 7, 20), date(2026, 7, 20)])
    office.close(closed)
    day = date(2026, 7, 13)
    while day <= date(2026, 7, 24):
        office.chase(office.at(day))
        office.chase(office.at(day, hour=16))
        day += timedelta(days=1)
    got = office.to_unit("T05")
    zone_days = [m["X-Duban-Key"].rsplit(":", 1)[1] for m in got]
    assert zone_days == ["2026-07-15", "2026-07-20", "2026-07-21"]
    assert [str(m["Subject"])[:4] for m in got] == ["【提醒】", "【催办】", "【督办】"]
    assert all(open_code in body(m) and closed not in body(m) for m in got)
    unit = office.bundle.units_by_id["T05"]
    assert [m["Cc"] for m in got[:2]] == [None, None]
    assert str(got[2]["Cc"]) == unit.head_email
    assert "| 1" in body(got[2])  # one working day overdue
    [escalation] = office.to_office()
    assert escalation["X-Duban-Key"] == f"escalation:{CID}:items:escalation:2026-07-23"
    assert open_code in body(escalation)
    assert closed not in body(escalation)
    assert str(escalation["Subject"]) == "【提请约谈】整改事项逾期未完成（1个单位，1项）"


def test_the_items_escalation_reaches_the_group_bot_once(office: Office) -> None:
    codes = office.items("T05", [date(2026, 7, 20)] * 2) + office.items("T06", [date(2026, 7, 20)])
    clock = FixedClock(office.at(date(2026, 7, 23)))
    with (
        LocalBotServer(clock=clock) as bots,
        httpx.Client(trust_env=False, timeout=5) as client,
    ):
        sender = BotSender(client, clock, sleep=lambda s: clock.advance(timedelta(seconds=s)))
        poster = ledger_bot_poster(
            sender, parse_bots(bots.url("wecom", "wx")), clock, office.bundle
        )
        for _ in range(2):  # the same moment twice: posted once
            office.chase(office.at(date(2026, 7, 23)), post_bots=poster)
        posts = [r.body["markdown"]["content"] for r in bots.requests_for("wx")]
    [post] = [p for p in posts if "整改事项" in p]
    assert "2个单位3项整改事项逾期未完成" in post
    assert all(code in post for code in codes)


# --- pure: an item's rung and the grouping ---------------------------------------------------

CALENDAR = WorkCalendar()


def item(code: str, unit: str, deadline: date | None, state: str = "open", **kw: Any) -> Item:
    return Item(code=code, campaign_id=CID, unit_id=unit, seq=int(code[-3:]), source="self-check",
                finding="问题", category=None, cause=None, measure=None, owner=None, partners=(),
                deadline=deadline, first_deadline=deadline, long_term=kw.get("long_term", False),
                state=state, created_at=RECORDED, created_by="王主任",
                updated_at=RECORDED)  # fmt: skip


def rung_kind(it: Item, day: date, hour: int = 9) -> str | None:
    moment = datetime.combine(day, time(hour), tzinfo=ZONE)
    found = item_rung(it, DEFAULT_LADDER, moment, CALENDAR, ZONE)
    return None if found is None else found[0].rung.kind


def test_an_item_s_rung_follows_the_ladder_and_its_state() -> None:
    due = date(2026, 7, 20)
    assert rung_kind(item("ZG-T01-001", "T01", due), date(2026, 7, 14)) is None
    assert rung_kind(item("ZG-T01-001", "T01", due), date(2026, 7, 15), hour=8) is None
    assert rung_kind(item("ZG-T01-001", "T01", due), date(2026, 7, 15)) == "reminder"
    assert rung_kind(item("ZG-T01-001", "T01", due), date(2026, 7, 21)) == "overdue-notice"
    assert rung_kind(item("ZG-T01-001", "T01", due), date(2026, 8, 3)) == "escalation"
    # claimed (awaiting verification), closed and cancelled: never chased
    for state in ("claimed", "closed", "cancelled"):
        assert rung_kind(item("ZG-T01-001", "T01", due, state), date(2026, 7, 21)) is None
    assert rung_kind(item("ZG-T01-001", "T01", due, "in_progress"), date(2026, 7, 21))
    # long-term (长期坚持): reminded up to its deadline, never chased as overdue
    long_term = item("ZG-T01-002", "T01", due, long_term=True)
    assert rung_kind(long_term, date(2026, 7, 20)) == "final-notice"
    assert rung_kind(long_term, date(2026, 8, 3)) == "final-notice"
    assert rung_kind(item("ZG-T01-003", "T01", None, long_term=True), date(2026, 8, 3)) is None
    # Sat 3 Oct 2026 (National Day): on time through the next working day, Thu 8 Oct
    holiday = item("ZG-T01-004", "T01", date(2026, 10, 3))
    assert rung_kind(holiday, date(2026, 10, 8)) == "final-notice"
    assert rung_kind(holiday, date(2026, 10, 9)) == "overdue-notice"
    # a deadline in a year the official calendar does not know: not due, no error
    assert rung_kind(item("ZG-T01-005", "T01", date(2031, 1, 6)), date(2026, 7, 21)) is None


def _unit(unit_id: str) -> Unit:
    return Unit(id=unit_id, name=unit_id, emails=(f"{unit_id.lower()}@jt.example",),
                head_email=f"{unit_id.lower()}.head@jt.example")  # fmt: skip


def _due(kind: str, offset: int, to: tuple[str, ...] = ("unit",)) -> DueRung:
    rung = Rung.model_validate({"kind": kind, "offset_working_days": offset, "to": list(to)})
    return DueRung(rung, date(2026, 7, 20), datetime(2026, 7, 20, 9, tzinfo=ZONE))


def _owed_item(code: str, unit: str, due: DueRung) -> OwedItem:
    return OwedItem(item(code, unit, date(2026, 7, 20)), due, _unit(unit), date(2026, 7, 20), 0)


def _owed_duty(instance_id: int, unit: str, due: DueRung) -> Owed:
    facts = cast(Any, type("Facts", (), {"instance_id": instance_id, "deliverable_id": "d",
                                         "period": "once"})())  # fmt: skip
    return Owed(facts, cast(Any, None), due, _unit(unit))


def test_the_day_s_rungs_group_into_one_message_a_unit() -> None:
    day = date(2026, 7, 20)
    reminder, final = _due("reminder", -3), _due("final-notice", 0)
    overdue, escalation = (
        _due("overdue-notice", 1, ("unit", "head")),
        _due("escalation", 3, ("coordinator",)),
    )
    items = [_owed_item(f"ZG-T01-{n:03d}", "T01", final) for n in range(12, 0, -1)]
    items += [_owed_item("ZG-T02-001", "T02", overdue), _owed_item("ZG-T02-002", "T02", escalation)]
    duties = [_owed_duty(7, "T02", reminder), _owed_duty(8, "T03", reminder)]
    covered = {"rung:reminder:8"}  # T03's reminder went out in an earlier message
    got = unit_days(CID, day, duties, items, covered)
    assert [(u.key, len(u.duties), len(u.items)) for u in got] == [
        (f"chase:{CID}:T01:2026-07-20", 0, 12),
        (f"chase:{CID}:T02:2026-07-20", 1, 1),  # the escalation is the office's, not the unit's
    ]
    t01, t02 = got
    assert [i.item.code for i in t01.items] == [f"ZG-T01-{n:03d}" for n in range(1, 13)]
    assert t01.top.kind == "final-notice"
    assert t02.top.kind == "overdue-notice"
    assert "head" in t02.top.to
    assert t02.covers == ("rung:reminder:7", "item-rung:overdue-notice:ZG-T02-001:2026-07-20")
    # what a message covered is not named again
    assert unit_days(CID, day, duties, items, {*covered, *t01.covers, *t02.covers}) == []
    # unless the item was extended (延期): its ladder starts again from the new deadline
    extended = replace(items[0], item=replace(items[0].item, deadline=date(2026, 7, 31)))
    [again] = unit_days(CID, day, [], [extended], {*t01.covers})
    assert again.covers == ("item-rung:final-notice:ZG-T01-012:2026-07-31",)


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_the_template_lists_items_as_a_table(language: str) -> None:
    coordinator = {"name": "市优化办", "email": "youhuaban@jt.example", "phone": None}
    items = [{"code": "ZG-T01-001", "finding": "学习流于形式", "deadline_text": "2026-07-20",
              "late_days": 3, "kind": "overdue-notice", "long_term": False}]  # fmt: skip
    context = {"unit": _unit("T01"), "rung": _due("overdue-notice", 1).rung,
               "rung_word": "x", "duties": [], "items": items, "overdue": False,
               "items_overdue": 1, "coordinator": coordinator, "sent_on": "today"}  # fmt: skip
    rendered = render_message(ENV, cast(Any, language), "chase", context)
    heading = (
        "问题编号 | 问题描述 | 整改时限 | 逾期工作日" if language == "zh-CN" else "Item | Finding"
    )
    assert heading in rendered.text
    assert "ZG-T01-001 | 学习流于形式 | 2026-07-20 | 3" in rendered.text
    assert rendered.html.count("<tr>") == 2
