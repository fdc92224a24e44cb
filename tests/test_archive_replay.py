"""The archive's replay (issue 19, point 3): from the bag alone, the evaluation recomputed from
the inputs it kept, the inspection draw drawn again, the ranking workbook compared row by row;
an edit the attacker covered by recomputing every manifest is still named, by file, row and
field."""

from __future__ import annotations

import csv
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import bagit
import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from duban.archive.replay import replay_bag
from duban.archive.restore import restored
from duban.cli.app import app
from duban.compile.texts import WORKBOOK_TEXTS
from duban.evaluate.runs import recomputed
from duban.evaluate.snapshot import result_json, sha256
from duban.ledger.schema import EvaluationRow
from duban.testing.helpers import copy_campaign, edit_campaign

from .conftest import EXAMPLE
from .test_archive import remanifest

runner = CliRunner()
SCORES = "data/ledger/evaluation_scores.csv"
DRAWS = "data/ledger/inspection_draws.csv"
RANKING = "data/outputs/evaluation/考核排名表-2026-v1.xlsx"
SUMMARY = "data/outputs/plan-once/实施方案汇总表.xlsx"
ACCOUNTABILITY = "data/outputs/evaluation/问责名单-2026-v1.xlsx"
BULLETIN = "data/outputs/evaluation/考核通报-2026-v1.docx"
COMMENTS = "data/outputs/evaluation/意见建议汇总-2026-v1.xlsx"


def run_ok(args: list[str], env: dict[str, str]) -> str:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def bag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger with an evaluation computed (its workbooks written) and an inspection round
    drawn, filed as a bag."""
    home = tmp_path_factory.mktemp("replay-home")
    env = {"DUBAN_HOME": str(home), "DUBAN_DATABASE_URL": f"sqlite:///{home / 'l.sqlite3'}",
           "DUBAN_NOW": "2026-12-10", "DUBAN_LANG": "en", "DUBAN_SECRET": "s" * 20}  # fmt: skip
    run_ok(["init", str(EXAMPLE)], env)
    run_ok(["compile", str(EXAMPLE), "--deliverable", "plan", "--as-of", "2026-03-10"], env)
    run_ok(["evaluate", "compute", str(EXAMPLE), "--closes", "2026-12-09"], env)
    run_ok(["inspect", "draw", str(EXAMPLE), "quarterly", "--seed", "20260501"], env)
    run_ok(["archive", "write", str(EXAMPLE), "--out", str(home / "bag")], env)
    return home / "bag"


def copy_of(bag: Path, tmp_path: Path) -> Path:
    target = tmp_path / "bag"
    shutil.copytree(bag, target)
    for path in target.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


def verify(bag: Path, *flags: str) -> tuple[int, str]:
    result = runner.invoke(app, ["archive", "verify", str(bag), *flags],
                           env={"DUBAN_LANG": "en", "COLUMNS": "400"})  # fmt: skip
    return result.exit_code, result.output


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)


def edit_cell(path: Path, row_id: str, column: str, change: object) -> tuple[str, str]:
    """Edit one cell of the row with this id; return (old, new)."""
    rows = read_csv(path)
    at = rows[0].index(column)
    [row] = [r for r in rows[1:] if r[0] == row_id]
    old = row[at]
    row[at] = change(old) if callable(change) else str(change)
    write_csv(path, rows)
    return old, row[at]


def covered(bag: Path) -> None:
    """The attacker's last step: every manifest recomputed, so bagit passes the bag."""
    remanifest(bag)
    assert bagit.Bag(str(bag)).is_valid()


def rejected(bag: Path) -> str:
    """The manifests covered, then verify: it must fail; what it said."""
    covered(bag)
    code, output = verify(bag)
    assert code == 1, output
    return output


# --- an untouched bag ---------------------------------------------------------------------


def test_an_untouched_bag_replays_and_says_what_it_did_not(bag: Path):
    code, output = verify(bag)
    assert code == 0, output
    assert "replayed, matches: evaluation 2026 v1: 30 units recomputed" in output
    assert "replayed, matches: inspection quarterly round 2026-Q4 commitment 1: 8 units" in output
    assert f"replayed, matches: {RANKING}: rows against the recomputed placings" in output
    assert f"replayed, matches: {SUMMARY}: figures of plan once as of 2026-03-09T16:00" in output
    assert "not replayed: evaluation_ballots: ballots are anonymous" in output
    assert f"replayed, matches: {BULLETIN}: written again from the recomputed version" in output
    assert f"not replayed: {COMMENTS} (the ballots' comments: the ballots are not restored)" \
        in output  # fmt: skip


def test_the_replay_reads_the_bag_alone(bag: Path, tmp_path: Path):
    """No ledger, no settings: the bag moved elsewhere replays the same."""
    moved = copy_of(bag, tmp_path)
    replay = replay_bag(moved)
    assert replay.problems == []
    assert [d.differences for d in replay.done] == [0] * 9  # the bulletins' pages among them


# --- what an attacker who recomputed every manifest leaves ---------------------------------


@pytest.mark.parametrize("column", ["rank", "total"])
def test_an_edited_score_is_named_by_unit_and_field(bag: Path, tmp_path: Path, column: str):
    target = copy_of(bag, tmp_path)
    [unit] = [r[3] for r in read_csv(target / SCORES)[1:] if r[0] == "5"]
    change = (lambda v: str(int(v) + 3)) if column == "rank" else (lambda v: str(Decimal(v) + 7))
    old, new = edit_cell(target / SCORES, "5", column, change)
    covered(target)
    assert verify(target, "--no-replay")[0] == 0  # the files alone do not show it
    code, output = verify(target)
    assert code == 1
    where = f"{SCORES} id 5 (evaluation 2026 v1, unit {unit})"
    assert f"{where}: {column} is {new}, recomputed {old}" in output
    assert output.count(SCORES) == 1  # that cell alone


def test_an_edited_ranking_cell_is_named(bag: Path, tmp_path: Path):
    target = copy_of(bag, tmp_path)
    path = target / RANKING
    book = load_workbook(path)
    sheet = book["综合排名"]
    header = [c.value for c in sheet[1]]
    total_at = header.index("总分") + 1
    unit, old = sheet.cell(4, 3).value, sheet.cell(4, total_at).value
    assert isinstance(old, int | float)
    sheet.cell(4, total_at).value = float(old) + 12.25
    book.save(path)
    output = rejected(target)
    where = f"{RANKING} sheet 综合排名 row 4 (unit {unit})"
    assert f"{where}: total is {float(old) + 12.25}, recomputed {old:.2f}" in output
    assert "rank is" not in output


def test_a_unit_swapped_in_the_accountability_list_is_named(bag: Path, tmp_path: Path):
    target = copy_of(bag, tmp_path)
    book = load_workbook(target / ACCOUNTABILITY)
    sheet = book["问责名单"]
    listed = [str(row[2].value) for row in sheet.iter_rows(min_row=2)]
    spared = next(u for u in ("B01", "B02", "B03", "T01", "T02") if u not in listed)
    sheet.cell(2, 3).value = spared
    book.save(target / ACCOUNTABILITY)
    output = rejected(target)
    where = f"{ACCOUNTABILITY} sheet 问责名单"
    assert f"{where} row 2 (unit {spared}): a unit the recomputed result does not list" in output
    assert f"{where}: unit {listed[0]} missing (the recomputed result lists it)" in output


def test_a_damaged_workbook_is_said_and_the_replay_goes_on(bag: Path, tmp_path: Path):
    target = copy_of(bag, tmp_path)
    data = (target / RANKING).read_bytes()
    (target / RANKING).write_bytes(data[: len(data) // 2])  # no zip directory left
    output = rejected(target)
    assert f"{RANKING}: cannot be read as a workbook" in output
    assert f"{SUMMARY}" not in output  # the others were replayed, and match


def test_an_edited_summary_figure_is_named(bag: Path, tmp_path: Path):
    target = copy_of(bag, tmp_path)
    texts = WORKBOOK_TEXTS["zh-CN"]
    book = load_workbook(target / SUMMARY)
    sheet = book[texts.overview_sheet]
    [row] = [r for r in sheet.iter_rows() if r[0].value == texts.missing]
    old = row[1].value
    assert isinstance(old, int)
    row[1].value = old - 1
    book.save(target / SUMMARY)
    output = rejected(target)
    where = f"{SUMMARY} sheet {texts.overview_sheet} ({texts.missing})"
    assert f"{where}: missing is {old - 1}, recomputed {old}" in output
    assert output.count(SUMMARY) == 1


def test_an_edited_draw_is_named(bag: Path, tmp_path: Path):
    target = copy_of(bag, tmp_path)

    def swapped(text: str) -> str:
        result = json.loads(text)
        team = result["teams"][0]["inspectors"]
        result["teams"][0]["inspectors"] = [team[1], team[0]]
        return json.dumps(result, ensure_ascii=False, sort_keys=True)

    edit_cell(target / DRAWS, "1", "result", swapped)
    output = rejected(target)
    where = f"{DRAWS} id 1 (inspection quarterly round 2026-Q4 commitment 1)"
    assert f"{where}: the record was changed after it was recorded" in output
    assert f"{where}: the result does not follow from the seed and the registers" in output


def test_an_edited_result_digest_is_named_against_the_recomputation_and_the_log(
    bag: Path, tmp_path: Path
):
    target = copy_of(bag, tmp_path)
    old, new = edit_cell(target / "data/ledger/evaluations.csv", "1", "result_digest", "0" * 64)
    output = rejected(target)
    where = "data/ledger/evaluations.csv id 1 (evaluation 2026 v1)"
    assert f"{where}: result_digest is {new}, recomputed {old}" in output
    assert f"{where}: result_digest is {new}, the event log's evaluation.computed records" in output


def test_an_unreadable_cell_is_named_not_a_traceback(bag: Path, tmp_path: Path):
    target = copy_of(bag, tmp_path)
    edit_cell(target / SCORES, "2", "rank", "second")
    output = rejected(target)
    assert f"{SCORES} line 3: cannot be read" in output


# --- the campaign as it stood ------------------------------------------------------------


def test_a_version_computed_before_the_weights_changed_replays_with_its_own_files(
    tmp_path: Path,
):
    home = tmp_path / "home"
    campaign = copy_campaign(EXAMPLE, tmp_path / "campaign")
    env = {"DUBAN_HOME": str(home), "DUBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'l.sqlite3'}",
           "DUBAN_NOW": "2026-12-10", "DUBAN_LANG": "en", "DUBAN_SECRET": "s" * 20}  # fmt: skip
    run_ok(["init", str(campaign)], env)
    run_ok(["evaluate", "compute", str(campaign), "--closes", "2026-12-09"], env)

    def reweighted(data: dict[str, Any]) -> None:
        data["scoring"]["sources"][0]["weight"] = 40
        data["scoring"]["sources"][1]["weight"] = 30

    edit_campaign(campaign, reweighted)
    later = {**env, "DUBAN_NOW": "2026-12-11"}
    run_ok(["init", str(campaign)], later)
    run_ok(["evaluate", "compute", str(campaign)], later)
    run_ok(["archive", "write", str(campaign), "--out", str(tmp_path / "bag")], later)
    replay = replay_bag(tmp_path / "bag")
    assert replay.problems == []
    assert [d.en.split(":")[0] for d in replay.done[:2]] == [
        "evaluation 2026 v1", "evaluation 2026 v2"
    ]  # fmt: skip
    with restored(tmp_path / "bag") as ledger, ledger.session() as session:
        first = session.scalars(select(EvaluationRow).where(EvaluationRow.version == 1)).one()
        now = sha256(result_json(recomputed(ledger.bundle, first)))
    assert now != first.result_digest  # the bag's current file would not give version 1


# --- what was removed, not edited --------------------------------------------------------


def test_a_whole_evaluation_removed_is_named_by_the_event_log(bag: Path, tmp_path: Path):
    target = copy_of(bag, tmp_path)
    for table in ("evaluations", "evaluation_scores"):
        path = target / "data" / "ledger" / f"{table}.csv"
        write_csv(path, read_csv(path)[:1])
    shutil.rmtree(target / "data" / "outputs" / "evaluation")
    output = rejected(target)
    assert "records evaluation 2026 v1 computed; data/ledger/evaluations.csv has no such" in output


def test_a_removed_ledger_file_is_named_not_skipped(bag: Path, tmp_path: Path):
    target = copy_of(bag, tmp_path)
    (target / DRAWS).unlink()
    output = rejected(target)
    assert f"{DRAWS}: cannot be read: missing" in output
    assert "records a draw of inspection:quarterly/2026-Q4; " in output
