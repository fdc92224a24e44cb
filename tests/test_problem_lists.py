"""Problem lists become rectification items (issue 15): the self-check notice goes out over
SMTP, units reply into a real IMAP mailbox (dovecot), ``collect`` accepts the lists and each row
becomes an item holding what the unit typed, once, on SQLite and PostgreSQL; a list sent again
adds only its new rows; a list a coordinator accepts from review becomes items the same way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from duban.ledger.db import session_scope
from duban.ledger.schema import EventRow, RectificationRow
from duban.model.loader import CampaignBundle
from duban.selfcheck.ledger import history, list_items
from duban.selfcheck.lists import RECORDED
from duban.testing.imapserver import LocalImapServer

from .test_collect import World, imap, make_world  # noqa: F401  (imap: the module's fixture)

SHEET = "整改台账"


def problem(n: int, category: str = "作风不实") -> list[Any]:
    return [category, f"问题{n}：会议多、调研少", f"原因{n}", f"措施{n}：压减会议",
            f"责任人{n}", f"owner{n}@example.gov.cn", "2026-10-30", "整改中"]  # fmt: skip


@pytest.fixture
def lists(
    imap: LocalImapServer,  # noqa: F811
    example_bundle: CampaignBundle,
    tmp_path: Path,
    ledger_url: str,
) -> Iterator[World]:
    with make_world(imap, example_bundle, tmp_path, ledger_url, "self-check", SHEET) as world:
        yield world


def items_of(world: World, unit_id: str) -> list[tuple[str, str, str | None, date | None, str]]:
    with session_scope(world.engine) as session:
        found = list_items(session, world.bundle.campaign.id, unit_id=unit_id)
        return [(i.code, i.finding, i.measure, i.deadline, i.state) for i in found]


def recorded_events(world: World) -> int:
    with session_scope(world.engine) as session:
        return session.scalar(
            select(func.count()).select_from(EventRow).where(EventRow.kind == RECORDED)
        ) or 0  # fmt: skip


def test_each_row_of_an_accepted_list_becomes_an_item_once(lists: World) -> None:
    units = sorted(lists.notices)[:2]
    first, second = units
    lists.reply(first, [problem(1), problem(2), problem(3, "效率不高")])
    lists.reply(second, [problem(1)])
    lists.collect()
    assert items_of(lists, first) == [
        (f"ZG-{first}-00{n}", f"问题{n}：会议多、调研少", f"措施{n}：压减会议",
         date(2026, 10, 30), "open")
        for n in (1, 2, 3)
    ]  # fmt: skip
    assert [code for code, *_ in items_of(lists, second)] == [f"ZG-{second}-001"]
    with session_scope(lists.engine) as session:
        row = session.scalars(
            select(RectificationRow).where(RectificationRow.code == f"ZG-{first}-003")
        ).one()
        assert (row.category, row.cause, row.owner, row.source) == (
            "效率不高",
            "原因3",
            "责任人3",
            "self-check",
        )
        assert [e.kind for e in history(session, lists.bundle.campaign.id, row.code)] == [
            "rectification.created"
        ]
    assert recorded_events(lists) == 2
    lists.collect()  # nothing new arrived: nothing is recorded again
    assert recorded_events(lists) == 2
    assert len(items_of(lists, first)) == 3


def test_a_list_sent_again_adds_only_its_new_rows(lists: World) -> None:
    unit = sorted(lists.notices)[0]
    lists.reply(unit, [problem(1), problem(2)])
    lists.collect()
    # the same problems (one retyped with other spacing) and a new one, as version 2
    again = problem(2)
    again[1] = " 问题2： 会议多、调研少 "
    lists.reply(unit, [problem(1), again, problem(4)])
    lists.collect()
    assert [(code, finding) for code, finding, *_ in items_of(lists, unit)] == [
        (f"ZG-{unit}-001", "问题1：会议多、调研少"),
        (f"ZG-{unit}-002", "问题2：会议多、调研少"),
        (f"ZG-{unit}-003", "问题4：会议多、调研少"),
    ]
    with session_scope(lists.engine) as session:
        payloads = session.scalars(
            select(EventRow.payload).where(EventRow.kind == RECORDED).order_by(EventRow.id)
        ).all()
    assert [(p["version"], p["items"], p["known"]) for p in payloads] == [
        (1, [f"ZG-{unit}-001", f"ZG-{unit}-002"], 0),
        (2, [f"ZG-{unit}-003"], 2),
    ]


def test_a_rejected_list_makes_no_item(lists: World) -> None:
    unit = sorted(lists.notices)[0]
    wrong = problem(1)
    wrong[6] = "十月底"  # not a date: the list is rejected, naming the cell
    lists.reply(unit, [wrong])
    lists.collect()
    assert items_of(lists, unit) == []
    assert recorded_events(lists) == 0
