"""Every form of every campaign, round trip (issue 11): mobilized over SMTP, filled the way a
careful unit fills it, replied over SMTP into a real IMAP mailbox (dovecot), collected — and
accepted with exactly the values the unit typed. Then the same files re-saved by LibreOffice as
xlsx, xls and ods, replied and collected the same way, with the same values.

The campaigns are found by glob (``data/**/campaign.yaml``, ``tests/campaigns/**/campaign.yaml``)
and every form of each is a case, so a new form or campaign is covered without editing this file.
The filling uses openpyxl only, never duban's writer or fill helpers, and the expected values are
computed here from the form's declaration, never by duban's reader or validator.

One round per ledger: all campaigns are mobilized, filled, converted (one ``soffice`` call per
format for every file), replied and collected together in a module fixture; each case then
checks its own files. The example campaign runs once more on PostgreSQL.
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import io
import math
import shutil
import smtplib
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import Engine, select

from duban.adapters.mail.mailer import SmtpMailer
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.adapters.render import environment
from duban.adapters.sources import open_source
from duban.clock import FixedClock
from duban.implement.collect import collect_batch
from duban.implement.intake.pipeline import Intake
from duban.implement.intake.rawstore import RawStore
from duban.implement.intake.reader import WorkbookReader
from duban.implement.parts import chain_of, partnered
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import InstanceRow, IntakeFileRow, IntakeRow, SubmissionRow
from duban.ledger.store import register
from duban.mobilize.send import NoticeRequest, plan_notices, send_notices
from duban.model.campaign import Deliverable
from duban.model.forms import Column, Form, Sheet
from duban.model.loader import CampaignBundle, load_campaign
from duban.testing.helpers import attachment_of, reply_to_notice
from duban.testing.imapserver import LocalImapServer
from duban.testing.mailserver import LocalSmtpServer

from .conftest import ROOT

SECRET = b"a test secret of more than sixteen bytes"
PASSWORD = "roundtrip-pass"
ENV = environment()
SOFFICE = shutil.which("soffice")

ORIGINAL = "openpyxl"
LIBREOFFICE = {"libreoffice-xlsx": "xlsx", "libreoffice-xls": "xls", "libreoffice-ods": "ods"}
VARIANTS = (ORIGINAL, *LIBREOFFICE)


def campaign_files() -> list[Path]:
    found = [*ROOT.joinpath("data").rglob("campaign.yaml")]
    found += ROOT.joinpath("tests", "campaigns").rglob("campaign.yaml")
    return sorted(found)


BUNDLES: dict[str, CampaignBundle] = {
    str(path.parent.relative_to(ROOT)): load_campaign(path) for path in campaign_files()
}
CASES = [
    pytest.param(folder, form.id, variant, id=f"{folder}/{form.id}/{variant}")
    for folder, bundle in BUNDLES.items()
    for form in bundle.campaign.forms
    for variant in VARIANTS
]


# --- what a careful unit types, and what the ledger must then hold ---------------------------


@dataclass(frozen=True)
class Typed:
    """One cell as the unit fills it, and the value the ledger must keep for it."""

    value: Any
    number_format: str | None  # None: the template's own format is kept
    expected: Any


Rows = dict[str, list[dict[str, Any]]]


def is_percent(column: Column) -> bool:
    return "%" in column.label or "％" in column.label


def row_count(sheet: Sheet) -> int:
    """Enough rows for min_rows and for every choice of every list, several when allowed."""
    longest = max((len(c.choices or []) for c in sheet.columns), default=0)
    return min(sheet.max_rows, max(sheet.min_rows, longest, 5))


def cycle(values: list[Any], index: int) -> Any:
    unique = list(dict.fromkeys(values))
    return unique[index % len(unique)]


def typed(column: Column, index: int) -> Typed:
    """The value in row ``index`` (from 0) of a column, valid by the column's declaration."""
    n = index + 1
    if column.type == "text":
        text = f"{column.label}第{n}项：按计划推进，落实到人（{n}）"
        if column.max_length is not None:
            if index == 0:  # exactly as long as allowed
                text = (text + "，持续跟踪问效" * column.max_length)[: column.max_length]
            text = text[: column.max_length]
        return Typed(text, None, text)
    if column.type == "integer":
        low = math.ceil(column.min) if column.min is not None else 0
        high = math.floor(column.max) if column.max is not None else low + 123456
        # a plain value first (a one-row sheet gets it), then both bounds and more
        number = cycle([min(high, low + 29), low, high, (low + high) // 2,
                        min(high, low + 57), min(high, low + 7)], index)  # fmt: skip
        if is_percent(column):  # the unit sees 29%; the cell holds 0.29
            return Typed(float(Decimal(number) / 100), "0%", number)
        return Typed(number, None, number)
    if column.type == "decimal":
        least = column.min if column.min is not None else Decimal(0)
        most = column.max if column.max is not None else least + Decimal("98765.43")
        middle = ((least + most) / 2).quantize(Decimal("0.01"))
        plain, *more = [
            least + s if least + s <= most else middle
            for s in (Decimal("12.35"), Decimal("0.35"), Decimal("1234.56"))
        ]
        amount: Decimal = cycle([plain, least, most, middle, *more], index)
        # a decimal is stored as plain digits without trailing zeros: 100000.00 is "100000"
        expected = format(amount.normalize(), "f")
        if is_percent(column):  # the unit sees 12.35%; the cell holds 0.1235
            return Typed(float(amount / 100), "0.00%", expected)
        return Typed(float(amount), None, expected)
    if column.type == "date":
        day = date(2026, 1, 5) + timedelta(days=29 * index)
        return Typed(day, None, day.isoformat())  # a real date cell (a serial, date format)
    if column.type == "choice":
        choice = cycle(list(column.choices or []), index)
        return Typed(choice, None, choice)
    if column.type == "email":
        address = f"lianluo{n}@unit.example"
        return Typed(address, None, address)
    if column.type == "phone":
        phone = f"138{n:08d}" if index % 2 == 0 else f"0519-8281{n:04d}"
        return Typed(phone, None, phone)
    raise AssertionError(f"no filling for column type {column.type!r}: add it here")


def header_row(ws: Worksheet, sheet: Sheet) -> int:
    """The row holding the column labels, found the way a person finds it: by reading."""
    labels = [c.label for c in sheet.columns]
    for row in range(1, 21):
        found = [ws.cell(row, col).value for col in range(1, len(labels) + 1)]
        if found == labels:
            return row
    raise AssertionError(f"no header row {labels} in the template's sheet {sheet.name!r}")


def item_codes(deliverable: Deliverable) -> frozenset[str]:
    """A progress report's item-code column, which the round trip leaves empty: its unit has
    no items, so each row is a problem found since (a new item), not a code never recorded."""
    spec = deliverable.rectification_progress
    return frozenset() if spec is None else frozenset({spec.columns["code"]})


def key_tasks(
    bundle: CampaignBundle, deliverable: Deliverable, unit_id: str
) -> dict[str, list[str]]:
    """A key task partner's column of the key task, which the round trip fills with the titles
    of the unit's key tasks in turn (pre-filled and locked in its template: they must stay)."""
    chain = chain_of(bundle.campaign, deliverable)
    if chain is None:
        return {}
    return {chain.task_column: [t.title for t in partnered(bundle.campaign, chain, unit_id)]}


def fill(
    template: bytes, form: Form, blank: frozenset[str] = frozenset(),
    given: dict[str, list[str]] | None = None,
) -> tuple[bytes, Rows]:  # fmt: skip
    """The template filled by a careful unit with openpyxl, and the rows the ledger must hold
    (the ``blank`` columns left empty, the ``given`` ones with their values in turn)."""
    given = given or {}
    book = load_workbook(io.BytesIO(template))
    expected: Rows = {}
    for sheet in form.sheets:
        ws = book[sheet.name]
        first = header_row(ws, sheet) + 1
        rows = expected.setdefault(sheet.name, [])
        for index in range(row_count(sheet)):
            row: dict[str, Any] = {}
            for number, column in enumerate(sheet.columns, start=1):
                if column.key in blank:
                    row[column.key] = None
                    continue
                if column.key in given:
                    values = given[column.key]
                    row[column.key] = ws.cell(first + index, number).value = values[
                        index % len(values)
                    ]
                    continue
                cell = typed(column, index)
                target = ws.cell(first + index, number)
                target.value = cell.value
                if cell.number_format is not None:
                    target.number_format = cell.number_format
                row[column.key] = cell.expected
            rows.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), expected


# --- LibreOffice: a second producer of the same workbooks -------------------------------------


def libreoffice_copies(files: list[bytes], work: Path) -> dict[tuple[int, str], bytes | str]:
    """Each file re-saved in each format: one ``soffice`` run per format for all the files.
    A copy that is missing is given as the reason (a string) instead of its bytes."""
    assert SOFFICE is not None
    source = work / "lo-in"
    source.mkdir(parents=True)
    paths = []
    for number, data in enumerate(files):
        path = source / f"{number:03d}.xlsx"
        path.write_bytes(data)
        paths.append(str(path))
    profile = (work / "lo-profile").as_uri()
    copies: dict[tuple[int, str], bytes | str] = {}
    for fmt in LIBREOFFICE.values():
        out = work / f"lo-{fmt}"
        done = subprocess.run(
            [SOFFICE, f"-env:UserInstallation={profile}", "--headless",
             "--convert-to", fmt, "--outdir", str(out), *paths],
            capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip
        for number in range(len(files)):
            copy = out / f"{number:03d}.{fmt}"
            copies[number, fmt] = (
                copy.read_bytes()
                if copy.is_file()
                else f"soffice made no {fmt} copy (exit {done.returncode}): {done.stderr[-500:]}"
            )
    return copies


# --- one round: mobilize, fill, convert, reply, collect ----------------------------------------


@dataclass
class Filled:
    folder: str
    form_id: str
    deliverable_id: str
    unit_id: str
    notice: EmailMessage
    filename: str
    data: bytes
    expected: Rows
    arrival: datetime  # when the replies arrive (a week before the due time)


@dataclass
class Result:
    status: str
    reason: str | None
    files: list[tuple[str, str | None, list[Any]]]  # outcome, reason, problems of each file
    rows: Rows | None
    on_time: bool | None


@dataclass
class Round:
    filled: dict[tuple[str, str], Filled] = field(default_factory=dict)
    unused_forms: set[tuple[str, str]] = field(default_factory=set)
    results: dict[tuple[str, str, str], Result | str] = field(default_factory=dict)


def mobilize(
    engine: Engine, bundle: CampaignBundle, folder: str, outgoing: LocalSmtpServer, found: Round
) -> None:
    """For each form, its first deliverable's first duty: the notice sent to that one unit."""
    campaign = bundle.campaign
    first_of: dict[str, Deliverable] = {}
    for each in campaign.deliverables:
        if each.partners is None:  # a lead's form has 报送单位: its partners' is the form
            first_of.setdefault(each.form, each)
    for form in campaign.forms:
        deliverable = first_of.get(form.id)
        if deliverable is None:
            found.unused_forms.add((folder, form.id))
            continue
        with session_scope(engine) as session:
            instance = session.scalars(
                select(InstanceRow)
                .where(
                    InstanceRow.campaign_id == campaign.id,
                    InstanceRow.deliverable_id == deliverable.id,
                    InstanceRow.exempt.is_(False),
                    InstanceRow.withdrawn.is_(False),
                )
                .order_by(InstanceRow.due_at, InstanceRow.unit_id)
            ).first()
            assert instance is not None, f"{folder}: nobody owes {deliverable.id}"
            unit_id, period, due_at = instance.unit_id, instance.period, instance.due_at
            clock = FixedClock(due_at - timedelta(days=14))
            before = len(outgoing.messages)
            request = NoticeRequest(deliverable.id, period, (unit_id,))
            plan = plan_notices(session, bundle, request, clock=clock, secret=SECRET, env=ENV)
            with SmtpMailer(parse_smtp_url(outgoing.url())) as mailer:
                send_notices(session, bundle, plan.instance_ids, mailer=mailer, clock=clock,
                             secret=SECRET, env=ENV)  # fmt: skip
        [delivery] = outgoing.messages[before:]
        unit = bundle.units_by_id[unit_id]
        assert set(unit.emails) <= set(delivery.rcpt_tos)
        notice = email.message_from_bytes(delivery.raw, policy=email.policy.default)
        assert isinstance(notice, EmailMessage)
        filename, template = attachment_of(notice)
        given = key_tasks(bundle, deliverable, unit_id)
        data, expected = fill(template, form, item_codes(deliverable), given)
        found.filled[folder, form.id] = Filled(
            folder, form.id, deliverable.id, unit_id, notice, filename, data, expected,
            arrival=due_at - timedelta(days=7),
        )  # fmt: skip


def round_trip(
    bundles: dict[str, CampaignBundle], engine: Engine, imap: LocalImapServer, work: Path,
    prefix: str,
) -> Round:  # fmt: skip
    found = Round()
    with session_scope(engine) as session:
        for bundle in bundles.values():
            first_day = min(p.start for p in bundle.campaign.phases)
            register(session, bundle, FixedClock(datetime.combine(first_day, time(), UTC)))
    with LocalSmtpServer() as outgoing:
        for folder, bundle in bundles.items():
            mobilize(engine, bundle, folder, outgoing, found)

    filled = list(found.filled.values())
    files: dict[tuple[str, str, str], bytes | str] = {}
    copies = libreoffice_copies([f.data for f in filled], work) if SOFFICE else {}
    for number, one in enumerate(filled):
        files[one.folder, one.form_id, ORIGINAL] = one.data
        for variant, fmt in LIBREOFFICE.items():
            if SOFFICE:
                files[one.folder, one.form_id, variant] = copies[number, fmt]

    users = {folder: f"{prefix}-{b.campaign.id}" for folder, b in bundles.items()}
    for user in users.values():
        imap.add_user(user, PASSWORD)
    ours: dict[str, tuple[str, str, str]] = {}  # the replies by Message-ID
    with LocalSmtpServer() as office:
        with smtplib.SMTP(office.host, office.port) as smtp:
            for key, data in files.items():
                if isinstance(data, str):
                    found.results[key] = data
                    continue
                one = found.filled[key[:2]]
                variant = key[2]
                name = Path(one.filename).with_suffix(f".{LIBREOFFICE.get(variant, 'xlsx')}").name
                sender = bundles[one.folder].units_by_id[one.unit_id].emails[0]
                when = one.arrival + timedelta(minutes=VARIANTS.index(variant))
                raw = reply_to_notice(one.notice, sender, [(name, data)], when=when)
                reply = email.message_from_bytes(raw, policy=email.policy.default)
                ours[str(reply["Message-ID"])] = key
                wire = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # SMTP's line ends
                smtp.sendmail(sender, [parseaddr(str(reply["To"]))[1]], wire)
        deliveries = office.messages
    assert len(deliveries) == len(ours)
    for folder, user in users.items():  # the office's mail server files what it received
        client = imaplib.IMAP4(imap.host, imap.port)
        client.login(user, PASSWORD)
        for delivery in deliveries:
            message = email.message_from_bytes(delivery.raw, policy=email.policy.default)
            if ours[str(message["Message-ID"])][0] == folder:
                arrived = parsedate_to_datetime(str(message["Date"]))
                client.append("INBOX", "", imaplib.Time2Internaldate(arrived), delivery.raw)
        client.logout()

    for folder, bundle in bundles.items():
        arrivals = [f.arrival for f in filled if f.folder == folder]
        if arrivals:  # collected the day after the last reply arrived
            clock = FixedClock(max(arrivals) + timedelta(days=1))
            collect(engine, bundle, imap.url(users[folder], PASSWORD), work / "raw", clock)
    found.results.update(results(engine, ours))
    return found


def collect(engine: Engine, bundle: CampaignBundle, intake_url: str, store: Path,
            clock: FixedClock) -> None:  # fmt: skip
    source = open_source(intake_url)
    try:
        with (
            WorkbookReader.for_campaign(bundle.campaign) as reader,
            LocalSmtpServer() as answers,
            SmtpMailer(parse_smtp_url(answers.url())) as mailer,
            session_scope(engine) as session,
        ):
            intake = Intake(bundle, RawStore(store), reader, SECRET, clock)
            while not collect_batch(session, intake, source, mailer, ENV, limit=50).empty:
                pass
    finally:
        source.close()


def results(engine: Engine, ours: dict[str, tuple[str, str, str]]) -> dict[Any, Result]:
    found: dict[Any, Result] = {}
    with session_scope(engine) as session:
        records = session.scalars(select(IntakeRow).where(IntakeRow.message_id.in_(list(ours))))
        for record in records:
            files = session.scalars(
                select(IntakeFileRow)
                .where(IntakeFileRow.intake_id == record.id)
                .order_by(IntakeFileRow.index)
            ).all()
            submissions = session.scalars(
                select(SubmissionRow).where(SubmissionRow.intake_file_id.in_([f.id for f in files]))
            ).all()
            assert record.message_id is not None
            found[ours[record.message_id]] = Result(
                record.status,
                record.reason,
                [(f.outcome, f.reason, list(f.problems)) for f in files],
                dict(submissions[0].rows) if len(submissions) == 1 else None,
                submissions[0].on_time if len(submissions) == 1 else None,
            )
    return found


# --- the checks ----------------------------------------------------------------------------------


def problems_text(result: Result) -> str:
    lines = [f"intake record {result.status} ({result.reason})"]
    for outcome, reason, problems in result.files:
        lines.append(f"  file {outcome} ({reason})")
        lines += [
            f"    {p.get('sheet')}!{p.get('cell')} {p.get('code')} found={p.get('found')!r} "
            f"{p.get('detail')}"
            for p in problems
        ]
    return "\n".join(lines)


def differences(expected: Rows, stored: Rows) -> list[str]:
    found = []
    for sheet in sorted(set(expected) | set(stored)):
        mine, theirs = expected.get(sheet, []), stored.get(sheet, [])
        if len(mine) != len(theirs):
            found.append(f"{sheet}: {len(theirs)} rows stored, {len(mine)} filled")
        for number, (want, got) in enumerate(zip(mine, theirs, strict=False), start=1):
            for key in sorted(set(want) | set(got)):
                if want.get(key, "<absent>") != got.get(key, "<absent>"):
                    found.append(
                        f"{sheet} row {number} {key}: stored {got.get(key, '<absent>')!r}, "
                        f"typed {want.get(key, '<absent>')!r}"
                    )
    return found


def failures(found: Round, folder: str, form_id: str, variant: str) -> list[str]:
    """What is wrong with one case, in words; empty when it round-tripped."""
    result = found.results.get((folder, form_id, variant))
    if result is None:
        return [f"{folder}/{form_id}/{variant}: no intake record for the reply"]
    if isinstance(result, str):
        return [f"{folder}/{form_id}/{variant}: {result}"]
    wrong = []
    if result.status != "accepted" or [f[:2] for f in result.files] != [("accepted", "accepted")]:
        wrong.append(f"{folder}/{form_id}/{variant} not accepted:\n{problems_text(result)}")
    if result.rows is not None:
        expected = found.filled[folder, form_id].expected
        wrong += [f"{folder}/{form_id}/{variant}: {d}" for d in differences(expected, result.rows)]
        if result.on_time is not True:
            wrong.append(f"{folder}/{form_id}/{variant}: sent a week early, recorded late")
    return wrong


@pytest.fixture(scope="module")
def imap() -> Iterator[LocalImapServer]:
    folder = Path(tempfile.mkdtemp(prefix="duban-roundtrip-"))
    folder.chmod(0o711)
    try:
        with LocalImapServer(folder, {"postmaster": PASSWORD}) as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def sqlite_round(
    imap: LocalImapServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Round]:
    work = tmp_path_factory.mktemp("roundtrip")
    engine = make_engine(f"sqlite:///{work / 'ledger.sqlite3'}")
    migrate(engine)
    try:
        yield round_trip(BUNDLES, engine, imap, work, "sqlite")
    finally:
        engine.dispose()


@pytest.mark.parametrize(("folder", "form_id", "variant"), CASES)
def test_every_form_round_trips(
    sqlite_round: Round, folder: str, form_id: str, variant: str
) -> None:
    if (folder, form_id) in sqlite_round.unused_forms:
        pytest.skip(f"no deliverable of {folder} uses the form {form_id}: nothing to mobilize")
    if variant != ORIGINAL and SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is absent; `make services` installs it")
    wrong = failures(sqlite_round, folder, form_id, variant)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    "ledger_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_the_example_round_trips_on_postgresql(
    ledger_url: str, imap: LocalImapServer, tmp_path: Path
) -> None:
    example = {k: b for k, b in BUNDLES.items() if k == str(Path("data", "example"))}
    assert example, "data/example/campaign.yaml is gone"
    engine = make_engine(ledger_url)
    migrate(engine)
    try:
        found = round_trip(example, engine, imap, tmp_path, "pg")
    finally:
        engine.dispose()
    wrong = [
        line
        for folder, bundle in example.items()
        for form in bundle.campaign.forms
        for variant in (VARIANTS if SOFFICE else (ORIGINAL,))
        for line in failures(found, folder, form.id, variant)
    ]
    assert not wrong, "\n".join(wrong)
