"""HMAC tokens that tie a returned workbook to the unit, deliverable and period it was sent for.

A unit could otherwise reply with a neighbour's file, last quarter's file or a hand-made copy;
the token in the hidden metadata sheet lets intake tell these apart without trusting anything
the unit can edit. The token is a truncated HMAC-SHA256: 128 bits are plenty for a value that
cannot be tested offline without the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Protocol

TOKEN_LENGTH = 32
"""Hex characters kept from the HMAC (128 bits)."""

MIN_SECRET_BYTES = 16
"""A shorter key could be guessed by trying keys against one token taken from any workbook."""

_DOMAIN = "duban-template/1"
"""Versions the canonical form and keeps these MACs distinct from any other use of the key."""


@dataclass(frozen=True)
class TemplateIdentity:
    """What a template is for; exactly the fields a token vouches for."""

    campaign_id: str
    deliverable_id: str
    period: str
    unit_id: str
    template_version: int

    def __post_init__(self) -> None:
        # bool is an int subclass; True must not pass for version 1.
        if type(self.template_version) is not int or self.template_version < 1:
            raise ValueError(f"template_version must be an int ≥ 1, not {self.template_version!r}")
        for name in ("campaign_id", "deliverable_id", "period", "unit_id"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"{name} must be a non-empty string")

    def canonical(self) -> bytes:
        """A byte form with no ambiguity: a JSON array cannot be confused by a field holding a
        separator, as ``"a|b" + "c"`` and ``"a" + "b|c"`` would be when joined with ``|``."""
        fields = [
            _DOMAIN,
            self.campaign_id,
            self.deliverable_id,
            self.period,
            self.unit_id,
            self.template_version,
        ]
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


VERIFICATION_SHEET = "verification"
"""The kind of the coordinator's verification workbook (核验销号表)."""
_SHEET_DOMAIN = "duban-sheet/1"
"""Keeps an office workbook's MAC apart from every unit template's: no token of one verifies
as the other, whatever its fields hold."""


@dataclass(frozen=True)
class SheetIdentity:
    """A workbook duban writes for the office itself, not for a unit: its kind (``verification``
    for the 核验销号表), the campaign, and the day it was issued. The sender is then checked
    against the office's own address, as a unit's template is against the unit's."""

    kind: str
    campaign_id: str
    issued: str

    def __post_init__(self) -> None:
        for name in ("kind", "campaign_id", "issued"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"{name} must be a non-empty string")

    def canonical(self) -> bytes:
        fields = [_SHEET_DOMAIN, self.kind, self.campaign_id, self.issued]
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


SCORESHEET = "scoresheet"
"""The kind of an inspection team's scoresheet (督查评分表) for one unit of one round."""
_SCORESHEET_DOMAIN = "duban-scoresheet/1"
"""Keeps a scoresheet's MAC apart from units' templates and office sheets: a unit's token for
a deliverable named like an inspection never verifies as a scoresheet, nor the reverse."""


@dataclass(frozen=True)
class ScoresheetIdentity:
    """What a scoresheet is for: the campaign, the inspection, the round (its label, unique in
    the inspection) and the inspected unit. The sender is then checked against the addresses
    of that unit's team in the inspector register."""

    campaign_id: str
    inspection_id: str
    round_label: str
    unit_id: str

    def __post_init__(self) -> None:
        _texts(self, "campaign_id", "inspection_id", "round_label", "unit_id")

    def canonical(self) -> bytes:
        return _canonical(_SCORESHEET_DOMAIN, self.campaign_id, self.inspection_id,
                          self.round_label, self.unit_id)  # fmt: skip


BALLOT = "ballot"
"""The kind of an evaluator's personal ballot (民主评议测评表) for one public evaluation."""
_BALLOT_DOMAIN = "duban-ballot/1"
"""Keeps a ballot's MAC apart from units' templates, office sheets and scoresheets: an
evaluator whose id reads like a unit's never holds a token that verifies as that unit's."""


@dataclass(frozen=True)
class BallotIdentity:
    """What a ballot is for: the campaign, the public-evaluation source, the round (its label,
    such as the year) and the evaluator of the register; one valid ballot is counted per
    evaluator, so the token names the person, never a unit."""

    campaign_id: str
    source_id: str
    round_label: str
    evaluator_id: str

    def __post_init__(self) -> None:
        _texts(self, "campaign_id", "source_id", "round_label", "evaluator_id")

    def canonical(self) -> bytes:
        return _canonical(_BALLOT_DOMAIN, self.campaign_id, self.source_id, self.round_label,
                          self.evaluator_id)  # fmt: skip


APPEAL = "appeal"
"""The kind of a unit's appeal form (复核申请表) against its preliminary evaluation."""
_APPEAL_DOMAIN = "duban-appeal/1"
"""Keeps an appeal form's MAC apart from the unit's own templates, ballots and scoresheets:
the same unit id under the same label never verifies as anything but this unit's appeal."""


@dataclass(frozen=True)
class AppealIdentity:
    """What an appeal form is for: the campaign, the evaluation (its label, such as the year)
    and the unit whose score sheet it lists; the sender is then checked against that unit's
    addresses in the roster."""

    campaign_id: str
    label: str
    unit_id: str

    def __post_init__(self) -> None:
        _texts(self, "campaign_id", "label", "unit_id")

    def canonical(self) -> bytes:
        return _canonical(_APPEAL_DOMAIN, self.campaign_id, self.label, self.unit_id)


def _texts(identity: object, *names: str) -> None:
    """Refuse an identity with a field that is not a non-empty string."""
    for name in names:
        if not isinstance(getattr(identity, name), str) or not getattr(identity, name):
            raise ValueError(f"{name} must be a non-empty string")


def _canonical(*fields: str) -> bytes:
    """The fields as a JSON array: no separator inside a field can shift them."""
    return json.dumps(list(fields), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Signed(Protocol):
    """What a token vouches for: anything with an unambiguous byte form."""

    def canonical(self) -> bytes: ...


def sign(secret: bytes, identity: Signed) -> str:
    """The token to write into this identity's template: lower-case hex, TOKEN_LENGTH long."""
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the template secret must be at least {MIN_SECRET_BYTES} bytes")
    digest = hmac.new(secret, identity.canonical(), hashlib.sha256).hexdigest()
    return digest[:TOKEN_LENGTH]


def verify(secret: bytes, identity: Signed, token: str) -> bool:
    """Whether ``token`` was signed for ``identity``, compared in constant time."""
    if not isinstance(token, str) or len(token) != TOKEN_LENGTH:
        return False
    expected = sign(secret, identity).encode("ascii")
    return hmac.compare_digest(expected, token.encode("utf-8", "replace"))
