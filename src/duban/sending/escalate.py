"""Escalations to the group bots, exactly once: each post is a ledger row before it goes out.

One post per escalation group (a deliverable period, a rung, a day; or the rectification items
reaching a rung on a day) and bot, keyed
``bot:<group>:<bot number>``: recorded as pending, posted through the rate-limited sender,
marked sent or failed. Like every message, a post is claimed before it goes out
(``duban.sending.dispatch.claim``), so two runs never post it twice; a rerun posts only what is
still pending or failed, or left 'sending' by a crashed run past the claim window. The window
left is the one of every sender: a crash after the platform accepted a post and before its row
committed posts it again on the next run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from duban.adapters.bots import BotConnectionError, BotMessage, BotResult, BotSender, BotSpec
from duban.adapters.bots.render import render
from duban.clock import Clock
from duban.implement.chase import BotPoster, EscalationGroup, ItemEscalation
from duban.ledger.schema import MessageRow
from duban.model.forms import display_title
from duban.model.loader import CampaignBundle
from duban.sending.dispatch import DONE, claim, new_run_id

Keep = Callable[[bytes], str]
"""Stores bytes durably and returns their SHA-256 (the raw store's ``put``)."""

STATE_ZH = {"overdue": "未报送", "rejected": "退回待重报"}


def group_message(group: EscalationGroup, bundle: CampaignBundle) -> BotMessage:
    campaign_title = display_title(bundle.campaign.title, bundle.campaign.language)
    deliverable = bundle.campaign.deliverable(group.deliverable_id).title
    title = (
        f"【督办】{campaign_title}：《{deliverable}》{_period(group.period)}"
        f"{len(group.owed)}个单位逾期未报送"
    )
    lines = [f"{n}. {o.unit.name}（{STATE_ZH.get(o.state.value, o.state.value)}）"
             for n, o in enumerate(group.owed, start=1)]  # fmt: skip
    units = [o.unit.name for o in group.owed]
    return BotMessage(title=title, lines=lines, units=units, campaign=campaign_title)


def items_message(group: ItemEscalation, bundle: CampaignBundle) -> BotMessage:
    """The items' escalation: how many items of how many units, one line an item."""
    campaign_title = display_title(bundle.campaign.title, bundle.campaign.language)
    units = sorted({o.unit.name for o in group.items})
    title = f"【督办】{campaign_title}：{len(units)}个单位{len(group.items)}项整改事项逾期未完成"
    lines = [f"{n}. {o.unit.name} {o.item.code}（逾期{o.late_days}个工作日）"
             for n, o in enumerate(group.items, start=1)]  # fmt: skip
    return BotMessage(title=title, lines=lines, units=units, campaign=campaign_title)


def _period(period: str) -> str:
    return "" if period == "once" else f"（{period}）"


def ledger_bot_poster(
    sender: BotSender,
    specs: Sequence[BotSpec],
    clock: Clock,
    bundle: CampaignBundle,
    keep: Keep | None = None,
) -> BotPoster:
    def post(session: Session, groups: Sequence[EscalationGroup | ItemEscalation]) -> list[Any]:
        results: list[BotResult] = []
        for group in groups:
            message = (
                group_message(group, bundle)
                if isinstance(group, EscalationGroup)
                else items_message(group, bundle)
            )
            campaign_id = group.key.split(":")[1]
            for number, spec in enumerate(specs, start=1):
                key = f"bot:{group.key}:{number}"
                result = post_once(session, sender, spec, key, campaign_id, message, clock, keep)
                if result is not None:
                    results.append(result)
        return results

    return post


def post_once(
    session: Session,
    sender: BotSender,
    spec: BotSpec,
    key: str,
    campaign_id: str,
    message: BotMessage,
    clock: Clock,
    keep: Keep | None = None,
) -> BotResult | None:
    """Post ``message`` to one bot unless the ledger says it was posted under ``key``.
    ``keep`` stores what is posted (the bot's JSON bodies, before any signature, which
    changes with the time) and the intent records its SHA-256, as the mailer keeps mail."""
    row = session.scalars(select(MessageRow).where(MessageRow.idempotency_key == key)).first()
    if row is not None and row.status in DONE:
        return None
    if row is None:
        _record_intent(session, spec, key, campaign_id, message, clock, keep)
    row = claim(session, [key], new_run_id(), clock).get(key)
    if row is None:  # posted, or being posted by another run
        return None
    try:
        result = sender.send(spec, message)
    except BotConnectionError as error:
        row.status, row.error = "failed", str(error)
        session.commit()
        raise
    row.status = "sent" if result.ok else "failed"
    row.error = None if result.ok else str(result.detail)
    row.sent_at = clock.now()
    session.commit()
    return result


def _record_intent(
    session: Session,
    spec: BotSpec,
    key: str,
    campaign_id: str,
    message: BotMessage,
    clock: Clock,
    keep: Keep | None,
) -> None:
    """Insert the pending row; if another run inserted it first, its row is the one claimed."""
    kept = None
    if keep is not None:
        bodies = json.dumps(render(spec.kind, message), ensure_ascii=False, sort_keys=True)
        kept = keep(bodies.encode("utf-8"))
    row = MessageRow(
        idempotency_key=key, campaign_id=campaign_id, instance_id=None, kind="bot",
        recipients=[spec.label], subject=message.title, message_id=None,
        status="pending", refused=[], created_at=clock.now(), raw_sha256=kept,
    )  # fmt: skip
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
