"""The campaign's own files (campaign YAML, roster, inspectors, evaluators, the office's public
key), kept as bytes.

The ledger records the campaign as parsed (``campaigns.definition``); an archive must also hold
the files as the office wrote them. ``register_and_keep`` (what ``duban init`` runs) registers
the campaign and puts each file's bytes in the raw store, and records their hashes in a
``campaign.sources_kept`` event whenever they differ from the last ones kept, so every version
ever registered can be filed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.clock import Clock
from duban.implement.intake.rawstore import RawStore
from duban.ledger.schema import EventRow
from duban.ledger.store import RegisterReport, append_event, register
from duban.model.loader import CampaignBundle

KEPT = "campaign.sources_kept"


def source_files(bundle: CampaignBundle) -> dict[str, Path]:
    """The files the campaign is made of, by role."""
    campaign, folder = bundle.campaign, bundle.path.parent
    found = {"campaign": bundle.path, "roster": (folder / campaign.roster).resolve()}
    for role, name in (("inspectors", campaign.inspectors), ("evaluators", campaign.evaluators)):
        if name:
            found[role] = (folder / name).resolve()
    if campaign.archive.office_key:  # filed so an archivist knows which key opens the ballots
        found["office_key"] = (folder / campaign.archive.office_key).resolve()
    return found


def register_and_keep(
    session: Session, bundle: CampaignBundle, store: RawStore, clock: Clock, actor: str = "cli"
) -> RegisterReport:
    """``register``, then keep the campaign's files (see the module docstring)."""
    report = register(session, bundle, clock, actor)
    keep_sources(session, bundle, store, clock, actor)
    return report


def keep_sources(
    session: Session, bundle: CampaignBundle, store: RawStore, clock: Clock, actor: str = "cli"
) -> bool:
    """Put the campaign's files in the raw store; record them unless the last record matches."""
    files = {
        role: {"name": path.name, "sha256": store.put(path.read_bytes())}
        for role, path in source_files(bundle).items()
    }
    if last_kept(session, bundle.campaign.id) == files:
        return False
    append_event(session, clock, KEPT, campaign_id=bundle.campaign.id,
                 subject=bundle.path.name, actor=actor, payload={"files": files})  # fmt: skip
    return True


def last_kept(session: Session, campaign_id: str) -> dict[str, Any] | None:
    query = (
        select(EventRow.payload)
        .where(EventRow.campaign_id == campaign_id, EventRow.kind == KEPT)
        .order_by(EventRow.id.desc())
        .limit(1)
    )
    payload = session.scalar(query)
    return None if payload is None else dict(payload.get("files", {}))


def kept_versions(session: Session, campaign_id: str) -> list[dict[str, str]]:
    """Every file version ever kept for the campaign: role, name, sha256 (each once)."""
    query = select(EventRow.payload).where(
        EventRow.campaign_id == campaign_id, EventRow.kind == KEPT
    )
    seen: dict[str, dict[str, str]] = {}
    for payload in session.scalars(query.order_by(EventRow.id)):
        for role, item in dict(payload.get("files", {})).items():
            seen.setdefault(item["sha256"], {"role": role, **item})
    return list(seen.values())
