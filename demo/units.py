"""Simulated units: they read their notice, fill the template with plausible content and reply.

Every deliverable the demo sends notices for is answered the same way, its form filled from its
declaration in the campaign file (each column's type, choices, bounds and length), so a form
added there is answered without a change here. Most units reply on time, some late; one types a
value the form does not allow and sends a corrected file after the rejection; a couple never
reply. The plan adds the rarer cases: a unit that sends another unit's template, one that sends
a hostile file, one that sends a second version. Some units type a percentage the way Excel
users do (50 % in a cell formatted as a percentage, which Excel stores as 0.5). Everything goes
through SMTP to the office's mailbox, stamped with the simulated time of sending. The key
tasks' two steps (the partners' parts, the leads' consolidated reports) are answered in
``keytasks``, the leads from the copies chase sends them.
"""

from __future__ import annotations

import email
import email.policy
import io
import random
import smtplib
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from email.message import EmailMessage
from typing import Any

from openpyxl import load_workbook

from duban.clock import FixedClock
from duban.model.campaign import ProgressSpec
from duban.model.forms import FIRST_DATA_ROW, Column, Form, Sheet
from duban.model.loader import CampaignBundle
from duban.testing.helpers import attachment_of, reply_to_notice

THEMES = [
    ("教育培训", "开展“周末课堂”专题学习", "每月组织一次集中学习，邀请专家授课"),
    ("提速增效", "压缩行政审批办理时限", "梳理审批事项，承诺时限压缩三分之一"),
    ("执行力强化", "建立重点工作督办台账", "每周梳理进度，逐项明确责任人和完成时限"),
    ("重点项目推进", "落实重点项目挂钩服务", "“一个项目、一名领导、一套班子、一抓到底”"),
    ("作风整顿", "开展“走进基层、服务群众”活动", "班子成员每季度下基层调研不少于两次"),
    ("教育培训", "选派青年干部跟班学习", "上半年选派两名青年干部到基层一线锻炼"),
    ("作风整顿", "整治会风文风", "精简会议和文件，会议时长控制在一小时以内"),
]
"""A row's theme: a category, a task and a measure that belong together."""
SECTIONS = ["办公室", "综合科", "政策法规科", "业务一科", "组织人事科", "督查室"]
NAMES = ["王建国", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "周敏"]
LOGINS = ["wangjg", "lixy", "zhangw", "liuy", "chenj", "yangf", "zhaol", "zhoum"]
PROGRESS = [
    "已制定工作方案，召开专题推进会两次，各项任务已分解到科室",
    "完成第一阶段学习培训，参训干部一百二十人次",
    "审批事项梳理完毕，平均办理时限由八个工作日压缩至五个",
    "督办台账已建立，每周通报一次进度，已办结事项十二件",
    "重点项目挂钩领导全部到位，协调解决问题七个",
]
ISSUES = [
    "部分科室重视程度不够，进度不平衡",
    "基层调研次数偏少，发现问题不够深入",
    "个别事项办理超时，群众有意见",
    "台账更新不及时，督办闭环不够",
]
EVIDENCE = [
    "整改工作报告及新修订的制度文件",
    "整改前后对比照片、会议纪要",
    "办结回执及群众回访记录",
]
CAUSES = ["思想认识不到位", "工作机制不健全", "督促检查不经常", "业务能力有差距"]
MEASURES = [
    "下季度开展专项督查，对进度滞后的科室约谈提醒",
    "完善考核办法，把任务完成情况纳入年度考核",
    "建立周例会制度，逐项销号",
    "加强业务培训，每月组织一次案例讲评",
]
# Which pool a text column draws from, by a word of its label: the first match wins.
TEXT_POOLS: list[tuple[tuple[str, ...], str]] = [
    (("科室", "部门", "单位"), "section"),
    (("人",), "name"),
    (("问题", "不足", "描述"), "issue"),
    (("原因",), "cause"),
    (("措施", "打算", "做法"), "measure"),
    (("进展", "成效", "情况", "内容", "总结"), "progress"),
    (("任务", "工作", "事项", "项目"), "task"),
]
PLAN_ROLES = {"T02": "wrong value", "B01": "another unit's template", "T07": "hostile file",
              "T05": "late", "B12": "late", "B19": "late", "T04": "resubmits",
              "B13": "silent", "B18": "silent"}  # fmt: skip
"""The plan's cast, by unit; the other deliverables draw theirs (``roles_for``)."""


@dataclass
class Reply:
    unit_id: str
    deliverable_id: str
    period: str
    at: datetime
    raw: bytes
    behaviour: str


@dataclass(frozen=True)
class Percent:
    """A percentage typed into a cell formatted as one: Excel stores 50 % as 0.5."""

    value: float


def is_percent(column: Column) -> bool:
    return "%" in column.label or "％" in column.label


def form_rows(
    sheet: Sheet, rng: random.Random, year: int, count: int, percent_cells: bool = False
) -> list[list[Any]]:
    """Rows of plausible values for every column of a sheet, from the column declarations."""
    rows = []
    for _ in range(count):
        theme = rng.choice(THEMES)
        row = [_value(column, theme, rng, year, percent_cells) for column in sheet.columns]
        rows.append(row)
    return rows


def _value(
    column: Column, theme: tuple[str, str, str], rng: random.Random, year: int, percent: bool
) -> Any:
    if not column.required and rng.random() < 0.15:
        return None  # an optional cell left empty
    if column.type == "choice":
        choices = column.choices or []
        return theme[0] if theme[0] in choices else rng.choice(choices)
    if column.type in ("integer", "decimal"):
        return _number(column, rng, percent)
    if column.type == "date":
        return date(year, rng.randint(4, 12), 28)
    if column.type == "email":
        return f"{rng.choice(LOGINS)}@example.cn"
    if column.type == "phone":
        return f"139{rng.randrange(10**8):08d}"
    return _text(column, theme, rng)


def _number(column: Column, rng: random.Random, percent: bool) -> Any:
    low = column.min if column.min is not None else Decimal(0)
    high = column.max if column.max is not None else low + 100
    if is_percent(column):  # whole fives from 10 %, as people estimate a share done
        high = min(high, Decimal(100))
        low = min(max(low, Decimal(10)), high)
        number = Decimal(5 * rng.randint(int(low + 4) // 5, int(high) // 5))
        return Percent(float(number / 100)) if percent else int(number)
    if column.type == "integer":
        return rng.randint(int(low), int(high))
    return float(round(low + (high - low) * Decimal(rng.random()), 2))


def _text(column: Column, theme: tuple[str, str, str], rng: random.Random) -> str:
    pool = next((name for words, name in TEXT_POOLS if any(w in column.label for w in words)), None)
    text = {
        "section": lambda: rng.choice(SECTIONS),
        "name": lambda: rng.choice(NAMES),
        "issue": lambda: rng.choice(ISSUES),
        "cause": lambda: rng.choice(CAUSES),
        "measure": lambda: theme[2] if "措施" in column.label else rng.choice(MEASURES),
        "progress": lambda: rng.choice(PROGRESS),
        "task": lambda: theme[1],
    }.get(pool or "", lambda: f"{column.label}（{rng.randint(1, 99)}）")()
    return text[: column.max_length] if column.max_length else text


def wrong_value(sheet: Sheet) -> tuple[int, Any]:
    """A value the form refuses, of the kind units type, and its column: one outside the list or
    the bounds, a date or a number written as words; a required cell left empty otherwise."""
    for kinds in (("choice",), ("integer", "decimal"), ("date", "email", "phone")):
        for index, column in enumerate(sheet.columns):
            if column.type not in kinds:
                continue
            if column.type == "choice":
                return index, "其他" if "其他" not in (column.choices or []) else "其它类"
            if column.type in ("integer", "decimal"):
                if column.max is not None:
                    return index, int(column.max) + 20
                if column.min is not None:
                    return index, int(column.min) - 1
                return index, "若干"
            return index, {"date": "年底前", "email": "见附件", "phone": "见附件"}[column.type]
    for index, column in enumerate(sheet.columns):
        if column.max_length is not None:
            return index, "长" * (column.max_length + 1)
    return next(i for i, c in enumerate(sheet.columns) if c.required), None


def fill_form(data: bytes, form: Form, sheets: Mapping[str, Sequence[Sequence[Any]]]) -> bytes:
    """Fill a duban template as a unit would (openpyxl, like Excel, keeps the rest as it is);
    a ``Percent`` is written as Excel writes a typed percentage: the fraction, formatted 0%."""
    book = load_workbook(io.BytesIO(data))
    for sheet in form.sheets:
        ws = book[sheet.name]
        for offset, row in enumerate(sheets.get(sheet.name, [])):
            for number, value in enumerate(row, start=1):
                put(ws.cell(FIRST_DATA_ROW + offset, number), value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def put(cell: Any, value: Any) -> None:
    """Type a value into a cell; a ``Percent`` as Excel stores a typed percentage."""
    if isinstance(value, Percent):
        cell.value = value.value
        cell.number_format = "0%"
    else:
        cell.value = value


def roles_for(unit_ids: Sequence[str], rng: random.Random) -> dict[str, str]:
    """A cast for a deliverable without one: about a tenth silent and a tenth late (at least one
    of each), one unit that types a wrong value and corrects it; everyone else on time."""
    shuffled = list(unit_ids)
    rng.shuffle(shuffled)
    share = max(1, len(shuffled) // 10)
    cast = ["silent"] * share + ["late"] * share + ["wrong value"]
    return dict(zip(shuffled, cast, strict=False))


def replies_to(
    bundle: CampaignBundle,
    deliverable_id: str,
    period: str,
    notices: Mapping[str, EmailMessage],
    sent: datetime,
    due: datetime,
    roles: Mapping[str, str] | None = None,
    seed: int = 2026,
) -> list[Reply]:
    """What each unit that received a notice (sent at ``sent``) will send back, and when:
    on time between the notice and the due day ``due``, late within four days after it."""
    rng = random.Random(f"{seed}:{deliverable_id}:{period}")
    deliverable = next(d for d in bundle.campaign.deliverables if d.id == deliverable_id)
    form = next(f for f in bundle.campaign.forms if f.id == deliverable.form)
    units = [u.id for u in bundle.units if u.id in notices]
    cast = roles_for(units, rng) if roles is None else roles
    spec = deliverable.rectification_progress
    if spec is not None:
        cast = _progress_cast(cast, units, notices, form, spec)
    earliest = sent.date() + timedelta(days=1)
    window = max(1, min(14, (due.date() - earliest).days))
    replies: list[Reply] = []
    for position, unit_id in enumerate(units):
        role = cast.get(unit_id, "on time")
        if role == "silent":
            continue
        notice = notices[unit_id]
        sender = bundle.units_by_id[unit_id].emails[0]
        day = max(due.date() - timedelta(days=rng.randint(1, window)), earliest)
        if role == "late":
            day = due.date() + timedelta(days=rng.randint(1, 4))
        at = datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), due.tzinfo)
        # every other unit types its percentages as Excel users do, into a percent-formatted cell
        sheets = _filled(form, rng, due.year, percent_cells=position % 2 == 1)
        if role == "wrong value":
            first = form.sheets[0]
            column, value = wrong_value(first)
            sheets[first.name][min(1, len(sheets[first.name]) - 1)][column] = value
        if role == "another unit's template":
            notice = notices[units[(position + 1) % len(units)]]
        name, data = attachment_of(notice)
        if spec is not None:
            sheets = {}  # the template lists the unit's items: it is updated, not retyped
            content = fill_progress(data, form, spec, rng, at.date(), role)
        else:
            content = fill_form(data, form, sheets)
        if role == "hostile file":
            content = _bomb(content)
        raw = reply_to_notice(notice, sender, [(name, content)], when=at)
        replies.append(Reply(unit_id, deliverable_id, period, at, raw, role))
        if role in ("wrong value", "resubmits", "back-dated"):
            fixed = (
                fill_form(data, form, _filled(form, rng, due.year, percent_cells=True))
                if spec is None
                else fill_progress(data, form, spec, rng, at.date(), "on time")
            )
            later = at + timedelta(days=1)
            again = reply_to_notice(notices[unit_id], sender, [(name, fixed)], when=later)
            replies.append(Reply(unit_id, deliverable_id, period, later, again, "corrected"))
    return sorted(replies, key=lambda r: r.at)


def _progress_cast(
    cast: Mapping[str, str],
    units: Sequence[str],
    notices: Mapping[str, EmailMessage],
    form: Form,
    spec: ProgressSpec,
) -> dict[str, str]:
    """A progress report's cast: the drawn one, and among units on time with at least two
    items listed, one that deletes a row and one that claims a completion dated before the
    item existed (refused; it sends the right day the next day)."""
    sheet = _progress_sheet(form, spec)
    listed = [
        u for u in units
        if cast.get(u, "on time") == "on time"
        and len(_listed_rows(attachment_of(notices[u])[1], sheet, spec)) >= 2
    ]  # fmt: skip
    return {**cast, **dict(zip(listed, ("deletes a row", "back-dated"), strict=False))}


def fill_progress(
    data: bytes, form: Form, spec: ProgressSpec, rng: random.Random, day: date, role: str
) -> bytes:
    """Update a pre-filled progress report as a unit would: progress written on every item,
    about half claimed complete (a day in the past week and the evidence); the pre-filled
    cells left as they are. ``role`` adds the unit's mistake."""
    sheet = _progress_sheet(form, spec)
    book = load_workbook(io.BytesIO(data))
    ws = book[sheet.name]
    at = {field: _column_number(sheet, key) for field, key in spec.columns.items()}
    ongoing = next(c for c in _choices(sheet, spec) if c != spec.claimed)
    rows = _listed_rows(data, sheet, spec)
    for row in rows:
        ws.cell(row, at["progress"]).value = rng.choice(PROGRESS)
        if rng.random() < 0.5:
            ws.cell(row, at["state"]).value = spec.claimed
            ws.cell(row, at["completed_on"]).value = day - timedelta(days=rng.randint(1, 5))
            ws.cell(row, at["evidence"]).value = rng.choice(EVIDENCE)
        else:
            ws.cell(row, at["state"]).value = ongoing
    if rows and role == "back-dated":  # a completion before the problem was even listed
        ws.cell(rows[0], at["state"]).value = spec.claimed
        ws.cell(rows[0], at["completed_on"]).value = date(day.year, 8, 15)
        ws.cell(rows[0], at["evidence"]).value = rng.choice(EVIDENCE)
    if rows and role == "wrong value":
        ws.cell(rows[0], at["state"]).value = "其他"
    if rows and role == "deletes a row":
        ws.delete_rows(rows[0])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _progress_sheet(form: Form, spec: ProgressSpec) -> Sheet:
    return next(s for s in form.sheets if spec.sheet in (None, s.name))


def _column_number(sheet: Sheet, key: str) -> int:
    return next(n for n, c in enumerate(sheet.columns, start=1) if c.key == key)


def _choices(sheet: Sheet, spec: ProgressSpec) -> list[str]:
    key = spec.columns["state"]
    return list(next(c for c in sheet.columns if c.key == key).choices or ())


def _listed_rows(data: bytes, sheet: Sheet, spec: ProgressSpec) -> list[int]:
    """The row numbers of the items duban pre-filled (their code cell is set)."""
    ws = load_workbook(io.BytesIO(data), read_only=True)[sheet.name]
    column = _column_number(sheet, spec.columns["code"])
    found = []
    for number, row in enumerate(
        ws.iter_rows(min_row=FIRST_DATA_ROW, min_col=column, max_col=column, values_only=True),
        start=FIRST_DATA_ROW,
    ):
        if row[0] in (None, ""):
            break
        found.append(number)
    return found


def _filled(
    form: Form, rng: random.Random, year: int, percent_cells: bool
) -> dict[str, list[list[Any]]]:
    sheets = {}
    for sheet in form.sheets:
        least = max(sheet.min_rows, 1)
        count = min(rng.randint(least, least + 5), sheet.max_rows)
        sheets[sheet.name] = form_rows(sheet, rng, year, count, percent_cells)
    return sheets


def _bomb(workbook: bytes) -> bytes:
    """A workbook with a 'picture' that unpacks to 150 MB of zeros."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(workbook)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
        target.writestr("xl/media/image1.png", b"\0" * (150 * 2**20))
    return out.getvalue()


def send(replies: list[Reply], port: int, clock: FixedClock) -> None:
    """Send replies through the office's SMTP server, each at its simulated time."""
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for reply in replies:
            clock.set(reply.at)
            message = email.message_from_bytes(reply.raw, policy=email.policy.default)
            smtp.send_message(message)


def notices_by_unit(
    raws: list[tuple[tuple[str, ...], bytes]],
) -> dict[tuple[str, str], dict[str, EmailMessage]]:
    """The notices among sent messages, per deliverable and period, then per unit (from the
    message's key: notice:campaign:deliverable:period:unit)."""
    found: dict[tuple[str, str], dict[str, EmailMessage]] = {}
    for _recipients, raw in raws:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        key = str(message["X-Duban-Key"] or "")
        if key.startswith("notice:"):
            _, _campaign, deliverable, period, unit = key.split(":")
            found.setdefault((deliverable, period), {}).setdefault(unit, message)
    return found
