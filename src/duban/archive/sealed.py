"""``duban archive verify --office-key``: the encrypted ballots opened and checked.

Without the office's secret key, verify checks ``data/ballots/ballots.tar.gpg`` as bytes (the
manifests list it) and says the ballots were not opened. With it, the file is decrypted by
GnuPG in a temporary home into a stream read as a tar, one member at a time (nothing is
written to disk, memory stays flat), and every ballot and message ``left-out.csv`` says is
inside must be there, its bytes hashing to its name; each one missing, changed or not listed
is named. Each whole ballot is then read again as it comes (``archive.recount``), and its
marks compared with the exported rows once the stream ends.
"""

from __future__ import annotations

import hashlib
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from duban.archive.digests import CHUNK
from duban.archive.gather import ENCRYPTED_BALLOT, ENCRYPTED_CARRIER, SEALED
from duban.archive.gnupg import GnuPG, gnupg, said
from duban.archive.recount import Recount, Recounter, recounter
from duban.errors import DubanError, Problem

WHERE = f"data/{SEALED}"
BALLOTS = "files/"
"""The ballots' folder in the tar (``archive.ballots``); ``messages/`` holds what carried them."""


@dataclass
class Opened:
    """What was found inside: hash → its member's name, and each problem."""

    inside: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    recount: Recount | None = None
    whole: bool = True  # decrypted to the end, a whole tar


def check_sealed(bag: Path, left_out: dict[str, str], key: Path) -> Opened:
    """Open the encrypted ballots with the office's secret ``key`` and check them against
    ``left_out`` (``left-out.csv``: hash → why)."""
    expected = {sha: why for sha, why in left_out.items()
                if why in (ENCRYPTED_BALLOT, ENCRYPTED_CARRIER)}  # fmt: skip
    path = bag / WHERE
    if not path.is_file():
        said_missing = [Problem(WHERE, "missing, though left-out.csv lists ballots inside it",
                                "缺失，而 left-out.csv 列出了其中的选票")]  # fmt: skip
        return Opened(problems=said_missing if expected else [])
    with gnupg() as gpg:
        _import_secret(gpg, key)
        opened = _recounted(gpg, bag)
    for sha, why in expected.items():
        if sha not in opened.inside:
            what = "ballot" if why == ENCRYPTED_BALLOT else "message carrying a ballot"
            zh = "选票" if why == ENCRYPTED_BALLOT else "选票的来件"
            opened.problems.append(Problem(f"{WHERE}: {what} {sha}",
                                           "listed in left-out.csv as inside, not in it",
                                           f"{zh}：left-out.csv 列为在其中，实际没有"))  # fmt: skip
    opened.problems += [Problem(f"{WHERE}: {name}", "inside, but left-out.csv does not list it",
                                "在其中，但 left-out.csv 未列出")
                        for sha, name in opened.inside.items() if sha not in expected]  # fmt: skip
    return opened


def check_secret_key(key: Path) -> None:
    """Said before the bag is read (verify takes a while): gpg is there and ``key`` holds a
    secret key."""
    with gnupg() as gpg:
        _import_secret(gpg, key)


def _import_secret(gpg: GnuPG, key: Path) -> None:
    imported = gpg.run("--import", str(key))
    listed = gpg.run("--with-colons", "--list-secret-keys")
    if imported.returncode != 0 or "sec:" not in listed.stdout:
        gpg_said = f" (gpg: {said(imported.stderr)})" if imported.returncode else ""
        raise DubanError(
            f"--office-key {key}: no OpenPGP secret key in it{gpg_said}",
            hint="give the office's secret key file (gpg --export-secret-keys --armor)",
            zh=f"--office-key {key}：其中没有 OpenPGP 私钥{gpg_said}",
            zh_hint="请给出办公室的私钥文件（gpg --export-secret-keys --armor）",
        )


def _recounted(gpg: GnuPG, bag: Path) -> Opened:
    """The members checked and the ballots recounted (the bag's campaign loaded first)."""
    with recounter(bag) as counter:
        opened = _read(gpg, bag / WHERE, counter)
        opened.recount = counter.finish() if opened.whole else None  # said broken already
    opened.problems += [] if opened.recount is None else opened.recount.problems
    return opened


def _read(gpg: GnuPG, path: Path, counter: Recounter | None) -> Opened:
    """Decrypt into a stream and hash each member as it comes; gpg's failure said first
    (a tar cut short by it is no second problem)."""
    opened = Opened()
    command = gpg.command("--pinentry-mode", "loopback", "--decrypt", str(path))
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
        assert process.stdout is not None
        broken = None
        try:
            _members(process.stdout, opened, counter)
        except (tarfile.TarError, OSError) as error:
            broken = Problem(WHERE, f"not a whole tar inside: {error}",
                             f"解密后不是完整的 tar：{error}")  # fmt: skip
        finally:
            process.stdout.close()
        if process.wait() != 0:
            errors.seek(0)
            broken = _undecrypted(said(errors.read()))
    opened.problems += [] if broken is None else [broken]
    opened.whole = broken is None
    return opened


def _undecrypted(gpg_said: str) -> Problem:
    return Problem(WHERE, "gpg could not decrypt it with the key given (a wrong key, one with "
                   f"a passphrase, or a damaged file): {gpg_said}",
                   "gpg 无法用所给密钥解密（密钥不对、密钥有口令或文件损坏）："
                   f"{gpg_said}")  # fmt: skip


def _members(stream: IO[bytes], opened: Opened, counter: Recounter | None) -> None:
    """Each member hashed; a ballot (``files/``) whole in memory, one at a time, for the
    recount when it is what its name says."""
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            handle = tar.extractfile(member) if member.isfile() else None
            if handle is None:
                continue
            wanted = counter is not None and member.name.startswith(BALLOTS)
            ballot = handle.read() if wanted else None
            hasher = hashlib.sha256(ballot or b"")
            while ballot is None and (chunk := handle.read(CHUNK)):
                hasher.update(chunk)
            named = PurePosixPath(member.name).name.split(".", 1)[0]
            if hasher.hexdigest() != named:
                opened.problems.append(Problem(f"{WHERE}: {member.name}",
                                               "content differs from its name (SHA-256)",
                                               "内容与其文件名（SHA-256）不符"))  # fmt: skip
            elif counter is not None and ballot is not None:
                counter.add(named, member.name, ballot)
            opened.inside[named] = member.name
