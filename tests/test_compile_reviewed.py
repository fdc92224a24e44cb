"""`duban compile --send` mails the files the coordinator reviewed, when nothing changed since
the `duban compile` that wrote them that day; anything changed, and they are written again.

Through the command line on a real ledger, the bulletin caught by a real SMTP server on
loopback: its attachment is the reviewed file, byte for byte, and its body the reviewed HTML.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from duban.cli.app import app
from duban.compile.reviewed import REUSED, WRITTEN, plain
from duban.ledger.db import make_engine, session_scope
from duban.ledger.schema import EventRow
from duban.model.workdays import WorkCalendar
from duban.testing.mailserver import LocalSmtpServer

from .conftest import EXAMPLE

runner = CliRunner()
CAMPAIGN = str(EXAMPLE)
REVIEWED_AT = "2026-03-10T09:00"


@dataclass
class Office:
    env: dict[str, str]
    home: Path
    server: LocalSmtpServer
    ledger: str

    def duban(self, *args: str, at: str = REVIEWED_AT) -> str:
        result = runner.invoke(app, [*args, "--as-of", at], env=self.env)
        assert result.exit_code == 0, result.output
        return result.output

    def compile(self, at: str = REVIEWED_AT, *, send: bool = False) -> str:
        extra = ("--send",) if send else ()
        return self.duban("compile", CAMPAIGN, "--deliverable", "plan", *extra, at=at)

    def files(self) -> dict[str, bytes]:
        folder = self.home / "out" / "nlzf-2026" / "plan-once"
        return {p.suffix: p.read_bytes() for p in folder.iterdir() if not p.name.startswith(".")}

    def mtimes(self) -> dict[str, int]:
        folder = self.home / "out" / "nlzf-2026" / "plan-once"
        return {p.suffix: p.stat().st_mtime_ns for p in folder.iterdir()}

    def bulletins(self) -> list[EmailMessage]:
        parsed = [email.message_from_bytes(m.raw, policy=email.policy.default)
                  for m in self.server.messages]  # fmt: skip
        return [m for m in parsed if isinstance(m, EmailMessage)]

    def events(self, kind: str) -> list[dict[str, object]]:
        engine = make_engine(self.ledger)
        with session_scope(engine) as session:
            rows = session.scalars(select(EventRow).where(EventRow.kind == kind)).all()
            found = [dict(row.payload) for row in rows]
        engine.dispose()
        return found


@pytest.fixture
def office(tmp_path: Path, ledger_url: str) -> Iterator[Office]:
    """A registered example campaign on SQLite and on PostgreSQL, its plan never replied to."""
    with LocalSmtpServer() as server:
        env = {"DUBAN_HOME": str(tmp_path), "DUBAN_SECRET": "s" * 20,
               "DUBAN_SMTP_URL": server.url(), "COLUMNS": "200", "DUBAN_LANG": "en",
               "DUBAN_DATABASE_URL": ledger_url}  # fmt: skip
        assert runner.invoke(app, ["init", CAMPAIGN], env=env).exit_code == 0
        yield Office(env, tmp_path, server, ledger_url)


def _parts(message: EmailMessage) -> tuple[str, bytes]:
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    [docx] = list(message.iter_attachments())
    payload = docx.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return str(html.get_content()).replace("\r\n", "\n"), payload  # mail's line ends


def test_send_mails_the_files_reviewed_when_nothing_changed(office: Office) -> None:
    office.compile()
    reviewed, written = office.files(), office.mtimes()
    shown = office.compile("2026-03-10T09:40", send=True)
    assert office.mtimes() == written  # not one file written again
    assert "as written at 2026-03-10 09:00 (nothing has changed since)" in shown
    [bulletin] = office.bulletins()
    html, docx = _parts(bulletin)
    assert docx == reviewed[".docx"]
    assert html == reviewed[".html"].decode()
    [reuse] = office.events(REUSED)
    assert str(reuse["as_of"]).startswith("2026-03-10T01:00")  # 09:00 in Shanghai
    again = office.compile("2026-03-10T10:15", send=True)
    assert "as written at 2026-03-10 09:00" in again
    assert len(office.bulletins()) == 1  # sent once for the day, as before
    assert office.mtimes() == written


def test_a_compile_without_send_always_writes(office: Office) -> None:
    office.compile()
    first = office.events(WRITTEN)
    shown = office.compile("2026-03-10T09:40")
    assert "as written at" not in shown
    assert len(office.events(WRITTEN)) == len(first) + 1
    assert office.bulletins() == []


def test_a_change_in_the_ledger_since_writes_them_again(office: Office) -> None:
    office.compile()
    reviewed = office.files()
    office.duban("exempt", CAMPAIGN, "--deliverable", "plan", "--unit", "T01",
                 "--reason", "合并机构", at="2026-03-10T09:20")  # fmt: skip
    shown = office.compile("2026-03-10T09:40", send=True)
    assert "as written at" not in shown
    assert office.files()[".xlsx"] != reviewed[".xlsx"]
    [bulletin] = office.bulletins()
    assert _parts(bulletin)[1] == office.files()[".docx"]
    assert office.events(REUSED) == []


def test_a_file_changed_on_disk_is_written_again(office: Office) -> None:
    office.compile()
    folder = office.home / "out" / "nlzf-2026" / "plan-once"
    [workbook] = folder.glob("*.xlsx")
    changed = workbook.read_bytes() + b"saved again"  # opened and saved, say
    workbook.write_bytes(changed)
    shown = office.compile("2026-03-10T09:40", send=True)
    assert "as written at" not in shown
    assert workbook.read_bytes() != changed
    assert office.events(REUSED) == []


def test_a_later_day_writes_them_again(office: Office) -> None:
    office.compile("2026-03-09T17:30")
    shown = office.compile("2026-03-10T08:30", send=True)
    assert "as written at" not in shown
    [bulletin] = office.bulletins()
    assert _parts(bulletin)[0] == office.files()[".html"].decode()
    assert office.events(REUSED) == []


def test_an_earlier_moment_than_the_compile_writes_them_again(office: Office) -> None:
    """``--as-of`` set back: the files show a moment after the one asked for."""
    office.compile("2026-03-10T11:00")
    shown = office.compile("2026-03-10T09:40", send=True)
    assert "as written at" not in shown


def test_the_chinese_screen_says_which_files_went(office: Office) -> None:
    office.compile()
    office.env["DUBAN_LANG"] = "zh-CN"
    shown = office.compile("2026-03-10T09:40", send=True)
    assert "2026-03-10 09:00 生成的文件（此后没有变化，未重新生成）" in shown


def test_a_fingerprint_is_the_same_in_every_process() -> None:
    """Sets of days are sorted, not hashed: two processes with other hash seeds agree."""
    code = ("from datetime import date; from duban.model.workdays import WorkCalendar;"
            "from duban.compile.reviewed import plain; import json;"
            "print(json.dumps(plain(WorkCalendar(closed=frozenset(date(2026, 5, d) "
            "for d in range(1, 20))))))")  # fmt: skip
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={"PYTHONHASHSEED": seed, "PATH": ""})
        for seed in ("1", "2", "3")
    ]  # fmt: skip
    seen = {run.stdout for run in runs}
    assert len(seen) == 1
    calendar = plain(WorkCalendar(closed=frozenset({date(2026, 5, 2), date(2026, 5, 1)})))
    assert calendar["closed"] == ["2026-05-01", "2026-05-02"]
    assert json.loads(seen.pop())["closed"][0] == "2026-05-01"


def test_a_fingerprint_refuses_what_it_cannot_spell() -> None:
    with pytest.raises(TypeError, match="cannot hold a object"):
        plain(object())


def test_two_sends_at_once_mail_the_reviewed_bulletin_once(office: Office) -> None:
    """Cron's send and the coordinator's at the same moment: one bulletin, the reviewed one."""
    office.compile()
    reviewed = office.files()
    env = {**os.environ, **office.env}
    command = [sys.executable, "-m", "duban", "compile", CAMPAIGN, "--deliverable", "plan",
               "--send", "--as-of", "2026-03-10T09:40"]  # fmt: skip
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(2)]  # fmt: skip
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    [bulletin] = office.bulletins()
    assert _parts(bulletin)[1] == reviewed[".docx"]
    assert office.files() == reviewed
