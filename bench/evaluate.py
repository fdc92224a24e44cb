"""The evaluation (评议考核) of 10,000 units from 1,000,000 ratings, computed and explained,
beside a pandas groupby of the same ballot aggregation in the same run.

    .venv/bin/python bench/evaluate.py [--units 10000] [--ratings 1000000] [--per-ballot 25]
                                       [--seed 2026] [--rounds 1] [--json]

A synthetic, seeded year of the example campaign: N units tagged 镇区 (one in ten) or 市级机关,
each on a ballot sheet of ``--per-ballot`` units of its group; evaluators in the example's five
categories (党代表, 人大代表, 政协委员, 企业, 服务对象), each returning one sheet, so that the
marks written come to about ``--ratings``. Marks are the scale's words (满意 / 基本满意 /
不满意), a few padded with spaces (which count), spoiled (较满意, √, 85 …) or blank; one
evaluator in 25 returns a second ballot (the later one counts, some at the very same instant:
the larger ballot id counts), one ballot in 50 arrives after the close (some exactly at it).
A few units are known to almost nobody (too few marks: insufficient) and one in a thousand to
nobody at all. Each unit also owes four or five deliverables (timeliness: on time, late or
missing; a few owe none) and three in ten were inspected once or twice with deductions on the
checklist's items (the others take their group's average).

Three parts, each in a process of its own started from this small parent (which imports only
the standard library), so that each one's memory is its own. Once a part's input is built its
resident size is noted (``input``: interpreter, modules and input) and the peak is reset
(``5`` to /proc/self/clear_refs, which ``ru_maxrss`` follows), so that ``peak``, read when the
clock stops, is the peak of the timed work with its input resident; ``own`` is the difference.
The peak while the input was being made is reported apart (``build_peak_mb``):

* duban ballots: ``counted_ballots`` → ``tally_units`` → ``public_figure`` for every unit;
* duban whole: the ballots stage, the timeliness and inspection figures, then ``evaluate``
  (normalise, weight, rank, draw, and every unit's score sheet, 得分说明) with the example
  campaign's scoring as ``duban.model.loader`` reads it;
* pandas: the same aggregation as a groupby over a ballots table and a marks table (one row a
  mark, the unit a categorical), both built before the clock starts: the latest ballot of each
  evaluator before the close, marks mapped by the scale (spoiled and blanks apart), in each
  (unit, category) pool the ``trim`` highest and lowest dropped when more than ``2 × trim``
  marks are there, pool means, the category-weighted mean (missing categories' weights left
  out), the satisfaction rate, fewer than ``minimum`` valid marks insufficient. Its means are
  rounded half up (四舍五入) in exact integer cents, as duban's Decimals are: numpy's
  ``round`` is half-to-even, and a weighted mean of five pools (weights 30 + 25 + 20 + 15 +
  10 = 100) often ends in exactly half a cent (rounded as floats, 61 of 2,000 units differed).

The cross-check: every unit's valid, spoiled and satisfied counts, satisfaction rate, trimmed
mean and insufficiency from pandas must equal duban's (as Decimals to 0.01 and 0.0001), and
the public-evaluation figure on every unit's score sheet must be duban's trimmed mean; any
difference fails the benchmark. ``--rounds`` runs the three parts that many times in turn
and keeps each part's best time (noise only ever slows a run down) and its largest peak.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import namedtuple
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "example" / "campaign.yaml"
SOURCE = "public-evaluation"
CLOSE = datetime(2026, 12, 10, tzinfo=UTC)  # 08:00 in Beijing
PARTS = ("ballots", "whole", "pandas")
CENT, RATE_STEP = Decimal("0.01"), Decimal("0.0001")

# The example campaign's evaluator categories and scale: the duban parts check them against
# the loaded scoring, so that a changed example fails here rather than benching something else.
CATEGORIES = ("党代表", "人大代表", "政协委员", "企业", "服务对象")
SCALE = ("满意", "基本满意", "不满意")
SPOILED = ("较满意", "√", "85", "满意/基本满意", "好")
TAGS = ("镇区", "市级机关")
REPEAT, SAME_INSTANT, LATE, AT_CLOSE = 0.04, 0.1, 0.02, 0.1
BLANK, SPOIL, PADDED, COMMENT = 0.01, 0.003, 0.005, 0.001
COMMENT_TEXT = "窗口服务态度好，办事效率有待提高"
ROUNDS = ("2026-Q2", "2026-Q3", "unannounced-1")
T = TypeVar("T")
CHECK_ITEMS = (
    ("leadership", "组织领导", ("未成立领导小组", "主要负责人未专题研究")),
    ("tasks", "重点工作推进", ("重点工作未按进度推进", "推进台账不全")),
    ("conduct", "工作作风和纪律", ("明察暗访发现迟到早退", "窗口人员脱岗")),
    ("rectification", "问题整改", ("整改事项逾期未完成", "整改佐证材料缺失")),
)
DUTIES = (
    ("plan", "once", date(2026, 3, 5)),
    ("self-check", "once", date(2026, 9, 18)),
    ("rectification", "2026-09", date(2026, 10, 15)),
    ("rectification", "2026-10", date(2026, 11, 6)),
)
PROGRESS = tuple(("progress", f"2026-Q{q}", date(2026, 3 * q, 25)) for q in range(1, 5))


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.worker:
        return _worker(args)
    with tempfile.TemporaryDirectory(prefix="duban-bench-evaluate-") as folder:
        best: dict[str, dict[str, Any]] = {}
        for _ in range(args.rounds):
            for part in PARTS:
                found = _run(part, args, Path(folder))
                best[part] = _better(best.get(part), found)
    report = _report(args, best)
    if args.json:
        _say(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print_table(report)
    if report["cross_check"]["differences"]:
        sys.stderr.write("cross-check FAILED:\n" + "\n".join(report["cross_check"]["examples"]))
        sys.stderr.write("\n")
        return 1
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--units", type=int, default=10_000, help="units evaluated")
    parser.add_argument("--ratings", type=int, default=1_000_000, help="marks written, about")
    parser.add_argument("--per-ballot", type=int, default=25, help="units on one ballot sheet")
    parser.add_argument("--seed", type=int, default=2026, help="the synthetic year's seed")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each part (best kept)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--worker", choices=PARTS, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _run(part: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """One part in a fresh process; it writes its report (with every unit's result) to a file."""
    out = folder / f"{part}.json"
    command = [sys.executable, __file__, "--worker", part, "--out", str(out)]
    command += ["--units", str(args.units), "--ratings", str(args.ratings)]
    command += ["--per-ballot", str(args.per_ballot), "--seed", str(args.seed)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{part} worker failed:\n{done.stdout}{done.stderr}")
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return report


def _better(kept: dict[str, Any] | None, found: dict[str, Any]) -> dict[str, Any]:
    if kept is None:
        return found
    quicker = found if found["seconds"] < kept["seconds"] else kept
    return quicker | {"peak_mb": max(kept["peak_mb"], found["peak_mb"])}


# ------------------------------------------------------------------------- the synthetic year


BallotRecord = namedtuple("BallotRecord", "ballot_id evaluator category received_at marks comments")
"""A returned ballot for the baseline, with the fields of duban's ``Ballot`` (which the pandas
part does not import: its peak memory would carry duban's modules)."""


def unit_ids(units: int) -> list[str]:
    return [f"U{i:05d}" for i in range(units)]


def unit_tags(i: int) -> tuple[str, ...]:
    return (TAGS[0],) if i % 10 == 0 else (TAGS[1],)


def ballot_records(
    units: int, ratings: int, per_ballot: int, seed: int, make: Callable[..., T]
) -> list[T]:
    """Every ballot returned, in order of arrival, made by ``make`` (duban's ``Ballot`` or
    ``BallotRecord``, which have the same fields): the same ballots for a seed on both sides."""
    rng = random.Random(seed)
    ids = unit_ids(units)
    quality = [rng.uniform(0.3, 0.95) for _ in ids]
    sheets = _sheets(units, per_ballot)
    evaluators = max(1, round(ratings * len(sheets) / units / (1 + REPEAT)))
    found: list[tuple[datetime, int, T]] = []
    for e in range(evaluators):
        sheet = sheets[e % len(sheets)]
        evaluator, category = f"E{e:06d}", rng.choice(CATEGORIES)
        for at in _returns(rng):
            marks = {ids[u]: _mark(rng, u, quality[u]) for u in sheet}
            comments = {ids[u]: COMMENT_TEXT for u in sheet if rng.random() < COMMENT}
            n = len(found)
            found.append((at, n, make(f"P{n:07d}", evaluator, category, at, marks, comments)))
    found.sort(key=lambda entry: entry[:2])
    return [ballot for _, _, ballot in found]


def _returns(rng: random.Random) -> list[datetime]:
    """When an evaluator's ballots arrive: once, or twice (the second later, or at the same
    instant); each after the close now and then (exactly at it, sometimes)."""
    first = CLOSE - timedelta(seconds=rng.randrange(20 * 86400))
    times = [first]
    if rng.random() < REPEAT:
        same = rng.random() < SAME_INSTANT
        times.append(first if same else first + timedelta(seconds=rng.randrange(1, 5 * 86400)))
    return [_late(rng) if rng.random() < LATE else at for at in times]


def _late(rng: random.Random) -> datetime:
    return CLOSE + timedelta(seconds=0 if rng.random() < AT_CLOSE else rng.randrange(1, 3 * 86400))


def _sheets(units: int, per_ballot: int) -> list[list[int]]:
    """Ballot sheets of ``per_ballot`` units each, never mixing the two groups."""
    sheets: list[list[int]] = []
    for tag in TAGS:
        members = [i for i in range(units) if unit_tags(i) == (tag,)]
        sheets += [members[n : n + per_ballot] for n in range(0, len(members), per_ballot)]
    return sheets


def _mark(rng: random.Random, n: int, quality: float) -> str:
    """A mark as written: one unit in a thousand is known to nobody (every mark blank), one
    in 250 to almost nobody; otherwise a few blanks and spoiled marks, then the scale."""
    r = rng.random()
    if n % 1000 == 13 or (n % 250 == 7 and r < 0.97) or r < BLANK:
        return " " if r < BLANK / 2 else ""
    if r < BLANK + SPOIL:
        return rng.choice(SPOILED)
    r = rng.random()
    word = SCALE[0] if r < quality else SCALE[1] if r < quality + (1 - quality) * 0.7 else SCALE[2]
    return f" {word} " if rng.random() < PADDED else word


def unit_years(units: int, seed: int) -> list[tuple[list[Any], list[Any]]]:
    """Each unit's duties (timeliness) and inspection rounds, as duban's records."""
    rng = random.Random(seed + 1)
    return [(_duties(rng, i), _rounds(rng)) for i in range(units)]


def _duties(rng: random.Random, i: int) -> list[Any]:
    from duban.evaluate.figures import Duty

    owed = [] if i % 997 == 5 else [*DUTIES, *(PROGRESS if i % 20 == 0 else ())]
    duties = []
    for deliverable, period, due in owed:
        r = rng.random()
        if r < 0.05:
            duties.append(Duty(deliverable, period, due, None, "missing"))
        elif r < 0.15:
            late = due + timedelta(days=rng.randint(1, 10))
            duties.append(Duty(deliverable, period, due, late, "late"))
        else:
            early = due - timedelta(days=rng.randint(0, 5))
            duties.append(Duty(deliverable, period, due, early, "on-time"))
    return duties


def _rounds(rng: random.Random) -> list[Any]:
    from duban.evaluate.figures import Deduction, InspectionRound

    if rng.random() >= 0.3:
        return []
    rounds = []
    for round_id in rng.sample(ROUNDS, rng.randint(1, 2)):
        deductions = []
        for item_id, title, reasons in rng.sample(CHECK_ITEMS, rng.randint(0, 3)):
            points = Decimal(rng.choice((1, 2, 2, 3, 5))) / (2 if rng.random() < 0.2 else 1)
            deductions.append(Deduction(item_id, title, points, rng.choice(reasons)))
        rounds.append(InspectionRound(round_id, Decimal(100), tuple(deductions)))
    return rounds


# ------------------------------------------------------------------------------ the parts


def _worker(args: argparse.Namespace) -> int:
    part = {"ballots": _duban_ballots, "whole": _duban_whole, "pandas": _pandas}[args.worker]
    report = part(args)
    args.out.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    return 0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _input_built() -> dict[str, Any]:
    """Memory when a part's input is built, just before its clock starts: the resident size
    (interpreter, modules, input) and the peak so far (making the input). Then the peak is
    reset (Linux: ``5`` to /proc/self/clear_refs, which ``ru_maxrss`` follows), so that the
    peak read when the clock stops is the timed part's own, its input included; where the
    reset is refused, it is the process's (``peak_of``)."""
    found = {"input_mb": _resident_mb(), "build_peak_mb": _peak_mb(), "peak_of": "part"}
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        found["peak_of"] = "process"
    return found


def _resident_mb() -> float:
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii").splitlines()
    except OSError:
        return _peak_mb()
    return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))


def _duban_ballots(args: argparse.Namespace) -> dict[str, Any]:
    """The ballots stage alone: counted, tallied, every unit's public-evaluation figure."""
    from duban.evaluate.ballots import Ballot

    spec = _duban_spec()
    ballots = ballot_records(args.units, args.ratings, args.per_ballot, args.seed, Ballot)
    ids = unit_ids(args.units)
    memory = _input_built()
    started = time.perf_counter()
    tallies, aside, _ = _ballots_stage(ballots, spec, ids)
    seconds = time.perf_counter() - started
    peak_mb = _peak_mb()
    return {
        "seconds": seconds,
        "peak_mb": peak_mb,
        **memory,
        "spec": _spec_text(spec.model_dump()),
        "ballots": len(ballots),
        "ratings": sum(len(b.marks) for b in ballots),
        "late": sum(a.reason == "late" for a in aside),
        "superseded": sum(a.reason == "superseded" for a in aside),
        "units": {u: _tally_result(tallies.get(u)) for u in ids},
    }


def _duban_spec() -> Any:
    """The example's ballot rules as the loader reads them; its categories and scale must be
    the ones the synthetic ballots are made of."""
    spec = _duban_scoring().source(SOURCE).ballot_spec
    scale = tuple(spec.scale) if isinstance(spec.scale, dict) else ()
    if tuple(spec.categories) != CATEGORIES or scale != SCALE:
        raise SystemExit(f"the example's ballots changed: {spec.categories} {spec.scale}")
    return spec


def _duban_scoring() -> Any:
    from duban.model.loader import load_campaign

    return load_campaign(EXAMPLE).campaign.scoring


def _ballots_stage(ballots: list[Any], spec: Any, ids: list[str]) -> tuple[Any, Any, Any]:
    from duban.evaluate.ballots import counted_ballots, public_figure, tally_units

    counted, aside = counted_ballots(ballots, CLOSE)
    tallies = tally_units(counted, spec)
    figures = {u: public_figure(tallies.get(u), spec) for u in ids}
    return tallies, aside, figures


def _tally_result(tally: Any) -> dict[str, Any]:
    if tally is None:
        return _result(0, 0, 0, None, None)
    return _result(
        tally.valid, tally.spoiled, tally.satisfied, tally.trimmed_mean, tally.satisfaction
    )


def _result(
    valid: int, spoiled: int, satisfied: int, mean: Decimal | None, satisfaction: Decimal | None
) -> dict[str, Any]:
    return {
        "valid": valid,
        "spoiled": spoiled,
        "satisfied": satisfied,
        "trimmed_mean": None if mean is None else str(mean),
        "satisfaction": None if satisfaction is None else str(satisfaction),
    }


def _duban_whole(args: argparse.Namespace) -> dict[str, Any]:
    """Ballots to score sheets: every figure of every unit, then ``evaluate``."""
    from duban.evaluate.ballots import Ballot
    from duban.evaluate.evaluation import evaluate
    from duban.evaluate.figures import inspection_figure, timeliness_figure
    from duban.model.scoring import group_of

    scoring = _duban_scoring()
    spec = _duban_spec()
    ballots = ballot_records(args.units, args.ratings, args.per_ballot, args.seed, Ballot)
    years = unit_years(args.units, args.seed)
    ids = unit_ids(args.units)
    groups = {u: group_of(scoring.ranking_groups, unit_tags(i)) for i, u in enumerate(ids)}
    memory = _input_built()
    started = time.perf_counter()
    _, _, public = _ballots_stage(ballots, spec, ids)
    counted = time.perf_counter()
    figures = {
        u: {
            "timeliness": timeliness_figure(duties),
            "inspection": inspection_figure(rounds),
            SOURCE: public[u],
        }
        for u, (duties, rounds) in zip(ids, years, strict=True)
    }
    figured = time.perf_counter()
    done = evaluate(scoring, groups, figures, str(args.seed))
    ended = time.perf_counter()
    peak_mb = _peak_mb()
    sheet_figure = {
        s.unit_id: next(
            str(n.value) if n.value is not None else None
            for n in s.lines
            if n.source_id == SOURCE and n.what == "figure"
        )
        for s in done.sheets
    }
    return {
        "seconds": ended - started,
        "peak_mb": peak_mb,
        "stages": {
            "ballots": counted - started,
            "figures": figured - counted,
            "evaluate": ended - figured,
        },
        **memory,
        "sheets": len(done.sheets),
        "sheet_lines": sum(len(s.lines) for s in done.sheets),
        "flagged": sum(p.flagged for p in done.placings),
        "exempt": sum(p.exempt for p in done.placings),
        "commended": sum(p.commended for p in done.placings),
        "drawn": sum(p.decided_by == "draw" for p in done.placings),
        "sheet_figure": sheet_figure,
    }


def _pandas(args: argparse.Namespace) -> dict[str, Any]:
    """The same aggregation in pandas, from a ballots table and a marks table."""
    import pandas as pd

    spec = _yaml_spec()
    ids = unit_ids(args.units)
    records = ballot_records(args.units, args.ratings, args.per_ballot, args.seed, BallotRecord)
    ballots = pd.DataFrame(
        {
            "ballot_id": [b.ballot_id for b in records],
            "evaluator": [b.evaluator for b in records],
            "category": pd.Categorical([b.category for b in records], categories=CATEGORIES),
            "received_at": pd.to_datetime([b.received_at for b in records], utc=True),
        }
    )
    marks = pd.DataFrame(
        {
            "ballot": [n for n, b in enumerate(records) for _ in b.marks],
            "unit": pd.Categorical([u for b in records for u in b.marks], categories=ids),
            "mark": [m for b in records for m in b.marks.values()],
        }
    )
    del records
    memory = _input_built()
    started = time.perf_counter()
    table = pandas_tally(ballots, marks, spec)
    seconds = time.perf_counter() - started
    peak_mb = _peak_mb()
    return {
        "seconds": seconds,
        "peak_mb": peak_mb,
        **memory,
        "spec": _spec_text(spec),
        "units": {str(u): _row_result(row) for u, row in table.iterrows()},
    }


def _yaml_spec() -> dict[str, Any]:
    """The baseline reads the campaign file itself: the public-evaluation source's ballots."""
    import yaml

    campaign = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    source = next(s for s in campaign["scoring"]["sources"] if s["id"] == SOURCE)
    spec: dict[str, Any] = source["ballots"]
    return spec


def pandas_tally(ballots: Any, marks: Any, spec: dict[str, Any]) -> Any:
    """Per unit: valid, spoiled and satisfied marks, the trimmed mean in cents and the
    satisfaction rate in ten-thousandths (−1: insufficient). Points are kept in integer cents
    so that every mean is rounded half up exactly, as duban's Decimals are."""
    import numpy as np
    import pandas as pd

    trim, minimum = int(spec["trim"]), int(spec["minimum"])
    on_time = ballots[ballots["received_at"] < pd.Timestamp(CLOSE)]
    latest = on_time.sort_values(["evaluator", "received_at", "ballot_id"])
    latest = latest.drop_duplicates("evaluator", keep="last")
    rated = marks.merge(latest[["category"]], left_on="ballot", right_index=True)
    codes, written = pd.factorize(rated["mark"])
    words = pd.Index(written).str.strip()
    scale = {word: _cents(points) for word, points in spec["scale"].items()}
    points = words.map(scale).to_numpy(dtype="float64")[codes]
    blank = np.asarray(words == "")[codes]
    spoiled = ~blank & np.isnan(points)
    valid = ~blank & ~np.isnan(points)
    pooled = rated.loc[valid, ["unit", "category"]].assign(points=points[valid].astype("int64"))

    pooled = pooled.sort_values(["unit", "category", "points"])
    by_pool = pooled.groupby(["unit", "category"], observed=True, sort=False)["points"]
    size = by_pool.transform("size").to_numpy()
    rank = by_pool.cumcount().to_numpy()
    cut = np.where(size > 2 * trim, trim, 0)
    kept = pooled[(rank >= cut) & (size - 1 - rank >= cut)]
    pools = kept.groupby(["unit", "category"], observed=True)["points"].agg(["sum", "count"])
    means = (2 * pools["sum"] + pools["count"]) // (2 * pools["count"])
    weights = {c: _cents(w) for c, w in spec["categories"].items()}
    weight = pools.index.get_level_values("category").map(weights).to_numpy(dtype="int64")
    weighted = (means * weight).groupby(level="unit", observed=True).sum()
    counted = pd.Series(weight, index=pools.index).groupby(level="unit", observed=True).sum()
    trimmed = (2 * weighted + counted) // (2 * counted)

    units = marks["unit"].cat.categories
    table = (
        pd.DataFrame(
            {
                "valid": pooled.groupby("unit", observed=True).size(),
                "spoiled": rated.loc[spoiled].groupby("unit", observed=True).size(),
                "satisfied": (pooled["points"] >= _cents(spec["satisfied_at"]))
                .groupby(pooled["unit"], observed=True)
                .sum(),
                "trimmed": trimmed,
            }
        )
        .reindex(units)
        .fillna(0)
        .astype("int64")
    )
    enough = table["valid"] >= minimum
    rate = (2 * 10_000 * table["satisfied"] + table["valid"]) // (2 * table["valid"].clip(1))
    table["satisfaction"] = rate.where(enough, -1)
    table["trimmed"] = table["trimmed"].where(enough, -1)
    return table


def _cents(value: object) -> int:
    cents = Decimal(str(value)) * 100
    if cents != cents.to_integral_value():
        raise SystemExit(f"the baseline keeps points in whole cents: {value} is not")
    return int(cents)


def _row_result(row: Any) -> dict[str, Any]:
    mean = None if row["trimmed"] < 0 else (Decimal(int(row["trimmed"])) / 100).quantize(CENT)
    rate = None if row["satisfaction"] < 0 else Decimal(int(row["satisfaction"])) / 10_000
    return _result(
        int(row["valid"]),
        int(row["spoiled"]),
        int(row["satisfied"]),
        mean,
        None if rate is None else rate.quantize(RATE_STEP),
    )


def _spec_text(spec: dict[str, Any]) -> dict[str, Any]:
    """The rules both sides applied, in one spelling, to be compared."""
    keys = ("scale", "satisfied_at", "trim", "minimum", "categories")
    return {k: _plain(spec[k]) for k in keys}


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return format(Decimal(str(value)).normalize(), "f")


# ------------------------------------------------------------------------- the report


def _report(args: argparse.Namespace, parts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    ballots, whole, baseline = parts["ballots"], parts["whole"], parts["pandas"]
    results = ballots["units"]
    return {
        "units": args.units,
        "ratings": ballots["ratings"],
        "ballots": ballots["ballots"],
        "late": ballots["late"],
        "superseded": ballots["superseded"],
        "valid": sum(r["valid"] for r in results.values()),
        "spoiled": sum(r["spoiled"] for r in results.values()),
        "insufficient": sum(r["trimmed_mean"] is None for r in results.values()),
        "sheets": whole["sheets"],
        "sheet_lines": whole["sheet_lines"],
        "flagged": whole["flagged"],
        "exempt": whole["exempt"],
        "commended": whole["commended"],
        "drawn": whole["drawn"],
        "parts": {
            "ballots": _part(ballots),
            "whole": _part(whole) | {"stages": whole["stages"]},
            "pandas": _part(baseline),
        },
        "ratios": {
            "ballots_to_pandas": ballots["seconds"] / baseline["seconds"],
            "whole_to_pandas": whole["seconds"] / baseline["seconds"],
        },
        "cross_check": cross_check(ballots, whole, baseline),
    }


def _part(found: dict[str, Any]) -> dict[str, Any]:
    keys = ("seconds", "peak_mb", "input_mb", "build_peak_mb", "peak_of")
    return {k: found[k] for k in keys}


def cross_check(
    ballots: dict[str, Any], whole: dict[str, Any], baseline: dict[str, Any]
) -> dict[str, Any]:
    """Every unit's numbers, duban's against pandas', and its sheet against its tally."""
    differences = []
    if ballots["spec"] != baseline["spec"]:
        differences.append(f"rules: duban {ballots['spec']}, pandas {baseline['spec']}")
    duban, pandas, sheets = ballots["units"], baseline["units"], whole["sheet_figure"]
    for unit in sorted(set(duban) | set(pandas) | set(sheets)):
        mine, theirs = duban.get(unit), pandas.get(unit)
        if mine is None or theirs is None or _decimals(mine) != _decimals(theirs):
            differences.append(f"{unit}: duban {mine}, pandas {theirs}")
        elif _decimal(sheets.get(unit)) != _decimal(mine["trimmed_mean"]):
            differences.append(f"{unit}: sheet {sheets.get(unit)}, tally {mine['trimmed_mean']}")
    return {
        "units": len(duban),
        "passed": not differences,
        "differences": len(differences),
        "examples": differences[:10],
    }


def _decimals(result: dict[str, Any]) -> dict[str, Any]:
    return {k: _decimal(v) if isinstance(v, str) else v for k, v in result.items()}


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def print_table(report: dict[str, Any]) -> None:
    parts, ratios = report["parts"], report["ratios"]
    _say(
        f"evaluate {report['units']:,} units from {report['ratings']:,} ratings on "
        f"{report['ballots']:,} ballots ({report['late']:,} late, {report['superseded']:,} "
        f"superseded; {report['valid']:,} valid marks, {report['spoiled']:,} spoiled; "
        f"{report['insufficient']:,} units insufficient)"
    )
    _say(f"{'part':<34} {'seconds':>8} {'peak MB':>8} {'input MB':>9} {'own MB':>7}")
    titles = {
        "ballots": "duban ballots (count, tally, figure)",
        "whole": "duban figures → score sheets",
        "pandas": "pandas groupby (same aggregation)",
    }
    for key, title in titles.items():
        p = parts[key]
        own = p["peak_mb"] - p["input_mb"]
        _say(
            f"{title:<34} {p['seconds']:>8.2f} {p['peak_mb']:>8.0f} {p['input_mb']:>9.0f} "
            f"{own:>7.0f}"
        )
    stages = parts["whole"]["stages"]
    _say(
        "  whole: "
        + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in stages.items())
        + f"; {report['sheets']:,} sheets, {report['sheet_lines']:,} lines; "
        f"{report['flagged']} flagged, {report['exempt']} exempt, {report['commended']} "
        f"commended, {report['drawn']} placed by the draw"
    )
    _say(
        f"ratios: duban ballots / pandas {ratios['ballots_to_pandas']:.2f}×, "
        f"duban whole / pandas {ratios['whole_to_pandas']:.2f}×"
    )
    check = report["cross_check"]
    verdict = "passed" if check["passed"] else f"FAILED, {check['differences']} differences"
    _say(f"cross-check of {check['units']:,} units against pandas: {verdict}")


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
