"""The four-properties report (四性检测报告, DA/T 70-2018) that ``duban archive write`` files in
the bag and ``duban archive verify`` runs again: on a bag of a campaign that really ran, every
property passes with counts that match the bag; a workbook made unreadable, or given a macro,
behind manifests made to agree, is named under 可用性 and 安全性."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bagit
import pytest

from .conftest import EXAMPLE
from .test_archive import Round, add_a_ballot, archived, campaign_round, copy_of, run_ok, verify

__all__ = ["archived"]  # the module's fixture, shared with test_archive


def report_of(bag: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((bag / "four-properties.json").read_text("utf-8"))
    return loaded


def check(report: dict[str, Any], prop: str, key: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for p in report["properties"] if p["key"] == prop
                                   for c in p["checks"] if c["key"] == key]  # fmt: skip
    assert len(found) == 1
    return found[0]


def payload(bag: Path) -> list[Path]:
    return [p for p in (bag / "data").rglob("*") if p.is_file()]


def reseal(bag: Path) -> None:
    """What an attacker with bagit does after changing a file: every manifest, the
    Payload-Oxum and the tag manifests written anew, in both algorithms."""
    resealed = bagit.Bag(str(bag))
    resealed.algorithms = ["sha256", "sm3"]  # bagit leaves SM3 out of a bag it loads
    resealed.save(processes=1, manifests=True)


def received_workbook(bag: Path) -> Path:
    return next((bag / "data" / "received" / "files").glob("*.xlsx"))


def test_every_property_passes_and_the_counts_match_the_bag(archived: Round):
    bag = archived.bag
    report = report_of(bag)
    assert report["summary"] == dict.fromkeys(["authentic", "complete", "usable", "secure"],
                                              "pass")  # fmt: skip
    files = payload(bag)
    assert check(report, "authentic", "fixity")["items"] == len(files)
    addressed = [p for p in files if p.parts[-3:-1] in {("received", "messages"),
                 ("received", "files")} or p.parent.name == "sent"]  # fmt: skip
    registered = list((bag / "data" / "campaign" / "registered").iterdir())
    assert check(report, "authentic", "content_addressed")["items"] == (
        len(addressed) + len(registered)
    )
    events = (bag / "data" / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert check(report, "authentic", "event_chain")["items"] == len(events)
    assert check(report, "complete", "event_count")["items"] == len(events)
    schemas = list((bag / "data" / "ledger").glob("*.schema.json"))
    tables = check(report, "complete", "tables")
    assert tables["items"] == len(schemas)
    rows = sum(len(p.with_name(p.name.replace(".schema.json", ".csv")).read_text(
        encoding="utf-8-sig").splitlines()) - 1 for p in schemas)  # fmt: skip
    assert tables["counts"]["rows"] == rows
    sent = list((bag / "data" / "sent").glob("*.eml"))
    assert check(report, "complete", "sent_bytes")["counts"] == {"with bytes": len(sent)}
    raw = check(report, "complete", "raw_objects")
    assert raw["counts"] == {"present": raw["items"]}
    assert raw["items"] == len(addressed)
    formats = check(report, "usable", "formats")
    assert formats["items"] == len(files)
    assert sum(formats["counts"].values()) == len(files)
    assert formats["counts"]["xlsx read"] == len(list((bag / "data").rglob("*.xlsx")))
    assert formats["counts"]["eml read"] == len(list((bag / "data").rglob("*.eml")))
    assert check(report, "secure", "executables")["items"] == len(files)
    tags = (bag / "tagmanifest-sm3.txt").read_text(encoding="utf-8")
    assert "four-properties.json" in tags
    assert "四性检测报告.txt" in tags
    text = (bag / "四性检测报告.txt").read_text(encoding="utf-8")
    assert text.index("真实性：通过") < text.index("Authentic (真实性): pass")
    assert f"{len(files)} 项" in text


def test_verify_runs_the_checks_again_and_says_the_four_properties(archived: Round):
    code, output = verify(archived.bag)
    assert code == 0, output
    said = " ".join(output.split())  # the console wraps long lines
    assert "authentic pass, complete pass, usable pass, secure pass" in said


def cut_short(data: bytes) -> bytes:
    return data[: len(data) // 2]  # no central directory: not a zip any more


def flipped_inside(data: bytes) -> bytes:
    """A byte flipped in the middle of the compressed parts: the zip opens, a part is bad."""
    changed = bytearray(data)
    changed[len(data) // 3] ^= 0xFF
    return bytes(changed)


@pytest.mark.parametrize("damage", [cut_short, flipped_inside])
def test_an_unreadable_workbook_behind_agreeing_manifests_is_named_under_usable(
    archived: Round, tmp_path: Path, damage: Callable[[bytes], bytes]
):
    bag = copy_of(archived, tmp_path)
    workbook = received_workbook(bag)
    workbook.write_bytes(damage(workbook.read_bytes()))
    reseal(bag)
    assert bagit.Bag(str(bag)).is_valid()  # every manifest agrees
    code, output = verify(bag)
    assert code == 1
    relative = workbook.relative_to(bag).as_posix()
    [line] = [ln for ln in output.splitlines() if relative in ln and "可用性" in ln]
    assert "usable (formats): xlsx:" in line
    assert "the report records no failure here" in line
    assert "content changed" not in output


def test_a_macro_smuggled_into_a_workbook_is_named_under_secure(archived: Round, tmp_path: Path):
    bag = copy_of(archived, tmp_path)
    workbook = next(p for p in (bag / "data" / "outputs").rglob("*.xlsx"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(workbook) as old, zipfile.ZipFile(buffer, "w") as new:
        for item in old.infolist():
            new.writestr(item, old.read(item.filename))
        new.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 a VBA project")
    workbook.write_bytes(buffer.getvalue())
    reseal(bag)
    code, output = verify(bag)
    assert code == 1
    relative = workbook.relative_to(bag).as_posix()
    named = [ln for ln in output.splitlines() if relative in ln]
    assert len(named) == 1, output  # still a readable workbook: only the macro check says it
    assert "安全性 secure (macros): holds a macro part (xl/vbaProject.bin)" in named[0]


def test_a_failure_the_report_files_is_said_in_it_and_is_no_tampering(
    archived: Round, tmp_path: Path
):
    """The report is what the bag is: a broken file filed as such (a unit sent it) fails
    可用性 in the report, and verify, finding the same, passes the bag and says so."""
    from duban.archive.fourprops.run import file_report

    bag = copy_of(archived, tmp_path)
    workbook = received_workbook(bag)
    workbook.write_bytes(b"PK\x03\x04 not really a workbook")
    reseal(bag)
    file_report(bag)
    failures = check(report_of(bag), "usable", "formats")["failures"]
    assert [f["item"] for f in failures] == [workbook.relative_to(bag).as_posix()]
    assert report_of(bag)["summary"]["usable"] == "fail"
    assert "可用性：未通过" in (bag / "四性检测报告.txt").read_text(encoding="utf-8")
    code, output = verify(bag)
    assert code == 0, output
    assert "complete pass, usable FAIL, secure pass" in " ".join(output.split())


def test_a_report_changed_to_pass_what_fails_is_caught(archived: Round, tmp_path: Path):
    bag = copy_of(archived, tmp_path)
    report = report_of(bag)
    fixity = check(report, "authentic", "fixity")
    fixity["items"] += 1
    (bag / "four-properties.json").write_text(json.dumps(report), encoding="utf-8")
    reseal(bag)
    code, output = verify(bag)
    assert code == 1
    assert (f"four-properties.json: 真实性 authentic (fixity): ran on {fixity['items'] - 1} "
            f"items, the report records {fixity['items']}") in output  # fmt: skip


def test_ballots_left_out_are_no_missing_object(tmp_path: Path):
    """A ballot and the message carrying it stay out; left-out.csv says so, so 完整性 still
    passes, and 安全性 finds no raw ballot."""
    env = campaign_round(tmp_path, f"sqlite:///{tmp_path / 'duban.sqlite3'}")
    ballot, carrier = add_a_ballot(tmp_path)
    bag = tmp_path / "bag"
    run_ok(["archive", "write", str(EXAMPLE), "--out", str(bag)], env)
    report = report_of(bag)
    assert report["summary"]["complete"] == "pass"
    assert check(report, "complete", "raw_objects")["counts"]["left out by design"] == 2
    assert check(report, "secure", "ballots_anonymous")["counts"] == {"ballots left out": 1}
    left = (bag / "data" / "left-out.csv").read_text(encoding="utf-8-sig")
    assert f"{ballot},ballot" in left
    assert f"{carrier},message carrying a ballot" in left
    assert verify(bag)[0] == 0


@pytest.mark.parametrize("name", ["run.exe", "tool"])
def test_an_executable_in_the_payload_is_named_under_secure(
    archived: Round, tmp_path: Path, name: str
):
    bag = copy_of(archived, tmp_path)
    (bag / "data" / "outputs" / name).write_bytes(b"MZ\x90\x00 a program")
    reseal(bag)
    code, output = verify(bag)
    assert code == 1
    assert f"data/outputs/{name}: 安全性 secure (executables): an executable or script" in output
