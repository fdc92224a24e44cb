"""Scoring in the campaign file (评议考核): sources, rules, groups, ties, exemptions; every
mistake named by ``duban validate`` before anything is computed, in English and Chinese."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from duban.errors import InvalidInputError
from duban.evaluate.scores import unit_groups
from duban.model.loader import CampaignBundle, load_campaign
from duban.model.scoring import Rule, TieBreak

from .test_campaign_file import problems_of, replace_in

NEIGHBOURS = Path(__file__).parent / "campaigns"
TIES = "  ties: [higher: inspection, higher: timeliness, draw]"


def chinese(path: Path) -> list[str]:
    with pytest.raises(InvalidInputError) as caught:
        load_campaign(path)
    return caught.value.details("zh-CN")


def test_the_example_ranks_towns_and_departments_apart(example_bundle: CampaignBundle) -> None:
    scoring = example_bundle.campaign.scoring
    assert [s.kind for s in scoring.sources] == ["timeliness", "inspection", "public-evaluation"]
    assert sum(s.weight for s in scoring.sources) == 100
    assert scoring.source("timeliness").normalisation == Rule(kind="rate")
    assert scoring.source("public-evaluation").normalisation == Rule(
        kind="points", max=Decimal(100)
    )
    assert scoring.missing_of(scoring.source("inspection")) == "group-average"
    assert scoring.missing_of(scoring.source("timeliness")) == "reweight"
    spec = scoring.source("public-evaluation").ballot_spec
    assert (spec.trim, spec.minimum, spec.categories["党代表"]) == (1, 5, Decimal(30))
    groups = unit_groups(scoring, example_bundle.units)
    assert groups["T01"] == groups["Z01"] == "towns"
    assert groups["B03"] == "departments"
    assert len(groups) == 30
    assert [(g.id, g.flag_last, g.commend_top) for g in scoring.ranking_groups] == [
        ("towns", 1, 3),
        ("departments", 1, 3),
    ]
    assert scoring.tie_rules == [TieBreak(higher="inspection"), TieBreak(higher="timeliness")]
    exempt = scoring.ranking_groups[0].exempt_when
    assert exempt is not None
    assert exempt.targets["inspection"] == Decimal(90)


def test_a_file_without_groups_flags_its_last_across_all_units() -> None:
    """zheng-feng declares ``flag_last: 2`` and no groups, and its sources by id only."""
    bundle = load_campaign(NEIGHBOURS / "zheng-feng" / "campaign.yaml")
    scoring = bundle.campaign.scoring
    [group] = scoring.ranking_groups
    assert (group.id, group.flag_last, group.commend_top) == ("all", 2, 0)
    assert set(unit_groups(scoring, bundle.units).values()) == {"all"}
    assert scoring.source("inspection").kind == "inspection"


def test_an_unknown_tag_source_and_target_are_named(example_copy: Path) -> None:
    replace_in(example_copy, "      tags: [镇区]", "      tags: [乡镇]")
    replace_in(example_copy, TIES, "  ties: [higher: inspections, draw]")
    replace_in(example_copy, "{timeliness: 100, inspection: 90", "{timeliness: 100, inspect: 90")
    said = problems_of(example_copy)
    assert "scoring.groups[0].tags[0]: no unit on the roster has tag '乡镇'" in said
    assert "scoring.ties[0]: no score source 'inspections'" in said
    assert "scoring.groups[0].exempt_when.targets.inspect: no score source 'inspect'" in said
    assert "T01, T02" in said  # the towns are now in no group
    zh = "\n".join(chinese(example_copy))
    assert "花名册中没有带标签“乡镇”的单位" in zh
    assert "没有计分来源“inspections”；现有来源：timeliness、inspection、public-evaluation" in zh
    assert "这些单位不带任何考核分组的标签，将不参加排名" in zh


def test_units_in_no_group_are_named_unless_a_last_group_takes_them(example_copy: Path) -> None:
    replace_in(example_copy, "      tags: [市级机关]\n", "      tags: [窗口单位]\n")
    line = next(ln for ln in problems_of(example_copy).splitlines() if "scoring.groups:" in ln)
    assert "B01, B02, B03, B04, B05, B06, B07, B12, B13, B14 … (13 in all)" in line
    replace_in(example_copy, "      tags: [窗口单位]\n", "\n")  # a last group without tags
    bundle = load_campaign(example_copy)
    groups = unit_groups(bundle.campaign.scoring, bundle.units)
    assert (groups["B01"], groups["T01"]) == ("departments", "towns")


def test_weights_must_add_up_or_say_they_are_scaled(example_copy: Path) -> None:
    replace_in(
        example_copy,
        "    - {id: timeliness, title: 报送及时率, weight: 30}",
        "    - {id: timeliness, title: 报送及时率, weight: 20}",
    )
    said = problems_of(example_copy)
    assert "scoring.sources: the weights add up to 90, not 100" in said
    assert "weights: scaled" in said
    assert "各来源权重合计为 90，不是 100" in "\n".join(chinese(example_copy))
    replace_in(example_copy, "  missing: reweight", "  weights: scaled\n  missing: reweight")
    assert load_campaign(example_copy).campaign.scoring.weights == "scaled"


def test_a_draw_before_a_rule_and_ballots_on_another_source_are_refused(
    example_copy: Path,
) -> None:
    replace_in(example_copy, TIES, "  ties: [draw, higher: inspection]")
    replace_in(
        example_copy,
        "    - {id: timeliness, title: 报送及时率, weight: 30}",
        "    - {id: timeliness, title: 报送及时率, weight: 30, ballots: {trim: 1}}",
    )
    said = problems_of(example_copy)
    assert "scoring.ties: the draw decides last: put draw at the end of ties" in said
    assert "scoring.sources[0]: only a public-evaluation source takes ballots" in said
    zh = "\n".join(chinese(example_copy))
    assert "抽签是最后的办法：draw 须写在 ties 的最后" in zh
    assert "只有 public-evaluation（民主评议）来源可以写 ballots" in zh


def test_a_source_needs_a_kind_unless_its_id_is_one(example_copy: Path) -> None:
    replace_in(
        example_copy,
        "    - {id: timeliness, title: 报送及时率, weight: 30}",
        "    - {id: punctuality, title: 报送及时率, weight: 30}",
    )
    assert "scoring.sources[0].kind: this key is required" in problems_of(example_copy)
    replace_in(example_copy, "{id: punctuality,", "{id: punctuality, kind: timeliness,")
    replace_in(example_copy, "higher: timeliness", "higher: punctuality")
    replace_in(example_copy, "{timeliness: 100,", "{punctuality: 100,")
    assert load_campaign(example_copy).campaign.scoring.sources[0].kind == "timeliness"


def test_rules_take_only_their_own_parameters(example_copy: Path) -> None:
    replace_in(
        example_copy,
        "    - {id: timeliness, title: 报送及时率, weight: 30}",
        "    - {id: timeliness, title: 报送及时率, weight: 30, rule: {kind: rate, max: 10}}",
    )
    assert "only a points rule takes max" in problems_of(example_copy)


def test_a_rule_must_fit_its_sources_figure(example_copy: Path) -> None:
    """A rate read as points, or points read as a rate, would score everyone wrongly."""
    replace_in(
        example_copy,
        "    - {id: timeliness, title: 报送及时率, weight: 30}",
        "    - {id: timeliness, title: 报送及时率, weight: 30, rule: points}",
    )
    replace_in(
        example_copy,
        "        minimum: 5 ",
        "        figure: satisfaction-rate\n        minimum: 5 ",
    )
    replace_in(
        example_copy,
        "      weight: 30\n      ballots:",
        "      weight: 30\n      rule: {kind: points, max: 100}\n      ballots:",
    )
    said = problems_of(example_copy)
    assert (
        "scoring.sources[0]: a timeliness source gives a rate; "
        "its rule is one of rate, best, not points" in said
    )
    assert "scoring.sources[2]: a public-evaluation source gives a rate" in said
    zh = "\n".join(chinese(example_copy))
    assert "timeliness 来源的原始数据是比率（0 到 1），rule 只能是 rate、best，不能是 points" in zh
