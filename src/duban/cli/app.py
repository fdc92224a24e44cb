"""``duban``: the coordinator's command line, a thin layer over the domain.

Each command builds one ``Runtime`` from the settings (the composition root) and calls one
use case through it; no command runs a Prefect flow or imports Prefect, so each answers in
about the time of ``duban status`` (the flows are the deployments' way in, over the same use
cases). A ``DubanError`` is printed as a sentence with a hint and exit code 1, never as a
traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ClassVar

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.orm import Session

from duban.adapters.render import environment
from duban.cli import tables as reports
from duban.cli.board import board
from duban.cli.common import AsOf, CampaignFile, reports_errors, settings_for
from duban.cli.group import DubanGroup
from duban.cli.language import pick
from duban.cli.progress import shown, working
from duban.errors import DubanError
from duban.implement.chain_report import add_key_tasks
from duban.mobilize.send import NoticeRequest
from duban.model.loader import CampaignBundle, load_campaign
from duban.model.overview import status_report
from duban.model.roster import split_list
from duban.runtime import Runtime
from duban.selfcheck.overview import add_rectification_rates
from duban.sending.outbox import outbox_rows
from duban.settings import Settings

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from duban.implement.review import Decision


class DubanCommands(DubanGroup):
    """``duban``'s own group: the command groups are imported when a command names them."""

    lazy: ClassVar[dict[str, str]] = {
        "rectify": "duban.cli.rectify:rectify",
        "inspect": "duban.cli.inspect:inspect",
        "evaluate": "duban.cli.evaluate:evaluate",
        "users": "duban.cli.users:users",
        "archive": "duban.cli.archive:archive",
    }


app = typer.Typer(
    cls=DubanCommands,
    help="督办 duban: run phased campaigns over many units by email and spreadsheets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()

BAR_BATCH = 50
"""Units per SMTP connection on the command line: small enough that the bar moves."""


@app.command()
@reports_errors
def validate(campaign: CampaignFile) -> None:
    """Check a campaign file, its forms and its roster; exit 1 listing every problem."""
    bundle = load_campaign(campaign)
    out.print(reports.validation_summary(bundle))


@app.command()
@reports_errors
def init(campaign: CampaignFile, as_of: AsOf = None) -> None:
    """Create or upgrade the ledger and register the campaign and its roster (idempotent)."""
    from duban.archive.sources import register_and_keep

    with Runtime(settings_for(as_of), campaign) as rt, rt.migrated() as session:
        report = register_and_keep(session, rt.bundle, rt.raw_store, rt.clock)
        out.print(reports.register_summary(rt.bundle, report))


@app.command()
@reports_errors
def status(
    as_of: AsOf = None,
    campaign: Annotated[str | None, typer.Option(help="only this campaign id")] = None,
    deliverable: Annotated[str | None, typer.Option(help="only this deliverable id")] = None,
    units: Annotated[bool, typer.Option("--units", help="one row per unit as well")] = False,
    tags: Annotated[bool, typer.Option("--by-tag", help="rates per unit tag as well")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Per deliverable and period: expected, received, on time, late, missing, rejected; the
    rectification items' closure rates per tag and unit; and, where partners report to the
    lead first, each key task's lead and partners and who is late."""
    with Runtime(settings_for(as_of)) as rt, rt.migrated() as session:
        result = status_report(
            session, rt.clock.now(), campaign=campaign, deliverable=deliverable,
            units=units, tags=tags,
        )  # fmt: skip
        add_rectification_rates(session, result, rt.clock.now())
        add_key_tasks(session, result, rt.clock.now(), deliverable)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))
        return
    for table in reports.status_tables(result):
        out.print(table)


@app.command(name="verify")
@reports_errors
def verify_command(
    campaign: Annotated[str | None, typer.Option(help="only this campaign id")] = None,
) -> None:
    """Check each campaign's event log against its hash chain; print the head to note."""
    from duban.archive.live import check_campaigns

    with Runtime(settings_for(None)) as rt, rt.session() as session:
        checked = check_campaigns(session, campaign)
    for chain in checked:
        out.print(pick(
            f"{chain.campaign_id}: {chain.events:,} events, the chain holds; head {chain.head}",
            f"{chain.campaign_id}：{chain.events:,} 条事件，哈希链完好；末端 {chain.head}",
        ))  # fmt: skip


Units = Annotated[
    list[str] | None,
    typer.Option("--units", help="only these unit ids (repeat, or separate with commas)"),
]


def unit_list(units: list[str] | None) -> tuple[str, ...] | None:
    if not units:
        return None
    return tuple(u for item in units for u in split_list(item))


@app.command()
@reports_errors
def mobilize(
    campaign: CampaignFile,
    deliverable: Annotated[str, typer.Option(help="the deliverable whose notices to send")],
    period: Annotated[str | None, typer.Option(help="e.g. 2026-Q2; default: the next due")] = None,
    units: Units = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="write every message to the outbox, send nothing")
    ] = False,
    as_of: AsOf = None,
) -> None:
    """Send every assigned unit its notice with its own template."""
    from duban.mobilize import commands

    with Runtime(settings_for(as_of), campaign) as rt:
        rt.check(secret=True, smtp=not dry_run)
        request = NoticeRequest(deliverable, period, unit_list(units))
        with shown(pick("sending notices", "正在发送通知")) as progress:
            result = commands.mobilize(rt, request, dry_run=dry_run, progress=progress)
    out.print(reports.mobilize_summary(deliverable, result))


@app.command()
@reports_errors
def approve(
    campaign: CampaignFile,
    deliverable: Annotated[str, typer.Option(help="the deliverable whose notices to approve")],
    period: Annotated[str | None, typer.Option(help="e.g. 2026-Q2; default: the next due")] = None,
    units: Units = None,
    by: Annotated[str, typer.Option(help="who approves (kept in the audit trail)")] = "coordinator",
    as_of: AsOf = None,
) -> None:
    """Approve the previewed notices so that the next mobilize run sends them."""
    from duban.mobilize import commands

    with Runtime(settings_for(as_of), campaign) as rt:
        rt.check(secret=True)
        plan = commands.approve(rt, NoticeRequest(deliverable, period, unit_list(units)), by)
    n, digest = len(plan.instance_ids), plan.digest[:12]
    out.print(pick(
        f"approved {n} notices of {deliverable} {plan.period} (digest {digest}); "
        "the next `duban mobilize` sends them",
        f"已核准 {deliverable} {plan.period} 的 {n} 份通知（摘要 {digest}）；"
        "下一次 `duban mobilize` 会发出",
    ))  # fmt: skip


@app.command()
@reports_errors
def collect(
    campaign: CampaignFile,
    batch_size: Annotated[int, typer.Option(help="items per Prefect task")] = 200,
    as_of: AsOf = None,
) -> None:
    """Collect what units sent: store, validate, record and answer."""
    from duban.implement import commands

    with Runtime(settings_for(as_of), campaign, on_wait=waiting) as rt:
        rt.check(secret=True, smtp=True, intake=True)
        with shown(pick("collecting", "正在收件")) as progress:
            result = commands.collect(rt, batch_size=batch_size, progress=progress)
    out.print(reports.collect_summary(result))


def waiting(lock: str) -> None:
    """Said on stderr when another run holds the mailbox, so a run that waits says why."""
    mailbox = lock.removeprefix("intake:")
    Console(stderr=True, highlight=False, soft_wrap=True).print(pick(
        f"another run is collecting from {mailbox}; waiting for its batch to finish",
        f"另一次收件正在读取 {mailbox}；等它这一批处理完再继续",
    ))  # fmt: skip


@app.command()
@reports_errors
def review(
    campaign: CampaignFile,
    open_item: Annotated[
        str | None,
        typer.Option(
            "--open",
            metavar="ID",
            help="write out a message's raw .eml (M…) or a file's bytes (F…), held or not",
        ),
    ] = None,
    out_path: Annotated[
        Path | None,
        typer.Option(
            "--out", help="where --open writes: a file or a folder (default: DUBAN_HOME/review/)"
        ),
    ] = None,
    accept: Annotated[
        str | None, typer.Option(metavar="F…", help="accept this held file as a submission")
    ] = None,
    reject: Annotated[
        str | None,
        typer.Option(metavar="F…", help="reject this held file; --note is sent to its sender"),
    ] = None,
    attach: Annotated[
        str | None,
        typer.Option(
            metavar="M…",
            help="attach this held message to --unit as "
            "correspondence (no submission, nothing sent)",
        ),
    ] = None,
    dismiss: Annotated[
        str | None,
        typer.Option(metavar="ID", help="set this held message or file aside (nothing sent)"),
    ] = None,
    unit: Annotated[
        str | None,
        typer.Option(
            "--unit",
            help="the unit: with --attach; with --accept when the file "
            "does not name it (another unit's template, no template)",
        ),
    ] = None,
    deliverable: Annotated[
        str | None, typer.Option(help="with --accept when the file does not name it")
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="with --accept when the file does not name it")
    ] = None,
    note: Annotated[str, typer.Option(help="why (kept; sent to the sender on --reject)")] = "",
    by: Annotated[str, typer.Option(help="who decides (kept in the audit trail)")] = "coordinator",
    as_json: Annotated[bool, typer.Option("--json", help="list as JSON")] = False,
    as_of: AsOf = None,
) -> None:
    """List what intake held (待核): messages M… and files F…; open one; or decide one."""
    from duban.implement import review as rv

    actions = {"--open": open_item, "--accept": accept, "--reject": reject,
               "--attach": attach, "--dismiss": dismiss}  # fmt: skip
    chosen = [name for name, value in actions.items() if value is not None]
    if len(chosen) > 1:
        raise DubanError(
            f"one thing at a time: {' and '.join(chosen)} were both given",
            hint="run `duban review` once for each item",
            zh=f"一次只能做一件事：同时给了 {' 和 '.join(chosen)}",
            zh_hint="每一项分别运行一次 `duban review`",
        )
    action = chosen[0] if chosen else None
    _check_review_options(action, unit, deliverable, period, out_path)
    if action is not None:
        rv.parse_item(str(actions[action]))  # a wrong id is named before anything else
    if action in ("--reject", "--attach", "--dismiss") and not note.strip():
        raise DubanError(
            f"say why with --note to {action.removeprefix('--')}",
            hint="the note is kept with the decision (and sent to the sender on --reject)",
            zh=f"用 --note 写明{_ACTION_ZH[action]}的理由",
            zh_hint="理由随决定一并留存（--reject 时还会发给寄件人）",
        )
    rt = Runtime(settings_for(as_of), campaign)
    settings, bundle, clock, zone = rt.settings, rt.bundle, rt.clock, rt.bundle.campaign.zone
    if action == "--reject":
        rt.check(secret=True, smtp=True)
    with rt, rt.session() as session:
        if action is None:
            items = rv.held_items(session, bundle)
            if as_json:
                rows = [item.as_dict(zone) for item in items]
                typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            else:
                out.print(reports.held_table(items, zone))
        elif open_item is not None:
            _open_item(session, bundle, settings, open_item, out_path)
        elif accept is not None:
            _accept(session, bundle, settings, accept, by, unit, deliverable, period)
        elif reject is not None:
            decision = rv.reject_held(session, bundle, clock, reject, by, note)
            _print_decision(decision, zone)
            _send_rejection(session, bundle, settings, reject)
        elif attach is not None:
            assert unit is not None
            decision = rv.attach_message(session, bundle, clock, attach, unit, by, note)
            _print_decision(decision, zone)
        elif dismiss is not None:
            _print_decision(rv.dismiss(session, bundle, clock, dismiss, by, note), zone)


_ACTION_ZH = {"--reject": "退回", "--attach": "归入", "--dismiss": "搁置"}
_SENT_ZH = {"failed": "发送失败", "refused": "被拒收", "pending": "尚未发出", "partial": "部分送达"}


def _check_review_options(
    action: str | None,
    unit: str | None,
    deliverable: str | None,
    period: str | None,
    out_path: Path | None,
) -> None:
    """Refuse options that the chosen action would silently ignore."""
    allowed = {
        "--unit": action in ("--accept", "--attach"),
        "--deliverable": action == "--accept",
        "--period": action == "--accept",
        "--out": action == "--open",
    }
    given = {"--unit": unit, "--deliverable": deliverable, "--period": period, "--out": out_path}
    for name, value in given.items():
        if value is not None and not allowed[name]:
            raise DubanError(
                f"{name} does not go with {action or 'listing'}",
                hint="--unit goes with --attach and --accept; --deliverable and --period with "
                "--accept; --out with --open",
                zh=f"{name} 不能与 {action or '列出待核'} 一起用",
                zh_hint="--unit 用于 --attach 和 --accept；"
                "--deliverable 和 --period 用于 --accept；--out 用于 --open",
            )
    if action == "--attach" and unit is None:
        raise DubanError("say which unit with --unit", hint="--attach M… --unit ID --note …",
                         zh="用 --unit 指明单位",
                         zh_hint="--attach M… --unit 单位编号 --note …")  # fmt: skip


def _open_item(
    session: Session, bundle: CampaignBundle, settings: Settings, item: str, out_path: Path | None
) -> None:
    from duban.implement.intake.rawstore import RawStore
    from duban.implement.review import open_item

    name, data = open_item(session, bundle, RawStore(settings.raw_store), item)
    target = out_path if out_path is not None else settings.home / "review"
    if out_path is None or target.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        target = target / name
    try:
        target.write_bytes(data)
    except OSError as error:
        raise DubanError(f"cannot write {target}: {error.strerror}",
                         hint="give --out a file or folder you can write to",
                         zh=f"无法写入 {target}：{error.strerror}",
                         zh_hint="给 --out 一个可写的文件或文件夹") from None  # fmt: skip
    written = f"{item.strip().upper()}: {len(data):,}"
    out.print(pick(f"{written} bytes written to {escape(str(target))}",
                   f"{written} 字节已写入 {escape(str(target))}"))  # fmt: skip


def _accept(
    session: Session,
    bundle: CampaignBundle,
    settings: Settings,
    item: str,
    by: str,
    unit: str | None,
    deliverable: str | None,
    period: str | None,
) -> None:
    from duban.implement.intake.pipeline import Intake
    from duban.implement.intake.rawstore import RawStore
    from duban.implement.intake.reader import WorkbookReader
    from duban.implement.review import accept_held, parse_item

    with WorkbookReader.for_campaign(bundle.campaign, workers=1) as reader:
        store = RawStore(settings.raw_store, settings.store_flush)
        intake = Intake(bundle, store, reader, settings.secret_key(), settings.clock(),
                        trusted_authserv=settings.trusted_authserv_ids)  # fmt: skip
        verdict = accept_held(session, intake, item, by, unit_id=unit,
                              deliverable_id=deliverable, period=period)  # fmt: skip
    said = verdict.describe(bundle.campaign.language)
    if verdict.detail.get("already"):
        version = verdict.detail.get("version")
        was = pick(f"version {version}", f"第 {version} 版") if version else escape(said)
        out.print(pick(f"{parse_item(item)}: already accepted ({was}); nothing changed",
                       f"{parse_item(item)}：早已接收（{was}），没有变动"))  # fmt: skip
        return
    value = verdict.outcome.value
    outcome = pick(value, _DECIDED_ZH.get(value, value))
    out.print(pick(f"{parse_item(item)}: {outcome} ({escape(said)})",
                   f"{parse_item(item)}：{outcome}（{escape(said)}）"))  # fmt: skip


def _send_rejection(
    session: Session, bundle: CampaignBundle, settings: Settings, item: str
) -> None:
    from duban.adapters.mail.mailer import SmtpMailer
    from duban.adapters.mail.smtp_url import parse_smtp_url
    from duban.implement.intake.rawstore import RawStore
    from duban.implement.review import send_rejection

    keep = RawStore(settings.raw_store, settings.store_flush).put
    with SmtpMailer(parse_smtp_url(settings.smtp()), keep=keep) as mailer:
        sent = send_rejection(session, bundle, settings.secret_key(), settings.clock(), mailer,
                              environment(settings.templates), item)  # fmt: skip
    if sent is None:
        out.print(pick("the message had no sender: nobody to tell", "该邮件没有寄件人：无人可通知"))
    elif sent.status != "sent":
        raise DubanError(
            f"the rejection note to {', '.join(sent.recipients)} was {sent.status}"
            + (f": {sent.error}" if sent.error else ""),
            hint="run the same command again to retry; `duban outbox --kind rejection` shows it",
            zh=f"给 {'、'.join(sent.recipients)} 的退回说明{_SENT_ZH.get(sent.status, sent.status)}"
            + (f"：{sent.error}" if sent.error else ""),
            zh_hint="再运行一次同样的命令即可重试；`duban outbox --kind rejection` 可查看",
        )
    else:
        verb = "sent" if sent.sent_now else "had already been sent"
        to = ", ".join(sent.recipients)
        out.print(pick(f"the note {verb} to {to}",
                       f"退回说明{'已发给' if sent.sent_now else '此前已发给'} {to}"))  # fmt: skip


def _print_decision(decision: Decision, zone: ZoneInfo) -> None:
    from duban.implement.review import local_time

    outcome = pick(decision.outcome, _DECIDED_ZH.get(decision.outcome, decision.outcome))
    said = escape(decision.said)
    if decision.already:
        at = local_time(decision.at, zone) if decision.at else None
        out.print(pick(
            f"{decision.item}: already {outcome}" + (f" by {decision.by} on {at}" if at else "")
            + f"; nothing changed ({said})",
            f"{decision.item}：早已{outcome}" + (f"（{decision.by}，{at}）" if at else "")
            + f"，没有变动（{said}）",
        ))  # fmt: skip
    else:
        out.print(
            pick(f"{decision.item}: {outcome} ({said})", f"{decision.item}：{outcome}（{said}）")
        )


_DECIDED_ZH = {"accepted": "已接收", "rejected": "已退回", "attached": "已归入",
               "dismissed": "已搁置", "held": "待核"}  # fmt: skip


@app.command(name="chase")
@reports_errors
def chase_command(
    campaign: CampaignFile,
    deliverable: Annotated[str | None, typer.Option(help="only this deliverable")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="write the messages to the outbox, send nothing")
    ] = False,
    as_of: AsOf = None,
) -> None:
    """Send each owed duty the rung of its reminder ladder now due."""
    from duban.implement import commands

    with Runtime(settings_for(as_of), campaign) as rt:
        if deliverable is not None:
            rt.bundle.campaign.deliverable(deliverable)  # a mistyped id is named
        rt.check(secret=True, smtp=not dry_run, bots=not dry_run)
        with working(pick("chasing late units…", "正在催办…")):
            result = commands.chase(rt, deliverable=deliverable, dry_run=dry_run)
    out.print(reports.chase_summary(result))


@app.command()
@reports_errors
def remind(
    campaign: CampaignFile,
    deliverable: Annotated[str, typer.Option(help="the deliverable to remind of")],
    period: Annotated[
        str | None, typer.Option(help="e.g. 2026-Q2; default: the period most recently due")
    ] = None,
    units: Units = None,
    tag: Annotated[str | None, typer.Option(help="only the units with this roster tag")] = None,
    by: Annotated[str, typer.Option(help="who asks (kept in the audit trail)")] = "coordinator",
    as_of: AsOf = None,
) -> None:
    """Remind now (一键催办) the chosen units that still owe a period, outside the ladder."""
    from duban.implement import commands
    from duban.implement.remind import RemindRequest

    with Runtime(settings_for(as_of), campaign) as rt:
        rt.check(secret=True)
        request = RemindRequest(deliverable, period, unit_list(units), tag, by)
        with shown(pick("sending reminders", "正在发送提醒")) as progress:
            result = commands.remind(rt, request, batch_size=BAR_BATCH, progress=progress)
    out.print(reports.remind_summary(result))
    if result["undelivered"]:
        raise DubanError(
            f"{len(result['undelivered'])} reminders were not delivered",
            hint="`duban outbox --kind remind` shows why; run the same command again to retry",
            zh=f"{len(result['undelivered'])} 份提醒未送达",
            zh_hint="`duban outbox --kind remind` 可查看原因；再运行一次同样的命令即可重试",
        )


@app.command(name="compile")
@reports_errors
def compile_command(
    campaign: CampaignFile,
    deliverable: Annotated[str, typer.Option(help="the deliverable to compile")],
    period: Annotated[str | None, typer.Option(help="default: the latest past due")] = None,
    send: Annotated[
        bool, typer.Option("--send", help="mail the bulletin to the distribution list")
    ] = False,
    as_of: AsOf = None,
) -> None:
    """Write the summary workbook and the bulletin of one deliverable period."""
    from duban.compile import commands

    with Runtime(settings_for(as_of), campaign) as rt:
        rt.check(smtp=send, bots=send)
        with working(pick("compiling…", "正在汇总…")):
            results = commands.compile_periods(rt, deliverable, period, send=send)
    for result in results:
        out.print(reports.compile_summary(result))


@app.command()
@reports_errors
def outbox(
    kind: Annotated[
        str | None, typer.Option(help="notice, reminder, ack, rejection, escalation, bulletin…")
    ] = None,
    to: Annotated[str | None, typer.Option(help="only messages to this address")] = None,
    limit: Annotated[int, typer.Option(help="at most this many, newest first")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """What duban sent, to whom and when, with each message's status (from the ledger)."""
    with Runtime(settings_for(None)) as rt, rt.session() as session:
        rows = outbox_rows(session, kind=kind, to=to, limit=limit)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    out.print(reports.outbox_table(rows, rt.settings.zone))


Unit = Annotated[str, typer.Option("--unit", help="the unit id")]
Period = Annotated[str | None, typer.Option(help="the period, e.g. 2026-Q2 (if several)")]
Reason = Annotated[str, typer.Option(help="why (kept in the audit trail)")]
By = Annotated[str, typer.Option(help="who grants it (kept in the audit trail)")]


@app.command()
@reports_errors
def extend(
    campaign: CampaignFile,
    deliverable: Annotated[str, typer.Option(help="the deliverable")],
    unit: Unit,
    to: Annotated[str, typer.Option("--to", help="the new due day, e.g. 2026-03-12")],
    reason: Reason,
    period: Period = None,
    by: By = "coordinator",
    as_of: AsOf = None,
) -> None:
    """Grant an extension (延期): a new due day for one unit's duty, with a reason."""
    from datetime import date

    from duban.implement.duties import extend as grant
    from duban.implement.duties import find_duty

    try:
        day = date.fromisoformat(to)
    except ValueError:
        raise DubanError(f"--to: {to!r} is not a date",
                         hint="write the new due day as 2026-03-12",
                         zh=f"--to：{to!r} 不是有效日期",
                         zh_hint="新的截止日请写成 2026-03-12 这样") from None  # fmt: skip
    with Runtime(settings_for(as_of), campaign) as rt, rt.session() as session:
        duty = find_duty(session, rt.bundle, deliverable, unit, period)
        grant(session, rt.bundle, duty, day, reason=reason, actor=by, clock=rt.clock)
    out.print(pick(f"{unit} {deliverable} {duty.period}: due day moved to {to} ({reason})",
                   f"{unit} {deliverable} {duty.period}：截止日改为 {to}（{reason}）"))  # fmt: skip


@app.command()
@reports_errors
def exempt(
    campaign: CampaignFile,
    deliverable: Annotated[str, typer.Option(help="the deliverable")],
    unit: Unit,
    reason: Reason,
    period: Period = None,
    by: By = "coordinator",
    as_of: AsOf = None,
) -> None:
    """Grant an exemption (免报): the unit owes nothing for this duty, with a reason."""
    from duban.implement.duties import exempt as grant
    from duban.implement.duties import find_duty

    with Runtime(settings_for(as_of), campaign) as rt, rt.session() as session:
        duty = find_duty(session, rt.bundle, deliverable, unit, period)
        grant(session, duty, reason=reason, actor=by, clock=rt.clock)
    out.print(pick(f"{unit} {deliverable} {duty.period}: exempted ({reason})",
                   f"{unit} {deliverable} {duty.period}：已免报（{reason}）"))  # fmt: skip


app.command(name="board")(board)


def main() -> None:
    app()
