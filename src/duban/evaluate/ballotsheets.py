"""Each evaluator's personal ballot workbook (民主评议测评表), as they receive it.

The ballot's form (``model.ballotsheets``) goes through the template machinery every form
uses: one master per number of rows, a copy per evaluator with their id, name and token
patched in, the sheet pre-filled with the units they rate (never their own) and those cells
locked. The token is signed for the campaign, the public-evaluation source, the round (its
label, such as the year) and the evaluator (``BallotIdentity``), apart from units' templates
and scoresheets, and the hidden sheet names the kind, source and round, so intake knows a
returned copy for a ballot and whose it is: one valid ballot counts per evaluator. Every copy
is read back and its token checked before it may be attached, as a scoresheet is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from duban.adapters.xlsx.signedcopy import SignedMaster, attachment_name, office_context
from duban.adapters.xlsx.token import BALLOT, BallotIdentity
from duban.errors import DubanError
from duban.model.ballotsheets import BALLOT_KEYS, PREFILLED_KEYS, ballot_form, prefill_rows
from duban.model.evaluators import Evaluator
from duban.model.loader import CampaignBundle
from duban.model.roster import Unit
from duban.model.scoring import ScoreSource

FILE_PREFIX = {"zh-CN": "测评表", "en": "ballot"}


def ballot_metadata(source: ScoreSource, label: str) -> tuple[tuple[str, str], ...]:
    """The hidden sheet's rows that make a workbook a ballot of this round."""
    return (("kind", BALLOT), ("source", source.id), ("round", label))


@dataclass
class BallotBuilder:
    """The ballots of one round of a public evaluation: a signed, pre-filled copy per
    evaluator of the register."""

    bundle: CampaignBundle
    source: ScoreSource
    label: str
    """The round, such as ``2026``: a ballot of another round does not verify for this one."""
    due_at: datetime
    """When ballots close: the deadline the instructions sheet shows."""
    secret: bytes
    _masters: dict[int, SignedMaster] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.source.kind != "public-evaluation":
            raise DubanError(
                f"source {self.source.id!r} is not a public evaluation; it has no ballots",
                zh=f"考核来源“{self.source.id}”不是民主评议，没有测评表",
            )

    def rated(self, evaluator: Evaluator) -> list[Unit]:
        return evaluator.rated(self.bundle.units)

    def identity(self, evaluator: Evaluator) -> BallotIdentity:
        campaign_id = self.bundle.campaign.id
        return BallotIdentity(campaign_id, self.source.id, self.label, evaluator.id)

    def attachment_name(self, evaluator: Evaluator) -> str:
        prefix = FILE_PREFIX[self.bundle.campaign.language]
        return attachment_name(prefix, self.source.title, evaluator.name)

    def workbook(self, evaluator: Evaluator) -> bytes:
        """The evaluator's ballot, read back and its token checked before it may be sent."""
        units = self.rated(evaluator)
        master = self._master(len(units))
        data = master.copy(self.secret, self.identity(evaluator), (evaluator.id, evaluator.name),
                           prefill_rows(units), PREFILLED_KEYS, BALLOT_KEYS)  # fmt: skip
        if data is None:
            raise DubanError(
                f"the ballot made for {evaluator.name} ({evaluator.id}) failed its check",
                zh=f"为{evaluator.name}（{evaluator.id}）生成的测评表未通过校验",
            )
        return data

    def _master(self, rows: int) -> SignedMaster:
        found = self._masters.get(rows)
        if found is None:
            form = ballot_form(self.source, rows, self.bundle.campaign.language)
            subject = (f"public-evaluation:{self.source.id}", self.source.title, self.label)
            metadata = ballot_metadata(self.source, self.label)
            context = office_context(self.bundle, form, subject, self.due_at, metadata)
            found = self._masters[rows] = SignedMaster.build(form, context)
        return found
