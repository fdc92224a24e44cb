"""Validation done in the reader's workers, next to the parsing, before anyone is identified.

Checking cells is the largest piece of work left in the intake process once the parsing has
moved out, and the workers have the grid in hand anyway. So each worker is given the
campaign's forms (by deliverable) and checks a workbook against the form its metadata names.
Nothing is decided there: the metadata is not yet verified (the worker holds no secret) and
the intake process still identifies the file and its sender. It uses the worker's result only
when the verified identity names the same deliverable and template version; otherwise (or
when the worker had no forms) it validates the grid itself. A worker subverted by its file
could fake the result, but it could equally fake the grid, so nothing new is trusted.

Results cross the process boundary as plain values (``encode``/``decode``), because the intake
process unpickles a worker's answer with an unpickler that knows no classes of duban's.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from duban.model.campaign import Campaign
from duban.model.forms import Form
from duban.model.validation import CellProblem, Checked, Grid, Position, validate_workbook


@dataclass(frozen=True)
class Prevalidated:
    """A workbook checked against the form of the deliverable its metadata claims."""

    deliverable_id: str
    template_version: str
    checked: Checked


@dataclass(frozen=True)
class FormsByDeliverable:
    """What a worker needs to validate: the campaign's id and each deliverable's form."""

    campaign_id: str
    forms: Mapping[str, Form]

    @classmethod
    def of(cls, campaign: Campaign) -> FormsByDeliverable:
        forms = {d.id: campaign.form_of(d) for d in campaign.deliverables}
        return cls(campaign.id, forms)

    def check(
        self,
        metadata: Mapping[str, str] | None,
        sheets: Mapping[str, Grid],
        uncomputed: Mapping[str, Collection[Position]] | None = None,
    ) -> Prevalidated | None:
        """The sheets checked against the form the metadata names; None when it names no
        deliverable of this campaign. ``uncomputed`` as in ``validate_workbook``."""
        if not metadata or metadata.get("campaign") != self.campaign_id:
            return None
        deliverable_id = metadata.get("deliverable", "")
        form = self.forms.get(deliverable_id)
        if form is None:
            return None
        version = metadata.get("template_version", "")
        checked = validate_workbook(form, sheets, version, uncomputed)
        return Prevalidated(deliverable_id, version, checked)


def encode(result: Prevalidated | None) -> tuple[Any, ...] | None:
    """Plain values (str, int, None, lists, tuples, dicts) for a worker's answer."""
    if result is None:
        return None
    problems = [(p.sheet, p.cell, p.code, p.found, dict(p.detail)) for p in result.checked.problems]
    return (result.deliverable_id, result.template_version, result.checked.rows, problems)


def decode(value: object) -> Prevalidated | None:
    """``encode``'s output back; ``ValueError`` for anything else (a broken worker)."""
    if value is None:
        return None
    if not (isinstance(value, tuple) and len(value) == 4):
        raise ValueError("malformed validation result")
    deliverable_id, version, rows, problems = value
    if not (
        isinstance(deliverable_id, str)
        and isinstance(version, str)
        and isinstance(rows, dict)
        and isinstance(problems, list)
        and all(_rows(sheet_rows) for sheet_rows in rows.values())
    ):
        raise ValueError("malformed validation result")
    return Prevalidated(deliverable_id, version, Checked(rows, [_problem(p) for p in problems]))


def _rows(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(row, dict) for row in value)


def _problem(value: object) -> CellProblem:
    if not (isinstance(value, tuple) and len(value) == 5):
        raise ValueError("malformed cell problem")
    sheet, cell, code, found, detail = value
    if not (
        isinstance(sheet, str)
        and isinstance(cell, str | None)
        and isinstance(code, str)
        and isinstance(found, str | None)
        and isinstance(detail, dict)
    ):
        raise ValueError("malformed cell problem")
    return CellProblem(sheet, cell, code, found, detail)
