"""Closure rates per unit and per tag (整改完成率, 按期整改率; issue 15): written out by hand for
a small ledger, on the 2026 official calendar."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from duban.selfcheck.items import Item
from duban.selfcheck.rates import Counts, Rules, by_tag, by_unit, counts
from duban.selfcheck.states import State

from .test_rectification import OFFICIAL, ZONE, item

ASKED = Rules(day=date(2026, 10, 9), calendar=OFFICIAL, zone=ZONE)


def closed(deadline: date, at: datetime, unit: str = "B03") -> Item:
    return item(State.CLOSED, unit_id=unit, deadline=deadline, closed_at=at)


LEDGER = [
    closed(date(2026, 9, 18), datetime(2026, 9, 18, 23, 0, tzinfo=ZONE)),  # on its last day
    closed(date(2026, 9, 18), datetime(2026, 9, 21, 10, 0, tzinfo=ZONE)),  # late
    # due on National Day (3 October), closed on the first working day after it: on time
    closed(date(2026, 10, 3), datetime(2026, 10, 8, 10, 0, tzinfo=ZONE)),
    item(State.IN_PROGRESS, deadline=date(2026, 9, 18)),  # overdue on 9 October
    item(State.CANCELLED, deadline=date(2026, 9, 18)),  # not counted at all
    item(State.OPEN, deadline=None, long_term=True),  # found, never overdue
    # claimed but not verified: still open, so overdue after its deadline
    item(State.CLAIMED, unit_id="T01", deadline=date(2026, 9, 30)),
    item(State.OPEN, unit_id="T01", deadline=date(2026, 10, 9)),  # due today, not overdue
]
TAGS = {"B03": ("部门",), "B10": ("部门", "窗口"), "T01": ("镇区",), "T02": ("镇区",)}


def test_per_unit_counts_and_rates() -> None:
    rates = by_unit(LEDGER, ASKED, unit_ids=TAGS)
    assert rates == {
        "B03": Counts(found=5, closed=3, closed_on_time=2, overdue=1, cancelled=1),
        "B10": Counts(),
        "T01": Counts(found=2, closed=0, closed_on_time=0, overdue=1),
        "T02": Counts(),
    }
    assert rates["B03"].closure_rate == pytest.approx(3 / 5)
    assert rates["B03"].on_time_rate == pytest.approx(2 / 3)
    assert rates["B03"].open == 2
    assert (rates["T01"].closure_rate, rates["T01"].on_time_rate) == (0.0, None)
    assert (rates["T02"].closure_rate, rates["T02"].on_time_rate) == (None, None)


def test_per_tag_a_unit_counts_under_each_of_its_tags() -> None:
    rates = by_tag(LEDGER, ASKED, TAGS)
    assert list(rates) == ["窗口", "部门", "镇区"]
    assert rates["部门"] == Counts(found=5, closed=3, closed_on_time=2, overdue=1, cancelled=1)
    assert rates["镇区"] == Counts(found=2, overdue=1)
    assert rates["窗口"] == Counts()
    assert rates["窗口"].closure_rate is None


def test_the_whole_campaign() -> None:
    total = counts(LEDGER, ASKED)
    assert total == Counts(found=7, closed=3, closed_on_time=2, overdue=2, cancelled=1)
    assert total.closure_rate == pytest.approx(3 / 7)


def test_a_deadline_kept_as_written_makes_the_national_day_closure_late() -> None:
    strict = Rules(day=ASKED.day, calendar=OFFICIAL, zone=ZONE, roll=False)
    assert counts(LEDGER, strict).closed_on_time == 1


def test_the_day_asked_decides_overdue() -> None:
    before = Rules(day=date(2026, 9, 18), calendar=OFFICIAL, zone=ZONE)
    assert counts(LEDGER, before).overdue == 0
    after = Rules(day=date(2026, 10, 10), calendar=OFFICIAL, zone=ZONE)
    assert counts(LEDGER, after).overdue == 3
