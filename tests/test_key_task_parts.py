"""Issue 21, the campaign file: a deliverable whose key tasks' partners report to the lead
first (牵头汇总、配合报送). The partners' deliverable (``<id>-parts``) is made by duban: the
partners of the chosen key tasks owe it, with the lead's form and periods, each period due the
declared number of working days before the lead's; the lead's form gains the 报送单位 column
after the key task's. A deliverable of no leads, or a key task column the form does not have,
is refused at load time with the place named."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from duban.model.campaign import PARTS_SUFFIX, REPORTED_BY
from duban.model.loader import load_campaign

from .test_campaign_file import problems_of, replace_in

PROGRESS = "    assign: {leads: all}\n    due: {every: quarter, day: 25, roll: next-working-day}\n"
PARTNERS = (
    "    partners:                # 牵头汇总：配合单位先报牵头单位（提前5个工作日），"
    "牵头单位汇总后报市优化办\n"
    "      before_working_days: 5\n      task_column: task\n"
)


@pytest.fixture
def with_partners(example_copy: Path) -> Path:
    """The example: its quarterly progress is reported in two steps."""
    return example_copy


def test_the_partners_owe_their_parts_first(with_partners: Path) -> None:
    bundle = load_campaign(with_partners)
    campaign = bundle.campaign
    parts = campaign.deliverable("progress" + PARTS_SUFFIX)
    assert parts.part_of == "progress"
    assert campaign.parts_of(campaign.deliverable("progress")) == parts
    assert parts.form == "progress"
    owed = {(i.unit_id, i.period): i.due_date for i in bundle.instances()
            if i.deliverable_id == parts.id}  # fmt: skip
    partners = {u for t in campaign.key_tasks for u in t.partners}
    assert {u for u, _ in owed} == partners == {"B10", "B02", "B16", "B05", "B18", "B07", "B14",
                                                "B04"}  # fmt: skip
    leads = {i.period: i.due_date for i in bundle.instances()
             if i.deliverable_id == "progress" and i.unit_id == "B03"}  # fmt: skip
    for (_, period), due in owed.items():
        assert bundle.calendar.working_days_between(due, leads[period]) == 5
    # the second quarter's lead report is due Thursday 25 June 2026; the Dragon Boat holiday
    # (19 June) is not a working day: five working days before is Wednesday 17 June
    assert leads["2026-Q2"] == date(2026, 6, 25)
    assert owed[("B10", "2026-Q2")] == date(2026, 6, 17)


def test_the_leads_form_names_who_reported_each_row(with_partners: Path) -> None:
    campaign = load_campaign(with_partners).campaign
    lead = campaign.form_of(campaign.deliverable("progress"))
    keys = [c.key for c in lead.sheets[0].columns]
    assert keys[:3] == ["task", REPORTED_BY, "progress"]
    assert lead.sheets[0].columns[1].label == "报送单位"
    partner = campaign.form_of(campaign.deliverable("progress" + PARTS_SUFFIX))
    assert REPORTED_BY not in [c.key for c in partner.sheets[0].columns]
    plain = campaign.form_of(campaign.deliverable("plan"))
    assert plain == campaign.form("plan")


def test_partners_need_leads_and_a_task_column(example_copy: Path) -> None:
    replace_in(example_copy, PROGRESS + PARTNERS,
               PROGRESS.replace("{leads: all}", "{all: true}")
               + PARTNERS.replace("task_column: task", "task_column: tasks"))  # fmt: skip
    message = problems_of(example_copy)
    assert "deliverables[1].partners: deliverable 'progress': partners report to a lead" in message
    assert "deliverables[1].partners.task_column: deliverable 'progress': sheet '进展情况' has " \
        "no text column 'tasks'" in message  # fmt: skip
