"""``duban archive write``: one campaign filed as a BagIt bag (RFC 8493), by bagit-python.

The bag is built in a hidden folder beside ``out`` and renamed into place at the end, so a
failed run never leaves something that looks like an archive. Every file is copied in a
stream and every raw object is checked against its hash as it is copied (a damaged object is
listed as missing rather than filed under a hash it no longer has). Layout of ``data/``:

- ``README.txt``: what this is, for someone who never heard of duban (中文 and English);
- ``campaign/``: the campaign file and its roster as given, and ``campaign/registered/`` every
  version ``duban init`` kept;
- ``received/messages/``, ``received/files/``: every message and file the intake recorded, named
  by SHA-256 (the ledger's ``intake_records`` and ``intake_files`` say what each was);
  ``received/other/``: any other raw object an event of the campaign names (an imported sheet);
- ``sent/``: the exact bytes of every message sent, by SHA-256 (``sent/not-kept.csv``: the sent
  messages whose bytes duban did not keep);
- ``ledger/``: the campaign's tables, CSV and JSON Schema; ``events.jsonl``: the event log;
- ``outputs/``: everything under ``DUBAN_HOME/out/<campaign id>/``; ``templates/``: the
  templates the mailed pages were rendered with (``archive.pages``);
- ``duban-version.txt``; ``MISSING.txt`` when a raw object the ledger names was missing;
  ``left-out.csv`` the raw objects left out by design (ballots and the messages carrying them);
- ``ballots/ballots.tar.gpg`` with ``archive.ballots: encrypt``: those ballots and messages,
  encrypted to the office's key (``archive.ballots``); ``left-out.csv`` then says so.

Beside ``data/``, the four-properties report (四性检测报告, ``archive.fourprops``):
``four-properties.json`` and ``四性检测报告.txt``, run on the finished bag and covered by the
tag manifests.
"""

from __future__ import annotations

import csv
import errno
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import bagit
from sqlalchemy.orm import Session

from duban import __version__
from duban.archive import readme
from duban.archive.ballots import Sealed, office_key, seal
from duban.archive.digests import ALGORITHMS, copy_checked, require_sm3
from duban.archive.events import FILE as EVENTS
from duban.archive.events import EventLog, export_events
from duban.archive.fourprops.bagview import LEFT_OUT
from duban.archive.fourprops.model import Report
from duban.archive.fourprops.run import file_report
from duban.archive.gather import ENCRYPTED_BALLOT, SEALED, RawRefs, raw_refs, safe_suffix
from duban.archive.live import ChainChangedError, as_problems
from duban.archive.pages import FOLDER, file_templates
from duban.archive.sources import kept_versions, source_files
from duban.archive.tables import Exported, export_ledger
from duban.clock import Clock
from duban.errors import DubanError
from duban.implement.intake.rawstore import RawStore
from duban.ledger.chain import live_breaks
from duban.model.loader import CampaignBundle


@dataclass
class ArchiveReport:
    """What went into the bag, for the summary the command prints and the README."""

    path: Path
    campaign_id: str
    files: dict[str, int] = field(default_factory=dict)  # folder → files
    tables: list[Exported] = field(default_factory=list)
    events: EventLog | None = None
    missing: list[str] = field(default_factory=list)  # "hash (what)" the raw store lacked
    unkept_sent: int = 0
    ballots_left_out: int = 0  # raw ballots not filed at all
    ballots: str = "leave-out"  # archive.ballots: "leave-out" or "encrypt"
    ballots_sealed: int = 0  # raw ballots filed encrypted (SEALED)
    properties: Report | None = None

    def add(self, folder: str) -> None:
        self.files[folder] = self.files.get(folder, 0) + 1


def write_archive(
    session: Session,
    bundle: CampaignBundle,
    store: RawStore,
    outputs: Path,
    clock: Clock,
    out: Path,
    templates: Path | None = None,
) -> ArchiveReport:
    """Write the campaign's bag to ``out`` (which must not exist, or be an empty folder);
    ``templates``: the office's own (``DUBAN_TEMPLATES``), else duban's are filed."""
    require_sm3()
    _check_target(out)
    _check_chain(session, bundle.campaign.id)
    staging = out.parent / f".{out.name}.tmp-{secrets.token_hex(4)}"
    staging.mkdir(parents=True)
    try:
        report = _fill(session, bundle, store, outputs / bundle.campaign.id, staging)
        report.path = out
        report.files[FOLDER] = file_templates(templates, staging / FOLDER)
        readme.write(staging / "README.txt", bundle, report)
        (staging / "duban-version.txt").write_text(f"duban {__version__}\n", encoding="utf-8")
        bagit.make_bag(str(staging), _bag_info(bundle, report, clock), checksums=list(ALGORITHMS))
        report.properties = file_report(staging)
        _place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report


def _place(staging: Path, out: Path) -> None:
    """Rename the finished bag into place. ``rename`` replaces an empty folder and refuses a
    full one, so when two runs write to one ``--out`` at once the first bag stays whole and
    the second run says so (its own bag is removed by the caller)."""
    try:
        staging.rename(out)
    except OSError as error:
        if error.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
            raise
        raise DubanError(
            f"{out} was filled by another run while this archive was being written; "
            "that archive is kept and this one is discarded",
            hint="check the other run's archive with `duban archive verify`, or name a new "
            "folder with --out",
            zh=f"写归档期间 {out} 已被另一次运行写入；保留那份归档，本次写出的已丢弃",
            zh_hint="用 `duban archive verify` 检查那份归档，或用 --out 指定新文件夹",
        ) from error


def _check_chain(session: Session, campaign_id: str) -> None:
    """An archive files the ledger as it is: one whose chain breaks is said, not filed."""
    breaks = live_breaks(session, campaign_id)
    if breaks:
        raise ChainChangedError(campaign_id, as_problems(breaks),
                               ("; no archive was written", "；未写出归档"))  # fmt: skip


def _check_target(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DubanError(
            f"{out} already exists and is not an empty folder",
            hint="name a new folder with --out; an archive is never written over another",
            zh=f"{out} 已存在且不是空文件夹",
            zh_hint="用 --out 指定一个新文件夹；归档不会覆盖已有内容",
        )
    if not out.parent.is_dir():
        raise DubanError(f"no folder {out.parent} to write {out.name} in",
                         hint="create it first", zh=f"没有文件夹 {out.parent}",
                         zh_hint="请先建立该文件夹")  # fmt: skip


def _fill(
    session: Session, bundle: CampaignBundle, store: RawStore, outputs: Path, root: Path
) -> ArchiveReport:
    campaign_id = bundle.campaign.id
    report = ArchiveReport(root, campaign_id, ballots=bundle.campaign.archive.ballots)
    _campaign_files(session, bundle, store, root / "campaign", report)
    refs = raw_refs(session, campaign_id, store.has)
    registered = {item["sha256"] for item in kept_versions(session, campaign_id)}
    refs.others = [sha for sha in refs.others if sha not in registered]  # filed under campaign/
    for sha in refs.messages:
        _raw_one(store, sha, root, f"received/messages/{sha}.eml", report)
    for sha, name in refs.files.items():
        _raw_one(store, sha, root, f"received/files/{sha}{safe_suffix(name)}", report)
    for sha in refs.sent:
        suffix = "json" if sha in refs.posts else "eml"  # a bot post: the JSON it posted
        _raw_one(store, sha, root, f"sent/{sha}.{suffix}", report)
    for sha in refs.others:
        _raw_one(store, sha, root, f"received/other/{sha}", report)
    key = office_key(bundle)
    if key is not None and refs.left_out:
        _sealed(seal(store, refs, key, root / SEALED), refs, report)
    _not_kept(refs, root / "sent" / "not-kept.csv", report)
    _left_out(refs, root / LEFT_OUT)
    report.tables = export_ledger(session, campaign_id, root / "ledger")
    report.events = export_events(session, campaign_id, root / EVENTS)
    if outputs.is_dir():
        shutil.copytree(outputs, root / "outputs")
        report.files["outputs"] = sum(1 for p in (root / "outputs").rglob("*") if p.is_file())
    if report.missing:
        lines = "".join(f"{item}\n" for item in report.missing)
        (root / "MISSING.txt").write_text(lines, encoding="utf-8")
    return report


def _campaign_files(
    session: Session, bundle: CampaignBundle, store: RawStore, folder: Path, report: ArchiveReport
) -> None:
    folder.mkdir(parents=True)
    for path in source_files(bundle).values():
        with path.open("rb") as source:
            copy_checked(source, folder / path.name)
        report.add("campaign")
    versions = kept_versions(session, bundle.campaign.id)
    if versions:
        (folder / "registered").mkdir()
    for item in versions:
        name = f"campaign/registered/{item['sha256'][:16]}-{item['name']}"
        _raw_one(store, item["sha256"], folder.parent, name, report)


def _raw_one(store: RawStore, sha: str, root: Path, relative: str, report: ArchiveReport) -> None:
    """Copy one raw object to ``root/relative``, checked against its hash; a missing or
    damaged one is listed instead."""
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with store.path(sha).open("rb") as source:
            found = copy_checked(source, target)
    except FileNotFoundError:
        report.missing.append(f"{sha} missing from the raw store (for {relative})")
        return
    if found != sha:
        target.unlink()
        report.missing.append(f"{sha} damaged in the raw store (for {relative})")
        return
    report.add(relative.rsplit("/", 1)[0])


def _sealed(sealed: Sealed, refs: RawRefs, report: ArchiveReport) -> None:
    """The raw ballots and their messages now inside ``SEALED``: ``left-out.csv`` says so;
    those the raw store lacked are said missing (MISSING.txt), not left out by design."""
    report.ballots_sealed = sum(1 for why in sealed.filed.values() if why == ENCRYPTED_BALLOT)
    report.missing += sealed.missing
    refs.left_out = {sha: why for sha, why in refs.left_out.items() if sha in sealed.filed}
    refs.left_out.update(sealed.filed)
    report.add("ballots")


def _not_kept(refs: RawRefs, path: Path, report: ArchiveReport) -> None:
    report.unkept_sent = len(refs.unkept_sent)
    report.ballots_left_out = refs.ballots_left_out - report.ballots_sealed
    if not refs.unkept_sent:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(["message_row_id", "kind", "subject"])
        writer.writerows(refs.unkept_sent)


def _left_out(refs: RawRefs, path: Path) -> None:
    """The raw objects the ledger names that stay out by design, so the completeness check
    can tell them from missing ones (a ballot's hash says nothing of its marks: the ballot
    export leaves the hash out)."""
    if not refs.left_out:
        return
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(["sha256", "reason"])
        writer.writerows(sorted(refs.left_out.items()))


def _bag_info(bundle: CampaignBundle, report: ArchiveReport, clock: Clock) -> dict[str, str]:
    campaign = bundle.campaign
    assert report.events is not None
    return {
        "Source-Organization": campaign.roles.coordinator.name,
        "Contact-Email": str(campaign.roles.coordinator.email),
        "External-Identifier": campaign.id,
        "External-Description": campaign.title,
        "Bagging-Date": clock.now().date().isoformat(),
        "Bag-Software-Agent": f"duban {__version__} with bagit-python {bagit.VERSION}",
        "Duban-Version": __version__,
        **report.events.bag_info(),
        "Duban-Raw-Missing": str(len(report.missing)),
        "Duban-Sent-Without-Bytes": str(report.unkept_sent),
        "Duban-Ballots-Left-Out": str(report.ballots_left_out),
        "Duban-Ballots-Mode": bundle.campaign.archive.ballots,
        "Duban-Ballots-Encrypted": str(report.ballots_sealed),
    }
