"""Mail: URL parsing, the MIME builder, and sending to a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import mailbox
import re
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from duban.adapters.mail import (
    Address,
    Attachment,
    HeaderInjectionError,
    InvalidAddressError,
    MailAuthenticationError,
    MailConnectionError,
    Mailer,
    MailServerUnreachableError,
    MailTlsError,
    OutboxMailer,
    OutgoingMessage,
    Security,
    SmtpMailer,
    build,
    html_to_text,
    make_message_id,
    parse_smtp_url,
)
from duban.adapters.mail.mailer import wire_bytes
from duban.adapters.mail.message import XLSX
from duban.errors import ConfigError, DubanError
from duban.testing.mailserver import (
    LocalSmtpServer,
    make_self_signed_certificate,
    server_tls_context,
)

USER, PASSWORD = "duban", "s3cret/p@ss:w%rd"
SENDER = Address("市优化办", "youhuaban@jt.example")
LONG_NAME = "关于报送2026年能力作风建设提升年活动实施方案及重点工作任务清单的通知附件" * 3
WHEN = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Tls:
    cafile: Path
    context: ssl.SSLContext


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    cert, key = make_self_signed_certificate(tmp_path_factory.mktemp("tls"))
    return Tls(cafile=cert, context=server_tls_context(cert, key))


@pytest.fixture
def plain_server() -> Iterator[LocalSmtpServer]:
    with LocalSmtpServer() as server:
        yield server


@pytest.fixture
def starttls_server(tls: Tls) -> Iterator[LocalSmtpServer]:
    with LocalSmtpServer(
        starttls_context=tls.context, require_starttls=True, users={USER: PASSWORD}
    ) as server:
        yield server


def notice(number: int = 1, **changes: object) -> OutgoingMessage:
    message = OutgoingMessage(
        sender=SENDER,
        to=(Address("市发展和改革委员会 张三", f"unit{number}@jt.example"),),
        subject=f"【提醒】关于报送实施方案的通知（第{number}号）",
        message_id=make_message_id("jt.example"),
        date=WHEN,
        html="<p>请于<b>3月5日</b>前报送。</p><ul><li>实施方案</li><li>任务清单</li></ul>",
        attachments=(Attachment("实施方案-B03.xlsx", b"PK\x03\x04" + bytes(2000), XLSX),),
    )
    return replace(message, **changes)  # type: ignore[arg-type]


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


# --- DUBAN_SMTP_URL ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://127.0.0.1:2525", ("127.0.0.1", 2525, Security.PLAIN, None, None)),
        ("smtp://relay.example", ("relay.example", 25, Security.PLAIN, None, None)),
        (
            "smtp+starttls://u%40x.cn:p%2Fa%3Fs%23s@mail.example:587",
            ("mail.example", 587, Security.STARTTLS, "u@x.cn", "p/a?s#s"),
        ),
        ("smtps://u:p@mail.example", ("mail.example", 465, Security.TLS, "u", "p")),
        ("smtps://u:@[::1]:465", ("::1", 465, Security.TLS, "u", "")),
    ],
)
def test_smtp_url_is_parsed(url: str, expected: tuple[object, ...]) -> None:
    config = parse_smtp_url(url)
    assert (config.host, config.port, config.security, config.user, config.password) == expected
    assert config.verify is True
    assert config.cafile is None


def test_smtp_url_options(tls: Tls) -> None:
    config = parse_smtp_url(f"smtps://u:hunter2@h?cafile={tls.cafile}&timeout=2.5")
    assert (config.cafile, config.timeout, config.verify) == (tls.cafile, 2.5, True)
    assert parse_smtp_url("smtp+starttls://u:p@h?verify=false").verify is False
    assert "hunter2" not in repr(config)
    assert "hunter2" not in config.redacted()


@pytest.mark.parametrize(
    "url",
    [
        "http://u:hunter2secret@h",
        "smtps://u:hunter2secret@h:99999",
        "smtps://u:hunter2/secret@h",  # unencoded slash
        "smtps://u:hunter2#secret@h",
        "smtps://u:hunter2?secret@h",
        "smtps://u:hunter2secret@h?verify=maybe",
        "smtps://u:hunter2secret@h?hunter2secret=1",
        "smtps://u:hunter2secret@h?timeout=0",
        "smtps://u:hunter2secret@h?cafile=/nonexistent/ca.pem",
        "smtps://u:hunter2secret@h?verify=false&verify=true",
        "smtp://u:hunter2secret@h?verify=false",
        "smtps://:hunter2secret@h",
        "smtps://u:hunter2secret@",
    ],
)
def test_bad_smtp_url_names_the_variable_and_hides_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_smtp_url(url)
    text = str(caught.value)
    assert "DUBAN_SMTP_URL" in text
    assert "hunter2" not in text
    assert "secret" not in text


# --- building messages ------------------------------------------------------------------------


def test_message_ids_are_unique_and_used_once() -> None:
    ids = {make_message_id("jt.example") for _ in range(2000)}
    assert len(ids) == 2000
    message = notice(headers={"X-Duban-Key": "nlzf-2026/plan/B03"})
    built = build(message)
    assert built.get_all("Message-ID") == [message.message_id]
    raw = built.as_bytes()
    assert raw.count(b"Message-ID:") == 1
    assert parsed(raw)["Date"].datetime == WHEN


def test_chinese_subject_names_and_file_name_decode() -> None:
    raw = build(notice(attachments=(Attachment(LONG_NAME + ".xlsx", b"x" * 500, XLSX),))).as_bytes()
    assert raw.isascii()  # RFC 2047 / RFC 2231 encoded, no raw UTF-8 anywhere
    message = parsed(raw)
    assert message["Subject"] == "【提醒】关于报送实施方案的通知（第1号）"
    assert message["From"].addresses[0].display_name == "市优化办"
    assert message["To"].addresses[0].display_name == "市发展和改革委员会 张三"
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == LONG_NAME + ".xlsx"
    assert attachment.get_param("name") == LONG_NAME + ".xlsx"  # for older Outlook, Foxmail
    assert attachment.get_content_type() == XLSX
    assert attachment.get_content() == b"x" * 500


def test_every_line_fits_998_even_with_a_120_character_chinese_file_name() -> None:
    name = ("重" * 120) + ".xlsx"
    long_subject = "关于" + "报送" * 400
    raw = build(notice(subject=long_subject, attachments=(Attachment(name, b"1", XLSX),)))
    lines = raw.as_bytes().split(b"\r\n")
    assert max(len(line) for line in lines) <= 998
    assert parsed(raw.as_bytes())["Subject"] == long_subject


def test_text_part_is_real_text_beside_the_html() -> None:
    message = parsed(build(notice()).as_bytes())
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert message.get_content_type() == "multipart/mixed"
    content = text.get_content()
    assert not re.search(r"<[a-zA-Z/][^>]*>", content)
    assert "请于3月5日前报送。" in content
    assert "- 实施方案\n- 任务清单" in content.replace("\r\n", "\n")
    assert "<b>3月5日</b>" in html.get_content()


def test_given_text_is_used_as_is() -> None:
    message = parsed(build(notice(text="请见附件。\n市优化办")).as_bytes())
    body = message.get_body(("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == "请见附件。\n市优化办\n"


def test_html_to_text_keeps_structure_and_drops_tags() -> None:
    html = (
        "<html><head><style>p{color:red}</style></head><body><h1>通知</h1>"
        "<table><tr><th>单位</th><th>状态</th></tr><tr><td>B03</td><td>已报送</td></tr></table>"
        '<p>详见<a href="https://jt.example/n/1">公告</a>。</p><script>x()</script></body></html>'
    )
    assert html_to_text(html) == (
        "通知\n\n单位 | 状态\nB03 | 已报送\n\n详见公告 (https://jt.example/n/1)。\n"
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"subject": "x\r\n\r\nbody"},
        {"subject": "通知\nBcc: all@jt.example"},
        {"subject": "a\x00b"},
        {"subject": "a\u2028b"},
        {"sender": Address("市优化办\r\nX-Evil: 1", "youhuaban@jt.example")},
        {"to": (Address("张三", "a@jt.example\r\nBcc: x@evil.example"),)},
        {"cc": (Address("李四\n", "b@jt.example"),)},
        {"headers": {"X-Duban-Key": "k\r\nBcc: x@evil.example"}},
        {"headers": {"X-Duban\r\nBcc": "v"}},
        {"attachments": (Attachment("方案\r\n.xlsx", b"x", XLSX),)},
        {"message_id": "<a@b>\r\nBcc: x@evil.example"},
    ],
)
def test_header_injection_is_refused_before_building(changes: dict[str, Any]) -> None:
    with pytest.raises(HeaderInjectionError) as caught:
        build(notice(**changes))
    assert isinstance(caught.value, DubanError)


@pytest.mark.parametrize("bad", ["a@b.example, c@d.example", "张三@jt.example", "no-at", "a b@c.d"])
def test_addresses_that_would_break_the_header_are_refused(bad: str) -> None:
    with pytest.raises(InvalidAddressError):
        build(notice(to=(Address("", bad),)))


# --- sending ----------------------------------------------------------------------------------


def test_plain_server_receives_the_message(plain_server: LocalSmtpServer) -> None:
    message = build(notice())
    with SmtpMailer(parse_smtp_url(plain_server.url())) as mailer:
        result = mailer.send(message)
    assert result.accepted == ("unit1@jt.example",)
    assert result.refused == {}
    (received,) = plain_server.messages
    assert received.envelope_from == "youhuaban@jt.example"
    assert received.rcpt_tos == ("unit1@jt.example",)
    assert parsed(received.raw)["Message-ID"] == message["Message-ID"]


def test_starttls_and_login_verify_the_certificate_through_the_cafile(
    starttls_server: LocalSmtpServer, tls: Tls
) -> None:
    config = parse_smtp_url(starttls_server.url(USER, PASSWORD, cafile=tls.cafile))
    assert config.password == PASSWORD
    with SmtpMailer(config) as mailer:
        mailer.send(build(notice()))
    assert len(starttls_server.messages) == 1
    assert starttls_server.logins == 1


def test_starttls_without_the_ca_is_refused(starttls_server: LocalSmtpServer) -> None:
    config = parse_smtp_url(starttls_server.url(USER, PASSWORD))
    with pytest.raises(MailTlsError) as caught, SmtpMailer(config):
        pass
    assert isinstance(caught.value, ConfigError)
    assert "DUBAN_SMTP_URL" in str(caught.value)
    assert "cafile" in str(caught.value)
    assert starttls_server.messages == []


def test_smtps_with_login(tls: Tls) -> None:
    with LocalSmtpServer(smtps_context=tls.context, users={USER: PASSWORD}) as server:
        url = server.url(USER, PASSWORD, cafile=tls.cafile)
        assert url.startswith("smtps://")
        with SmtpMailer(parse_smtp_url(url)) as mailer:
            result = mailer.send(build(notice()))
        assert result.accepted == ("unit1@jt.example",)
        assert (len(server.messages), server.sessions, server.logins) == (1, 1, 1)


def test_wrong_password_is_a_config_error_naming_the_url(
    starttls_server: LocalSmtpServer, tls: Tls
) -> None:
    config = parse_smtp_url(starttls_server.url(USER, "wrong-hunter2", cafile=tls.cafile))
    with pytest.raises(MailAuthenticationError) as caught, SmtpMailer(config):
        pass
    assert isinstance(caught.value, ConfigError)
    assert "DUBAN_SMTP_URL" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_a_server_that_wants_a_login_says_so() -> None:
    with (
        LocalSmtpServer(users={USER: PASSWORD}, auth_require_tls=False) as server,
        SmtpMailer(parse_smtp_url(server.url())) as mailer,
        pytest.raises(MailAuthenticationError, match="login"),
    ):
        mailer.send(build(notice()))


def test_plain_login_where_the_server_allows_it() -> None:
    with LocalSmtpServer(users={USER: PASSWORD}, auth_require_tls=False) as server:
        with SmtpMailer(parse_smtp_url(server.url(USER, PASSWORD))) as mailer:
            result = mailer.send(build(notice()))
        assert result.accepted == ("unit1@jt.example",)


def test_a_line_over_998_characters_is_never_sent() -> None:
    message = build(notice())
    message.set_raw("X-Long", "x" * 1200)
    with pytest.raises(ValueError, match="1208-character line"):
        wire_bytes(message)


def test_non_ascii_password_is_refused_before_connecting() -> None:
    config = parse_smtp_url("smtp://u:%E5%AF%86%E7%A0%81@127.0.0.1:9")
    with pytest.raises(MailAuthenticationError, match="non-ASCII"), SmtpMailer(config):
        pass


def test_unreachable_server_is_a_config_error() -> None:
    with LocalSmtpServer() as server:
        url = server.url()
    with pytest.raises(MailServerUnreachableError) as caught, SmtpMailer(parse_smtp_url(url)):
        pass
    assert "DUBAN_SMTP_URL" in str(caught.value)


def test_fifty_messages_go_over_one_session(starttls_server: LocalSmtpServer, tls: Tls) -> None:
    config = parse_smtp_url(starttls_server.url(USER, PASSWORD, cafile=tls.cafile))
    with SmtpMailer(config) as mailer:
        results = [mailer.send(build(notice(n))) for n in range(50)]
    assert all(len(r.accepted) == 1 for r in results)
    received = starttls_server.messages
    assert len(received) == 50
    assert starttls_server.sessions == 1
    assert starttls_server.logins == 1
    ids = [parsed(m.raw)["Message-ID"] for m in received]
    assert len(set(ids)) == 50


def test_partial_refusal_is_reported() -> None:
    with LocalSmtpServer(refuse={"gone@jt.example"}) as server:
        message = build(notice(to=(Address("", "ok@jt.example"), Address("", "gone@jt.example"))))
        with SmtpMailer(parse_smtp_url(server.url())) as mailer:
            result = mailer.send(message)
        assert result.accepted == ("ok@jt.example",)
        assert list(result.refused) == ["gone@jt.example"]
        assert result.refused["gone@jt.example"][0] == 550
        assert [m.rcpt_tos for m in server.messages] == [("ok@jt.example",)]


def test_all_recipients_refused_raises_nothing_and_the_connection_goes_on() -> None:
    with LocalSmtpServer(refuse={"unit1@jt.example"}) as server:
        with SmtpMailer(parse_smtp_url(server.url())) as mailer:
            refused = mailer.send(build(notice(1)))
            fine = mailer.send(build(notice(2)))
        assert refused.accepted == ()
        assert refused.refused["unit1@jt.example"][0] == 550
        assert fine.accepted == ("unit2@jt.example",)
        assert server.sessions == 1


def test_a_dropped_connection_raises_at_once(plain_server: LocalSmtpServer) -> None:
    config = parse_smtp_url(plain_server.url() + "?timeout=20")
    with SmtpMailer(config) as mailer:
        for n in range(3):
            mailer.send(build(notice(n)))
        plain_server.stop()
        started = time.monotonic()
        with pytest.raises(MailConnectionError):
            mailer.send(build(notice(4)))
        # Not a benchmark: yagmail's send() would retry silently for about 18 seconds.
        assert time.monotonic() - started < 5
        with pytest.raises(MailConnectionError):
            mailer.send(build(notice(5)))


def test_maildir_delivery(tmp_path: Path) -> None:
    with (
        LocalSmtpServer(maildir=tmp_path / "Maildir") as server,
        SmtpMailer(parse_smtp_url(server.url())) as mailer,
    ):
        mailer.send(build(notice()))
    (stored,) = list(mailbox.Maildir(tmp_path / "Maildir"))
    assert stored["Subject"] is not None
    assert parsed(stored.as_bytes())["Subject"] == "【提醒】关于报送实施方案的通知（第1号）"


def test_outbox_writes_eml_files_a_mail_client_can_open(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    with OutboxMailer(folder) as outbox:
        results = [outbox.send(build(notice(n))) for n in (1, 2)]
    with OutboxMailer(folder) as outbox:
        outbox.send(build(notice(3)))
    assert [r.accepted for r in results] == [("unit1@jt.example",), ("unit2@jt.example",)]
    files = sorted(folder.glob("*.eml"))
    assert [f.name[:6] for f in files] == ["00001-", "00002-", "00003-"]
    assert "unit3@jt.example" in files[2].name
    for number, path in enumerate(files, start=1):
        message = parsed(path.read_bytes())
        assert message["Subject"] == f"【提醒】关于报送实施方案的通知（第{number}号）"
        (attachment,) = message.iter_attachments()
        assert attachment.get_filename() == "实施方案-B03.xlsx"


def test_both_mailers_are_mailers(tmp_path: Path) -> None:
    mailers: list[Mailer] = [OutboxMailer(tmp_path), SmtpMailer(parse_smtp_url("smtp://h"))]
    assert all(callable(m.send) for m in mailers)


def _variety() -> list[OutgoingMessage]:
    """Messages as duban sends them, each value repeated across them as a round repeats it:
    Chinese and English names and subjects, long and short, several recipients and Cc, text
    only, ASCII and Chinese file names (one long enough to fold), dates in two zones."""
    from datetime import timedelta, timezone

    long_name = "关于报送" + "优化营商环境" * 12 + "实施方案.xlsx"
    shapes: list[dict[str, object]] = [
        {},
        {"subject": "Reminder: the plan is due on 5 March", "html": None, "text": "Dear unit,\n"},
        {"to": (Address("", "a@jt.example"), Address("Unit B, office", "b@jt.example"))},
        {"cc": (Address("分管领导", "head@jt.example"),), "headers": {"X-Duban-Key": "k:1"}},
        {"attachments": (Attachment(long_name, b"PK" + bytes(900), XLSX),)},
        {"attachments": (Attachment("plan.xlsx", bytes(300), XLSX), Attachment("a.csv", b"a,b"))},
        {"date": WHEN.astimezone(timezone(timedelta(hours=8)))},  # the same moment
        {"headers": {"In-Reply-To": "<x@unit.example>", "References": "<x@unit.example>",
                     "Auto-Submitted": "auto-replied", "Reply-To": "youhuaban@jt.example"}},
        {"text": "plain and HTML\r\n" + "x" * 200, "subject": "【督办】" + "很长的标题" * 20},
    ]  # fmt: skip
    return [notice(n % 3, **shape) for n in range(3) for shape in shapes]


@pytest.mark.parametrize("kept", [512, 4])
def test_cached_headers_write_the_same_bytes_as_the_stock_policy(
    monkeypatch: pytest.MonkeyPatch, kept: int
) -> None:
    """The header caches (one object per value, folded once) change no byte: every message is
    built and serialised with them, its values seen before, and with ``email.policy.SMTP``
    (``refold_source="none"``) as it comes; also when the cache is emptied every few headers.
    (The boundaries are drawn from each Message-ID, so both builds name the same ones.)"""
    from duban.adapters.mail import message as message_module

    monkeypatch.setattr(message_module, "_KEPT", kept)
    stock = email.policy.SMTP.clone(refold_source="none")
    messages = _variety()
    for outgoing in messages + messages:
        cached = wire_bytes(build(outgoing))
        with monkeypatch.context() as patch:
            patch.setattr(message_module, "POLICY", stock)
            plain = wire_bytes(build(outgoing))
        assert cached == plain


def test_boundaries_are_named_by_the_builder_and_delimit_only() -> None:
    """Every multipart gets a boundary of duban's (the generator picking one compiled a
    regular expression a boundary): the same bytes when built twice, another boundary for
    another Message-ID, each boundary line a delimiter only, and the message reads back part
    for part, also for a text that quotes a boundary-like line."""
    for outgoing in _variety():
        quoting = replace(outgoing, text=(outgoing.text or "") + "\n--=_duban_0_x\n")
        for message in (outgoing, quoting):
            data = wire_bytes(build(message))
            assert data == wire_bytes(build(message))
            other = wire_bytes(build(replace(message, message_id="<other@jt.example>")))
            parsed = email.message_from_bytes(data, policy=email.policy.default)
            boundaries = [str(p.get_boundary()) for p in parsed.walk() if p.is_multipart()]
            assert boundaries
            assert all(b.startswith("=_duban_") for b in boundaries)
            assert not any(b.encode() in other for b in boundaries)
            assert not parsed.defects
            for boundary in boundaries:
                lines = [line for line in data.split(b"\r\n") if boundary.encode() in line]
                delimiters = {b"--" + boundary.encode(), b"--" + boundary.encode() + b"--"}
                assert all(line in delimiters or b"boundary=" in line for line in lines)
            text = parsed.get_body(("plain",))
            assert text is not None
            if message.text is not None:  # else made from the HTML
                want = message.text.replace("\r\n", "\n").rstrip("\n")
                assert text.get_content().replace("\r\n", "\n").rstrip("\n") == want
            got = [
                (a.get_filename(), a.get_payload(decode=True)) for a in parsed.iter_attachments()
            ]
            assert got == [(a.filename, a.content) for a in message.attachments]
