"""``duban archive``: file a campaign as one self-verifying BagIt bag, and check one.

``write CAMPAIGN.yaml --out DIR`` builds one ``Runtime`` and calls ``archive.write``;
``verify BAG`` reads the bag alone (no ledger, no settings) through ``archive.verify``, and
replays it (``archive.replay``: a few seconds) unless ``--no-replay``. Two
subcommands rather than ``duban archive CAMPAIGN.yaml``: a command group cannot also take a
file name as its first word.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from duban.archive.fourprops.model import JSON_FILE, PROPERTIES, TEXT_FILE
from duban.archive.recount import Recount
from duban.archive.replay import Replay
from duban.archive.verify import verify_bag
from duban.archive.write import write_archive
from duban.cli.common import AsOf, CampaignFile, reports_errors, settings_for
from duban.cli.language import pick
from duban.runtime import Runtime

archive = typer.Typer(
    help="The campaign archive (归档): write a BagIt bag of everything, verify one.",
    no_args_is_help=True,
)
out = Console()

Bag = Annotated[Path, typer.Argument(help="the archive's folder (a BagIt bag)")]


@archive.command("write")
@reports_errors
def write(
    campaign: CampaignFile,
    out_dir: Annotated[Path, typer.Option("--out", help="a new folder for the bag")],
    as_of: AsOf = None,
) -> None:
    """Write the campaign's archive: files received and sent, ledger, event log, outputs."""
    with Runtime(settings_for(as_of), campaign) as rt, rt.session() as session:
        report = write_archive(session, rt.bundle, rt.raw_store, rt.settings.outputs,
                               rt.clock, out_dir, rt.settings.templates)  # fmt: skip
    files = sum(report.files.values())
    events = 0 if report.events is None else report.events.count
    out.print(
        pick(
            f"archive written to {escape(str(out_dir))}: {files} files, {events} events, "
            "SHA-256 and SM3 manifests",
            f"归档已写入 {escape(str(out_dir))}：{files} 个文件，{events} 条事件，"
            "附 SHA-256 与 SM3 清单",
        )
    )
    for line in _lacks(report.missing, report.unkept_sent, report.ballots_left_out):
        out.print(line)
    if report.ballots_sealed:
        out.print(pick(
            f"  {report.ballots_sealed} raw ballots filed encrypted to the office's key "
            "(data/ballots/ballots.tar.gpg)",
            f"  {report.ballots_sealed} 份评议原始选票已用办公室公钥加密收录"
            "（data/ballots/ballots.tar.gpg）"))  # fmt: skip
    if report.properties is not None:
        passed = {p: report.properties.passed(p) for p in report.properties.checks}
        out.print(f"  {properties_line(passed)}")
    if report.events is not None:
        head = report.events.head
        out.print(
            pick(
                f"  the event chain's head: {head} (note it outside the archive: it "
                "proves later that no event was changed)",
                f"  事件哈希链末端：{head}（请另行记下：日后可凭此证明事件未被改动）",
            )
        )


def _lacks(missing: list[str], unkept: int, ballots: int) -> list[str]:
    lines = []
    if missing:
        lines.append(
            pick(
                f"  {len(missing)} raw objects missing or damaged: see MISSING.txt",
                f"  原始存储中 {len(missing)} 个对象缺失或损坏：见 MISSING.txt",
            )
        )
    if unkept:
        lines.append(
            pick(
                f"  {unkept} sent messages without their bytes: see sent/not-kept.csv",
                f"  {unkept} 封已发邮件没有保存原始字节：见 sent/not-kept.csv",
            )
        )
    if ballots:
        lines.append(
            pick(
                f"  {ballots} raw ballots left out (evaluators stay anonymous)",
                f"  {ballots} 份评议原始选票未收录（评议人匿名）",
            )
        )
    return lines


@archive.command("verify")
@reports_errors
def verify(
    bag: Bag,
    replay: Annotated[
        bool,
        typer.Option(
            "--replay/--no-replay",
            help="also recompute from the bag alone what it recorded (evaluations, inspection "
            "draws, ranking workbooks) and compare",
        ),
    ] = True,
    office_key: Annotated[
        Path | None,
        typer.Option(
            "--office-key",
            help="the office's OpenPGP secret key file: open the encrypted ballots, check "
            "each one inside against its hash, and recount their marks against the exported "
            "ballots and the evaluations' public-evaluation figures",
        ),
    ] = None,
) -> None:
    """Check an archive: every file present and unchanged (SHA-256 and SM3), the event log
    whole, and (unless --no-replay) what it recorded recomputed from it; exit 1 naming each
    file, row and field that fails."""
    verified = verify_bag(bag, replay=replay, office_key=office_key)
    out.print(
        pick(
            f"{escape(str(bag))} verifies: campaign {escape(verified.campaign_id)}, "
            f"{verified.files} files, {verified.events} events, SHA-256 and SM3",
            f"{escape(str(bag))} 核验通过：活动 {escape(verified.campaign_id)}，"
            f"{verified.files} 个文件，{verified.events} 条事件，SHA-256 与 SM3 均相符",
        )
    )
    out.print(f"  {properties_line(verified.properties)}")
    if verified.replay is not None:
        for line in _replayed(verified.replay):
            out.print(line)
    if verified.sealed:
        out.print(_sealed_line(verified.opened))
        if verified.recount is not None:
            out.print(_recount_line(verified.recount))


def _sealed_line(opened: int | None) -> str:
    if opened is None:
        return pick("  the encrypted ballots (data/ballots/ballots.tar.gpg) were checked as "
                    "bytes, not opened nor recounted: give --office-key to check each ballot "
                    "inside and recount its marks",
                    "  加密的选票（data/ballots/ballots.tar.gpg）只核对了文件本身，未解密，"
                    "未重新计票：用 --office-key 可逐一核对其中的选票并重新计票")  # fmt: skip
    return pick(f"  the encrypted ballots opened with the office's key: {opened} ballots and "
                "messages inside, each matching its hash",
                f"  已用办公室私钥解密选票：其中 {opened} 份选票和来件，杂凑值均相符")  # fmt: skip


def _recount_line(recount: Recount) -> str:
    """Said only when the bag verified: every recounted ballot matched."""
    return pick(f"  recounted, matches: {recount.ballots} raw ballots read again, their marks "
                "as in ledger/evaluation_ballots.csv; "
                f"{recount.figures} public-evaluation figures computed again from them",
                f"  重新计票一致：重新读取 {recount.ballots} 份原始选票，打分与 "
                f"ledger/evaluation_ballots.csv 相符；据此复算民主评议得分 "
                f"{recount.figures} 项")  # fmt: skip


def properties_line(passed: dict[str, bool]) -> str:
    """The four properties' results in a line (the report in the bag says which items)."""
    zh = "，".join(f"{PROPERTIES[p][0]}{'通过' if ok else '未通过'}" for p, ok in passed.items())
    en = ", ".join(f"{PROPERTIES[p][1]} {'pass' if ok else 'FAIL'}" for p, ok in passed.items())
    return pick(
        f"four properties (四性, see {JSON_FILE}): {en}", f"四性检测（见 {TEXT_FILE}）：{zh}"
    )


def _replayed(replay: Replay) -> list[str]:
    """What the replay recomputed (each matched, or the bag would have failed) and what it
    did not."""
    lines = [
        pick(f"  replayed, matches: {escape(d.en)}", f"  复算一致：{escape(d.zh)}")
        for d in replay.done
    ]
    lines += [
        pick(f"  not replayed: {escape(en)}", f"  未复算：{escape(zh)}")
        for en, zh in _grouped(replay.not_replayed)
    ]
    return lines


def _grouped(items: list[tuple[str, str]], most: int = 3) -> list[tuple[str, str]]:
    """A folder of more than ``most`` files not replayed (one score sheet a unit) said once."""
    folders: dict[str, list[tuple[str, str]]] = {}
    for item in items:
        folders.setdefault(item[0].rpartition("/")[0] if "/" in item[0] else item[0], []).append(
            item
        )
    said: list[tuple[str, str]] = []
    for folder, found in folders.items():
        if len(found) > most:
            said.append((f"{len(found)} files in {folder}/", f"{folder}/ 中的 {len(found)} 个文件"))
        else:
            said += found
    return said
