"""Each unit's appeal form (复核申请表), as ``duban evaluate publish`` attaches it.

The form (``model.appealsheets``) goes through the template machinery every form uses, as a
ballot does: one master per number of lines, a copy per unit with its id, name and token
patched in, the sheet pre-filled with the unit's score-sheet lines in words (numbered as the
score-sheet workbook numbers them) and those cells locked. The token is signed for the
campaign, the evaluation's label and the unit (``AppealIdentity``), apart from the unit's
templates, ballots and scoresheets, and the hidden sheet names the kind and the label, so
intake knows a returned copy for an appeal and whose it is. Every copy is read back and its
token checked before it may be attached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from duban.adapters.xlsx.signedcopy import SignedMaster, attachment_name, office_context
from duban.adapters.xlsx.token import APPEAL, AppealIdentity
from duban.errors import DubanError
from duban.evaluate.report import EvaluationReport
from duban.evaluate.words import sheet_words
from duban.model.appealsheets import APPEAL_KEYS, PREFILLED_KEYS, appeal_form, prefill_rows
from duban.model.loader import CampaignBundle
from duban.model.roster import Unit

FILE_PREFIX = {"zh-CN": "复核申请表", "en": "appeal"}
DELIVERABLE_TITLE = {"zh-CN": "考核结果复核申请", "en": "Appeal against the evaluation"}


def appeal_metadata(label: str) -> tuple[tuple[str, str], ...]:
    """The hidden sheet's rows that make a workbook an appeal form of this evaluation."""
    return (("kind", APPEAL), ("label", label))


def lines_of(report: EvaluationReport, unit_id: str) -> list[tuple[str, str]]:
    """The unit's score-sheet lines as the form lists them: each one's part and words."""
    return [(said.part, said.text) for said in sheet_words(report, report.sheet(unit_id))]


@dataclass
class AppealFormBuilder:
    """The appeal forms of one published evaluation: a signed, pre-filled copy per unit."""

    bundle: CampaignBundle
    label: str
    """The evaluation, such as ``2026``: a form of another evaluation does not verify here."""
    appeals_close: datetime
    """When the appeal window closes: the deadline the instructions sheet shows."""
    secret: bytes
    _masters: dict[int, SignedMaster] = field(default_factory=dict, init=False, repr=False)

    def identity(self, unit: Unit) -> AppealIdentity:
        return AppealIdentity(self.bundle.campaign.id, self.label, unit.id)

    def attachment_name(self, unit: Unit) -> str:
        prefix = FILE_PREFIX[self.bundle.campaign.language]
        return attachment_name(prefix, unit.name)

    def workbook(self, report: EvaluationReport, unit_id: str) -> bytes:
        """The unit's appeal form, read back and its token checked before it may be sent."""
        unit = self.bundle.unit(unit_id)
        lines = lines_of(report, unit_id)
        master = self._master(len(lines))
        data = master.copy(self.secret, self.identity(unit), (unit.id, unit.name),
                           prefill_rows(lines), PREFILLED_KEYS, APPEAL_KEYS)  # fmt: skip
        if data is None:
            raise DubanError(
                f"the appeal form made for {unit.name} ({unit.id}) failed its check",
                zh=f"为{unit.name}（{unit.id}）生成的复核申请表未通过校验",
            )
        return data

    def _master(self, rows: int) -> SignedMaster:
        found = self._masters.get(rows)
        if found is None:
            language = self.bundle.campaign.language
            form = appeal_form(rows, language)
            subject = (f"appeal:{self.label}", DELIVERABLE_TITLE[language], self.label)
            metadata = appeal_metadata(self.label)
            context = office_context(self.bundle, form, subject, self.appeals_close, metadata)
            found = self._masters[rows] = SignedMaster.build(form, context)
        return found
