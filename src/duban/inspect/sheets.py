"""Each inspected unit's scoresheet workbook (督查评分表), as its team receives it.

The checklist's form (``model.scoresheets``) goes through the template machinery every form
uses: one master a round, a copy per unit with the unit's id, name and token patched in, the
scores sheet pre-filled with the checklist's items and locked. The token is signed for the
campaign, inspection, round and unit (``ScoresheetIdentity``), apart from units' templates,
and the hidden sheet names the kind, inspection and round, so intake knows a returned copy
for a scoresheet and whose it is. Every copy is read back and its token checked before it
may be attached, as a unit's notice template is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from duban.adapters.render import format_due
from duban.adapters.xlsx.prefill import SheetPrefiller
from duban.adapters.xlsx.template import (
    MasterTemplate,
    TemplateContext,
    build_master,
    read_metadata,
)
from duban.adapters.xlsx.token import SCORESHEET, ScoresheetIdentity, sign, verify
from duban.errors import DubanError
from duban.model.forms import Form, display_title
from duban.model.inspections import Checklist, InspectionSpec
from duban.model.loader import CampaignBundle
from duban.model.roster import Unit
from duban.model.scoresheets import PREFILLED_KEYS, SCORE_KEYS, prefill_rows, scoresheet_form

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')
FILE_PREFIX = {"zh-CN": "督查评分表", "en": "scoresheet"}


def scoresheet_metadata(spec: InspectionSpec, label: str) -> tuple[tuple[str, str], ...]:
    """The hidden sheet's rows that make a workbook a scoresheet of this round."""
    return (("kind", SCORESHEET), ("inspection", spec.id), ("round", label))


@dataclass
class ScoresheetBuilder:
    """The scoresheets of one round: one master, a signed, pre-filled copy per unit."""

    bundle: CampaignBundle
    spec: InspectionSpec
    label: str
    due_at: datetime
    """The end of the visit window: the deadline the instructions sheet shows."""
    secret: bytes

    @cached_property
    def checklist(self) -> Checklist:
        return self.bundle.campaign.checklist(self.spec.checklist)

    @cached_property
    def form(self) -> Form:
        return scoresheet_form(self.checklist, self.bundle.campaign.language)

    @cached_property
    def master_bytes(self) -> bytes:
        campaign = self.bundle.campaign
        coordinator = campaign.roles.coordinator
        context = TemplateContext(
            language=campaign.language,
            campaign_id=campaign.id,
            campaign_title=display_title(campaign.title, campaign.language),
            deliverable_id=f"inspection:{self.spec.id}",
            deliverable_title=self.spec.title,
            period=self.label,
            due_text=format_due(self.due_at, campaign.zone, campaign.language),
            coordinator_name=coordinator.name,
            coordinator_email=str(coordinator.email),
            coordinator_phone=coordinator.phone,
            template_version=self.form.version,
            extra_metadata=scoresheet_metadata(self.spec, self.label),
        )
        return build_master(self.form, context)

    @cached_property
    def master(self) -> MasterTemplate:
        return MasterTemplate(self.master_bytes)

    @cached_property
    def prefiller(self) -> SheetPrefiller:
        return SheetPrefiller(self.master_bytes, self.form.sheets[0].name)

    def identity(self, unit: Unit) -> ScoresheetIdentity:
        return ScoresheetIdentity(self.bundle.campaign.id, self.spec.id, self.label, unit.id)

    def attachment_name(self, unit: Unit) -> str:
        prefix = FILE_PREFIX[self.bundle.campaign.language]
        return _UNSAFE.sub("_", f"{prefix}-{unit.name}") + ".xlsx"

    def workbook(self, unit: Unit) -> bytes:
        """The unit's scoresheet, read back and its token checked before it may be sent."""
        identity = self.identity(unit)
        copy = self.master.personalise(unit.id, unit.name, sign(self.secret, identity))
        rows = prefill_rows(self.checklist)
        data = self.prefiller.fill(copy, rows, set(PREFILLED_KEYS), SCORE_KEYS)
        meta = read_metadata(data)
        if meta.get("unit_id") != unit.id or not verify(self.secret, identity, meta["token"]):
            raise DubanError(
                f"the scoresheet made for {unit.name} ({unit.id}) failed its check",
                zh=f"为{unit.name}（{unit.id}）生成的督查评分表未通过校验",
            )
        return data
