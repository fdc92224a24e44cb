"""A unit's returned appeal form (复核申请表) in the ledger (issue 17 item 5): whose it may be,
whether appeals are open, and each disputed line lodged as an appeal.

Intake has stored the bytes and verified the token (campaign, label, unit); here the sender
must be one of the unit's addresses in the roster (held otherwise, naming them), and the
evaluation must have been published (held: nothing was sent that could be answered). Under
the evaluation's lock, a frozen evaluation refuses it (appeals are closed), and so does a
form received at or after the appeal window's close. The form is then read against the lines
of the version published, as the unit was sent them: a changed pre-filled cell, or a cell the
form refuses, refuses it whole, naming the cell; a form with no reasons at all is refused
with where to write them. Otherwise every row with reasons is lodged (``runs.lodge_appeal``)
against the line ``"<number>. <part>"``, received when the message was; the same line again
is the appeal lodged before, so the same file twice records once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from duban.adapters.xlsx.token import AppealIdentity
from duban.clock import Clock
from duban.evaluate import runs
from duban.evaluate.appealsheets import lines_of
from duban.evaluate.publication import Publication, publication, published_versions
from duban.evaluate.report import version_report
from duban.inspect.results import Held, Refused
from duban.ledger.db import hold_write_lock
from duban.model.appealsheets import APPEAL_KEYS, appeal_form
from duban.model.forms import FIRST_DATA_ROW
from duban.model.loader import CampaignBundle
from duban.model.roster import Unit
from duban.model.validation import (
    CellProblem,
    Grid,
    Position,
    column_letter,
    filled_row_numbers,
    same_text,
    validate_workbook,
)


@dataclass(frozen=True)
class ReturnedAppeal:
    """An appeal form as intake received it: whose its token says it is, who sent it, when,
    its file and cells."""

    identity: AppealIdentity
    sender: str
    sha256: str
    received_at: datetime
    sheets: Mapping[str, Grid]
    template_version: str | None = None
    uncomputed: Mapping[str, Collection[Position]] = field(default_factory=dict)
    intake_file_id: int | None = None
    vouched_by: str | None = None
    """The coordinator who accepted a held form in review, vouching that it is the unit's
    though another address sent it: the sender is not checked."""


@dataclass(frozen=True)
class Closed:
    """Not taken, whatever the form says: ``code`` and ``detail`` for the reason (frozen,
    after the close, no reasons written)."""

    code: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class Lodged:
    """One appeal the form made: its number, the line disputed, the statement, and whether it
    was lodged now (``False``: the same line was appealed before, that appeal stands)."""

    appeal_id: int
    line: str
    statement: str
    new: bool


@dataclass(frozen=True)
class Appealed:
    unit: Unit
    label: str
    appeals: tuple[Lodged, ...]
    closes: datetime


def record_appeal(
    session: Session, bundle: CampaignBundle, clock: Clock, returned: ReturnedAppeal
) -> Held | Refused | Closed | Appealed:
    """Lodge the form's appeals, or say why not (see the module's docstring)."""
    found = _whose(session, bundle, returned)
    if isinstance(found, Held):
        return found
    unit, published = found
    label = published.label
    hold_write_lock(session.connection(), f"evaluation:{bundle.campaign.id}:{label}")
    latest = runs.latest_run(session, bundle.campaign.id, label)
    if latest is not None and latest.state == runs.FROZEN:
        return Closed("appeal-frozen", {"label": label, "version": latest.version})
    if not published.open_at(returned.received_at):
        return Closed("appeal-late", {"label": label, "closes": published.appeals_close})
    reasons = _read_published(session, bundle, published, unit.id, returned)
    if isinstance(reasons, Refused):
        return reasons
    if not reasons:
        return Closed("appeal-empty", {"label": label})
    lodged = []
    for line, statement in reasons:
        row, new = runs.lodge_appeal(session, bundle, label, unit.id, line, statement, clock,
                                     received_at=returned.received_at,
                                     intake_file_id=returned.intake_file_id)  # fmt: skip
        lodged.append(Lodged(row.id, row.line, row.statement, new))
    return Appealed(unit, label, tuple(lodged), published.appeals_close)


def _whose(
    session: Session, bundle: CampaignBundle, returned: ReturnedAppeal
) -> tuple[Unit, Publication] | Held:
    """The unit and the evaluation's publication, or why the form is held."""
    identity = returned.identity
    unit = bundle.units_by_id.get(identity.unit_id)
    if unit is None:
        return Held("unknown-unit", {"unit": identity.unit_id})
    if returned.vouched_by is None and not unit.has_address(returned.sender):
        detail = {"sender": returned.sender, "unit_name": unit.name, "unit": unit.id,
                  "emails": ", ".join(str(e) for e in unit.emails)}  # fmt: skip
        return Held("appeal-wrong-sender", detail)
    published = publication(session, bundle.campaign.id, identity.label)
    if published is None:
        return Held("appeal-not-published", {"unit_name": unit.name, "label": identity.label})
    return unit, published


def _read_published(
    session: Session,
    bundle: CampaignBundle,
    published: Publication,
    unit_id: str,
    returned: ReturnedAppeal,
) -> list[tuple[str, str]] | Refused:
    """The form read against the unit's lines as a published version says them, the latest
    first: a unit sent a corrected sheet may return either form. When none reads cleanly,
    the problems against the latest."""
    rows = {r.version: r for r in runs.runs_of(session, bundle.campaign.id, published.label)}
    versions = published_versions(session, bundle.campaign.id, published.label)
    latest_problems: Refused | None = None
    for version in sorted(set(versions), reverse=True):
        row = rows[version]
        report = version_report(bundle, row, runs.recomputed(bundle, row))
        read = read_appeal(bundle, lines_of(report, unit_id), returned)
        if not isinstance(read, Refused):
            return read
        latest_problems = latest_problems or read
    assert latest_problems is not None  # a publication has at least one version
    return latest_problems


def read_appeal(
    bundle: CampaignBundle, lines: Sequence[tuple[str, str]], returned: ReturnedAppeal
) -> list[tuple[str, str]] | Refused:
    """Each disputed line (``"<number>. <part>"``) and its reasons, in the form's order; or
    every problem: the form's own cell rules, and any pre-filled cell not as it was sent."""
    form = appeal_form(len(lines), bundle.campaign.language)
    sheet = form.sheets[0]
    checked = validate_workbook(form, returned.sheets, returned.template_version,
                                returned.uncomputed)  # fmt: skip
    problems = list(checked.problems)
    grid = returned.sheets.get(sheet.name)
    formulas = returned.uncomputed.get(sheet.name, ())
    numbers = [] if grid is None else filled_row_numbers(sheet, grid, formulas)
    reasons = []
    for row, number in zip(checked.rows.get(sheet.name, []), numbers, strict=False):
        index = number - FIRST_DATA_ROW
        if index >= len(lines):
            continue  # a row too many: the form's row count says so
        part, said = lines[index]
        changed = _changed(sheet.name, number, row, index + 1, part, said)
        if changed:
            problems.extend(changed)
            continue
        statement = str(row.get("reasons") or "").strip()
        if statement:
            reasons.append((f"{index + 1}. {part}", statement))
    return Refused(tuple(problems)) if problems else reasons


def _changed(
    sheet: str, number: int, row: Mapping[str, Any], line: int, part: str, said: str
) -> list[CellProblem]:
    """The row's pre-filled cells that are not as sent, each named."""
    found = []
    if str(row.get("number") or "").strip() != str(line):
        found.append(_problem(sheet, "number", number, f"序号应为“{line}”",
                              f"the line number should read “{line}”"))  # fmt: skip
    if not same_text(row.get("part") or "", part):
        found.append(_problem(sheet, "part", number, f"考核项目应为“{part}”",
                              f"the part should read “{part}”"))  # fmt: skip
    if not same_text(row.get("said") or "", said):
        found.append(_problem(sheet, "said", number, f"第 {line} 行得分说明已被改动",
                              f"line {line}'s words were changed"))  # fmt: skip
    return found


def _problem(sheet: str, key: str, number: int, zh: str, en: str) -> CellProblem:
    cell = f"{column_letter(APPEAL_KEYS.index(key) + 1)}{number}"
    zh += "，请勿修改预填的得分说明，只在“复核理由”栏填写"
    en += "; do not change the lines sent, write only in the Reasons column"
    return CellProblem(sheet, cell, "progress", None, {"zh": zh, "en": en})
