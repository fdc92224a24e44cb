"""Where an output file goes, and the one error line when it cannot be written there.

Every command that writes a file (a ledger, a sheet, a publication page) takes ``--out`` as a
file or a folder, and answers an unwritable place with one ``error:`` line and a hint rather
than a traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from xlsxwriter.exceptions import FileCreateError  # type: ignore[import-untyped, unused-ignore]

from duban.errors import DubanError


def target_of(default: Path, out: Path | None) -> Path:
    """``out`` if it names a file, the default name in it if a folder, else the default."""
    if out is None:
        return default
    return out / default.name if out.is_dir() else out


@contextlib.contextmanager
def writing(target: Path) -> Iterator[None]:
    """Make the target's folder; a file that cannot be written is one ``error:`` line."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        yield
    except (OSError, FileCreateError) as error:
        cause = error.args[0] if isinstance(error, FileCreateError) else error
        why = getattr(cause, "strerror", None) or str(cause)
        raise DubanError(f"cannot write {target}: {why}",
                         hint="give --out a file or folder you can write to",
                         zh=f"无法写入 {target}：{why}",
                         zh_hint="给 --out 一个可写的文件或文件夹") from None  # fmt: skip
