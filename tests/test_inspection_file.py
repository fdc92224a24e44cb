"""Inspections in the campaign file: the example's load; every mistake is named before a draw."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from duban.model.inspections import scope_units, stratum_of
from duban.model.loader import CampaignBundle, load_campaign

from .test_campaign_file import problems_of, replace_in


def test_the_example_declares_a_quarterly_and_an_unannounced_inspection(
    example_bundle: CampaignBundle,
) -> None:
    campaign = example_bundle.campaign
    quarterly = campaign.inspection("quarterly")
    assert quarterly.every == "quarter"
    assert quarterly.announced
    assert not campaign.inspection("unannounced").announced
    assert campaign.checklist(quarterly.checklist).total == Decimal(100)
    strata = {u.id: stratum_of(quarterly, u) for u in scope_units(quarterly, example_bundle.units)}
    assert len(strata) == 30
    assert strata["T01"] == "镇区"
    assert strata["Z01"] == "镇区"
    assert strata["B03"] == "市级机关"


def test_scope_selects_by_tag_and_unit_minus_exclusions(example_copy: Path) -> None:
    replace_in(
        example_copy,
        "    sample: {count: 4, strata: [镇区, 市级机关], minimum: 2}",
        "    scope: {tags: [镇区], units: [B03], exclude: [T01]}\n"
        "    sample: {count: 4, strata: [镇区, 市级机关], minimum: 2}",
    )
    bundle = load_campaign(example_copy)
    chosen = [u.id for u in scope_units(bundle.campaign.inspection("quarterly"), bundle.units)]
    assert "T01" not in chosen
    assert "B03" in chosen
    assert "B01" not in chosen
    assert len(chosen) == 9 + 1


def test_an_unknown_checklist_tag_and_unit_are_named(example_copy: Path) -> None:
    replace_in(
        example_copy, "    checklist: quarterly\n    every", "    checklist: weekly\n    every"
    )
    replace_in(
        example_copy,
        "    sample: {count: 4, strata: [镇区, 市级机关], minimum: 2}",
        "    scope: {units: [X99]}\n    sample: {count: 4, strata: [乡镇], minimum: 2}",
    )
    said = problems_of(example_copy)
    assert "inspections[0].checklist" in said
    assert "weekly" in said
    assert "inspections[0].scope.units[0]" in said
    assert "X99" in said
    assert "inspections[0].sample.strata[0]" in said
    assert "乡镇" in said


def test_units_in_no_stratum_are_named(example_copy: Path) -> None:
    replace_in(
        example_copy,
        "    sample: {count: 4, strata: [镇区, 市级机关], minimum: 2}",
        "    sample: {count: 4, strata: [镇区], minimum: 2}",
    )
    said = problems_of(example_copy)
    assert "inspections[0].sample.strata" in said
    line = next(ln for ln in said.splitlines() if "inspections[0].sample.strata" in ln)
    assert "B01, B02" in line
    assert "(20 in all)" in line
    assert "T01" not in line


def test_a_sample_needs_count_or_share_and_a_team_two_inspectors(example_copy: Path) -> None:
    replace_in(
        example_copy,
        "    sample: {count: 4, strata: [镇区, 市级机关], minimum: 2}\n    team_size: 2",
        "    sample: {count: 4, share: 0.2}\n    team_size: 1",
    )
    said = problems_of(example_copy)
    assert "count" in said
    assert "share" in said
    assert "inspections[0].team_size" in said
