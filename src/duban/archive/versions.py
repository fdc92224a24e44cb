"""The campaign as it stood when an evaluation was computed, from the bag's registered copies.

A version's result depends on the campaign file (weights, groups, ties) and the roster as they
were when it was computed; the office may have changed them since. ``duban init`` keeps each
version of the files and records their hashes in a ``campaign.sources_kept`` event
(``archive.sources``), and the bag files every version under ``data/campaign/registered/`` as
``<first 16 hex digits of its SHA-256>-<name>``. So the replay scores a version with the files
the last such event before its computation names; a ledger without such events (registered
before they were kept) or a bag without those copies falls back on the bag's current files.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.archive.restore import Restored, campaign_copy
from duban.archive.sources import KEPT
from duban.ledger.schema import EventRow
from duban.model.loader import CampaignBundle, load_campaign


class Versions:
    """The campaign bundles of one restored bag, each loaded once."""

    def __init__(self, ledger: Restored) -> None:
        self.ledger = ledger
        self.loaded: dict[tuple[str, ...], CampaignBundle] = {}

    def at(self, session: Session, campaign_id: str, when: datetime) -> CampaignBundle:
        """The bundle of the files kept last at or before ``when``."""
        query = (
            select(EventRow.payload)
            .where(EventRow.campaign_id == campaign_id, EventRow.kind == KEPT,
                   EventRow.at <= when)
            .order_by(EventRow.id.desc())
            .limit(1)
        )  # fmt: skip
        payload = session.scalar(query)
        files: dict[str, Any] = {} if payload is None else dict(payload.get("files", {}))
        return self._bundle(files)

    def _bundle(self, files: dict[str, Any]) -> CampaignBundle:
        if "campaign" not in files:
            return self.ledger.bundle
        key = tuple(sorted(str(item.get("sha256")) for item in files.values()))
        if key not in self.loaded:
            self.loaded[key] = self._load(files, len(self.loaded))
        return self.loaded[key]

    def _load(self, files: dict[str, Any], number: int) -> CampaignBundle:
        registered = self.ledger.bag / "data" / "campaign" / "registered"
        folder = self.ledger.scratch / f"version-{number}"
        source = folder / "files"
        source.mkdir(parents=True)
        for item in files.values():
            kept = registered / f"{str(item['sha256'])[:16]}-{item['name']}"
            if not kept.is_file():
                return self.ledger.bundle
            shutil.copyfile(kept, source / str(item["name"]))
        name = str(files["campaign"]["name"])
        return load_campaign(campaign_copy(source, folder / "laid", name))
