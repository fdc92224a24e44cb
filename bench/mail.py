"""Messages per second to a local STARTTLS+AUTH server: SmtpMailer vs yagmail's ``send()``.

    .venv/bin/python bench/mail.py [--messages 1000] [--baseline-messages 200]

Both run in the same process against the same ``LocalSmtpServer`` on 127.0.0.1 (STARTTLS
required, login required, certificate verified through the CA file), with the same subject,
HTML and ~20 KB attachment per message. SmtpMailer sends over ONE connection; yagmail's
``send()`` logs in again for every message, so the baseline is capped (default 200 messages)
to keep the run short. SmtpMailer is timed twice: sending messages built beforehand, and
building plus sending (the figure to compare with yagmail, whose ``send()`` also builds).
Target: ≥ 200 msg/s for SmtpMailer.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import yagmail

from duban.adapters.mail import (
    Address,
    Attachment,
    OutgoingMessage,
    SmtpMailer,
    build,
    make_message_id,
)
from duban.adapters.mail import parse_smtp_url as parse
from duban.adapters.mail.message import XLSX
from duban.testing.mailserver import (
    LocalSmtpServer,
    make_self_signed_certificate,
    server_tls_context,
)

USER, PASSWORD = "notice@duban.example", "bench-password"  # an address: yagmail rewrites names
SENDER = Address("市优化办", USER)
WHEN = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
HTML = "<p>各单位：</p><p>请于<b>3月5日</b>前报送《实施方案》，模板见附件。</p><p>市优化办</p>"
TARGET_RATE = 200.0


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    with tempfile.TemporaryDirectory() as folder:
        cert, key = make_self_signed_certificate(Path(folder))
        attachment = Path(folder) / "实施方案.xlsx"
        attachment.write_bytes(random.Random(0).randbytes(20 * 1024))
        context = server_tls_context(cert, key)
        with LocalSmtpServer(
            starttls_context=context, require_starttls=True, users={USER: PASSWORD}
        ) as server:
            rate, end_to_end = _smtp_mailer(server, cert, attachment, args.messages)
            baseline = _yagmail(server, cert, attachment, args.baseline_messages)
    _say(f"ratio (SmtpMailer build+send / yagmail send()): {end_to_end / baseline:.1f}x")
    _say(f"ratio (SmtpMailer send only / yagmail send()): {rate / baseline:.1f}x")
    verdict = "meets" if rate >= TARGET_RATE else "MISSES"
    _say(f"SmtpMailer {verdict} the target of {TARGET_RATE:.0f} msg/s (send only)")
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--baseline-messages", type=int, default=200)
    return parser.parse_args(argv)


def _message(number: int, attachment: Path) -> EmailMessage:
    return build(
        OutgoingMessage(
            sender=SENDER,
            to=(Address(f"单位{number:04d}", _address(number)),),
            subject=f"关于报送实施方案的通知（单位{number:04d}）",
            message_id=make_message_id("duban.example"),
            date=WHEN,
            html=HTML,
            attachments=(Attachment(attachment.name, attachment.read_bytes(), XLSX),),
        )
    )


def _address(number: int) -> str:
    return f"unit{number:04d}@jt.example"


def _smtp_mailer(
    server: LocalSmtpServer, cert: Path, attachment: Path, count: int
) -> tuple[float, float]:
    before = (len(server.messages), server.sessions)
    config = parse(server.url(USER, PASSWORD, cafile=cert))
    started = time.perf_counter()
    messages = [_message(n, attachment) for n in range(count)]
    built = time.perf_counter()
    with SmtpMailer(config) as mailer:
        for message in messages:
            mailer.send(message)
    sent = time.perf_counter()
    received = len(server.messages) - before[0]
    sessions = server.sessions - before[1]
    size = len(messages[0].as_bytes()) / 1024
    rate, end_to_end = count / (sent - built), count / (sent - started)
    _say(f"message size {size:.1f} KB; build {(built - started) / count * 1000:.2f} ms/message")
    _report("SmtpMailer send only", received, sessions, rate)
    _report("SmtpMailer build+send", received, sessions, end_to_end)
    return rate, end_to_end


def _yagmail(server: LocalSmtpServer, cert: Path, attachment: Path, count: int) -> float:
    before = (len(server.messages), server.sessions)
    client = yagmail.SMTP(
        user=USER,
        password=PASSWORD,
        host=server.host,
        port=server.port,
        smtp_ssl=False,
        smtp_starttls={"context": parse(server.url(USER, PASSWORD, cafile=cert)).ssl_context()},
    )
    started = time.perf_counter()
    for number in range(count):
        client.send(
            to=_address(number),
            subject=f"关于报送实施方案的通知（单位{number:04d}）",
            contents=HTML,
            attachments=str(attachment),
        )
    elapsed = time.perf_counter() - started
    client.close()
    received = len(server.messages) - before[0]
    sessions = server.sessions - before[1]
    rate = count / elapsed
    _report("yagmail send() baseline", received, sessions, rate)
    return rate


def _report(label: str, received: int, sessions: int, rate: float) -> None:
    _say(f"{label:<26} {received:>5} received over {sessions:>4} session(s): {rate:7.1f} msg/s")


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())
