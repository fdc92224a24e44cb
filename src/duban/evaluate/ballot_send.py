"""Sending a public evaluation's ballots (民主评议测评表, issue 17 item 1): each evaluator of
the register one message saying what is evaluated, the scale, when the round closes and that
comments stay anonymous outside the office, with their personal ballot attached.

Exactly once through ``dispatch``: every message is keyed by campaign, source, round and
evaluator (``ballot:<campaign>:<source>:<label>:evaluator:<id>``), so a second run, or two at
once, sends nothing twice, and a run cut short is finished by the next. The close is named
when the round is first sent and kept in its ``evaluation.ballots-sent`` event (written once,
under the round's lock, before any ballot goes out: an evaluator may answer while the rest are
still being sent); a later run reuses it, and refuses a different one rather than tell some
evaluators one close and others another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from jinja2 import Environment
from sqlalchemy.orm import Session

from duban.adapters.mail.mailer import Mailer
from duban.adapters.mail.message import Address, Attachment, OutgoingMessage
from duban.adapters.render import format_day, format_due, render_message
from duban.clock import Clock
from duban.errors import DubanError
from duban.evaluate.ballot_ledger import SENT_EVENT, BallotRound, ballot_round, round_subject
from duban.evaluate.ballotsheets import BallotBuilder
from duban.ledger.db import hold_write_lock
from duban.ledger.store import append_event
from duban.mobilize.notices import XLSX_TYPE
from duban.model.evaluators import Evaluator
from duban.model.loader import CampaignBundle
from duban.model.scoring import ScoreSource
from duban.sending.dispatch import DONE, Draft, dispatch

BALLOT_KIND = "ballot"


class BallotSendError(DubanError):
    """Ballots that cannot go out: no such public evaluation, no register, no close known, or
    a close other than the one the round was sent with."""


@dataclass(frozen=True)
class BallotSendReport:
    """What ``send_ballots`` did: the round, its close, how many evaluators it addresses, how
    many messages this call sent, and the keys still unsent."""

    label: str
    closes: datetime
    evaluators: int
    sent: int
    unsent: tuple[str, ...] = ()


def ballot_key(bundle: CampaignBundle, source_id: str, label: str, evaluator_id: str) -> str:
    return f"ballot:{bundle.campaign.id}:{source_id}:{label}:evaluator:{evaluator_id}"


def default_label(bundle: CampaignBundle, now: datetime) -> str:
    """The round's default name: the year the campaign's evaluation phase (评议考核) starts
    in (one that runs into January still evaluates the year before), or this year when the
    campaign has none."""
    phase = next((p for p in bundle.campaign.phases if p.kind == "evaluate"), None)
    return str(phase.start.year if phase is not None else now.astimezone(bundle.campaign.zone).year)


def public_evaluation(bundle: CampaignBundle, source_id: str) -> ScoreSource:
    """The scoring's public-evaluation source of this id, or an error naming those there are."""
    sources = [s for s in bundle.campaign.scoring.sources if s.kind == "public-evaluation"]
    found = next((s for s in sources if s.id == source_id), None)
    if found is None:
        known = ", ".join(s.id for s in sources) or "none"
        raise BallotSendError(
            f"{source_id!r} is not a public-evaluation source of the scoring (these are: {known})",
            hint="name one with --source",
            zh=f"“{source_id}”不是考核来源中的民主评议（public-evaluation）来源（现有：{known}）",
            zh_hint="请用 --source 指定",
        )
    return found


def send_ballots(
    session: Session,
    bundle: CampaignBundle,
    source_id: str,
    label: str,
    *,
    closes: datetime | None,
    mailer: Mailer,
    clock: Clock,
    secret: bytes,
    env: Environment,
) -> BallotSendReport:
    """Send every evaluator of the register their ballot, unless sent before; ``closes`` is
    needed the first time (then kept), and may be left out or repeated later. The session is
    committed along the way (``dispatch`` commits)."""
    source = public_evaluation(bundle, source_id)
    if not bundle.evaluators:
        raise BallotSendError(
            "the campaign has no evaluators: its evaluator register is missing or empty",
            hint="name the register in the campaign file (evaluators: evaluators.csv)",
            zh="本活动没有评议人：活动文件未指定评议人名录，或名录为空",
            zh_hint="请在活动文件中写明评议人名录（evaluators: evaluators.csv）",
        )
    opened = _open_round(session, bundle, source, label, closes, clock)
    composer = _Composer(bundle, source, opened, secret, env, clock.now())
    drafts = [composer.ballot(e) for e in bundle.evaluators]
    domain = str(bundle.campaign.roles.coordinator.email).rsplit("@", 1)[1]
    outcomes = dispatch(session, drafts, mailer, clock, message_id_domain=domain)
    unsent = tuple(o.key for o in outcomes if o.status not in DONE)
    return BallotSendReport(label, opened.closes, len(drafts),
                            sum(o.sent_now for o in outcomes), unsent)  # fmt: skip


def _open_round(
    session: Session,
    bundle: CampaignBundle,
    source: ScoreSource,
    label: str,
    closes: datetime | None,
    clock: Clock,
) -> BallotRound:
    """The round's close, recorded once (under the round's lock, re-read, so two runs at once
    record it once) and committed before any ballot is sent."""
    campaign_id = bundle.campaign.id
    hold_write_lock(session.connection(), f"ballots:{campaign_id}:{source.id}:{label}")
    found = ballot_round(session, campaign_id, source.id, label)
    if found is not None:
        if closes is not None and closes != found.closes:
            raise _other_close(bundle, label, found.closes, closes)
        session.commit()
        return found
    if closes is None:
        raise BallotSendError(
            f"ballots of round {label} have not been sent yet: say when the round closes",
            hint="add --closes, e.g. --closes 2026-12-18 (the whole day counts) or "
            "--closes 2026-12-18T17:30",
            zh=f"第 {label} 轮测评表尚未发出，须写明测评截止时间",
            zh_hint="请加上 --closes，如 --closes 2026-12-18（当天24:00截止）"
            "或 --closes 2026-12-18T17:30",
        )
    opened = BallotRound(source.id, label, closes, len(bundle.evaluators))
    append_event(
        session, clock, SENT_EVENT, campaign_id=campaign_id,
        subject=round_subject(source.id, label),
        payload={"source": source.id, "label": label, "closes": closes.isoformat(),
                 "evaluators": len(bundle.evaluators)},
    )  # fmt: skip
    session.commit()
    return opened


def _other_close(
    bundle: CampaignBundle, label: str, recorded: datetime, asked: datetime
) -> BallotSendError:
    campaign = bundle.campaign
    was = format_due(recorded, campaign.zone, "en")
    asked_text = format_due(asked, campaign.zone, "en")
    was_zh = format_due(recorded, campaign.zone, "zh-CN")
    asked_zh = format_due(asked, campaign.zone, "zh-CN")
    return BallotSendError(
        f"round {label} was sent closing {was}, not {asked_text}: its evaluators were told "
        "that close",
        hint="leave --closes out to finish sending the round with its close",
        zh=f"第 {label} 轮测评表发出时告知的截止时间是{was_zh}，不是{asked_zh}",
        zh_hint="继续发送本轮时请不要写 --closes（沿用已告知的截止时间）",
    )


class _Composer:
    """The drafts of one round: what every message shares, and the ballots' builder."""

    def __init__(
        self,
        bundle: CampaignBundle,
        source: ScoreSource,
        opened: BallotRound,
        secret: bytes,
        env: Environment,
        now: datetime,
    ) -> None:
        campaign = bundle.campaign
        self.bundle, self.source, self.label, self.env, self.now = (
            bundle, source, opened.label, env, now,
        )  # fmt: skip
        self.ballots = BallotBuilder(bundle, source, opened.label, opened.closes, secret)
        self.common: dict[str, Any] = {
            "campaign": campaign,
            "source": source,
            "label": opened.label,
            "scale": scale_words(source),
            "numeric": source.ballot_spec.scale == "0-100",
            "closes_text": format_due(opened.closes, campaign.zone, campaign.language),
            "coordinator": campaign.roles.coordinator,
            "sent_on": format_day(now, campaign.zone, campaign.language),
        }

    def ballot(self, evaluator: Evaluator) -> Draft:
        campaign = self.bundle.campaign
        name = self.ballots.attachment_name(evaluator)
        context = {**self.common, "evaluator": evaluator, "attachment": name,
                   "units": len(self.ballots.rated(evaluator))}  # fmt: skip
        rendered = render_message(self.env, campaign.language, BALLOT_KIND, context)
        coordinator = campaign.roles.coordinator
        sender = Address(coordinator.name, str(coordinator.email))
        to = (Address(evaluator.name, evaluator.email),)
        key = ballot_key(self.bundle, self.source.id, self.label, evaluator.id)
        headers = {"Reply-To": str(coordinator.email), "Auto-Submitted": "auto-generated",
                   "X-Duban-Key": key}  # fmt: skip

        def compose(message_id: str) -> OutgoingMessage:
            attachment = Attachment(name, self.ballots.workbook(evaluator), XLSX_TYPE)
            return OutgoingMessage(
                sender=sender, to=to, subject=rendered.subject, text=rendered.text,
                html=rendered.html, attachments=(attachment,), message_id=message_id,
                date=self.now, headers=headers,
            )  # fmt: skip

        return Draft(key=key, kind=BALLOT_KIND, campaign_id=campaign.id, instance_id=None,
                     recipients=(evaluator.email,), subject=rendered.subject,
                     compose=compose)  # fmt: skip


def scale_words(source: ScoreSource) -> list[dict[str, str]]:
    """The scale as the message lists it: each word with its points (none for ``0-100``)."""
    scale = source.ballot_spec.scale
    if scale == "0-100":
        return []
    return [{"word": word, "points": _plain(points)} for word, points in scale.items()]


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")
