"""The draw of issue 16 (双随机): recomputable by anyone, fair, and moved only where it must be.

Pure and fast: no ledger, no server. The expected ids below were computed by the documented
procedure (README, *Inspections: the draw*) with hashlib alone, as the tests show again.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from duban.inspect.commitment import DrawInputs, Parameters, commit
from duban.inspect.draw import Draw, RecusalError, draw, order_inspectors, recuse
from duban.inspect.registers import Candidate, inspector_register, unit_register
from duban.inspect.verify import verify
from duban.model.inspectors import Inspector

from .conftest import ROOT

SEED = "20261205"
TOWNS = [f"T0{i}" for i in range(1, 7)]  # 镇区
OFFICES = [f"B0{i}" for i in range(1, 6)]  # 市级机关
UNITS = tuple([Candidate(u, "镇区") for u in TOWNS] + [Candidate(u, "市级机关") for u in OFFICES])
INSPECTORS = (
    Inspector("I01", "张三", "T01", ("纪检",), frozenset({"T02"})),
    Inspector("I02", "李四", "B02"),
    Inspector("I03", "王五", None),
    Inspector("I04", "赵六", "T03", (), frozenset({"B04", "T06"})),
    Inspector("I05", "钱七", "B01"),
    Inspector("I06", "孙八", None, ("财务",)),
)


def inputs(**changes: Any) -> DrawInputs:
    base = DrawInputs(
        inspection="quarterly",
        round="2026-Q1",
        attempt=1,
        units=UNITS,
        inspectors=INSPECTORS,
        previous=frozenset(),
        parameters=Parameters(count=2),
    )
    return replace(base, **changes)


def n(seed: str, *parts: str) -> int:
    """The documented key: SHA-256 of the parts joined by U+001F, as an integer."""
    return int(hashlib.sha256("\x1f".join([seed, *parts]).encode()).hexdigest(), 16)


# ------------------------------------------------------------------ the documented procedure


def test_a_fixed_seed_draws_the_units_written_here() -> None:
    result = draw(inputs(), SEED)
    assert [(p.stratum, p.units) for p in result.picks] == [
        ("市级机关", ("B04", "B01")),
        ("镇区", ("T06", "T05")),
    ]
    assert result.units == ("B04", "B01", "T06", "T05")
    # The same ids by hand: order each stratum by n ascending and take the first two.
    by_hand = [sorted(s, key=lambda u: n(SEED, "quarterly", "2026-Q1", u))[:2] for s in
               (OFFICES, TOWNS)]  # fmt: skip
    assert by_hand == [["B04", "B01"], ["T06", "T05"]]


def test_a_fixed_seed_draws_the_weighted_units_written_here() -> None:
    heavy = {"T02": 3.0, "T05": 3.0}
    units = tuple(replace(c, weight=heavy.get(c.unit_id, 1.0)) for c in UNITS)
    result = draw(inputs(units=units, parameters=Parameters(count=2, weighted=True)), SEED)
    assert result.picks[1].units == ("T05", "T02")

    def es(u: str) -> tuple[float, int]:
        key = n(SEED, "quarterly", "2026-Q1", u)
        return -math.log((2**256 - key) / 2**256) / heavy.get(u, 1.0), key

    assert sorted(TOWNS, key=es)[:2] == ["T05", "T02"]


def test_the_first_team_follows_the_documented_order() -> None:
    result = draw(inputs(), SEED)
    assert result.teams[0].unit_id == "B04"
    assert result.teams[0].inspectors == ("I03", "I01")
    order = sorted((i.id for i in INSPECTORS), key=lambda i: n(SEED, "quarterly", "2026-Q1",
                   "B04", i))  # fmt: skip
    # I04 declared a conflict with B04: skipped wherever it comes, and logged.
    eligible = [i for i in order if i != "I04"]
    assert eligible[:2] == ["I03", "I01"]
    logged = {(r.inspector_id, r.reason) for r in result.recusals if r.unit_id == "B04"}
    assert logged <= {("I04", "conflict")}
    assert (order.index("I04") < order.index("I01")) == (logged == {("I04", "conflict")})


def test_the_registers_and_the_commitment_are_the_documented_bytes() -> None:
    units = (Candidate("T03", "镇区", 2), Candidate("B01", "市级机关"))
    assert (
        unit_register(units)
        == ('["unit_id","stratum","weight"]\n["B01","市级机关",1.0]\n["T03","镇区",2.0]\n').encode()
    )
    people = (
        Inspector("I02", "李四"),
        Inspector("I01", "张三", "T01", ("纪检",), frozenset({"T02"})),
    )
    assert (
        inspector_register(people)
        == (
            '["id","name","unit_id","tags","conflicts"]\n'
            '["I01","张三","T01",["纪检"],["T02"]]\n["I02","李四",null,[],[]]\n'
        ).encode()
    )
    given = inputs(units=units, inspectors=people, previous=frozenset({("T03", "I01")}))
    previous = b'["unit_id","inspector_id"]\n["T03","I01"]\n'
    text = (
        '{"algorithm":"duban-draw/1","attempt":1,"inspection":"quarterly",'
        f'"inspectors":"{sha(inspector_register(people))}",'
        '"parameters":{"count":2,"load_cap":false,"minimum":0,"share":null,"team_size":2,'
        f'"weighted":false}},"previous":"{sha(previous)}","round":"2026-Q1",'
        f'"units":"{sha(unit_register(units))}"}}'
    )
    assert commit(given).id == sha(text.encode())


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_readme_lines_reproduce_the_draw() -> None:
    """The README's snippet, run as written, against duban's own draw (so neither drifts)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Inspections: the draw (双随机)", 1)[1].split("\n## ", 1)[0]
    [code] = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    names: dict[str, Any] = {}
    exec(code, names)  # the README's own lines, nothing else
    strata = {"镇区": TOWNS, "市级机关": OFFICES}
    weights = {c.unit_id: 1.0 + (i % 4) for i, c in enumerate(UNITS)}
    units = tuple(replace(c, weight=weights[c.unit_id]) for c in UNITS)
    for seed in ("1", SEED, "双色球 2026140", "07 12 19 23 28 31 + 05"):
        for weighted in (False, True):
            given = inputs(units=units, parameters=Parameters(count=3, weighted=weighted))
            result = draw(given, seed)
            k = {p.stratum: p.k for p in result.picks}
            hand = names["draw_units"](
                seed, "quarterly", "2026-Q1", strata, k, weights if weighted else None
            )
            assert hand == {p.stratum: list(p.units) for p in result.picks}
            ids = [i.id for i in INSPECTORS]
            for unit in result.units:
                order = names["team_order"](seed, "quarterly", "2026-Q1", unit, ids)
                assert order == [i.id for i in order_inspectors(given, seed, unit)]


# ------------------------------------------------------------------ properties


@pytest.mark.parametrize("weighted", [False, True])
def test_a_larger_sample_keeps_the_earlier_picks_and_teams(weighted: bool) -> None:
    for seed in map(str, range(200)):
        small = draw(inputs(parameters=Parameters(count=2, weighted=weighted)), seed)
        large = draw(inputs(parameters=Parameters(count=4, weighted=weighted)), seed)
        assert small.commitment.id != large.commitment.id
        for before, after in zip(small.picks, large.picks, strict=True):
            assert after.units[: before.k] == before.units
            assert len(after.units) == 4
        for team in small.teams:
            assert large.team(team.unit_id) == team


@pytest.mark.parametrize("load_cap", [False, True])
def test_one_recusal_moves_one_assignment(load_cap: bool) -> None:
    given = inputs(parameters=Parameters(count=3, load_cap=load_cap))
    for seed in map(str, range(200)):
        before = draw(given, seed)
        unit = before.units[int(seed) % len(before.units)]
        team = before.team(unit).inspectors
        leaving = team[int(seed) % 2]
        after = recuse(before, given, unit, leaving, "与被检查单位负责人系近亲属")
        assert after.units == before.units
        assert [t for t in after.teams if t.unit_id != unit] == [
            t for t in before.teams if t.unit_id != unit
        ]
        place, staying = team.index(leaving), [m for m in team if m != leaving]
        now = after.team(unit).inspectors
        if len(now) == len(team):  # replaced in the same place by someone new
            assert [*now[:place], *now[place + 1 :]] == staying
            assert now[place] not in team
        else:  # nobody eligible was left (the load cap): one short, logged
            assert list(now) == staying
            assert after.short_teams() == (after.team(unit),)
        declared = after.recusals[len(before.recusals)]
        assert (declared.unit_id, declared.inspector_id, declared.reason) == (
            unit, leaving, "declared",
        )  # fmt: skip
        assert after.recusals[: len(before.recusals)] == before.recusals
        _assert_eligible(given, after)


def test_a_recusal_with_nobody_left_leaves_the_team_short() -> None:
    few = (
        Inspector("A", "甲"),
        Inspector("B", "乙"),
        Inspector("C", "丙", conflicts=frozenset(OFFICES)),
    )
    given = inputs(inspectors=few, parameters=Parameters(count=1))
    before = draw(given, SEED)
    office, town = before.units[0], before.units[1]
    assert sorted(before.team(office).inspectors) == ["A", "B"]
    after = recuse(before, given, office, "A", "出差")
    assert after.team(office).inspectors == ("B",)
    assert after.short_teams() == (after.team(office),)
    assert after.team(town) == before.team(town)
    [declared] = [r for r in after.recusals if r.reason == "declared"]
    assert declared.said("zh-CN") == "申请回避：出差"


def test_a_recusal_names_the_team_or_the_units_drawn() -> None:
    given = inputs()
    result = draw(given, SEED)
    with pytest.raises(RecusalError) as caught:
        recuse(result, given, "T01", "I03", "x")
    assert caught.value.said("zh-CN")[0] == "单位“T01”未被抽中"
    assert "B04" in str(caught.value)
    with pytest.raises(RecusalError) as caught:
        recuse(result, given, "B04", "I02", "x")
    assert "not on the team of B04" in str(caught.value)


def test_stratum_minimums_hold() -> None:
    lone = Candidate("X01", "开发区")
    given = inputs(units=(*UNITS, lone), parameters=Parameters(share=Decimal("0.1"), minimum=2))
    for seed in map(str, range(50)):
        result = draw(given, seed)
        sizes = {p.stratum: (p.size, p.k, len(p.units)) for p in result.picks}
        # ceil(0.1 × 6) = 1 and ceil(0.1 × 5) = 1 rise to the minimum; a stratum of one
        # cannot give two.
        assert sizes == {"市级机关": (5, 2, 2), "镇区": (6, 2, 2), "开发区": (1, 1, 1)}


def test_a_share_is_counted_exactly() -> None:
    assert Parameters(share=Decimal("0.3")).sample_size(10) == 3  # 0.3 * 10 > 3 in floats
    assert Parameters(share=Decimal("0.3")).sample_size(11) == 4
    assert Parameters(count=9, minimum=2).sample_size(5) == 5


def test_a_parameter_that_means_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="either a count or a share"):
        Parameters(count=2, share=Decimal("0.5"))
    with pytest.raises(ValueError, match="share must be"):
        Parameters(share=Decimal("1.5"))
    with pytest.raises(ValueError, match="weight must be"):
        Candidate("T01", "镇区", 0)


SEEDS = 10_000
SIGMAS = 4.5
"""A count is accepted within 4.5 binomial standard deviations of its expectation: a fair
draw fails one unit's check about once in 150,000; a bias of 2 points in 40 % fails it."""


def _within(count: int, p: float) -> bool:
    return abs(count - SEEDS * p) <= SIGMAS * math.sqrt(SEEDS * p * (1 - p))


def test_over_many_seeds_each_unit_is_drawn_equally_often() -> None:
    given = inputs(units=UNITS[6:], inspectors=(), parameters=Parameters(count=2))
    drawn = Counter(u for seed in range(SEEDS) for u in draw(given, f"s{seed}").units)
    assert set(drawn) == set(OFFICES)
    for unit, count in drawn.items():
        assert _within(count, 2 / 5), (unit, count)


def test_over_many_seeds_a_weighted_unit_comes_first_in_proportion_to_its_weight() -> None:
    """For k = 1 the Efraimidis–Spirakis inclusion probability is exactly w / Σw."""
    weights = {"B01": 1.0, "B02": 2.0, "B03": 3.0, "B04": 4.0}
    units = tuple(Candidate(u, "市级机关", w) for u, w in weights.items())
    given = inputs(units=units, inspectors=(), parameters=Parameters(count=1, weighted=True))
    drawn = Counter(draw(given, f"s{seed}").units[0] for seed in range(SEEDS))
    for unit, weight in weights.items():
        assert _within(drawn[unit], weight / sum(weights.values())), (unit, drawn)


def test_no_inspector_ever_lands_on_their_own_unit_or_a_conflict() -> None:
    previous = frozenset({("B04", "I03"), ("T06", "I06"), ("B01", "I06")})
    for load_cap in (False, True):
        given = inputs(previous=previous, parameters=Parameters(count=4, load_cap=load_cap))
        for seed in map(str, range(500)):
            _assert_eligible(given, draw(given, seed))


def _assert_eligible(given: DrawInputs, result: Draw) -> None:
    """Every member eligible; every skip logged with a reason that holds; a team is short
    only when its unit's whole order was walked."""
    people = {i.id: i for i in given.inspectors}
    for team in result.teams:
        for member in team.inspectors:
            person = people[member]
            assert person.unit_id != team.unit_id
            assert team.unit_id not in person.conflicts
            assert (team.unit_id, member) not in given.previous
        if len(team.inspectors) < given.parameters.team_size:
            logged = {r.inspector_id for r in result.recusals if r.unit_id == team.unit_id}
            assert logged | set(team.inspectors) == set(people)
    for r in result.recusals:
        person = people[r.inspector_id]
        holds = {
            "own-unit": person.unit_id == r.unit_id,
            "conflict": r.unit_id in person.conflicts,
            "previous-round": (r.unit_id, r.inspector_id) in given.previous,
            "load-cap": given.parameters.load_cap,
            "declared": bool(r.note),
        }
        assert holds[r.reason], r
    if given.parameters.load_cap:
        cap = math.ceil(len(result.units) * 2 / len(people)) + 1
        loads = Counter(m for team in result.teams for m in team.inspectors)
        assert max(loads.values()) <= cap


# ------------------------------------------------------------------ verification


def test_verify_recomputes_a_draw_with_its_recusals() -> None:
    given = inputs()
    result = draw(given, SEED)
    result = recuse(result, given, "B01", result.team("B01").inspectors[0], "近亲属")
    verdict = verify(given, result.canonical_json(), seed=SEED, recorded_hash=result.hash)
    assert verdict.matches
    assert verdict.said("zh-CN")[0].startswith("核验一致")
    assert verdict.said("en")[0].startswith("The draw matches")


def test_verify_names_a_changed_register_row() -> None:
    recorded = draw(inputs(), SEED).canonical_json()
    moved = tuple(replace(c, stratum="市级机关") if c.unit_id == "T06" else c for c in UNITS)
    verdict = verify(inputs(units=moved), recorded)
    assert "commitment" in verdict.parts()
    assert any("单位名录与承诺时不一致" in line for line in verdict.said("zh-CN"))
    assert any("the unit register is not the one committed to" in x for x in verdict.said("en"))
    renamed = (replace(INSPECTORS[0], conflicts=frozenset()), *INSPECTORS[1:])
    verdict = verify(inputs(inspectors=renamed), recorded)
    assert any("检查人员名录与承诺时不一致" in line for line in verdict.said("zh-CN"))
    verdict = verify(inputs(parameters=Parameters(count=3)), recorded)
    assert any("count: 2 → 3" in line for line in verdict.said("en"))


def test_verify_names_a_changed_seed() -> None:
    recorded = draw(inputs(), SEED)
    verdict = verify(inputs(), recorded.canonical_json(), seed="20261206")
    assert verdict.parts() == {"seed", "result"}
    assert "给出的种子“20261206”与记录的种子“20261205”不一致" in "\n".join(verdict.said("zh-CN"))
    # The record's seed changed afterwards: the result no longer follows from it.
    record = json.loads(recorded.canonical_json())
    record["seed"] = "20261206"
    tampered = json.dumps(record, ensure_ascii=False).encode()
    verdict = verify(inputs(), tampered, recorded_hash=recorded.hash)
    assert verdict.parts() == {"record", "result"}
    assert any(line.startswith("- stratum ") for line in verdict.said("en"))


def test_verify_names_an_altered_result() -> None:
    recorded = draw(inputs(), SEED)
    record = json.loads(recorded.canonical_json())
    record["teams"][0]["inspectors"][0] = "I05"
    verdict = verify(inputs(), json.dumps(record, ensure_ascii=False))
    assert verdict.parts() == {"result"}
    said = verdict.said("en")
    assert said[1] == "- the result does not follow from the seed and the registers: " + (
        "recomputed, it differs"
    )
    assert said[2] == "- team of B04: recorded I05, I01, recomputed I03, I01"
    assert not verify(inputs(), b"not json").matches
