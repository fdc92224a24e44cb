"""Key tasks reported in two steps (牵头汇总、配合报送): the partners' parts, then the leads.

The partners fill the rows their template lists, one per key task they partner (the task's
title stays as duban wrote it), all before their due day but one, ``LATE_PARTNER``, which is
still missing when its lead is reminded and replies the next working day. A lead does not
answer the notice: it waits for its consolidated copy (【汇总】, or 【更新】 once it has
reported), which chase sends with its partners' parts in it, and answers the latest copy that
holds every partner's part, writing its own rows (those with an empty 报送单位) and leaving the
partners' rows as they are. One lead, ``WRONG_LEAD``, types a share above 100 % first and
sends the corrected file the next day.
"""

from __future__ import annotations

import email
import email.policy
import io
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage

from openpyxl import load_workbook
from rich.table import Table
from sqlalchemy import Engine, select

from duban.implement.leadcopy import KIND as COPY_KIND
from duban.ledger.db import session_scope
from duban.ledger.schema import InstanceRow, SubmissionRow
from duban.model.campaign import REPORTED_BY, Deliverable, KeyTask, PartnerSpec
from duban.model.forms import FIRST_DATA_ROW, Form, Sheet
from duban.model.loader import CampaignBundle
from duban.testing.helpers import attachment_of, reply_to_notice

from .units import Reply, form_rows, put, wrong_value

LATE_PARTNER = "B18"
"""市信访局, a partner of 执行力强化 (lead B20): its part comes after its lead's reminder."""
WRONG_LEAD = "B03"
"""A lead that types 完成比例 120 on its own row; refused, it sends the right file the next day."""
LATE_NAMED = "逾期未报送的配合单位"
"""The words before the list of late partners, in a lead copy."""
PRESS = "逾期未报送，请督促"
"""The words of a lead's reminder naming its late partners."""


@dataclass
class Copy:
    """A lead's consolidated copy as the lead got it."""

    unit_id: str
    deliverable_id: str
    period: str
    at: datetime
    message: EmailMessage
    partner_rows: int
    late: list[str] = field(default_factory=list)


@dataclass
class Mail:
    """A message chase sent a lead (its reminder, its copies), for the key tasks' table."""

    unit_id: str
    at: datetime
    key: str
    subject: str
    text: str
    partner_rows: int | None = None


def spec_of(bundle: CampaignBundle, deliverable: Deliverable) -> PartnerSpec:
    """The chain's partner spec, from the lead's deliverable or the partners' one."""
    lead = bundle.campaign.deliverable(deliverable.part_of or deliverable.id)
    assert lead.partners is not None
    return lead.partners


def sheet_of(form: Form, spec: PartnerSpec) -> Sheet:
    return next(s for s in form.sheets if spec.sheet in (None, s.name))


def fill_own_rows(
    data: bytes,
    form: Form,
    spec: PartnerSpec,
    rng: random.Random,
    year: int,
    percent_cells: bool,
    wrong: bool = False,
) -> bytes:
    """Fill a key-task template as a unit would: each row naming a key task whose 报送单位 is
    empty (a partner's rows have no such column) gets the unit's share, from the form's column
    declarations; the task's title and the partners' rows are left as duban wrote them."""
    sheet = sheet_of(form, spec)
    keys = [c.key for c in sheet.columns]
    task = keys.index(spec.task_column)
    by = keys.index(REPORTED_BY) if REPORTED_BY in keys else None
    book = load_workbook(io.BytesIO(data))
    ws = book[sheet.name]
    own = [
        n for n in range(FIRST_DATA_ROW, ws.max_row + 1)
        if ws.cell(n, task + 1).value not in (None, "")
        and (by is None or ws.cell(n, by + 1).value in (None, ""))
    ]  # fmt: skip
    rows = form_rows(sheet, rng, year, len(own), percent_cells)
    if wrong and rows:
        index, value = wrong_value(sheet)
        rows[0][index] = value
    for number, row in zip(own, rows, strict=True):
        for index, value in enumerate(row):
            if index not in (task, by):
                put(ws.cell(number, index + 1), value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def part_replies(
    bundle: CampaignBundle,
    deliverable_id: str,
    period: str,
    notices: Mapping[str, EmailMessage],
    sent: datetime,
    due: datetime,
    lead_reminder: datetime,
) -> list[Reply]:
    """The partners' parts: each on a working day between the notice (``sent``) and the day
    before the parts' due day (``due``); ``LATE_PARTNER``'s the working day after its lead's
    reminder (``lead_reminder``), in the afternoon."""
    rng = random.Random(f"2026:{deliverable_id}:{period}")
    calendar = bundle.calendar
    deliverable = bundle.campaign.deliverable(deliverable_id)
    form = bundle.campaign.form_of(deliverable)
    spec = spec_of(bundle, deliverable)
    days = [sent.date() + timedelta(days=n) for n in range(1, (due.date() - sent.date()).days)]
    working = [d for d in days if calendar.is_working_day(d)] or [due.date()]
    replies = []
    for position, unit_id in enumerate(u.id for u in bundle.units if u.id in notices):
        if unit_id == LATE_PARTNER:
            day, hour, role = calendar.add_working_days(lead_reminder.date(), 1), 15, "late"
        else:
            day, hour, role = rng.choice(working), rng.randint(8, 17), "on time"
        at = datetime.combine(day, time(hour, rng.randint(0, 59)), due.tzinfo)
        name, data = attachment_of(notices[unit_id])
        content = fill_own_rows(data, form, spec, rng, due.year, percent_cells=position % 2 == 1)
        sender = bundle.units_by_id[unit_id].emails[0]
        raw = reply_to_notice(notices[unit_id], sender, [(name, content)], when=at)
        replies.append(Reply(unit_id, deliverable_id, period, at, raw, role))
    return sorted(replies, key=lambda r: r.at)


def copies_in(
    bundle: CampaignBundle, raws: Sequence[tuple[tuple[str, ...], bytes]], at: datetime
) -> tuple[list[Copy], list[Mail]]:
    """The lead copies among messages chase sent at ``at``, and every message it sent a lead."""
    leads = {t.lead for t in bundle.campaign.key_tasks}
    copies, mails = [], []
    for _recipients, raw in raws:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        key = str(message["X-Duban-Key"] or "")
        kind, _campaign, *rest = [*key.split(":"), "", ""]
        unit_id = rest[2] if kind == COPY_KIND else rest[0]
        if kind not in (COPY_KIND, "chase") or unit_id not in leads:
            continue
        text = _text(message)
        mail = Mail(unit_id, at, key, str(message["Subject"]), text)
        mails.append(mail)
        if kind != COPY_KIND:
            continue
        deliverable = bundle.campaign.deliverable(rest[0])
        spec = spec_of(bundle, deliverable)
        sheet = sheet_of(bundle.campaign.form_of(deliverable), spec)
        mail.partner_rows = len(_reported_by(attachment_of(message)[1], sheet))
        named = [u.name for u in bundle.units if u.name in _late_block(text)]
        copies.append(Copy(unit_id, rest[0], rest[1], at, message, mail.partner_rows, named))
    return copies, mails


def partner_pairs(bundle: CampaignBundle, lead: str) -> int:
    """How many partners' rows a lead's complete copy holds: one per task and partner."""
    return sum(len(t.partners) for t in bundle.campaign.key_tasks if t.lead == lead)


def lead_replies(bundle: CampaignBundle, copy: Copy, due_day: date) -> list[Reply]:
    """The lead's answer to a copy holding every partner's part: on a working day from the
    copy's to the day before its due day (the copy's own day if that is later), after 10:00;
    ``WRONG_LEAD`` sends a wrong value first and the right file the next day. A copy still
    missing a part gets no answer: the lead waits for the next."""
    if copy.partner_rows < partner_pairs(bundle, copy.unit_id):
        return []
    rng = random.Random(f"2026:{copy.unit_id}:{copy.at.isoformat()}")
    calendar = bundle.calendar
    days = [copy.at.date() + timedelta(days=n) for n in range((due_day - copy.at.date()).days)]
    day = rng.choice([d for d in days if calendar.is_working_day(d)] or [copy.at.date()])
    at = datetime.combine(day, time(rng.randint(10, 16), rng.randint(0, 59)), copy.at.tzinfo)
    deliverable = bundle.campaign.deliverable(copy.deliverable_id)
    form = bundle.campaign.form_of(deliverable)
    spec = spec_of(bundle, deliverable)
    name, data = attachment_of(copy.message)
    sender = bundle.units_by_id[copy.unit_id].emails[0]
    wrong = copy.unit_id == WRONG_LEAD
    percent_cells = rng.random() < 0.5
    first = fill_own_rows(data, form, spec, rng, at.year, percent_cells, wrong=wrong)
    replies = [Reply(copy.unit_id, copy.deliverable_id, copy.period, at,
                     reply_to_notice(copy.message, sender, [(name, first)], when=at),
                     "wrong value" if wrong else "on time")]  # fmt: skip
    if wrong:
        later = at + timedelta(days=1)
        fixed = fill_own_rows(data, form, spec, rng, at.year, percent_cells)
        raw = reply_to_notice(copy.message, sender, [(name, fixed)], when=later)
        replies.append(Reply(copy.unit_id, copy.deliverable_id, copy.period, later, raw,
                             "corrected"))  # fmt: skip
    return replies


def _reported_by(data: bytes, sheet: Sheet) -> list[str]:
    """The names in a lead template's 报送单位 column: the partners' rows."""
    keys = [c.key for c in sheet.columns]
    column = keys.index(REPORTED_BY) + 1
    ws = load_workbook(io.BytesIO(data), read_only=True)[sheet.name]
    cells = ws.iter_rows(min_row=FIRST_DATA_ROW, min_col=column, max_col=column, values_only=True)
    return [str(row[0]) for row in cells if row[0] not in (None, "")]


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return str(body.get_content()).replace("\r\n", "\n") if isinstance(body, EmailMessage) else ""


def late_task(bundle: CampaignBundle) -> KeyTask:
    """The key task whose partner is late."""
    return next(t for t in bundle.campaign.key_tasks if LATE_PARTNER in t.partners)


def key_task_table(
    bundle: CampaignBundle, engine: Engine, lead_deliverable: str, period: str,
    mails: Sequence[Mail],
) -> Table:  # fmt: skip
    """重点工作（牵头汇总）: for the key task with a late partner, the partners' parts, what
    the lead was sent (its copies, its reminder naming the late partner) and its report."""
    task = late_task(bundle)
    names = {u.id: u.name for u in bundle.units}
    zone = bundle.campaign.zone
    parts_id = next(d.id for d in bundle.campaign.deliverables if d.part_of == lead_deliverable)
    column = spec_of(bundle, bundle.campaign.deliverable(lead_deliverable)).task_column
    table = Table(title=f"重点工作（牵头汇总）：{task.title}，{period}，"
                        f"牵头单位 {names[task.lead]}")  # fmt: skip
    for name in ("simulated time", "who", "what"):
        table.add_column(name, overflow="fold")
    lead_due = next(s.due_at for s in bundle.instances() if s.deliverable_id == lead_deliverable
                    and s.period == period and s.unit_id == task.lead)  # fmt: skip
    rows: list[tuple[datetime, str, str]] = []
    with session_scope(engine) as session:
        found = session.execute(
            select(InstanceRow.deliverable_id, InstanceRow.unit_id, InstanceRow.due_date,
                   SubmissionRow.version, SubmissionRow.received_at, SubmissionRow.on_time,
                   SubmissionRow.rows)
            .join(SubmissionRow, SubmissionRow.instance_id == InstanceRow.id)
            .where(InstanceRow.campaign_id == bundle.campaign.id, InstanceRow.period == period,
                   ((InstanceRow.deliverable_id == parts_id)
                    & InstanceRow.unit_id.in_(task.partners))
                   | ((InstanceRow.deliverable_id == lead_deliverable)
                      & (InstanceRow.unit_id == task.lead)))
        ).tuples().all()  # fmt: skip
    for deliverable_id, unit_id, due_day, version, received, on_time, sheets in found:
        when = "on time" if on_time else "LATE"
        if deliverable_id == parts_id:
            what = f"partner's part (配合单位报送) v{version} in, {when} (due {due_day})"
        else:
            mine = [r for rs in sheets.values() for r in rs if r.get(column) == task.title]
            theirs = [str(r[REPORTED_BY]) for r in mine if r.get(REPORTED_BY)]
            what = (f"lead's report (牵头汇总) v{version} accepted, {when}: {len(theirs)} partner "
                    f"rows ({'、'.join(theirs)}) and its own")  # fmt: skip
        rows.append((received.astimezone(zone), names[unit_id], what))
    for mail in mails:
        if mail.unit_id != task.lead or mail.at > lead_due:
            continue
        if mail.key.startswith(f"{COPY_KIND}:"):
            if mail.key.split(":")[3] != period:
                continue
            late = [n for n in (names[p] for p in task.partners) if n in _late_block(mail.text)]
            said = f"late partner named: {'、'.join(late)}" if late else "every partner in"
            rows.append((mail.at, names[task.lead], f"sent the lead copy {mail.subject[:4]} "
                         f"holding {mail.partner_rows} partner row(s); {said}"))  # fmt: skip
        elif PRESS in mail.text:
            line = next(x for x in mail.text.splitlines() if PRESS in x)
            named = [names[p] for p in task.partners if names[p] in line]
            rows.append((mail.at, names[task.lead], f"sent its reminder ({mail.subject[:4]}), "
                         f"naming its late partner: {'、'.join(named)}"))  # fmt: skip
    for at, who, what in sorted(rows, key=lambda r: r[0]):
        table.add_row(f"{at:%Y-%m-%d %H:%M}", who, what)
    return table


def _late_block(text: str) -> str:
    return text.split(LATE_NAMED, 1)[1].split("\n\n", 1)[0] if LATE_NAMED in text else ""
