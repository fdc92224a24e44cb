"""The demo's year-end evaluation (评议考核), as the coordinator runs `duban evaluate` in
December, on the simulated clock: the ballots (民主评议测评表) go to the evaluators of the
register on 1 December, closing 8 December at 18:00, and come back by reply (one evaluator
replies twice, the later counting; one writes a mark off the scale, spoiled; one replies after
the close, recorded and told it does not count), collected each evening. On 10 December the
evaluation is computed as of the ballots' close and published: each unit its score sheet and
appeal form, the appeal window opened. A unit with a late duty appeals that line by reply with
its form; on 14 December the coordinator upholds it (the duty counted on time) and publishes
again: the corrected sheets go to the units whose sheet changed. On 18 December the result is
frozen and published: each unit its final sheet and the bulletin (考核通报), which also goes to
the distribution list. Every window stays within December 2026 (the calendar knows no 2027)."""

from __future__ import annotations

import email
import email.policy
import io
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
from rich.table import Table

from duban.adapters.render import format_due
from duban.adapters.xlsx.errors import WorkbookError
from duban.adapters.xlsx.metadata import read_metadata
from duban.evaluate import commands
from duban.evaluate.ballot_ledger import ballots_of
from duban.evaluate.ballots import counted_ballots, points_of
from duban.evaluate.decimals import rate
from duban.evaluate.publish import PublishReport
from duban.evaluate.report import EvaluationReport
from duban.evaluate.runs import latest_or_fail
from duban.model.appealsheets import APPEAL_KEYS
from duban.model.ballotsheets import BALLOT_KEYS
from duban.model.forms import FIRST_DATA_ROW
from duban.model.loader import CampaignBundle
from duban.runtime import Runtime
from duban.settings import load_settings
from duban.testing.helpers import reply_to_notice

from .units import Reply

SOURCE = "public-evaluation"
YEAR = 2026
CLOSES = "2026-12-08T18:00"
"""When the ballots close, as the coordinator types it (`--closes`)."""
MARKS = ("满意",) * 6 + ("基本满意",) * 3 + ("不满意",)
"""What an evaluator writes, by how often: mostly satisfied."""
COMMENTS = ("窗口排队时间较长，建议增加高峰时段人手", "办事指南更新不及时", "服务态度好，效率高")
TWICE, SPOILED, LATE = "E10", "E05", "E14"
"""The evaluator who replies twice (the later counting), the one who writes 很好 (off the
scale: that mark is spoiled), the one who replies after the close."""
OFF_SCALE = "很好"
BALLOT_SHEET, APPEAL_SHEET = "测评表", "复核申请表"
"""The sheets the evaluator and the unit fill (the example campaign is in Chinese)."""
STATEMENT = ("该项材料已于截止日前通过机要渠道报送纸质件，邮件因系统故障延误，"
             "附收件回执，请予复核")  # fmt: skip
UPHELD = "经核实，该单位已于截止日前通过机要渠道报送，逾期系邮件系统故障所致，按时报送计"


@dataclass
class Evaluated:
    """What the evaluation did: its steps (for the table of everything that happened), the
    same in a coordinator's words (``said``, which ``evaluation_table`` prints), the unit that
    appealed, the files written."""

    steps: list[dict[str, Any]] = field(default_factory=list)
    said: list[tuple[datetime, str, str]] = field(default_factory=list)
    appellant: str = ""
    outputs: commands.Outputs | None = None
    sheets: Path | None = None

    def tell(self, at: datetime, step: str, *words: str) -> None:
        self.said.append((at, step, "".join(words)))


@dataclass(frozen=True)
class _Office:
    """The demo's hands: the campaign file, the register, every message sent so far, the
    replies mailed at their times, the office's collect at a time."""

    path: Path
    bundle: CampaignBundle
    sent: Callable[[], Sequence[tuple[tuple[str, ...], bytes]]]
    send: Callable[[list[Reply]], None]
    collect: Callable[[datetime], dict[str, Any]]

    def runtime(self, at: datetime) -> Runtime:
        return Runtime(load_settings(now=at.isoformat()), self.path)

    def name(self, unit_id: str) -> str:
        return self.bundle.unit(unit_id).name


def evaluate_year(
    campaign_path: Path,
    bundle: CampaignBundle,
    sent: Callable[[], Sequence[tuple[tuple[str, ...], bytes]]],
    send: Callable[[list[Reply]], None],
    collect: Callable[[datetime], dict[str, Any]],
) -> Evaluated:
    """``sent``: every message sent so far (recipients, bytes); ``send``: the replies mailed
    to the office at their times; ``collect``: the office collects at a time."""
    office = _Office(campaign_path, bundle, sent, send, collect)
    done = Evaluated()
    at = _moments(bundle)
    closes = _ballot_round(office, at, done)
    _preliminary(office, at, closes, done)
    _appeal(office, at, done)
    _final(office, at, done)
    return done


def _ballot_round(office: _Office, at: dict[str, datetime], done: Evaluated) -> datetime:
    """The ballots out, back by reply and collected each evening; their close."""
    bundle, zone = office.bundle, office.bundle.campaign.zone
    with office.runtime(at["ballots"]) as rt:
        ballots = commands.ballots(rt, SOURCE, None, CLOSES)
    closes = ballots.closes.astimezone(zone)
    done.steps.append(_step(at["ballots"], "evaluate ballots",
                            f"{ballots.label}, closing {closes:%m-%d %H:%M}", ballots.evaluators,
                            ballots.sent, {"evaluators": ballots.evaluators}))  # fmt: skip
    done.tell(at["ballots"], "evaluate ballots", f"{ballots.sent} evaluators sent their ballot "
              f"(民主评议测评表), closing {closes:%m-%d %H:%M}")  # fmt: skip
    replies = _ballot_replies(bundle, office.sent(), at)
    for day in sorted({r.at.date() for r in replies}):
        office.send([r for r in replies if r.at.date() == day])
        done.steps.append(office.collect(datetime.combine(day, time(18), zone)))
    with office.runtime(at["compute"]) as rt, rt.session() as session:
        returned = ballots_of(session, bundle.campaign.id, SOURCE, ballots.label)
    counted, aside = counted_ballots(returned, ballots.closes)
    spec = bundle.campaign.scoring.source(SOURCE).ballot_spec
    spoiled = sum(points_of(m, spec) is None for b in counted for m in b.marks.values())
    reasons = Counter(a.reason for a in aside)
    last = max(r.at for r in replies).replace(hour=18, minute=0)
    done.tell(last, "collect (ballots)",
              f"{len(returned)} ballots returned by reply: {len(counted)} counted, ",
              f"{reasons['superseded']} replaced by the same evaluator's later one, ",
              f"{reasons['late']} after the close (kept, told it does not count); ",
              f"{spoiled} mark off the scale spoiled (“{OFF_SCALE}”)")  # fmt: skip
    return ballots.closes


def _preliminary(
    office: _Office, at: dict[str, datetime], closes: datetime, done: Evaluated
) -> None:
    """Computed as of the ballots' close, its outputs written, published with appeal forms."""
    zone = office.bundle.campaign.zone
    with office.runtime(at["compute"]) as rt:
        computed = commands.compute(rt, closes_at=closes)
        commands.write_outputs(rt)
    placings = computed.evaluation.placings
    flagged = [office.name(p.unit_id) for p in placings if p.flagged]
    done.steps.append(_step(at["compute"], "evaluate compute", f"{computed.row.label} v1",
                            len(placings), 0, {"version": computed.row.version,
                                               "flagged": len(flagged)}))  # fmt: skip
    close = closes.astimezone(zone)
    done.tell(at["compute"], "evaluate compute",
              f"version {computed.row.version} as of the close {close:%m-%d %H:%M}: ",
              f"{len(placings)} units ranked, last of each group flagged: ",
              "、".join(flagged))  # fmt: skip
    report = _publish(office, at["publish"], done)
    assert report.appeals_close is not None
    done.tell(at["publish"], "evaluate publish",
              f"{report.sent} units sent their score sheet (得分说明) and appeal form ",
              "(复核申请表); appeals close ",
              format_due(report.appeals_close, zone, "en"))  # fmt: skip


def _appeal(office: _Office, at: dict[str, datetime], done: Evaluated) -> None:
    """A unit with a late duty appeals that line by reply; upheld; the changed sheets sent."""
    appellant, form, notice = _appeal_form(office.bundle, office.sent())
    done.appellant = appellant
    row = _late_row(form)
    filled = _fill_cells(form, APPEAL_SHEET, {(row, APPEAL_KEYS.index("reasons") + 1): STATEMENT})
    sender = str(office.bundle.unit(appellant).emails[0])
    raw = reply_to_notice(notice, sender, [(_attachment_name(notice, form), filled)],
                          text="复核申请表见附件，请审核。", when=at["appeal"])  # fmt: skip
    office.send([Reply(appellant, "appeal", str(YEAR), at["appeal"], raw, "appeal")])
    done.steps.append(office.collect(at["appeal"].replace(hour=18, minute=0)))
    with office.runtime(at["decide"]) as rt:
        [(number, _unit, line, _state, _decision)] = commands.status(rt).appeals
        on_time = _on_time(rt, appellant)
        decided = commands.decide(rt, number, UPHELD, correction=("timeliness", on_time))
        flagged = [office.name(u) for u in _flagged(rt)]
    name = office.name(appellant)
    done.tell(at["appeal"], "collect (appeal)",
              f"{name} appeals “{line}” by replying with its form: A{number}")  # fmt: skip
    done.steps.append(_step(at["decide"], f"evaluate decide A{decided.appeal_id}",
                            f"{appellant} {line}", 1, int(decided.told),
                            {decided.state: 1, "version": decided.version or 0}))  # fmt: skip
    done.tell(at["decide"], "evaluate decide",
              f"A{number} {decided.state}: the late duty counted on time (timeliness ",
              f"{on_time}), version {decided.version} computed, {name} told; ",
              f"last of each group now: {'、'.join(flagged)}")  # fmt: skip
    _publish(office, at["republish"], done)
    again = [office.name(u) for u in _sheets_sent(office.sent(), f"v{decided.version}")]
    done.tell(at["republish"], "evaluate publish",
              f"the corrected sheets to the {len(again)} units whose sheet changed: ",
              "、".join(again))  # fmt: skip


def _final(office: _Office, at: dict[str, datetime], done: Evaluated) -> None:
    """Frozen, its outputs written, the final sheets and the bulletin sent."""
    campaign = office.bundle.campaign
    with office.runtime(at["freeze"]) as rt:
        version, _ = commands.freeze(rt)
        done.outputs = commands.write_outputs(rt)
        label = commands.label_of(rt, None)
        folder = rt.settings.outputs / campaign.id / "evaluation"
    done.sheets = folder / f"得分说明-{label}-final"
    units = len(office.bundle.units)
    done.steps.append(_step(at["freeze"], "evaluate freeze", f"{label} v{version}", units, 0,
                            {"frozen": version}))  # fmt: skip
    report = _publish(office, at["final"], done)
    done.tell(at["freeze"], "evaluate freeze + publish",
              f"version {version} frozen; {report.sent} units sent their final sheet and ",
              "the bulletin (考核通报), which went to the distribution list too (",
              "、".join(str(a) for a in campaign.roles.distribution), ")")  # fmt: skip


def evaluation_table(done: Evaluated) -> Table:
    table = Table(title="the year's evaluation (评议考核)")
    for heading in ("simulated time", "step"):
        table.add_column(heading, no_wrap=True)
    table.add_column("what happened", overflow="fold")
    for at, step, said in done.said:
        table.add_row(f"{at:%Y-%m-%d %H:%M}", step, said)
    return table


def _sheets_sent(sent: Sequence[tuple[tuple[str, ...], bytes]], stage: str) -> list[str]:
    """The units sent a score sheet of ``stage`` (v1, v2 …, final), by their message keys."""
    return [str(m["X-Duban-Key"]).rsplit(":", 1)[1] for _r, m in _messages(sent)
            if f":{stage}:unit:" in str(m["X-Duban-Key"] or "")
            and str(m["X-Duban-Key"]).startswith("evaluation-sheet:")]  # fmt: skip


def _moments(bundle: CampaignBundle) -> dict[str, datetime]:
    zone = bundle.campaign.zone

    def at(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(YEAR, 12, day, hour, minute, tzinfo=zone)

    return {"ballots": at(1, 9), "compute": at(10, 9), "publish": at(10, 10),
            "appeal": at(11, 15), "decide": at(14, 10), "republish": at(14, 11),
            "freeze": at(18, 9), "final": at(18, 10)}  # fmt: skip


def _ballot_replies(
    bundle: CampaignBundle, sent: Sequence[tuple[tuple[str, ...], bytes]], at: dict[str, datetime]
) -> list[Reply]:
    """Every evaluator's filled ballot, by reply, on one of the working days before the
    close; the late one's the morning after it; the twice-rater's again five days later."""
    zone = bundle.campaign.zone
    days = (2, 3, 4, 7)
    replies = []
    emails = {e.id: e.email for e in bundle.evaluators}
    for n, (evaluator, message) in enumerate(sorted(_ballots(sent).items())):
        name, blank = _attachment(message)
        rng = random.Random(f"ballot-{evaluator}")
        when = datetime(YEAR, 12, days[n % len(days)], 10 + n % 7, 5 * n % 60, tzinfo=zone)
        if evaluator == LATE:
            when = datetime(YEAR, 12, 9, 9, 30, tzinfo=zone)
        if evaluator == TWICE:
            when = datetime(YEAR, 12, 2, 16, 0, tzinfo=zone)
        filled = _fill_ballot(blank, rng, spoiled=evaluator == SPOILED)
        sender = emails[evaluator]
        replies.append(_ballot_reply(message, sender, name, filled, when, evaluator))
        if evaluator == TWICE:
            again = _fill_ballot(blank, random.Random(f"again-{evaluator}"))
            later = datetime(YEAR, 12, 7, 11, 0, tzinfo=zone)
            replies.append(_ballot_reply(message, sender, name, again, later, evaluator))
    assert all(r.at < at["compute"] for r in replies)
    return replies


def _ballot_reply(
    message: EmailMessage, sender: str, name: str, data: bytes, when: datetime, evaluator: str
) -> Reply:
    behaviour = {TWICE: "twice", SPOILED: "off the scale", LATE: "late"}.get(evaluator, "valid")
    raw = reply_to_notice(message, sender, [(name, data)], text="测评表已填好，请查收。", when=when)
    return Reply(evaluator, "ballot", SOURCE, when, raw, behaviour)


def _ballots(sent: Sequence[tuple[tuple[str, ...], bytes]]) -> dict[str, EmailMessage]:
    """The ballot messages sent, by evaluator (from the key: ballot:…:evaluator:E01)."""
    found = {}
    for _recipients, message in _messages(sent):
        key = str(message["X-Duban-Key"] or "")
        if key.startswith("ballot:"):
            found[key.rsplit(":", 1)[1]] = message
    return found


def _fill_ballot(data: bytes, rng: random.Random, *, spoiled: bool = False) -> bytes:
    """A mark for every unit the ballot lists (a comment on some), as an evaluator types
    them; ``spoiled``: the first written 很好, a word the scale does not have."""
    ws = openpyxl.load_workbook(io.BytesIO(data))[BALLOT_SHEET]
    cells: dict[tuple[int, int], Any] = {}
    mark, comment = BALLOT_KEYS.index("mark") + 1, BALLOT_KEYS.index("comment") + 1
    for row in range(FIRST_DATA_ROW, ws.max_row + 1):
        if ws.cell(row, BALLOT_KEYS.index("unit") + 1).value is None:
            continue
        cells[row, mark] = OFF_SCALE if spoiled and row == FIRST_DATA_ROW else rng.choice(MARKS)
        if rng.random() < 0.15:
            cells[row, comment] = rng.choice(COMMENTS)
    return _fill_cells(data, BALLOT_SHEET, cells)


def _fill_cells(data: bytes, sheet: str, cells: dict[tuple[int, int], Any]) -> bytes:
    """The workbook with ``cells`` of ``sheet`` typed in, saved as Excel would (openpyxl)."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    ws = book[sheet]
    for (row, column), value in cells.items():
        ws.cell(row, column, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _appeal_form(
    bundle: CampaignBundle, sent: Sequence[tuple[tuple[str, ...], bytes]]
) -> tuple[str, bytes, EmailMessage]:
    """The unit that appeals (T01 if it has a late duty, else the first in the roster that
    has one), the appeal form it was sent with its version-1 sheet, and that message."""
    forms: dict[str, tuple[bytes, EmailMessage]] = {}
    for _recipients, message in _messages(sent):
        key = str(message["X-Duban-Key"] or "")
        if not key.startswith("evaluation-sheet:") or ":v1:unit:" not in key:
            continue
        for part in message.iter_attachments():
            data = part.get_payload(decode=True)
            if isinstance(data, bytes) and _kind(data) == "appeal":
                forms[key.rsplit(":", 1)[1]] = (data, message)
    for unit in bundle.units:
        if unit.id in forms and _late_row(forms[unit.id][0]):
            return unit.id, *forms[unit.id]
    raise AssertionError("no unit's sheet has a late duty to appeal")


def _kind(data: bytes) -> str:
    try:
        return str(read_metadata(data).get("kind", ""))
    except WorkbookError:  # a score sheet carries no metadata
        return ""


def _late_row(form: bytes) -> int:
    """The form's row of the unit's first late duty (0: none), where the unit writes why."""
    ws = openpyxl.load_workbook(io.BytesIO(form))[APPEAL_SHEET]
    said = APPEAL_KEYS.index("said") + 1
    for row in range(FIRST_DATA_ROW, ws.max_row + 1):
        if "逾期报送" in str(ws.cell(row, said).value or ""):
            return row
    return 0


def _attachment_name(message: EmailMessage, form: bytes) -> str:
    for part in message.iter_attachments():
        if part.get_payload(decode=True) == form:
            return part.get_filename() or "复核申请表.xlsx"
    return "复核申请表.xlsx"


def _attachment(message: EmailMessage) -> tuple[str, bytes]:
    part = next(iter(message.iter_attachments()))
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return part.get_filename() or "测评表.xlsx", data


def _on_time(rt: Runtime, unit_id: str) -> Any:
    """The unit's timeliness with the appealed duty counted on time: one more on time."""
    with rt.session() as session:
        row = latest_or_fail(session, rt.bundle.campaign.id, commands.label_of(rt, None))
        report: EvaluationReport = commands.report_of(rt.bundle, row)
    [figure] = [line for line in report.sheet(unit_id).lines
                if line.source_id == "timeliness" and line.what == "figure"]  # fmt: skip
    facts = dict(figure.facts)
    return rate(int(facts["on_time"]) + 1, int(facts["expected"]))


def _flagged(rt: Runtime) -> list[str]:
    """The units the latest version flags (the last of each group)."""
    with rt.session() as session:
        row = latest_or_fail(session, rt.bundle.campaign.id, commands.label_of(rt, None))
        placings = commands.report_of(rt.bundle, row).evaluation.placings
    return [p.unit_id for p in placings if p.flagged]


def _publish(office: _Office, at: datetime, done: Evaluated) -> PublishReport:
    """`duban evaluate publish`: preliminary, to the units whose sheet changed; final, to all."""
    with office.runtime(at) as rt:
        published = commands.publish(rt)
    stage = "final" if published.final else f"v{published.version}"
    by = {"bulletin to the distribution": 1} if published.final else {
        "with appeal form": published.units}  # fmt: skip
    done.steps.append(_step(at, "evaluate publish", f"{published.label} {stage}",
                            published.units, published.sent, by))  # fmt: skip
    return published


def _messages(
    sent: Sequence[tuple[tuple[str, ...], bytes]],
) -> list[tuple[tuple[str, ...], EmailMessage]]:
    found = []
    for recipients, raw in sent:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        found.append((recipients, message))
    return found


def _step(
    at: datetime, step: str, period: str, count: int, sent: int, by: dict[str, int]
) -> dict[str, Any]:
    return {"at": at, "step": step, "period": period, "count": count, "sent_now": sent,
            "by_status": by}  # fmt: skip
