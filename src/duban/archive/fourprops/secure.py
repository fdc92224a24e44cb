"""安全性 (secure): no macro and no executable in the bag, ballots anonymous, manifests in both
algorithms, no link and no file anyone may write. Only what can be checked from the bag's
bytes: no virus scan is claimed."""

from __future__ import annotations

import os
import stat
import zipfile
import zlib
from pathlib import Path

from duban.archive.digests import ALGORITHMS, CHUNK
from duban.archive.fourprops.bagview import BagView
from duban.archive.fourprops.formats import CONTENT_TYPES, OFFICE, identify
from duban.archive.fourprops.model import Check
from duban.archive.gather import BALLOT, ENCRYPTED_BALLOT
from duban.archive.manifests import MANIFESTS
from duban.archive.tables import ANONYMOUS

EXECUTABLE_MAGIC = (
    b"MZ", b"\x7fELF", b"#!",  # Windows, Linux, a script
    b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",  # Mach-O
    b"\xca\xfe\xba\xbe",  # a Mach-O universal binary (or a Java class)
)  # fmt: skip
EXECUTABLE_SUFFIX = frozenset({".exe", ".dll", ".com", ".scr", ".msi", ".bat", ".cmd", ".ps1",
                               ".vbs", ".js", ".jar", ".sh", ".lnk"})  # fmt: skip
OLE_VBA = "_VBA_PROJECT".encode("utf-16-le")
"""The name of the macro storage in an old (OLE2) Office file's directory."""
BALLOTS = "data/ledger/evaluation_ballots.csv"


def checks(view: BagView) -> list[Check]:
    return [macros(view), executables(view), ballots(view), manifests(view), permissions(view)]


def macros(view: BagView) -> Check:
    check = Check("macros", "Office 文件中没有宏（无 vbaProject.bin 部件、无启用宏的内容类型，"
                  "旧格式文件无 _VBA_PROJECT 存储）",
                  "no macros in Office files (no vbaProject.bin part, no macro-enabled content "
                  "type; in old-format files no _VBA_PROJECT storage)")  # fmt: skip
    for relative, path in view.files():
        kind = identify(path)
        if kind == "ole2" or kind == "xls":
            check.items += 1
            if _contains(path, OLE_VBA):
                check.fail(relative, "holds a _VBA_PROJECT storage (macros)",
                           "含 _VBA_PROJECT 存储（宏）")  # fmt: skip
        elif kind == "zip" or f".{kind}" in OFFICE:
            check.items += 1
            found = _zip_macro(path)
            if found:
                check.fail(relative, f"holds a macro part ({found})", f"含宏部件（{found}）")
    return check


def _zip_macro(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.lower().endswith("vbaproject.bin"):
                    return name
            if CONTENT_TYPES in archive.namelist():
                types = archive.read(CONTENT_TYPES).lower()
                if b"macroenabled" in types or b"vbaproject" in types:
                    return f"{CONTENT_TYPES}: macro-enabled content type"
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError):
        return None  # not a readable zip: the usability check names it
    return None


def _contains(path: Path, needle: bytes) -> bool:
    """Whether the file holds ``needle``, read in chunks that overlap by its length."""
    tail = b""
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle) :]
    return False


def executables(view: BagView) -> Check:
    check = Check("executables", "没有可执行文件（按文件头：Windows、Linux、macOS 程序和脚本；"
                  "按扩展名：.exe .bat .js 等）",
                  "no executables (by first bytes: Windows, Linux and macOS programs, scripts; "
                  "by name: .exe, .bat, .js and the like)")  # fmt: skip
    for relative, path in view.files():
        check.items += 1
        with path.open("rb") as handle:
            head = handle.read(4)
        if head.startswith(EXECUTABLE_MAGIC) or path.suffix.lower() in EXECUTABLE_SUFFIX:
            check.fail(relative, "an executable or script", "可执行文件或脚本")
    return check


def ballots(view: BagView) -> Check:
    """The export leaves out every column that names an evaluator; no raw ballot is filed; no
    event names an evaluator beside marks."""
    check = Check("ballots_anonymous", "民主评议匿名：评议表导出不含评议人、来件等列；归档包中没有"
                  "原始选票；没有事件把评议人与打分写在一起",
                  "ballots anonymous: the ballot export has no evaluator, sender or such column; "
                  "no raw ballot in the bag; no event names an evaluator beside marks")  # fmt: skip
    header = next(iter(view.rows(BALLOTS)), None)
    check.items += 1
    named = [c for c in ANONYMOUS["evaluation_ballots"] if header and c in header]
    if named:
        check.fail(BALLOTS, f"has the columns {', '.join(named)}", f"含有列 {'、'.join(named)}")
    left = {sha for sha, why in view.left_out().items() if why in (BALLOT, ENCRYPTED_BALLOT)}
    check.counts["ballots left out"] = len(left)
    for relative in view.payload():
        if view.sha256(relative) in left:
            check.fail(relative, "a raw ballot", "原始选票")
    for event in view.event_lines():
        payload = event.get("payload")
        if isinstance(payload, dict) and "evaluator" in payload:
            check.items += 1
            if {"marks", "comments"} & set(payload):
                check.fail(f"event {event.get('id')}", "names an evaluator beside marks",
                           "把评议人与打分写在一起")  # fmt: skip
    return check


def manifests(view: BagView) -> Check:
    check = Check("manifests", "SHA-256 与 SM3 清单和标签清单齐全，两种清单列出同样的内容文件",
                  "manifests and tag manifests in SHA-256 and SM3 are there, and both list the "
                  "same payload files", items=len(MANIFESTS))  # fmt: skip
    for name in MANIFESTS:
        if not (view.root / name).is_file():
            check.fail(name, "missing", "缺失")
    for relative in view.payload():
        absent = [a for a in ALGORITHMS if a not in view.manifests.listed[relative]]
        if absent:
            check.fail(relative, f"not in the {', '.join(absent)} manifest",
                       f"{'、'.join(absent)} 清单中没有")  # fmt: skip
    return check


def permissions(view: BagView) -> Check:
    check = Check(
        "permissions",
        "data/ 下没有符号链接，没有任何人都可写的文件或文件夹",
        "no symbolic link under data/, no file or folder anyone may write",
    )
    for folder, dirs, files in os.walk(view.root / "data"):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            relative = path.relative_to(view.root).as_posix()
            check.items += 1
            if path.is_symlink():
                check.fail(relative, "a symbolic link", "符号链接")
            elif path.stat().st_mode & stat.S_IWOTH:
                check.fail(relative, "writable by anyone", "任何人都可写")
    return check
