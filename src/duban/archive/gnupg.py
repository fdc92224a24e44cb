"""The system's GnuPG, run for the archive's encrypted ballots in a home of its own.

OpenPGP through GnuPG rather than a Python library: an office's archivist opens the file a
year later with the standard tool (``gpg --decrypt``), without duban. Every run gets a
temporary ``--homedir``, so a user's own keyring is never read or changed, and any agent a
secret key started there is stopped when it is removed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from duban.errors import DubanError


def gpg_binary() -> str:
    """The ``gpg`` on the PATH, or a clear error saying how to get one."""
    found = shutil.which("gpg")
    if found is None:
        raise DubanError(
            "GnuPG (gpg) is not installed or not on the PATH: the encrypted ballots "
            "(archive.ballots: encrypt) need it",
            hint="install GnuPG (Debian: apt install gnupg), or set archive.ballots: leave-out",
            zh="未安装 GnuPG（gpg），或不在 PATH 中："
            "加密收录选票（archive.ballots: encrypt）需要它",
            zh_hint="请安装 GnuPG（Debian：apt install gnupg），或改为 archive.ballots: leave-out",
        )
    return found


@dataclass(frozen=True)
class GnuPG:
    """``gpg`` with its temporary home: ``args`` are prefixed with what every run needs."""

    binary: str
    home: Path

    def command(self, *args: str) -> list[str]:
        return [self.binary, "--homedir", str(self.home), "--batch", "--no-tty", "--quiet", *args]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(*args), capture_output=True, text=True, check=False)


@contextmanager
def gnupg() -> Iterator[GnuPG]:
    """A ``GnuPG`` in a new temporary home, removed (its agent stopped) afterwards."""
    binary = gpg_binary()
    with tempfile.TemporaryDirectory(prefix="duban-gpg-") as home:
        try:
            yield GnuPG(binary, Path(home))
        finally:
            _stop_agent(Path(home))


def _stop_agent(home: Path) -> None:
    gpgconf = shutil.which("gpgconf")
    if gpgconf is not None and any(home.glob("S.gpg-agent*")):
        subprocess.run([gpgconf, "--homedir", str(home), "--kill", "all"],
                       capture_output=True, check=False)  # fmt: skip


def said(stderr: str) -> str:
    """What gpg said, on one line (its ``gpg:`` prefixes dropped)."""
    lines = [ln.removeprefix("gpg: ").strip() for ln in stderr.splitlines() if ln.strip()]
    return "; ".join(lines) or "no message"


def check_public_key(gpg: GnuPG, key: Path) -> None:
    """``key`` must be an OpenPGP public key that can encrypt, and no secret key: the
    office's secret key has no business in the campaign's folder (or its archive)."""
    listed = gpg.run("--with-colons", "--import-options", "show-only", "--import", str(key))
    kinds = [line.split(":") for line in listed.stdout.splitlines()]
    if listed.returncode != 0 or not any(k[0] in ("pub", "sec") for k in kinds):
        raise key_error(key, f"is not an OpenPGP key (gpg: {said(listed.stderr)})",
                         f"不是 OpenPGP 密钥（gpg：{said(listed.stderr)}）")  # fmt: skip
    if any(k[0] == "sec" for k in kinds):
        raise key_error(key, "holds a secret key: give the office's public key only "
                         "(gpg --export --armor), and keep the secret one away from here",
                         "含有私钥：此处只应给出办公室的公钥（gpg --export --armor），"
                         "私钥请另行妥善保管")  # fmt: skip
    primary = next(k for k in kinds if k[0] == "pub")
    if primary[1] in ("e", "r") or "E" not in primary[11]:
        raise key_error(key, "cannot encrypt (expired, revoked, or without an encryption "
                         "subkey)", "不能用于加密（已过期、已吊销或没有加密子密钥）")  # fmt: skip


def key_error(key: Path, en: str, zh: str) -> DubanError:
    """What is wrong with the campaign's ``archive.office_key``: no archive is written."""
    return DubanError(
        f"archive.office_key: {key} {en}",
        hint="name the office's OpenPGP public key file (see the README, The archive)",
        zh=f"archive.office_key：{key} {zh}",
        zh_hint="请填写办公室的 OpenPGP 公钥文件（见 README“The archive”一节）",
    )
