"""The demo's very last step (issue 19): the year filed as one self-verifying package (归档),
as ``duban archive write`` and ``duban archive verify`` do it, under ``var/demo/archive``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine

from duban.archive.verify import verify_bag
from duban.archive.write import write_archive
from duban.clock import FixedClock
from duban.implement.intake.rawstore import RawStore
from duban.ledger.db import session_scope
from duban.model.loader import CampaignBundle


def archive_year(
    bundle: CampaignBundle, home: Path, engine: Engine, at: datetime, console: Console
) -> Path:
    """Write the bag of the demo's campaign and verify it from the bag alone."""
    bag = home / "archive"
    with session_scope(engine) as session:
        report = write_archive(session, bundle, RawStore(home / "raw"), home / "out",
                               FixedClock(at), bag)  # fmt: skip
    verified = verify_bag(bag)
    files = sum(report.files.values())
    console.print(
        f"\n[bold]The archive (归档)[/]: {bag} — {files} files, {verified.events} events in a "
        f"hash chain, {' and '.join(a.upper() for a in verified.algorithms)} manifests; "
        "verified from the bag alone (`duban archive verify` does the same).",
        highlight=False,
    )
    return bag
