"""Who sent a file, and may it count? The token names the unit; the sender must be that unit's.

A workbook's metadata sheet names campaign, deliverable, period and unit, signed with the
campaign's secret. The sender must be one of that unit's registered addresses. Anything doubtful
(another unit's template, an unknown sender, a forged or damaged token, another campaign) is
*held* for the coordinator with the reason, never accepted silently and never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from duban.adapters.xlsx.metadata import identity_of
from duban.adapters.xlsx.token import (
    APPEAL,
    BALLOT,
    SCORESHEET,
    VERIFICATION_SHEET,
    AppealIdentity,
    BallotIdentity,
    ScoresheetIdentity,
    SheetIdentity,
    TemplateIdentity,
    verify,
)
from duban.implement.parts import chain_of, led, partnered
from duban.model.campaign import Language
from duban.model.evaluators import Evaluator
from duban.model.loader import CampaignBundle
from duban.model.roster import Unit


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    HELD = "held"
    QUARANTINED = "quarantined"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    code: str
    detail: Mapping[str, Any] = field(default_factory=dict)

    def describe(self, language: Language) -> str:
        return REASONS[language][self.code].format(**self.detail)


@dataclass(frozen=True)
class Identified:
    """A file whose token verifies and whose sender belongs to the unit it names."""

    unit: Unit
    identity: TemplateIdentity
    template_version: str


@dataclass(frozen=True)
class OfficeSheet:
    """A workbook duban wrote for the office (the 核验销号表), signed, from the coordinator's
    own address: its verdicts are the coordinator's to record (``selfcheck.verdicts``)."""

    identity: SheetIdentity


@dataclass(frozen=True)
class InspectionSheet:
    """An inspection team's scoresheet (督查评分表) whose token verifies: the unit's team is
    checked against the sender in the ledger (``inspect.results``), which this step has not."""

    identity: ScoresheetIdentity
    template_version: str


@dataclass(frozen=True)
class EvaluatorBallot:
    """An evaluator's ballot (民主评议测评表) whose token verifies, of an evaluator of the
    register; whether it came from their address and counts is for the ledger to say."""

    evaluator: Evaluator
    identity: BallotIdentity
    template_version: str


@dataclass(frozen=True)
class UnitAppeal:
    """A unit's appeal form (复核申请表) whose token verifies, of a unit of the roster;
    whether it came from the unit's address, and in time, is for the ledger to say."""

    unit: Unit
    identity: AppealIdentity
    template_version: str


REASONS: dict[Language, dict[str, str]] = {
    "zh-CN": {
        "no-metadata": "附件不是本次下发的报送模板（缺少模板信息），"
        "请使用通知邮件所附模板填写后重新报送",
        "other-campaign": "附件是其他活动（{campaign}）的模板，不属于本次报送",
        "unknown-unit": "附件模板所属单位（{unit}）不在本次活动名单中",
        "bad-token": "附件模板的校验码不正确，可能被修改或损坏，请使用通知邮件所附原模板填写",
        "unknown-sender": "发件人 {sender} 不是“{unit_name}”登记的报送邮箱",
        "other-units-template": "发件人 {sender} 属于“{sender_unit}”，但附件是“{unit_name}”的模板",
        "part-from-lead": "附件是配合单位“{unit_name}”的配合报送模板，但发件人 {sender} "
        "属于牵头单位“{sender_unit}”：配合单位的部分须由其自行报送；牵头单位请用本单位的汇总模板报送",
        "lead-report-from-partner": "附件是牵头单位“{unit_name}”的汇总报送模板，但发件人 {sender} "
        "属于配合单位“{sender_unit}”：配合单位请用本单位收到的配合报送模板报送，由系统汇入牵头单位的模板",
        "no-duty": "“{unit_name}”没有需要报送的《{deliverable}》（期次 {period}）",
        "no-workbook": "邮件中没有找到报送表格附件，请将填好的模板作为附件回复",
        "no-workbook-unknown-sender": "发件人 {sender} 未登记，且邮件中没有报送表格",
        "invalid": "报送表格有 {count} 处需要修改",
        "duplicate-message": "与第 {first} 号收件记录完全相同的邮件，已按重复件处理",
        "duplicate-file": "与已受理的第 {version} 版内容完全相同，无需重复报送",
        "automatic-reply": "自动回复邮件（如外出自动答复），不作为报送处理",
        "own-message": "本系统发出的邮件（如督办通知），不作为报送处理",
        "accepted": "已受理",
        "archive": "压缩包（已解压，逐个文件处理）",
        "not-a-workbook": "不是表格文件，未作处理（已留存）",
        "unknown-sender-no-template": "发件人 {sender} 未登记，附件也不是本次下发的模板",
        "reviewed-rejected": "经审核未予受理：{note}",
        "reviewed-attached": "经审核作为“{unit_name}”的来往邮件存档（不作为报送）：{note}",
        "reviewed-dismissed": "经审核不予处理：{note}",
        "unauthenticated-sender": "收件服务器 {authserv} 未能确认这封邮件确由 {sender} 发出"
        "（{results}），可能是他人冒用该地址；请先与该单位核实，再在审核中处理",
        "too-many-parts": "邮件包含的部分超过 {limit} 个，系统只读取了前 {limit} 个，"
        "其余内容（可能包括报送表格）未读取。请将填好的模板单独作为附件，另发一封邮件报送",
        "not-from-coordinator": "核验销号表须由牵头部门（{coordinator}）的邮箱发回，"
        "发件人 {sender} 不是该邮箱，未记录任何核验结论",
        "verdicts-recorded": "核验销号表已记录",
        "verdicts-refused": "核验销号表有 {count} 处问题，未记录任何核验结论",
        "too-deep": "邮件嵌套超过 {limit} 层（层层转发），更深处的内容（可能包括报送表格）"
        "未读取。请将填好的模板单独作为附件，另发一封新邮件报送，不要转发",
        "not-on-team": "发件人 {sender} 不是“{unit_name}”检查组（{team}）成员在检查人员名录中"
        "登记的邮箱，评分表未记录。核实后可在审核中接收（--accept），或在名录中登记该邮箱后请其重新发送",
        "no-visit": "督查“{inspection}”第 {round} 轮没有安排检查“{unit_name}”（或尚未审定），"
        "评分表未记录",
        "scoresheet-recorded": "督查评分表已记录",
        "scoresheet-refused": "督查评分表有 {count} 处问题，未记录评分",
        "unknown-evaluator": "附件是测评表，但评议人（{evaluator}）不在本次活动的评议人名录中",
        "ballot-not-recorded": "附件是评议人“{name}”（{evaluator}）的民主评议测评表（{source}，"
        "{round}），测评表暂不自动记录，已留存待审核",
        "not-evaluator": "附件是评议人“{name}”（{evaluator}）的测评表，但发件人 {sender} 不是其在"
        "评议人名录中登记的邮箱（{email}），测评表未记录。请评议人用登记的邮箱回复，或在名录中更正邮箱",
        "no-ballot-round": "附件是评议人“{name}”（{evaluator}）的测评表，但“{source}”第 {round} 轮"
        "测评表并未发出（或已不是民主评议来源），测评表未记录",
        "ballot-recorded": "民主评议测评表已记录",
        "ballot-refused": "民主评议测评表有 {count} 处问题，未记录",
        "appeal-wrong-sender": "附件是“{unit_name}”的复核申请表，但发件人 {sender} 不是该单位"
        "登记的邮箱（{emails}），复核申请未记录。请该单位用登记的邮箱回复，或在名单中更正邮箱",
        "appeal-not-published": "附件是“{unit_name}”的复核申请表，但考核“{label}”的初步结果"
        "尚未公布，复核申请未记录",
        "appeal-frozen": "考核“{label}”已于第 {version} 版定稿，复核申请已截止，本表未记录",
        "appeal-late": "复核申请截止时间为{closes_text}，本表送达时已过截止时间，未记录",
        "appeal-empty": "复核申请表中没有填写任何复核理由，未记录：请在有异议的得分说明所在行的"
        "“复核理由”栏写明理由",
        "appeal-refused": "复核申请表有 {count} 处问题，未记录",
        "appeal-recorded": "复核申请已记录",
    },
    "en": {
        "no-metadata": "the attachment is not the template sent for this submission (its "
        "template information is missing); fill in the template attached to the notice",
        "other-campaign": "the attachment is a template of another campaign ({campaign})",
        "unknown-unit": "the template's unit ({unit}) is not on this campaign's roster",
        "bad-token": "the template's check code is wrong: it was changed or damaged; use the "
        "template attached to the notice",
        "unknown-sender": "{sender} is not a registered address of {unit_name}",
        "other-units-template": "{sender} belongs to {sender_unit}, but the attachment is "
        "the template of {unit_name}",
        "part-from-lead": "the attachment is the part template of the partner {unit_name}, but "
        "{sender} belongs to the lead {sender_unit}: a partner sends its own part; the lead "
        "reports on its own template, which holds the partners' parts",
        "lead-report-from-partner": "the attachment is the report template of the lead "
        "{unit_name}, but {sender} belongs to its partner {sender_unit}: a partner reports on "
        "its own part template, and duban passes its rows on to the lead's",
        "no-duty": "{unit_name} owes no {deliverable} for period {period}",
        "no-workbook": "no workbook was attached; reply with the filled template attached",
        "no-workbook-unknown-sender": "{sender} is not registered and sent no workbook",
        "invalid": "the workbook has {count} problem(s) to fix",
        "duplicate-message": "the same message as intake record {first}: kept as a duplicate",
        "duplicate-file": "the same content as accepted version {version}: nothing to do",
        "automatic-reply": "an automatic reply (such as out of office), not a submission",
        "own-message": "a message duban itself sent (such as an escalation), not a submission",
        "accepted": "accepted",
        "archive": "an archive: unpacked, each file handled on its own",
        "not-a-workbook": "not a workbook: kept, not processed",
        "unknown-sender-no-template": "{sender} is not registered and sent no duban template",
        "reviewed-rejected": "not accepted after review: {note}",
        "reviewed-attached": "kept as correspondence of {unit_name} after review (not a "
        "submission): {note}",
        "reviewed-dismissed": "dismissed after review: {note}",
        "unauthenticated-sender": "the receiving server {authserv} did not confirm that "
        "{sender} sent this message ({results}): it may be forged; check with the unit before "
        "deciding it in review",
        "too-many-parts": "the message has more than {limit} parts; only the first {limit} were "
        "read, and the rest (perhaps the workbook) was not: send the filled template alone, "
        "attached to a new message",
        "not-from-coordinator": "a verification sheet is taken only from the coordinator's "
        "address ({coordinator}); {sender} is not it, and nothing was recorded",
        "verdicts-recorded": "the verification sheet was recorded",
        "verdicts-refused": "the verification sheet has {count} problem(s); nothing was recorded",
        "too-deep": "the message is nested more than {limit} levels deep (forwarded within "
        "forwarded messages), and what lies deeper (perhaps the workbook) was not read: send "
        "the filled template alone, attached to a new message rather than forwarded",
        "not-on-team": "{sender} is not an address the inspector register gives for a member "
        "of the team of {unit_name} ({team}); the scoresheet was not recorded. Once checked, "
        "accept it in review (--accept), or add the address to the inspector register and ask "
        "for the sheet again",
        "no-visit": "round {round} of inspection {inspection} has no visit to {unit_name} (or "
        "is not approved); the scoresheet was not recorded",
        "scoresheet-recorded": "the scoresheet was recorded",
        "scoresheet-refused": "the scoresheet has {count} problem(s); no score was recorded",
        "unknown-evaluator": "the attachment is a ballot, but its evaluator ({evaluator}) is "
        "not in this campaign's evaluator register",
        "ballot-not-recorded": "the attachment is the ballot of evaluator {name} ({evaluator}) "
        "for {source}, round {round}; ballots are not recorded automatically yet: kept for "
        "review",
        "not-evaluator": "the attachment is the ballot of evaluator {name} ({evaluator}), but "
        "{sender} is not the address the evaluator register gives for them ({email}); the "
        "ballot was not recorded. Ask the evaluator to reply from that address, or correct the "
        "register",
        "no-ballot-round": "the attachment is the ballot of evaluator {name} ({evaluator}), but "
        "no ballots of round {round} of {source} were sent (or it is no longer a public "
        "evaluation); the ballot was not recorded",
        "ballot-recorded": "the ballot was recorded",
        "ballot-refused": "the ballot has {count} problem(s); nothing was recorded",
        "appeal-wrong-sender": "the attachment is the appeal form of {unit_name}, but {sender} "
        "is not an address the roster gives for it ({emails}); the appeal was not recorded. "
        "Ask the unit to reply from one of them, or correct the roster",
        "appeal-not-published": "the attachment is the appeal form of {unit_name}, but the "
        "preliminary result of evaluation {label} has not been published; the appeal was not "
        "recorded",
        "appeal-frozen": "evaluation {label} was frozen at version {version}: appeals are "
        "closed, and this form was not recorded",
        "appeal-late": "appeals had to arrive by the close ({closes_text}); this form came "
        "after it and was not recorded",
        "appeal-empty": "the appeal form gives no reasons, and nothing was recorded: write your "
        "reasons in the Reasons column next to the line you dispute",
        "appeal-refused": "the appeal form has {count} problem(s); nothing was recorded",
        "appeal-recorded": "the appeal was recorded",
    },
}


Who = Identified | OfficeSheet | InspectionSheet | EvaluatorBallot | UnitAppeal | Verdict
"""Whom a read workbook is from, or why that is doubted."""


def unit_of_sender(bundle: CampaignBundle, sender: str | None) -> Unit | None:
    return bundle.unit_of_address(sender)


def identify(
    metadata: Mapping[str, str] | None,
    sender: str | None,
    bundle: CampaignBundle,
    secret: bytes,
) -> Who:
    """Check a workbook's metadata and its sender; the first doubt found decides."""
    if metadata and metadata.get("kind") == VERIFICATION_SHEET:
        return _office_sheet(metadata, sender, bundle, secret)
    if metadata and metadata.get("kind") == SCORESHEET:
        return _scoresheet(metadata, bundle, secret)
    if metadata and metadata.get("kind") == BALLOT:
        return identify_ballot(metadata, bundle, secret)
    if metadata and metadata.get("kind") == APPEAL:
        return identify_appeal(metadata, bundle, secret)
    if not metadata or "unit_id" not in metadata:
        return Verdict(Outcome.REJECTED, "no-metadata")
    if metadata.get("campaign") != bundle.campaign.id:
        return Verdict(Outcome.HELD, "other-campaign", {"campaign": metadata.get("campaign")})
    unit = bundle.units_by_id.get(metadata["unit_id"])
    if unit is None:
        return Verdict(Outcome.HELD, "unknown-unit", {"unit": metadata["unit_id"]})
    try:
        identity = identity_of(metadata)
    except (KeyError, ValueError):
        return Verdict(Outcome.HELD, "bad-token")
    if not verify(secret, identity, metadata.get("token", "")):
        return Verdict(Outcome.HELD, "bad-token")
    if sender is None or not unit.has_address(sender):
        return _wrong_sender(bundle, sender or "?", unit, identity.deliverable_id)
    return Identified(unit, identity, metadata.get("template_version", ""))


def _office_sheet(
    metadata: Mapping[str, str], sender: str | None, bundle: CampaignBundle, secret: bytes
) -> OfficeSheet | Verdict:
    """A verification sheet: of this campaign, its token signed for it, and sent from the
    coordinator's address in the campaign file (anyone else's copy is held, as a unit's
    template from a stranger is)."""
    if metadata.get("campaign") != bundle.campaign.id:
        return Verdict(Outcome.HELD, "other-campaign", {"campaign": metadata.get("campaign")})
    try:
        identity = SheetIdentity(VERIFICATION_SHEET, bundle.campaign.id, metadata["issued"])
    except (KeyError, ValueError):
        return Verdict(Outcome.HELD, "bad-token")
    if not verify(secret, identity, metadata.get("token", "")):
        return Verdict(Outcome.HELD, "bad-token")
    coordinator = str(bundle.campaign.roles.coordinator.email)
    if sender is None or sender.strip().lower() != coordinator.lower():
        detail = {"sender": sender or "?", "coordinator": coordinator}
        return Verdict(Outcome.HELD, "not-from-coordinator", detail)
    return OfficeSheet(identity)


def _scoresheet(
    metadata: Mapping[str, str], bundle: CampaignBundle, secret: bytes
) -> InspectionSheet | Verdict:
    """A scoresheet of this campaign, of a unit on the roster, its token signed for its
    inspection, round and unit; whether the sender is on the team is the ledger's to say."""
    if metadata.get("campaign") != bundle.campaign.id:
        return Verdict(Outcome.HELD, "other-campaign", {"campaign": metadata.get("campaign")})
    if metadata.get("unit_id") not in bundle.units_by_id:
        return Verdict(Outcome.HELD, "unknown-unit", {"unit": metadata.get("unit_id")})
    try:
        identity = ScoresheetIdentity(bundle.campaign.id, metadata["inspection"],
                                      metadata["round"], metadata["unit_id"])  # fmt: skip
    except (KeyError, ValueError):
        return Verdict(Outcome.HELD, "bad-token")
    if not verify(secret, identity, metadata.get("token", "")):
        return Verdict(Outcome.HELD, "bad-token")
    return InspectionSheet(identity, metadata.get("template_version", ""))


def identify_ballot(
    metadata: Mapping[str, str], bundle: CampaignBundle, secret: bytes
) -> EvaluatorBallot | Verdict:
    """A ballot of this campaign, of an evaluator of the register (the metadata's
    ``unit_id`` holds the evaluator's id: a ballot is never a unit's), its token signed for
    its source, round and evaluator; the sender and the round are the ledger's to check."""
    if metadata.get("campaign") != bundle.campaign.id:
        return Verdict(Outcome.HELD, "other-campaign", {"campaign": metadata.get("campaign")})
    wanted = metadata.get("unit_id")
    evaluator = next((e for e in bundle.evaluators if e.id == wanted), None)
    if evaluator is None:
        return Verdict(Outcome.HELD, "unknown-evaluator", {"evaluator": wanted})
    try:
        identity = BallotIdentity(bundle.campaign.id, metadata["source"], metadata["round"],
                                  evaluator.id)  # fmt: skip
    except (KeyError, ValueError):
        return Verdict(Outcome.HELD, "bad-token")
    if not verify(secret, identity, metadata.get("token", "")):
        return Verdict(Outcome.HELD, "bad-token")
    return EvaluatorBallot(evaluator, identity, metadata.get("template_version", ""))


def identify_appeal(
    metadata: Mapping[str, str], bundle: CampaignBundle, secret: bytes
) -> UnitAppeal | Verdict:
    """An appeal form of this campaign, of a unit of the roster, its token signed for the
    evaluation's label and the unit; the sender, the publication and the window are the
    ledger's to check."""
    if metadata.get("campaign") != bundle.campaign.id:
        return Verdict(Outcome.HELD, "other-campaign", {"campaign": metadata.get("campaign")})
    unit = bundle.units_by_id.get(metadata.get("unit_id", ""))
    if unit is None:
        return Verdict(Outcome.HELD, "unknown-unit", {"unit": metadata.get("unit_id")})
    try:
        identity = AppealIdentity(bundle.campaign.id, metadata["label"], unit.id)
    except (KeyError, ValueError):
        return Verdict(Outcome.HELD, "bad-token")
    if not verify(secret, identity, metadata.get("token", "")):
        return Verdict(Outcome.HELD, "bad-token")
    return UnitAppeal(unit, identity, metadata.get("template_version", ""))


def _wrong_sender(bundle: CampaignBundle, sender: str, unit: Unit, deliverable_id: str) -> Verdict:
    other = unit_of_sender(bundle, sender)
    if other is None:
        return Verdict(Outcome.HELD, "unknown-sender", {"sender": sender, "unit_name": unit.name})
    detail = {"sender": sender, "sender_unit": other.name, "unit_name": unit.name}
    return Verdict(Outcome.HELD, _mixed_up(bundle, deliverable_id, unit, other), detail)


def _mixed_up(bundle: CampaignBundle, deliverable_id: str, unit: Unit, sender: Unit) -> str:
    """Why another unit's template is held: in a key task chain, a lead sending its
    partner's part or a partner the lead's report is said as such."""
    campaign = bundle.campaign
    deliverable = next((d for d in campaign.deliverables if d.id == deliverable_id), None)
    chain = None if deliverable is None else chain_of(campaign, deliverable)
    if chain is None:
        return "other-units-template"
    partners, leads = (unit, sender) if deliverable_id == chain.parts.id else (sender, unit)
    partnered_ids = {t.id for t in partnered(campaign, chain, partners.id)}
    if not partnered_ids & {t.id for t in led(campaign, chain, leads.id)}:
        return "other-units-template"
    return "part-from-lead" if partners is unit else "lead-report-from-partner"
