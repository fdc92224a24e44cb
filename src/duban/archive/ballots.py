"""The raw ballots filed encrypted to the office's key (``archive.ballots: encrypt``).

A raw ballot names its evaluator beside the marks, so it never goes into the bag in the clear;
yet an office may have to show a year later what was marked (a disputed rank, an appeal). With
``encrypt``, the ballots and the messages that carried them go into one file,
``data/ballots/ballots.tar.gpg``: a tar encrypted with OpenPGP to the office's public key
(``gnupg``), which whoever holds the secret key opens with standard tools
(``gpg --decrypt ballots.tar.gpg | tar -x``). One file for all, not one per ballot: each
file's name and size would say more than their number. The tar is written straight into gpg's
input, one object at a time (memory stays flat), and each object is checked against its hash
before and as it goes in; one missing or damaged in the raw store is listed in MISSING.txt,
not filed. Inside, ``files/<sha256><suffix>`` are the ballots and ``messages/<sha256>.eml``
the messages.
"""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO

from duban.archive.digests import file_digests
from duban.archive.gather import ENCRYPTED_BALLOT, ENCRYPTED_CARRIER, RawRefs, safe_suffix
from duban.archive.gnupg import check_public_key, gnupg, key_error, said
from duban.errors import DubanError
from duban.implement.intake.rawstore import RawStore
from duban.model.loader import CampaignBundle


@dataclass
class Sealed:
    """What went into the encrypted file (hash → its reason in left-out.csv), and what the raw
    store lacked."""

    filed: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


def office_key(bundle: CampaignBundle) -> Path | None:
    """The office's public key when the campaign files its ballots encrypted."""
    spec = bundle.campaign.archive
    if spec.ballots != "encrypt" or spec.office_key is None:
        return None
    return (bundle.path.parent / spec.office_key).resolve()


def members(refs: RawRefs) -> list[tuple[str, str, str]]:
    """Each object to seal: its hash, its name in the tar, its reason in left-out.csv."""
    files = [(sha, f"files/{sha}{safe_suffix(name)}", ENCRYPTED_BALLOT)
             for sha, name in sorted(refs.ballot_files.items())]  # fmt: skip
    return files + [(sha, f"messages/{sha}.eml", ENCRYPTED_CARRIER) for sha in refs.carriers()]


def seal(store: RawStore, refs: RawRefs, key: Path, target: Path) -> Sealed:
    """Write the ballots and their messages encrypted to ``key`` into ``target``."""
    with gnupg() as gpg:
        check_public_key(gpg, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        command = gpg.command("--trust-model", "always", "--recipient-file", str(key),
                              "--output", str(target), "--encrypt")  # fmt: skip
        with tempfile.TemporaryFile("w+") as errors:
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=errors)
            assert process.stdin is not None
            sealed = Sealed()
            try:
                _stream(store, members(refs), process.stdin, sealed)
            except BrokenPipeError:
                pass  # gpg stopped reading: its exit status and message say why
            finally:
                _close(process.stdin)
            if process.wait() != 0:
                errors.seek(0)
                gpg_said = said(errors.read())
                raise key_error(key, f"could not encrypt the ballots (gpg: {gpg_said})",
                                f"无法用于加密选票（gpg：{gpg_said}）")  # fmt: skip
    return sealed


def _close(handle: IO[bytes]) -> None:
    with contextlib.suppress(BrokenPipeError):
        handle.close()


def _stream(
    store: RawStore, wanted: list[tuple[str, str, str]], out: IO[bytes], sealed: Sealed
) -> None:
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for sha, name, reason in wanted:
            if _add(tar, store.path(sha), sha, name):
                sealed.filed[sha] = reason
            else:
                sealed.missing.append(f"{sha} missing or damaged in the raw store (for {name})")


def _add(tar: tarfile.TarFile, path: Path, sha: str, name: str) -> bool:
    """Add one raw object if it is whole; it is hashed again as it goes in."""
    if not path.is_file() or file_digests(path, ("sha256",))["sha256"] != sha:
        return False
    info = tarfile.TarInfo(name)
    info.size, info.mode = path.stat().st_size, 0o644
    with path.open("rb") as handle:
        reader = _Hashing(handle)
        tar.addfile(info, reader)
    if reader.hasher.hexdigest() != sha:
        raise DubanError(
            f"{sha} changed in the raw store while it was being archived",
            hint="run duban archive write again; no archive was written",
            zh=f"{sha} 在归档过程中于原始存储中被改动",
            zh_hint="请重新运行 duban archive write；本次未写出归档",
        )
    return True


class _Hashing:
    """A file read through, hashed as it is read."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle, self.hasher = handle, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.handle.read(size)
        self.hasher.update(chunk)
        return chunk
