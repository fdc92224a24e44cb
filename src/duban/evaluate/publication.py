"""When an evaluation's preliminary result was published, and until when units may appeal.

``duban evaluate publish`` sends each unit its score sheet (得分说明) and appeal form (复核申请
表). Before the first message goes out, the publication is recorded once, in an
``evaluation.published`` event: the version published, the moment, and when the appeal window
closes (the end of the ``scoring.appeal_days``-th working day after the day of publication,
as a due day counts whole). Every unit is told that close, intake reads the same moment to
say whether an appeal came in time, and a later run of ``publish`` reuses it rather than tell
some units one close and others another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.implement.duties import end_of_day
from duban.ledger.schema import EventRow
from duban.model.loader import CampaignBundle

PUBLISHED_EVENT = "evaluation.published"
BULLETIN_EVENT = "evaluation.bulletin-sent"


def evaluation_subject(label: str) -> str:
    """The subject of every event about one evaluation (computed, appealed, published …)."""
    return f"evaluation:{label}"


@dataclass(frozen=True)
class Publication:
    """A preliminary result as published: which version, when, and the appeal window."""

    label: str
    version: int
    published_at: datetime
    appeals_close: datetime

    def open_at(self, moment: datetime) -> bool:
        """Whether an appeal received at ``moment`` is in time."""
        return moment < self.appeals_close


def appeals_close(bundle: CampaignBundle, published_at: datetime) -> datetime:
    """The end of the ``appeal_days``-th working day after the day of publication."""
    day = published_at.astimezone(bundle.campaign.zone).date()
    last = bundle.calendar.add_working_days(day, bundle.campaign.scoring.appeal_days)
    return end_of_day(last, bundle)


def publication(session: Session, campaign_id: str, label: str) -> Publication | None:
    """The evaluation's publication as its first event recorded it (the window every unit was
    told); ``None`` before it was published."""
    payload = next(iter(_published(session, campaign_id, label)), None)
    if payload is None:
        return None
    return Publication(
        label,
        int(payload["version"]),
        datetime.fromisoformat(str(payload["published_at"])),
        datetime.fromisoformat(str(payload["appeals_close"])),
    )


def published_versions(session: Session, campaign_id: str, label: str) -> list[int]:
    """The versions published so far, in the order they were."""
    return [int(p["version"]) for p in _published(session, campaign_id, label)]


def _published(session: Session, campaign_id: str, label: str) -> list[dict[str, Any]]:
    return list(
        session.scalars(
            select(EventRow.payload)
            .where(
                EventRow.campaign_id == campaign_id,
                EventRow.kind == PUBLISHED_EVENT,
                EventRow.subject == evaluation_subject(label),
            )
            .order_by(EventRow.id)
        )
    )
