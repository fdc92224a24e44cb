"""The live ledger's event chain checked (``duban verify``): every event of a campaign linked,
each link following the one before, each event as it was recorded.

An office notes the head it prints outside duban (a register, a dated email): a later check
that ends on the same head proves that no recorded event was changed, removed or slipped in
since, whoever had access to the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from duban.errors import Problem, ProblemsError, UnknownIdError
from duban.ledger.chain import Break, chain_head, live_breaks
from duban.ledger.schema import CampaignRow


@dataclass(frozen=True)
class LiveChain:
    campaign_id: str
    events: int
    head: str


class ChainChangedError(ProblemsError):
    """A campaign's chain does not hold: the event log was changed outside duban."""

    def __init__(
        self, campaign_id: str, problems: list[Problem], then: tuple[str, str] = ("", "")
    ) -> None:
        """``then`` says what was not done because of it (English, Chinese)."""
        super().__init__(
            f"the event log of {campaign_id} was changed outside duban: its hash chain breaks "
            f"at {len(problems)} events{then[0]}",
            problems,
            hint="restore the ledger from a backup taken before, or find out who changed it",
            zh=f"活动 {campaign_id} 的事件日志在 duban 之外被改动：哈希链在 {len(problems)} "
            f"条事件处断开{then[1]}",
            zh_hint="请从此前的备份恢复台账，或查明是谁改动了它",
        )


def as_problems(breaks: list[Break]) -> list[Problem]:
    return [Problem(b.where, b.message, b.zh, b.where.replace("event", "事件")) for b in breaks]


def check_campaigns(session: Session, campaign_id: str | None = None) -> list[LiveChain]:
    """Each campaign's chain (or the one named), checked; the first that breaks is raised
    with every event where it breaks."""
    known = list(session.scalars(select(CampaignRow.id).order_by(CampaignRow.id)))
    if campaign_id is not None and campaign_id not in known:
        raise UnknownIdError("campaign", campaign_id, known, where=" in the ledger",
                             zh_where="台账中")  # fmt: skip
    checked = []
    for cid in [campaign_id] if campaign_id is not None else known:
        breaks = live_breaks(session, cid)
        if breaks:
            raise ChainChangedError(cid, as_problems(breaks))
        events, head = chain_head(session, cid)
        checked.append(LiveChain(cid, events, head))
    return checked
