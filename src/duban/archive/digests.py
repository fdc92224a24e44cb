"""Hashing files in streams, in the two algorithms of the archive's manifests.

SM3 (GB/T 32905, which Chinese archives expect) comes from OpenSSL through ``hashlib``; a
Python built against an OpenSSL without it cannot write or check an archive, and says so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from duban.errors import DubanError

ALGORITHMS = ("sha256", "sm3")
"""The manifests of every bag, in this order."""
CHUNK = 1 << 20
"""Bytes read at a time: memory stays flat whatever the size of a file."""


def require_sm3() -> None:
    """Raise a clear error where this Python's OpenSSL offers no SM3."""
    try:
        hashlib.new("sm3")
    except ValueError:
        raise DubanError(
            "this Python's OpenSSL has no SM3 hash (GB/T 32905), which the archive's "
            "manifests need",
            hint="run duban with a Python linked to OpenSSL 1.1.1 or newer built with SM3 "
            "(python -c \"import hashlib; hashlib.new('sm3')\" must work)",
            zh="本机 Python 所用的 OpenSSL 不提供 SM3 杂凑算法（GB/T 32905），归档清单需要它",
            zh_hint="请使用链接了支持 SM3 的 OpenSSL 1.1.1 或更新版本的 Python"
            "（python -c \"import hashlib; hashlib.new('sm3')\" 应能运行）",
        ) from None


def file_digests(path: Path, algorithms: Sequence[str] = ALGORITHMS) -> dict[str, str]:
    """Each algorithm's hex digest of the file, read once in chunks."""
    hashers = {name: hashlib.new(name) for name in algorithms}
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            for hasher in hashers.values():
                hasher.update(chunk)
    return {name: hasher.hexdigest() for name, hasher in hashers.items()}


def copy_checked(source: BinaryIO, target: Path) -> str:
    """Copy a stream into a new file; the SHA-256 of what was copied."""
    hasher = hashlib.sha256()
    with target.open("xb") as out:
        for chunk in iter(lambda: source.read(CHUNK), b""):
            hasher.update(chunk)
            out.write(chunk)
    return hasher.hexdigest()
