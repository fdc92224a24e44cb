"""The demo's quarterly inspection (督查, 双随机): the coordinator commits the round one morning,
draws it an hour later with a seed announced meanwhile (a lottery number, say), one inspector
stands down from a unit (回避), the coordinator approves the teams, writes the page to post and
sends the teams their scoresheets, each as the `duban inspect` commands do it, on the
simulated clock. Then each unit's first inspector returns its scoresheet (points deducted on
one item with the reason, a different number for each unit, one finding): one scores an item
above its maximum, is answered with the cell and corrects it the next day; one returns the
last sheet after the visit window. The next morning the coordinator writes the summary
workbook and sends the bulletin (督查通报)."""

from __future__ import annotations

import email
import email.policy
import email.utils
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
from rich.table import Table

from duban.adapters.xlsx.metadata import read_metadata
from duban.inspect import commands
from duban.inspect.draw import Draw
from duban.inspect.drawing import RoundRequest
from duban.model.forms import FIRST_DATA_ROW
from duban.model.loader import CampaignBundle
from duban.model.scoresheets import SCORE_KEYS, ZH
from duban.model.workdays import WorkCalendar
from duban.runtime import Runtime
from duban.settings import load_settings

from .units import Reply

INSPECTION = "quarterly"
SEED = "2026101907328"
"""The seed as a coordinator would type it: here a made-up lottery result of the day."""
RECUSAL = "近亲属在该单位任职"


@dataclass(frozen=True)
class Inspected:
    steps: list[dict[str, Any]]
    result: Draw
    page: Path
    recused: tuple[str, str]
    window_end: date
    label: str


def inspect_quarter(campaign_path: Path, morning: datetime) -> Inspected:
    request = RoundRequest(INSPECTION, actor="coordinator")
    with _runtime(campaign_path, morning) as rt:
        committed = commands.commit(rt, request)
    with _runtime(campaign_path, morning + timedelta(hours=1)) as rt:
        drawn = commands.draw(rt, request, SEED)
    first = drawn.result.teams[0]
    recused = (first.unit_id, first.inspectors[0])
    with _runtime(campaign_path, morning + timedelta(hours=1, minutes=30)) as rt:
        result = commands.recuse(rt, INSPECTION, drawn.label, *recused, note=RECUSAL,
                                 actor="coordinator")  # fmt: skip
    with _runtime(campaign_path, morning + timedelta(hours=2)) as rt:
        commands.approve(rt, INSPECTION, drawn.label, "coordinator")
        page = commands.publication(rt, INSPECTION, drawn.label).path
    with _runtime(campaign_path, morning + timedelta(hours=3)) as rt:
        told = commands.notify(rt, INSPECTION, drawn.label)
    label = f"{INSPECTION} {drawn.label}"
    steps = [
        _step(morning, "inspect commit", label, 0, {"attempt": committed.attempt}),
        _step(morning + timedelta(hours=1), "inspect draw", label, len(result.units),
              {"strata": len(result.picks)}),
        _step(morning + timedelta(hours=1, minutes=30), "inspect recuse", label, 1,
              {"replaced": 1}),
        _step(morning + timedelta(hours=2), "inspect approve + publish", label,
              len(result.units), {"teams": len(result.teams)}),
        _step(morning + timedelta(hours=3), "inspect notify", label, told.inspectors,
              {"sent": told.sent}),
    ]  # fmt: skip
    return Inspected(steps, result, page, recused, told.window[1], drawn.label)


FINDING = "窗口工作人员上班时间脱岗，群众等候时间较长"
DEDUCTED = ("conduct", "明察暗访发现脱岗人员")
"""The item teams deduct points on, and why."""


def deduction(n: int) -> int:
    """Points the team of the ``n``-th unit drawn deducts: 0, 3, 6, 2, 5, 1, 4, 0, so the
    totals differ (two units tie at full marks) and the bulletin has a best and a worst."""
    return (n * 3) % 7


def return_sheets(
    bundle: CampaignBundle,
    inspected: Inspected,
    sent: Sequence[tuple[tuple[str, ...], bytes]],
    send: Callable[[list[Reply]], None],
    collect: Callable[[datetime], dict[str, Any]],
) -> list[dict[str, Any]]:
    """Each unit's first inspector returns its sheet three working days after the notice; the
    first is sent with a score above its item's maximum, corrected the next working day; the
    last is sent two working days after the window closes. Collected each evening."""
    sheets = _sheets(sent, inspected)
    units = list(sheets)
    zone, calendar = bundle.campaign.zone, bundle.calendar
    day = inspected.window_end
    first = _working_day_after(calendar, inspected.steps[-1]["at"].date(), 3)
    fix = _working_day_after(calendar, first, 1)
    late = _working_day_after(calendar, day, 2)
    at = [datetime.combine(d, time(15), zone) for d in (first, fix, late)]
    batches: list[list[Reply]] = [[], [], []]
    for n, unit in enumerate(units):
        sender, data = sheets[unit]
        when = 2 if n == len(units) - 1 else 0
        minus = deduction(n)
        if n == 0:
            over = _filled(data, minus, over=True)
            batches[0].append(_reply(sender, unit, over, at[0], "over"))
            batches[1].append(_reply(sender, unit, _filled(data, minus), at[1], "corrected"))
            continue
        filled = _filled(data, minus)
        batches[when].append(_reply(sender, unit, filled, at[when], "late" * (when == 2)))
    steps = []
    for batch, moment in zip(batches, at, strict=True):
        send(batch)
        steps.append(collect(moment.replace(hour=18)))
    return steps


def _sheets(
    sent: Sequence[tuple[tuple[str, ...], bytes]], inspected: Inspected
) -> dict[str, tuple[str, bytes]]:
    """Each drawn unit's sheet as its team's first inspector received it, with that address."""
    first = {team.unit_id: team.inspectors[0] for team in inspected.result.teams}
    found: dict[str, tuple[str, bytes]] = {}
    for recipients, raw in sent:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        key = str(message["X-Duban-Key"] or "")
        if ":inspector:" not in key:
            continue
        inspector = key.rsplit(":", 1)[1]
        for part in message.iter_attachments():
            data = part.get_content()
            unit = read_metadata(data)["unit_id"]
            if first.get(unit) == inspector:
                found[unit] = (recipients[0], data)
    return {unit: found[unit] for unit in inspected.result.units if unit in found}


def _filled(data: bytes, minus: int, *, over: bool = False) -> bytes:
    """Full marks but ``minus`` points on the deducted item (its reason beside it), or,
    ``over``, one item scored five above its maximum; one finding, its deadline left to the
    inspection's default."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    scores, findings = book[ZH.scores_sheet], book[ZH.findings_sheet]
    item_column = SCORE_KEYS.index("item") + 1
    for row in range(FIRST_DATA_ROW, scores.max_row + 1):
        item = scores.cell(row, item_column).value
        if item is None:
            continue
        most = float(str(scores.cell(row, SCORE_KEYS.index("points") + 1).value or 0))
        score = most
        if item == DEDUCTED[0] and minus:
            score = most - minus
            scores.cell(row, SCORE_KEYS.index("reason") + 1, DEDUCTED[1])
        if over and row == FIRST_DATA_ROW:
            score = most + 5
        scores.cell(row, SCORE_KEYS.index("score") + 1, score)
    findings.cell(FIRST_DATA_ROW, 1, FINDING)
    findings.cell(FIRST_DATA_ROW, 2, "严格执行考勤制度，设置AB岗")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def report_round(campaign_path: Path, at: datetime, inspected: Inspected) -> commands.Reported:
    """The round's summary workbook and bulletin (督查通报), mailed to the distribution list,
    as `duban inspect report --send` does once the sheets are in."""
    with _runtime(campaign_path, at) as rt:
        return commands.report(rt, INSPECTION, inspected.label, send=True)


def _reply(sender: str, unit: str, data: bytes, at: datetime, behaviour: str) -> Reply:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "youhuaban@jt.example"
    message["Subject"] = f"督查评分表（{unit}）"
    message["Message-ID"] = email.utils.make_msgid(domain="jt.example")
    message["Date"] = email.utils.format_datetime(at)
    message.set_content("评分表见附件，请查收。")
    message.add_attachment(data, maintype="application",
                           subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           filename=f"督查评分表-{unit}.xlsx")  # fmt: skip
    return Reply(unit, "inspection", INSPECTION, at, message.as_bytes(), behaviour or "valid")


def _working_day_after(calendar: WorkCalendar, day: date, count: int) -> date:
    for _ in range(count):
        day = calendar.next_working_day(day + timedelta(days=1))
    return day


def draw_table(inspected: Inspected, names: dict[str, str]) -> Table:
    result = inspected.result
    table = Table(title=f"quarterly inspection drawn (双随机): seed {result.seed}")
    for heading in ("stratum", "unit", "team", "avoidance"):
        table.add_column(heading)
    strata = {u: p.stratum for p in result.picks for u in p.units}
    skipped: dict[str, list[str]] = {}
    for r in result.recusals:
        skipped.setdefault(r.unit_id, []).append(f"{r.inspector_id} {r.said('zh-CN')}")
    for team in result.teams:
        table.add_row(
            strata[team.unit_id],
            f"{team.unit_id} {names.get(team.unit_id, '')}",
            "、".join(team.inspectors),
            "；".join(skipped.get(team.unit_id, [])),
        )
    return table


def _runtime(campaign_path: Path, at: datetime) -> Runtime:
    return Runtime(load_settings(now=at.isoformat()), campaign_path)


def _step(at: datetime, step: str, period: str, count: int, by: dict[str, int]) -> dict[str, Any]:
    return {"at": at, "step": step, "period": period, "count": count, "sent_now": 0,
            "by_status": by}  # fmt: skip
