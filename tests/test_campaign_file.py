"""The campaign file: the example and its neighbours load; every kind of mistake is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from duban.errors import InvalidInputError
from duban.model.loader import CampaignBundle, load_campaign

from .conftest import ROOT

NEIGHBOURS = sorted((ROOT / "tests" / "campaigns").glob("*/campaign.yaml"))


def problems_of(path: Path) -> str:
    with pytest.raises(InvalidInputError) as caught:
        load_campaign(path)
    return str(caught.value)


def replace_in(path: Path, old: str, new: str) -> int:
    """Edit the file's text; return the 1-based line of the edit."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def test_example_campaign_is_valid(example_bundle: CampaignBundle) -> None:
    assert example_bundle.campaign.id == "nlzf-2026"
    assert len(example_bundle.units) == 30
    assert [p.kind for p in example_bundle.campaign.phases] == [
        "mobilize",
        "implement",
        "self-check",
        "evaluate",
    ]
    instances = list(example_bundle.instances())
    plans = [i for i in instances if i.deliverable_id == "plan"]
    assert len(plans) == 30
    assert {str(i.due_date) for i in plans} == {"2026-03-05"}
    leads = {i.unit_id for i in instances if i.deliverable_id == "progress"}
    assert leads == {t.lead for t in example_bundle.campaign.key_tasks}


@pytest.mark.parametrize("path", NEIGHBOURS, ids=lambda p: p.parent.name)
def test_neighbouring_campaigns_fit_the_model(path: Path) -> None:
    bundle = load_campaign(path)
    assert bundle.units
    assert list(bundle.instances())


def test_there_are_three_neighbours() -> None:
    assert [p.parent.name for p in NEIGHBOURS] == ["liu-xing", "si-xing", "zheng-feng"]


def test_an_impossible_date_names_file_line_and_field(example_copy: Path) -> None:
    line = replace_in(example_copy, "due: {date: 2026-03-05}", "due: {date: 2026-02-30}")
    message = problems_of(example_copy)
    assert f"campaign.yaml:{line} deliverables[0].due.date" in message
    assert "expected a date like 2026-03-05, found '2026-02-30'" in message


def test_a_bad_email_in_the_roster_names_row_and_column(example_copy: Path) -> None:
    roster = example_copy.parent / "roster.csv"
    replace_in(roster, "jiaoyu@jt.example", "jiaoyu@")
    message = problems_of(example_copy)
    assert "roster.csv row 19, column emails" in message
    assert "jiaoyu@" in message


def test_a_misspelt_key_is_not_ignored(example_copy: Path) -> None:
    line = replace_in(example_copy, "assign: {all: true}", "asign: {all: true}")
    message = problems_of(example_copy)
    assert f"campaign.yaml:{line} deliverables[0].asign: unknown key" in message
    assert "deliverables[0].assign: this key is required" in message


def test_references_to_unknown_units_phases_forms_and_tags(example_copy: Path) -> None:
    replace_in(example_copy, "lead: B03", "lead: B99")
    replace_in(example_copy, "phase: mobilize", "phase: mobilise")
    replace_in(example_copy, "form: progress", "form: progres")
    replace_in(example_copy, "assign: {all: true}\n    due: {date: 2026-12-15}",
               "assign: {tags: [乡镇]}\n    due: {date: 2026-12-15}")  # fmt: skip
    message = problems_of(example_copy)
    assert "key_tasks[0].lead: unit 'B99' is not on the roster" in message
    assert "deliverables[0].phase: no phase 'mobilise'" in message
    assert "deliverables[1].form: no form 'progres'" in message
    assert "deliverables[4].assign.tags[0]: no unit on the roster has tag '乡镇'" in message


def test_an_unknown_calendar_year_is_reported_at_validate_time(example_copy: Path) -> None:
    replace_in(example_copy, "due: {date: 2026-12-15}", "due: {date: 2027-01-15}")
    message = problems_of(example_copy)
    assert "deliverables[4].due: the official calendar for 2027 is unknown" in message
    assert "calendar.years.2027" in message


def test_a_declared_year_makes_it_valid(example_copy: Path) -> None:
    replace_in(example_copy, "due: {date: 2026-12-15}", "due: {date: 2027-01-15}")
    replace_in(
        example_copy,
        "  working: []                # extra working days",
        "  working: []\n  years:\n    2027: {holidays: [2027-01-01], working_days: []}",
    )
    bundle = load_campaign(example_copy)
    [summary] = {
        i.due_date.isoformat() for i in bundle.instances() if i.deliverable_id == "summary"
    }
    assert summary == "2027-01-15"


def test_times_are_not_read_as_base_60_numbers(example_copy: Path) -> None:
    replace_in(example_copy, 'cutoff: "17:30"', "cutoff: 17:30")
    bundle = load_campaign(example_copy)
    assert str(bundle.campaign.deliverable("self-check").due.cutoff) == "17:30:00"


def test_broken_yaml_names_the_line(example_copy: Path) -> None:
    line = replace_in(example_copy, "  - id: implement ", "  - id: [implement ")
    message = problems_of(example_copy)
    assert "not valid YAML" in message
    assert f"campaign.yaml:{line + 1}" in message or f"campaign.yaml:{line}" in message


def test_a_missing_roster_is_named(example_copy: Path) -> None:
    (example_copy.parent / "roster.csv").unlink()
    assert "roster.csv: roster file not found" in problems_of(example_copy)


def test_every_problem_is_reported_at_once(example_copy: Path) -> None:
    replace_in(example_copy, "timezone: Asia/Shanghai", "timezone: Asia/Beijing")
    replace_in(example_copy, "start: 2026-07-01", "start: 2026-07-32")
    message = problems_of(example_copy)
    assert "2 problems" in message
    assert "unknown time zone 'Asia/Beijing'" in message
    assert "phases[2].start" in message


def test_libyaml_and_python_parse_a_campaign_file_alike() -> None:
    """The campaign file is parsed by libyaml where PyYAML has it, by Python otherwise (and
    again by Python for the message when it is refused): both must build the same data, with
    duban's YAML rules (times and dates stay text, no base-60 or octal surprises)."""
    import yaml

    from duban.model import loader

    assert loader._FastCampaignLoader is not loader.CampaignLoader
    assert issubclass(loader._FastCampaignLoader, yaml.CSafeLoader)  # this machine has libyaml
    text = (ROOT / "data" / "example" / "campaign.yaml").read_text(encoding="utf-8")
    text += "\nextra:\n  at: 17:30\n  day: 2026-03-05\n  hex: 0x1F\n  zero: 010\n  big: 1_000\n"
    fast = loader._compose_and_construct(text, loader._FastCampaignLoader)
    slow = loader._compose_and_construct(text, loader.CampaignLoader)
    assert fast[1] == slow[1]
    assert fast[1]["extra"] == {"at": "17:30", "day": "2026-03-05", "hex": 31, "zero": "010",
                                "big": 1000}  # fmt: skip
    assert fast[0] is not None
    assert slow[0] is not None
    assert fast[0].value[-1][1].start_mark.line == slow[0].value[-1][1].start_mark.line
