"""Signed, pre-filled copies of a one-sheet form the office sends to a person or a unit
(a ballot, an appeal form): one master per number of rows, a copy per recipient.

Each copy has its recipient's id, name and token patched in and its sheet pre-filled with
their rows, the pre-filled columns locked; it is read back and its token checked before it
may be attached, so a copy that would not verify when returned is never sent. What the
token vouches for (``Signed``) and what the hidden sheet adds are the caller's.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from duban.adapters.render import format_due
from duban.adapters.xlsx.master import MasterTemplate
from duban.adapters.xlsx.prefill import CellValue, SheetPrefiller
from duban.adapters.xlsx.template import TemplateContext, build_master, read_metadata
from duban.adapters.xlsx.token import Signed, sign, verify
from duban.model.forms import Form, display_title
from duban.model.loader import CampaignBundle

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def attachment_name(*parts: str) -> str:
    """A file name from ``parts`` joined by ``-``, with what a file system refuses replaced."""
    return _UNSAFE.sub("_", "-".join(parts)) + ".xlsx"


@dataclass(frozen=True)
class SignedMaster:
    """The master of the copies listing one number of rows, and its pre-filler."""

    form: Form
    template: MasterTemplate
    prefiller: SheetPrefiller

    @classmethod
    def build(cls, form: Form, context: TemplateContext) -> SignedMaster:
        data = build_master(form, context)
        return cls(form, MasterTemplate(data), SheetPrefiller(data, form.sheets[0].name))

    def copy(
        self,
        secret: bytes,
        identity: Signed,
        recipient: tuple[str, str],
        rows: Sequence[Mapping[str, CellValue]],
        locked: Collection[str],
        keys: Sequence[str],
    ) -> bytes | None:
        """The copy for ``recipient`` (id, name) signed for ``identity``, pre-filled with
        ``rows``; ``None`` when, read back, it does not carry that recipient and token."""
        token = sign(secret, identity)
        copy = self.template.personalise(recipient[0], recipient[1], token)
        data = self.prefiller.fill(copy, rows, set(locked), keys)
        meta = read_metadata(data)
        if meta.get("unit_id") != recipient[0] or not verify(secret, identity, meta["token"]):
            return None
        return data


def office_context(
    bundle: CampaignBundle,
    form: Form,
    subject: tuple[str, str, str],
    due_at: datetime,
    extra_metadata: tuple[tuple[str, str], ...],
) -> TemplateContext:
    """What the instructions sheet of an office's form says: the campaign, ``subject`` (its
    id, title and period), the deadline and the coordinator to ask."""
    campaign = bundle.campaign
    coordinator = campaign.roles.coordinator
    deliverable_id, deliverable_title, period = subject
    return TemplateContext(
        language=campaign.language,
        campaign_id=campaign.id,
        campaign_title=display_title(campaign.title, campaign.language),
        deliverable_id=deliverable_id,
        deliverable_title=deliverable_title,
        period=period,
        due_text=format_due(due_at, campaign.zone, campaign.language),
        coordinator_name=coordinator.name,
        coordinator_email=str(coordinator.email),
        coordinator_phone=coordinator.phone,
        template_version=form.version,
        extra_metadata=extra_metadata,
    )
