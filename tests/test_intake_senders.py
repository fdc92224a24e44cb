"""Who may speak for a unit, and what a message too big to read gets (issue 14, items 2-4).

End to end, as ``test_collect`` runs it: notices out over SMTP, replies filed into a real IMAP
server (dovecot), collected, decided, recorded and answered (answers caught by a real SMTP
server), on SQLite and on PostgreSQL.

* The office's receiving server writes its verdict on the sender into an
  ``Authentication-Results`` header naming itself (``mx.jt.example`` here, as the test's
  "office server" prepends it when filing a message); only that server's header counts, the
  topmost if there are several, and a sender's own header naming another server is ignored.
* A message past the part limit (205 attachments, the workbook last) or nested past the depth
  limit is refused with that reason and the sender told to send the workbook alone.
* ``X-Duban-Key`` on a unit's reply, copied or made up, does not make it duban's own: only the
  Message-ID and key of a message duban recorded before sending it do.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from duban.adapters.mail.mailer import SmtpMailer
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.adapters.sources import open_source
from duban.clock import FixedClock
from duban.errors import ConfigError
from duban.implement.collect import collect_batch
from duban.implement.intake.mime import MAX_DEPTH, MAX_PARTS
from duban.implement.intake.pipeline import Intake
from duban.implement.intake.rawstore import RawStore
from duban.implement.intake.reader import WorkbookReader
from duban.implement.review import accept_held, held_items
from duban.ledger.db import session_scope
from duban.ledger.schema import SubmissionRow
from duban.model.loader import CampaignBundle
from duban.settings import load_settings
from duban.testing.imapserver import LocalImapServer

from .test_collect import (
    ENV,
    LATE,
    ON_TIME,
    PASSWORD,
    SECRET,
    USER,
    VALID,
    World,
    answered,
    answers_by_key,
    imap,
    make_world,
    outcome_of,
    records,
)

__all__ = ["imap"]  # the module's IMAP server fixture, shared with test_collect's helpers

OFFICE = "mx.jt.example"
TRUSTED = frozenset({OFFICE})


@pytest.fixture
def world(
    imap: LocalImapServer, example_bundle: CampaignBundle, tmp_path: Path, ledger_url: str
) -> Iterator[World]:
    with make_world(imap, example_bundle, tmp_path, ledger_url) as w:
        yield w


def collect(world: World, trusted: frozenset[str] = TRUSTED) -> None:
    """``World.collect`` with the office's receiving server trusted."""
    source = open_source(world.imap.url(USER, PASSWORD))
    try:
        with (
            WorkbookReader.for_campaign(world.bundle.campaign) as reader,
            SmtpMailer(parse_smtp_url(world.answers.url())) as mailer,
            session_scope(world.engine) as session,
        ):
            intake = Intake(world.bundle, RawStore(world.store), reader, SECRET,
                            FixedClock(LATE), trusted_authserv=trusted)  # fmt: skip
            while not collect_batch(session, intake, source, mailer, ENV, limit=7).empty:
                pass
    finally:
        source.close()


def with_headers(raw: bytes, *lines: str) -> bytes:
    """The message with header lines put on top, first given topmost: what each server on the
    way does (and what a sender can do before sending)."""
    return b"".join(line.encode() + b"\n" for line in lines) + raw


def results(authserv: str, verdicts: str) -> str:
    return f"Authentication-Results: {authserv};\n {verdicts}"


PASS = "spf=pass smtp.mailfrom=jt.example; dkim=pass header.d=jt.example; dmarc=pass"
FORGED = "spf=fail smtp.mailfrom=jt.example; dkim=fail header.d=jt.example; dmarc=fail"
NO_DMARC = "spf=softfail smtp.mailfrom=jt.example; dkim=none; dmarc=none"


def address(world: World, unit_id: str) -> str:
    return world.bundle.units_by_id[unit_id].emails[0]


# ------------------------------------------------------------------ sender authentication

SENT = {  # unit: the headers on top of its reply as filed, topmost first; then the outcome
    "T01": ([results(OFFICE, PASS)], ("accepted", "accepted")),
    "T02": ([results(OFFICE, FORGED)], ("held", "unauthenticated-sender")),
    "T03": ([results(OFFICE, NO_DMARC)], ("held", "unauthenticated-sender")),
    "T04": ([results(OFFICE, "none")], ("accepted", "accepted")),
    # SPF failed but a DKIM signature passed, no DMARC verdict: passes
    "T05": (
        [results(OFFICE, "spf=fail smtp.mailfrom=jt.example; dkim=pass header.d=jt.example")],
        ("accepted", "accepted"),
    ),
    # a failing verdict from a server the office does not run is nobody's word
    "T06": ([results("mx.elsewhere.example", FORGED)], ("accepted", "accepted")),
    # the sender's own "pass" under another name, below the office's "fail"
    "T07": (
        [results(OFFICE, FORGED), results("mx.elsewhere.example", PASS)],
        ("held", "unauthenticated-sender"),
    ),
    # the sender's own "pass" in the office's name: below the office's, so it does not count
    "T08": (
        [results(OFFICE, FORGED), results(OFFICE, PASS)],
        ("held", "unauthenticated-sender"),
    ),
    # DMARC passed: SPF's softfail alone does not hold it
    "T09": (
        [results(OFFICE, "spf=softfail smtp.mailfrom=jt.example; dkim=none; dmarc=pass")],
        ("accepted", "accepted"),
    ),
}


def test_the_office_servers_verdict_on_the_sender_decides(world: World) -> None:
    for unit_id, (lines, _) in SENT.items():
        world.deliver(with_headers(world.make_reply(unit_id, VALID), *lines), ON_TIME)
    no_workbook = world.make_reply("B01", VALID, attach=False)
    world.deliver(with_headers(no_workbook, results(OFFICE, FORGED)), ON_TIME)

    collect(world)

    for unit_id, (_, outcome) in SENT.items():
        assert outcome_of(world, unit_id) == [outcome], unit_id
    assert outcome_of(world, "B01") == [("held", "unauthenticated-sender")]  # not "no-workbook"
    passed = [u for u, (_, outcome) in SENT.items() if outcome[0] == "accepted"]
    answers = answered(world)
    assert sorted(answers) == sorted(address(world, u) for u in passed)  # none to a doubt
    with session_scope(world.engine) as session:
        assert session.scalars(select(SubmissionRow)).all() != []
        submitted = {s.intake_file_id for s in session.scalars(select(SubmissionRow))}
        held = held_items(session, world.bundle)
    doubted = [r for r, files in records(world) if r.reason == "unauthenticated-sender"]
    assert not {f.id for r, files in records(world) for f in files if r in doubted} & submitted
    by_sender = {item.sender: item for item in held}
    t02 = by_sender[address(world, "T02")]
    assert t02.file_id is not None  # its workbook is held, for the coordinator to accept
    assert t02.reason == (
        f"收件服务器 {OFFICE} 未能确认这封邮件确由 {address(world, 'T02')} 发出"
        "（spf=fail dkim=fail dmarc=fail），可能是他人冒用该地址；请先与该单位核实，再在审核中处理"
    )
    assert by_sender[address(world, "B01")].file_id is None  # the message itself is held


def test_a_doubted_workbook_is_accepted_once_the_coordinator_vouches_for_it(
    world: World,
) -> None:
    world.deliver(with_headers(world.make_reply("T02", VALID), results(OFFICE, NO_DMARC)), ON_TIME)
    collect(world)
    assert outcome_of(world, "T02") == [("held", "unauthenticated-sender")]
    with session_scope(world.engine) as session, WorkbookReader(workers=1) as reader:
        intake = Intake(world.bundle, RawStore(world.store), reader, SECRET, FixedClock(LATE))
        [held] = held_items(session, world.bundle)
        assert held.file_id is not None
        assert accept_held(session, intake, held.file_id, "王主任").outcome.value == "accepted"
    assert outcome_of(world, "T02") == [("accepted", "accepted")]


def test_without_a_trusted_server_the_from_address_decides_as_before(world: World) -> None:
    world.deliver(with_headers(world.make_reply("T02", VALID), results(OFFICE, FORGED)), ON_TIME)

    collect(world, trusted=frozenset())

    assert outcome_of(world, "T02") == [("accepted", "accepted")]


def test_the_trusted_servers_are_a_setting() -> None:
    settings = load_settings(trusted_authserv="mx.jt.example, MX2.jt.example")
    assert settings.trusted_authserv_ids == {"mx.jt.example", "mx2.jt.example"}
    assert load_settings().trusted_authserv_ids == frozenset()
    with pytest.raises(ConfigError) as caught:
        load_settings(trusted_authserv="mx.jt.example; dmarc=pass")
    assert "DUBAN_TRUSTED_AUTHSERV: 'mx.jt.example;' is not an authserv-id" in str(caught.value)


# ------------------------------------------------------------------ limits that say so


def crowded(world: World, unit_id: str) -> bytes:
    """A reply with 204 small files and the workbook last: 205 attachments."""
    reply = email.message_from_bytes(world.make_reply(unit_id, VALID), policy=email.policy.default)
    assert isinstance(reply, EmailMessage)
    workbook = list(reply.iter_attachments())[-1]
    reply.get_payload().remove(workbook)  # type: ignore[union-attr]
    for index in range(204):
        reply.add_attachment(f"附件{index}".encode(), maintype="text", subtype="plain",
                             filename=f"说明{index}.txt")  # fmt: skip
    reply.attach(workbook)
    return reply.as_bytes()


def nested(world: World, unit_id: str, times: int) -> bytes:
    """A unit's reply forwarded as an attachment, that forward forwarded, ``times`` over."""
    raw = world.make_reply(unit_id, VALID)
    for _ in range(times):
        inner = email.message_from_bytes(raw, policy=email.policy.default)
        forward = EmailMessage()
        forward["From"] = address(world, unit_id)
        forward["To"] = "youhuaban@jt.example"
        forward["Subject"] = "转发：实施方案"
        forward.set_content("转发。")
        forward.add_attachment(inner)
        raw = forward.as_bytes()
    return raw


def test_a_message_past_the_limits_is_refused_with_what_to_do(world: World) -> None:
    world.deliver(crowded(world, "T01"), ON_TIME)
    world.deliver(nested(world, "T02", times=MAX_DEPTH // 2 + 1), ON_TIME)
    world.deliver(nested(world, "T03", times=2), ON_TIME)  # deep, within the limit
    stranger = email.message_from_bytes(crowded(world, "T04"), policy=email.policy.default)
    stranger.replace_header("From", "stranger@elsewhere.example")
    world.deliver(stranger.as_bytes(), ON_TIME)

    collect(world)

    assert outcome_of(world, "T01") == [("rejected", "too-many-parts")]
    assert outcome_of(world, "T02") == [("rejected", "too-deep")]
    assert outcome_of(world, "T03") == [("accepted", "accepted")]
    strangers = [r for r, _ in records(world) if r.sender == "stranger@elsewhere.example"]
    assert [(r.status, r.reason) for r in strangers] == [("held", "too-many-parts")]
    answers = answered(world)
    assert f"邮件包含的部分超过 {MAX_PARTS} 个" in answers[address(world, "T01")]
    assert "请将填好的模板单独作为附件，另发一封邮件报送" in answers[address(world, "T01")]
    assert f"邮件嵌套超过 {MAX_DEPTH} 层" in answers[address(world, "T02")]
    for text in answers.values():
        assert "没有找到报送表格附件" not in text  # never "no workbook attached"


# ------------------------------------------------------------------ duban's own messages


def test_only_what_duban_sent_is_its_own_message(world: World) -> None:
    made_up = email.message_from_bytes(world.make_reply("T01", VALID), policy=email.policy.default)
    made_up["X-Duban-Key"] = "anything at all"
    world.deliver(made_up.as_bytes(), ON_TIME)
    notice = world.notices["T02"]
    copied = email.message_from_bytes(world.make_reply("T02", VALID), policy=email.policy.default)
    copied["X-Duban-Key"] = str(notice["X-Duban-Key"])  # the real key, as "Edit as new" keeps it
    world.deliver(copied.as_bytes(), ON_TIME)
    world.deliver(world.notices["T03"].as_bytes(), ON_TIME)  # a notice of duban's comes back

    collect(world)

    assert outcome_of(world, "T01") == [("accepted", "accepted")]
    assert outcome_of(world, "T02") == [("accepted", "accepted")]
    own = [r for r, _ in records(world) if r.message_id == notice_id(world, "T03")]
    assert [(r.status, r.reason) for r in own] == [("ignored", "own-message")]
    assert sorted(answered(world)) == sorted(address(world, u) for u in ("T01", "T02"))
    assert set(answers_by_key(world).values()) == {1}


def notice_id(world: World, unit_id: str) -> str:
    return str(world.notices[unit_id]["Message-ID"])


def test_the_runtime_hands_intake_the_trusted_servers(tmp_path: Path) -> None:
    """The setting reaches the intake the command line and the flows build (not only tests')."""
    from duban.runtime import Runtime
    from duban.settings import load_settings

    from .conftest import EXAMPLE

    settings = load_settings(
        home=tmp_path, secret="s" * 20, trusted_authserv="MX.Office.example, mx2.office.example"
    )
    with Runtime(settings, EXAMPLE) as rt, rt.intake(workers=1) as intake:
        assert intake.trusted_authserv == {"mx.office.example", "mx2.office.example"}
