"""The bag's manifests read and checked file by file, in both algorithms, in streams.

bagit-python never reads an SM3 manifest (it knows only ``hashlib``'s guaranteed algorithms),
so every manifest and tag manifest is checked here; ``Manifests.listed`` keeps each listed
path's digests for the four-properties report (``archive.fourprops``), which names files by
them rather than hashing everything again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from duban.archive.digests import ALGORITHMS, file_digests
from duban.errors import Problem

MANIFESTS = tuple(f"{kind}-{a}.txt" for kind in ("manifest", "tagmanifest") for a in ALGORITHMS)


@dataclass(frozen=True)
class Manifests:
    """Every path the manifests list with its digests by algorithm, and what is wrong."""

    listed: dict[str, dict[str, str]]
    problems: list[Problem]

    def payload(self) -> list[str]:
        return sorted(p for p in self.listed if p.startswith("data/"))


def check_manifests(bag: Path) -> Manifests:
    """Every entry of every manifest, each algorithm; and payload files none lists."""
    problems: list[Problem] = []
    listed: dict[str, dict[str, str]] = {}  # path → algorithm → digest
    for name in MANIFESTS:
        algorithm = name.rsplit("-", 1)[1].removesuffix(".txt")
        path = bag / name
        if not path.is_file():
            problems.append(missing(name))
            continue
        for digest, relative in _entries(path):
            listed.setdefault(relative, {})[algorithm] = digest
    for relative, expected in listed.items():
        target = bag / relative
        if Path(relative).is_absolute() or ".." in Path(relative).parts:
            problems.append(Problem(relative, "a path outside the bag", "路径指向归档包之外"))
            continue
        if not target.is_file():
            problems.append(missing(relative))
            continue
        found = file_digests(target, tuple(expected))
        differ = [a for a in ALGORITHMS if a in expected and found[a] != expected[a].lower()]
        if differ:
            problems.append(_changed(relative, differ))
    for path in sorted((bag / "data").rglob("*")):
        relative = path.relative_to(bag).as_posix()
        if path.is_file() and relative not in listed:
            problems.append(unlisted(relative))
    return Manifests(listed, problems)


def _entries(manifest: Path) -> Iterator[tuple[str, str]]:
    with manifest.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                digest, _, relative = line.rstrip("\r\n").partition(" ")
                yield digest, _decoded(relative.lstrip(" "))


def _decoded(name: str) -> str:
    """A manifest's path as RFC 8493 section 2.1.3 encodes it (CR, LF and %)."""
    return name.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def bag_info(bag: Path) -> dict[str, str]:
    info: dict[str, str] = {}
    path = bag / "bag-info.txt"
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            key, colon, value = line.partition(":")
            if colon and not line.startswith((" ", "\t")):
                info.setdefault(key.strip(), value.strip())
    return info


def missing(path: str) -> Problem:
    return Problem(path, "missing (listed in a manifest)", "缺失（清单中有此文件）")


def unlisted(path: str) -> Problem:
    return Problem(path, "not listed in the manifests", "清单中没有此文件")


def _changed(path: str, algorithms: list[str]) -> Problem:
    names = [a.upper().replace("SHA256", "SHA-256") for a in algorithms]
    verb = "differs" if len(names) == 1 else "differ"
    return Problem(path, f"content changed ({' and '.join(names)} {verb} from the manifest)",
                   f"内容已被改动（{'、'.join(names)} 与清单不符）")  # fmt: skip
