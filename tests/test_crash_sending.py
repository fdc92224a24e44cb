"""Killed while sending, at the worst moment (issue 14): ``kill -9`` right after the SMTP server
accepted a seeded N-th message and before its ledger row was marked sent, for mobilize, collect
and chase; then the real command again, once the killed run's claim has expired.

Each trial is a fresh world: a ledger (SQLite; PostgreSQL too for collect, whose runs also hold
the mailbox's lock), a real SMTP server on 127.0.0.1 and a home folder. ``tests.crashing`` runs
the command as ``duban`` does, on a runtime whose mailer kills the process after message N (N
drawn from ``random.Random(seed)``; the seed is in every assertion's message). The trial checks
that the kill reached the window (N messages at the server, the N-th row still 'sending'), then
runs ``python -m duban`` with ``DUBAN_NOW`` past ``CLAIM_WINDOW`` and counts at the server. In
every other trial a normal run comes first at the moment of the kill, as a cron job's would,
inside the claim window: it must leave the message in flight alone, and the run after the
window must still send it (collect used to mark the reply done and leave its answer 'sending'
for good; see ``duban.implement.collect``). Then:

* nothing lost: every message in the ledger arrived;
* nothing recorded twice: one row per idempotency key, every row 'sent' (and for collect every
  reply recorded once, and accepted once);
* only the documented window sent again: the messages the killed run had sent whose group was
  not marked yet (``dispatch.GROUP``, at most 50; the N-th among them), each twice, both copies
  under the Message-ID recorded with its intent; every other message once;
* no process left behind: nothing in the killed process's session (the collect run's reader
  workers) outlives it.

``make test`` runs 5 trials of each, ``make stress`` 20.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import mailbox as maildirs
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from duban.clock import FixedClock
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import IntakeRow, MessageRow, SubmissionRow
from duban.ledger.store import register
from duban.model.loader import CampaignBundle
from duban.sending.dispatch import CLAIM_WINDOW, GROUP
from duban.testing.mailserver import Delivery, LocalSmtpServer

from . import test_review
from .conftest import EXAMPLE, ROOT
from .rounds import rounds
from .test_collect import LATE, NOW, SECRET, World, plan_row, records
from .test_worker_lifetime import running

# The review tests' mailbox and world (a campaign on ``ledger_url`` whose plan notices went
# out; replies are answered through ``world.answers``), under the names pytest knows them by.
imap = test_review.imap
world = test_review.world

TRIALS = rounds(test=3, stress=20)
LATER = CLAIM_WINDOW + timedelta(minutes=1)
"""How much later the second run is: the killed run's claim has expired by then."""
CHASED_AT = datetime(2026, 9, 15, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
"""Tuesday 15 Sep 2026, 09:00: the self-check reminder is due for all 30 units."""
_RUNNING = 300.0
_DYING = 10.0
"""Bounds on waiting for an event (a run's end, a process's death), not measures."""


def seeded(command: str, trial: int, most: int) -> tuple[str, int]:
    """The trial's seed (printed with every failure) and N in 1..most drawn from it."""
    seed = f"{command}-{trial}"
    return seed, random.Random(seed).randint(1, most)


def meanwhile(trial: int) -> bool:
    """Whether the command runs once inside the killed run's claim window too: every other
    trial, so that both ways back (straight after the window; a run within it, then one
    after it) are tried in every ``make test``."""
    return trial % 2 == 0


@dataclass(frozen=True)
class Home:
    """What both runs of a trial share: the ledger, the home folder, the SMTP server."""

    engine: Engine
    home: Path
    smtp: LocalSmtpServer
    extra: tuple[tuple[str, str], ...] = ()

    def env(self, now: datetime) -> dict[str, str]:
        return {
            **os.environ,
            "DUBAN_DATABASE_URL": self.engine.url.render_as_string(hide_password=False),
            "DUBAN_HOME": str(self.home),
            "DUBAN_SECRET": SECRET.decode(),
            "DUBAN_SMTP_URL": self.smtp.url(),
            "DUBAN_NOW": now.isoformat(),
            "DUBAN_LANG": "en",
            **dict(self.extra),
        }


@dataclass(frozen=True)
class Crash:
    in_flight: list[Delivery]
    """The messages the server accepted from the killed run whose rows were left 'sending'
    (its last group's sends, the N-th last): the window that goes again."""
    children: list[int]
    """The killed run's child processes at the kill (each gone since)."""


def crash_then_rerun(
    home: Home, command: str, args: Sequence[str], sends: int, now: datetime, seed: str,
    *, meanwhile: bool,
) -> Crash:  # fmt: skip
    """Run the command killed after message ``sends``, check that the kill reached the window
    and left no process behind, then run the real command ``LATER``; ``meanwhile``, run it
    once at the moment of the kill too (a cron job's next run), which must leave the message
    in flight alone: its claim still holds."""
    before = len(home.smtp.messages)
    killed, out, err = crashed(home, command, args, sends, now)
    assert killed.returncode == -signal.SIGKILL, (seed, out, err[-3000:])
    children = named(out)
    survivors = left_behind(killed.pid, children)
    assert not survivors, f"seed {seed}: processes of the killed run left behind: {survivors}"
    delivered = home.smtp.messages[before:]
    assert len(delivered) == sends, f"seed {seed}: the kill did not come after message {sends}"
    key = header(delivered[-1], "X-Duban-Key")
    assert status_of(home.engine, key) == "sending", f"seed {seed}: the kill came after the mark"
    in_flight = [d for d in delivered if status_of(home.engine, header(d, "X-Duban-Key"))
                 == "sending"]  # fmt: skip
    assert len(in_flight) <= GROUP, f"seed {seed}: {len(in_flight)} sent and not marked"
    if meanwhile:
        duban(home, command, args, now, seed)
        for flying in in_flight:
            key = header(flying, "X-Duban-Key")
            assert status_of(home.engine, key) == "sending", f"seed {seed}: claim taken early"
            again = [d for d in home.smtp.messages if header(d, "X-Duban-Key") == key]
            assert len(again) == 1, f"seed {seed}: sent again within the claim window"
    duban(home, command, args, now + LATER, seed)
    return Crash(in_flight, children)


def duban(home: Home, command: str, args: Sequence[str], now: datetime, seed: str) -> None:
    """``python -m duban COMMAND CAMPAIGN ARGS`` at ``now``, which must succeed."""
    run = subprocess.run(
        [sys.executable, "-m", "duban", command, str(EXAMPLE), *args],
        cwd=ROOT, env=home.env(now), capture_output=True, text=True, timeout=_RUNNING,
        check=False,
    )  # fmt: skip
    assert run.returncode == 0, (seed, now, run.stdout, run.stderr[-3000:])


def status_of(engine: Engine, key: str) -> str:
    with session_scope(engine) as session:
        return session.scalars(
            select(MessageRow.status).where(MessageRow.idempotency_key == key)
        ).one()


def crashed(
    home: Home, command: str, args: Sequence[str], sends: int, now: datetime
) -> tuple[subprocess.Popen[bytes], str, str]:
    """``tests.crashing``'s run, in a session of its own (its id is the run's pid, and whatever
    the run starts stays in it), its output in files: a process it left behind holding a pipe
    would keep a reader of that pipe waiting."""
    output = home.home / "crashing.out"
    errors = home.home / "crashing.err"
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("wb") as stdout, errors.open("wb") as stderr:
        run = subprocess.Popen(
            [sys.executable, "-m", "tests.crashing", command, str(EXAMPLE), str(sends), *args],
            cwd=ROOT, env=home.env(now), stdin=subprocess.DEVNULL, stdout=stdout,
            stderr=stderr, start_new_session=True,
        )  # fmt: skip
        try:
            run.wait(_RUNNING)
        finally:
            run.kill()
            run.wait()
    return run, output.read_text(), errors.read_text()


def named(stdout: str) -> list[int]:
    """The child processes the killed run listed just before it died."""
    lines = [line for line in stdout.splitlines() if line.startswith("children:")]
    return [int(word) for line in lines for word in line.split()[1:]]


def in_session(session_id: int) -> list[int]:
    """Every process still in that session (not counting zombies), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[3]) == session_id and fields[0] != "Z":
                found.append(int(stat.parent.name))
    return found


def left_behind(pid: int, children: list[int]) -> list[int]:
    """The killed run's processes still running once they have had their chance to go (and,
    so that a failed trial leaves nothing either, killed then)."""
    deadline = time.monotonic() + _DYING

    def alive() -> list[int]:
        return sorted({p for p in children if running(p)} | set(in_session(pid)))

    while alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = alive()
    for survivor in survivors:
        with contextlib.suppress(ProcessLookupError):
            os.kill(survivor, signal.SIGKILL)
    return survivors


def header(delivery: Delivery, name: str) -> str:
    message = email.message_from_bytes(delivery.raw, policy=email.policy.default)
    return str(message[name])


def check_counted(
    engine: Engine, deliveries: Sequence[Delivery], kinds: Sequence[str],
    in_flight: Sequence[Delivery], seed: str,
) -> None:  # fmt: skip
    """0 lost, 0 recorded twice, only the messages in flight sent again, under their
    Message-IDs."""
    with session_scope(engine) as session:
        rows = session.scalars(select(MessageRow).where(MessageRow.kind.in_(kinds))).all()
        recorded = {row.idempotency_key: (row.status, row.message_id) for row in rows}
    assert rows, seed
    assert len(recorded) == len(rows), f"seed {seed}: a key recorded twice"
    statuses = Counter(status for status, _ in recorded.values())
    assert statuses == {"sent": len(rows)}, f"seed {seed}: {statuses}"
    arrived = Counter(header(d, "X-Duban-Key") for d in deliveries)
    lost = set(recorded) - set(arrived)
    assert not lost, f"seed {seed}: lost {sorted(lost)}"
    assert set(arrived) == set(recorded), f"seed {seed}: sent without a row"
    twice = {key: n for key, n in arrived.items() if n > 1}
    flying = {header(d, "X-Duban-Key"): 2 for d in in_flight}
    assert twice == flying, f"seed {seed}: sent again {twice}, in flight {flying}"
    for delivery in deliveries:
        key = header(delivery, "X-Duban-Key")
        assert header(delivery, "Message-ID") == recorded[key][1], f"seed {seed}: {key}"


@pytest.fixture
def registered(example_bundle: CampaignBundle, tmp_path: Path) -> Iterator[Engine]:
    """A SQLite ledger with the example campaign registered (30 units), nothing sent yet."""
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    migrate(engine)
    with session_scope(engine) as session:
        register(session, example_bundle, FixedClock(NOW))
    yield engine
    engine.dispose()


@pytest.mark.stress
@pytest.mark.parametrize("trial", TRIALS)
def test_mobilize_killed_after_a_seeded_notice(
    registered: Engine, tmp_path: Path, trial: int
) -> None:
    seed, sends = seeded("mobilize", trial, 30)
    with LocalSmtpServer() as smtp:
        home = Home(registered, tmp_path / "home", smtp)
        args = ["--deliverable", "plan"]
        crash = crash_then_rerun(
            home, "mobilize", args, sends, NOW, seed, meanwhile=meanwhile(trial)
        )
        deliveries = smtp.messages
    check_counted(registered, deliveries, ["notice"], crash.in_flight, seed)
    assert len(deliveries) == 30 + len(crash.in_flight), f"seed {seed}"  # the window twice


@pytest.mark.stress
@pytest.mark.parametrize("trial", TRIALS)
def test_chase_killed_after_a_seeded_reminder(
    registered: Engine, tmp_path: Path, trial: int
) -> None:
    seed, sends = seeded("chase", trial, 30)
    args = ["--deliverable", "self-check"]
    with LocalSmtpServer() as smtp:
        home = Home(registered, tmp_path / "home", smtp)
        crash = crash_then_rerun(
            home, "chase", args, sends, CHASED_AT, seed, meanwhile=meanwhile(trial)
        )
        deliveries = smtp.messages
    check_counted(registered, deliveries, ["reminder"], crash.in_flight, seed)
    assert len(deliveries) == 30 + len(crash.in_flight), f"seed {seed}"  # the window twice
    # one message a unit and day (issue 15), each naming the unit's self-check reminder
    assert {header(d, "X-Duban-Covers").split(":")[1] for d in deliveries} == {"reminder"}, seed


VALID = ("T01", "T02", "T04", "B01", "B02", "B04")
"""Units that reply with their template filled in properly: each accepted and acknowledged."""
WRONG = "T03"
"""A unit whose reply has a value outside the dropdown list: rejected, told what to fix."""
STRANGER = "stranger@evil.example"
"""An address on no roster, with T05's template: held for review, not answered."""


def deliver(world: World, folder: Path) -> int:
    """The replies, as the mail system would deliver them into a Maildir."""
    box = maildirs.Maildir(folder, create=True)
    rows = [plan_row(1), plan_row(2), plan_row(3)]
    for unit_id in VALID:
        box.add(world.make_reply(unit_id, rows))
    box.add(world.make_reply(WRONG, [plan_row(1, category="作风建设")]))
    box.add(world.make_reply("T05", rows, sender=STRANGER))
    return len(box)


@pytest.mark.stress
@pytest.mark.parametrize("trial", TRIALS)
def test_collect_killed_after_a_seeded_answer(world: World, tmp_path: Path, trial: int) -> None:
    seed, sends = seeded("collect", trial, len(VALID) + 1)
    folder = tmp_path / "Maildir"
    delivered = deliver(world, folder)
    home = Home(world.engine, world.store.parent, world.answers,
                (("DUBAN_INTAKE", f"maildir:{folder}"),))  # fmt: skip
    crash = crash_then_rerun(home, "collect", [], sends, LATE, seed, meanwhile=meanwhile(trial))
    assert crash.children, f"seed {seed}: no reader workers were running at the kill"
    deliveries = world.answers.messages
    check_counted(world.engine, deliveries, ["ack", "rejection"], crash.in_flight, seed)
    assert len(deliveries) == len(VALID) + 1 + len(crash.in_flight), seed  # the window twice
    recorded = records(world)
    assert len(recorded) == delivered, f"seed {seed}: {len(recorded)} records"
    assert len({row.source_ref for row, _ in recorded}) == delivered, seed
    outcomes = Counter(row.status for row, _ in recorded)
    assert outcomes == {"accepted": len(VALID), "rejected": 1, "held": 1}, (seed, outcomes)
    with session_scope(world.engine) as session:
        versions = session.scalars(select(SubmissionRow.version)).all()
        assert sorted(versions) == [1] * len(VALID), seed
        assert session.scalars(select(IntakeRow).where(IntakeRow.status == "received")).all() == []
    left = [path.name for sub in ("new", "cur") for path in (folder / sub).iterdir()]
    assert left == [], f"seed {seed}: replies left in the mailbox: {left}"


def test_collect_sends_the_answers_the_ledger_owes_once_the_mailbox_is_empty(world: World) -> None:
    """An answer whose reply is already done is sent from the ledger: one left 'sending' by a
    killed run, once its claim has expired, and one that failed (the connection broke), each
    under its Message-ID; a claim still in its window is left to its holder."""
    for unit_id in ("T01", "T02", "B01"):
        world.reply(unit_id, [plan_row(1), plan_row(2), plan_row(3)])
    world.collect(LATE)
    answers = {header(d, "X-Duban-Key"): d for d in world.answers.messages}
    assert len(answers) == 3
    (held, expired, failed) = sorted(answers)
    with session_scope(world.engine) as session:
        for key, status, claimed in (
            (held, "sending", LATE + LATER),
            (expired, "sending", LATE),
            (failed, "failed", None),
        ):
            row = session.scalars(select(MessageRow).where(MessageRow.idempotency_key == key)).one()
            row.status, row.claimed_at = status, claimed
    world.collect(LATE + LATER)  # the mailbox is empty now
    again = Counter(header(d, "X-Duban-Key") for d in world.answers.messages)
    assert again == {held: 1, expired: 2, failed: 2}
    first = {key: header(delivery, "Message-ID") for key, delivery in answers.items()}
    for delivery in world.answers.messages:
        assert header(delivery, "Message-ID") == first[header(delivery, "X-Duban-Key")]
    assert status_of(world.engine, held) == "sending"
    assert {status_of(world.engine, key) for key in (expired, failed)} == {"sent"}
