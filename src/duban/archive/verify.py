"""``duban archive verify``: is a bag complete, are its files unchanged, is its event log whole.

Three checks, each naming every file or line that fails (not the first):

1. bagit-python's own validation (structure, ``bagit.txt``, Payload-Oxum, completeness and the
   SHA-256 manifests). It stops at the first kind of failure (a missing file hides a changed
   one), and it never reads an SM3 manifest (it knows only ``hashlib``'s guaranteed
   algorithms), hence:
2. every manifest and tag manifest, both algorithms, checked here file by file in streams,
   plus every payload file that no manifest lists;
3. the event log against the count, last id and digest ``bag-info.txt`` records
   (``archive.events``);
4. unless asked not to, the replay: what the bag recorded recomputed from the bag alone
   (``archive.replay``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import bagit

from duban.archive.digests import ALGORITHMS, file_digests, require_sm3
from duban.archive.events import FILE as EVENTS
from duban.archive.events import check_events
from duban.archive.replay import Replay, replay_bag
from duban.errors import DubanError, Problem, ProblemsError

MANIFESTS = tuple(f"{kind}-{a}.txt" for kind in ("manifest", "tagmanifest") for a in ALGORITHMS)


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
    replay: Replay | None = None


def verify_bag(bag: Path, replay: bool = True) -> Verified:
    """Check the bag; ``BagInvalidError`` naming each problem when anything fails.
    ``replay``: also recompute what the bag recorded (``archive.replay``)."""
    require_sm3()
    if not (bag / "bagit.txt").is_file():
        raise DubanError(f"{bag} is not a BagIt bag (no bagit.txt)",
                         hint="name the folder `duban archive write` made",
                         zh=f"{bag} 不是 BagIt 归档包（没有 bagit.txt）",
                         zh_hint="请指定 duban archive write 生成的文件夹")  # fmt: skip
    problems = _bagit_problems(bag)
    files, found = _manifest_problems(bag)
    problems += found
    info = _bag_info(bag)
    events, found = check_events(bag / "data" / EVENTS, info, f"data/{EVENTS}")
    problems += found
    replayed = replay_bag(bag) if replay else None
    problems += [] if replayed is None else replayed.problems
    unique = list(dict.fromkeys(problems))
    if unique:
        raise BagInvalidError(bag, unique)
    return Verified(info.get("External-Identifier", "?"), files, events, ALGORITHMS, replayed)


def _bagit_problems(bag: Path) -> list[Problem]:
    """bagit's verdict; a changed file is left to ``_manifest_problems``, which says it once
    for both algorithms."""
    try:
        bagit.Bag(str(bag)).validate(processes=1)
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
        return _missing(detail.path)
    if isinstance(detail, bagit.UnexpectedFile):
        return _unlisted(detail.path)
    return Problem(str(getattr(detail, "path", "bag")), str(detail), f"bagit 报告：{detail}")


def _manifest_problems(bag: Path) -> tuple[int, list[Problem]]:
    """Every entry of every manifest, each algorithm; and payload files none lists."""
    problems: list[Problem] = []
    listed: dict[str, dict[str, str]] = {}  # path → algorithm → digest
    for name in MANIFESTS:
        algorithm = name.rsplit("-", 1)[1].removesuffix(".txt")
        path = bag / name
        if not path.is_file():
            problems.append(_missing(name))
            continue
        for digest, relative in _entries(path):
            listed.setdefault(relative, {})[algorithm] = digest
    for relative, expected in listed.items():
        target = bag / relative
        if Path(relative).is_absolute() or ".." in Path(relative).parts:
            problems.append(Problem(relative, "a path outside the bag", "路径指向归档包之外"))
            continue
        if not target.is_file():
            problems.append(_missing(relative))
            continue
        found = file_digests(target, tuple(expected))
        differ = [a for a in ALGORITHMS if a in expected and found[a] != expected[a].lower()]
        if differ:
            problems.append(_changed(relative, differ))
    payload = [p for p in listed if p.startswith("data/")]
    for path in sorted((bag / "data").rglob("*")):
        relative = path.relative_to(bag).as_posix()
        if path.is_file() and relative not in listed:
            problems.append(_unlisted(relative))
    return len(payload), problems


def _entries(manifest: Path) -> Iterator[tuple[str, str]]:
    with manifest.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                digest, _, relative = line.rstrip("\r\n").partition(" ")
                yield digest, _decoded(relative.lstrip(" "))


def _decoded(name: str) -> str:
    """A manifest's path as RFC 8493 section 2.1.3 encodes it (CR, LF and %)."""
    return name.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _bag_info(bag: Path) -> dict[str, str]:
    info: dict[str, str] = {}
    path = bag / "bag-info.txt"
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            key, colon, value = line.partition(":")
            if colon and not line.startswith((" ", "\t")):
                info.setdefault(key.strip(), value.strip())
    return info


def _missing(path: str) -> Problem:
    return Problem(path, "missing (listed in a manifest)", "缺失（清单中有此文件）")


def _unlisted(path: str) -> Problem:
    return Problem(path, "not listed in the manifests", "清单中没有此文件")


def _changed(path: str, algorithms: list[str]) -> Problem:
    names = [a.upper().replace("SHA256", "SHA-256") for a in algorithms]
    verb = "differs" if len(names) == 1 else "differ"
    return Problem(path, f"content changed ({' and '.join(names)} {verb} from the manifest)",
                   f"内容已被改动（{'、'.join(names)} 与清单不符）")  # fmt: skip
