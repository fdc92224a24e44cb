"""Simulated units: they read their notice, fill the template with plausible content and reply.

Most reply on time, some late; one types a value that is not in the list and sends a
corrected file after the rejection; one sends another unit's template; one sends a hostile
file; a couple never reply. Everything goes through SMTP to the office's mailbox, stamped with
the simulated time of sending.
"""

from __future__ import annotations

import email
import email.policy
import io
import random
import smtplib
import zipfile
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from typing import Any

from duban.clock import FixedClock
from duban.loader import CampaignBundle
from duban.testing import attachment_of, fill_workbook, reply_to_notice

TASKS = [
    ("教育培训", "开展“周末课堂”专题学习", "每月组织一次集中学习，邀请专家授课"),
    ("提速增效", "压缩行政审批办理时限", "梳理审批事项，承诺时限压缩三分之一"),
    ("执行力强化", "建立重点工作督办台账", "每周梳理进度，逐项明确责任人和完成时限"),
    ("重点项目推进", "落实重点项目挂钩服务", "“一个项目、一名领导、一套班子、一抓到底”"),
    ("作风整顿", "开展“走进基层、服务群众”活动", "班子成员每季度下基层调研不少于两次"),
    ("教育培训", "选派青年干部跟班学习", "上半年选派两名青年干部到基层一线锻炼"),
    ("作风整顿", "整治会风文风", "精简会议和文件，会议时长控制在一小时以内"),
]
SECTIONS = ["办公室", "综合科", "政策法规科", "业务一科", "组织人事科", "督查室"]
NAMES = ["王建国", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "周敏"]


@dataclass
class Reply:
    unit_id: str
    at: datetime
    raw: bytes
    behaviour: str


def plan_rows(rng: random.Random, count: int) -> list[list[Any]]:
    rows = []
    for n in range(count):
        category, task, measure = TASKS[(n + rng.randrange(len(TASKS))) % len(TASKS)]
        phone = f"139{rng.randrange(10**8):08d}"
        deadline = f"2026-{rng.randint(4, 12):02d}-28"
        rows.append([category, task, measure, rng.choice(SECTIONS), rng.choice(NAMES), phone,
                     deadline])  # fmt: skip
    return rows


def plan_replies(
    bundle: CampaignBundle, notices: dict[str, EmailMessage], due: datetime, seed: int = 2026
) -> list[Reply]:
    """What each unit will send, and when (relative to the plan's due day)."""
    rng = random.Random(seed)
    units = [u.id for u in bundle.units]
    roles = {"T02": "wrong value", "B01": "another unit's template", "T07": "hostile file",
             "T05": "late", "B12": "late", "B19": "late", "T04": "resubmits",
             "B13": "silent", "B18": "silent"}  # fmt: skip
    replies: list[Reply] = []
    for unit_id in units:
        role = roles.get(unit_id, "on time")
        if role == "silent":
            continue
        notice = notices[unit_id]
        sender = bundle.units_by_id[unit_id].emails[0]
        day = due - timedelta(days=rng.randint(1, 14))
        if role == "late":
            day = due + timedelta(days=rng.randint(1, 4))
        at = datetime.combine(day.date(), time(rng.randint(8, 17), rng.randint(0, 59)), due.tzinfo)
        rows = plan_rows(rng, rng.randint(3, 8))
        if role == "wrong value":
            rows[1][0] = "作风建设"  # not one of the listed categories
        if role == "another unit's template":
            notice = notices["B02"]
        name, data = attachment_of(notice)
        content = fill_workbook(data, "实施方案", rows)
        if role == "hostile file":
            content = _bomb(content)
        raw = reply_to_notice(notice, sender, [(name, content)], when=at)
        replies.append(Reply(unit_id, at, raw, role))
        if role in ("wrong value", "resubmits"):
            rows = plan_rows(rng, 4)
            fixed = reply_to_notice(notices[unit_id], sender,
                                    [(name, fill_workbook(data, "实施方案", rows))],
                                    when=at + timedelta(days=1))  # fmt: skip
            replies.append(Reply(unit_id, at + timedelta(days=1), fixed, "corrected"))
    return sorted(replies, key=lambda r: r.at)


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
    bundle: CampaignBundle, raws: list[tuple[tuple[str, ...], bytes]]
) -> dict[str, EmailMessage]:
    found: dict[str, EmailMessage] = {}
    for recipients, raw in raws:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        unit = next((u for u in bundle.units if set(u.emails) == set(recipients)), None)
        if unit is not None and str(message["X-Duban-Key"]).startswith("notice:"):
            found.setdefault(unit.id, message)
    return found
