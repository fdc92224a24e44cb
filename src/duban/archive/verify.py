"""``duban archive verify``: is a bag complete, are its files unchanged, is its event log whole.

Four checks, each naming every file or line that fails (not the first):

1. bagit-python's own validation of structure, ``bagit.txt``, Payload-Oxum and completeness,
   without its hashing (``completeness_only``: check 2 hashes every file anyway, so bagit's
   pass over the payload would read it all a second time). It stops at the first kind of
   failure (a missing file hides a changed one), and it never reads an SM3 manifest (it knows
   only ``hashlib``'s guaranteed algorithms), hence:
2. every manifest and tag manifest, both algorithms, checked here file by file in streams,
   plus every payload file that no manifest lists;
3. the event log against the count, last id and digest ``bag-info.txt`` records
   (``archive.events``);
4. the four-properties report (``archive.fourprops``) run again from the bag alone, and each
   result that differs from the filed report named (a file steps 1-3 already named is said once);
5. unless asked not to, the replay: what the bag recorded recomputed from the bag alone
   (``archive.replay``);
6. given the office's secret key, the encrypted ballots opened and checked against
   ``left-out.csv`` (``archive.sealed``), each raw ballot read again and its marks compared
   with ``ledger/evaluation_ballots.csv`` (``archive.recount``); without it they are checked
   as bytes only (step 2), not recounted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bagit

from duban.archive.digests import ALGORITHMS, require_sm3
from duban.archive.events import FILE as EVENTS
from duban.archive.events import against_info, read_events
from duban.archive.fourprops.bagview import BagView
from duban.archive.fourprops.run import compare_report
from duban.archive.gather import SEALED
from duban.archive.manifests import bag_info, check_manifests, missing, unlisted
from duban.archive.recount import Recount
from duban.archive.replay import Replay, replay_bag
from duban.archive.sealed import check_sealed, check_secret_key
from duban.errors import DubanError, Problem, ProblemsError


class BagInvalidError(ProblemsError):
    """An archive failed its check; holds every problem found."""

    def __init__(self, bag: Path, problems: list[Problem]) -> None:
        super().__init__(
            f"{bag}: the archive does not verify ({len(problems)} problems)",
            problems,
            hint="restore the named files from another copy of the archive",
            zh=f"{bag}：归档核验未通过（{len(problems)} 处问题）",
            zh_hint="请从归档的其他副本恢复所列文件",
        )


@dataclass(frozen=True)
class Verified:
    """A bag that passed: how many files and events were checked, in which algorithms."""

    campaign_id: str
    files: int
    events: int
    algorithms: tuple[str, ...]
    properties: dict[str, bool]  # the four properties' results, as filed and found again
    replay: Replay | None = None
    sealed: bool = False  # the bag holds encrypted ballots (data/ballots/ballots.tar.gpg)
    opened: int | None = None  # ballots and messages found inside, when opened with the key
    recount: Recount | None = None  # the raw ballots read again, when opened with the key


def verify_bag(bag: Path, replay: bool = True, office_key: Path | None = None) -> Verified:
    """Check the bag; ``BagInvalidError`` naming each problem when anything fails.
    ``replay``: also recompute what the bag recorded (``archive.replay``); ``office_key``:
    the office's secret key, to open the encrypted ballots (``archive.sealed``)."""
    require_sm3()
    _check_key_file(office_key)
    if not (bag / "bagit.txt").is_file():
        raise DubanError(f"{bag} is not a BagIt bag (no bagit.txt)",
                         hint="name the folder `duban archive write` made",
                         zh=f"{bag} 不是 BagIt 归档包（没有 bagit.txt）",
                         zh_hint="请指定 duban archive write 生成的文件夹")  # fmt: skip
    problems = _bagit_problems(bag)
    manifests = check_manifests(bag)
    problems += manifests.problems
    info = bag_info(bag)
    read = read_events(bag / "data" / EVENTS, f"data/{EVENTS}")
    if read.present:
        problems += [*read.lines, *read.chain]
        problems += against_info(f"data/{EVENTS}", info, read.found())
    named = {p.where for p in problems}
    view = BagView(bag, info, manifests, read)
    report, differ = compare_report(bag, view)
    problems += [p for p in differ if p.where not in named]  # each file said once
    replayed = replay_bag(bag) if replay else None
    problems += [] if replayed is None else replayed.problems
    opened = None if office_key is None else check_sealed(bag, view.left_out(), office_key)
    problems += [] if opened is None else opened.problems
    unique = list(dict.fromkeys(problems))
    if unique:
        raise BagInvalidError(bag, unique)
    files = sum(1 for p in manifests.listed if p.startswith("data/"))
    passed = {prop: report.passed(prop) for prop in report.checks}
    return Verified(info.get("External-Identifier", "?"), files, read.count, ALGORITHMS, passed,
                    replayed, f"data/{SEALED}" in manifests.listed,
                    None if opened is None else len(opened.inside),
                    None if opened is None else opened.recount)  # fmt: skip


def _check_key_file(office_key: Path | None) -> None:
    """Said before the bag is read: a mistyped key file should not wait for the replay."""
    if office_key is None:
        return
    if not office_key.is_file():
        raise DubanError(f"--office-key: no file {office_key}",
                         hint="name the office's secret key file (gpg --export-secret-keys)",
                         zh=f"--office-key：找不到文件 {office_key}",
                         zh_hint="请指定办公室的私钥文件（gpg --export-secret-keys）")  # fmt: skip
    check_secret_key(office_key)


def _bagit_problems(bag: Path) -> list[Problem]:
    """bagit's verdict; a changed file is left to ``check_manifests``, which says it once
    for both algorithms."""
    try:
        bagit.Bag(str(bag)).validate(processes=1, completeness_only=True)
    except bagit.BagValidationError as error:
        if not error.details:
            return [Problem("bag", f"bagit: {error.message}", f"bagit 报告：{error.message}")]
        details = [d for d in error.details if not isinstance(d, bagit.ChecksumMismatch)]
        return [_detail(detail) for detail in details]
    except bagit.BagError as error:
        return [Problem("bag", f"bagit: {error}", f"bagit 报告：{error}")]
    return []


def _detail(detail: bagit.ManifestErrorDetail) -> Problem:
    if isinstance(detail, bagit.FileMissing):
        return missing(detail.path)
    if isinstance(detail, bagit.UnexpectedFile):
        return unlisted(detail.path)
    return Problem(str(getattr(detail, "path", "bag")), str(detail), f"bagit 报告：{detail}")
