"""Two runs of one command at once send each message once (issue 14, item 1): two real
``duban collect`` processes over one mailbox (a Maildir, and a real IMAP server) and one
ledger, on SQLite and on PostgreSQL, with 90 replies; every reply is recorded once and answered
once, counted at a real SMTP server. Each batch is taken under the mailbox's lock
(``ledger.locks``): a second run says it waits and waits, and a holder killed with ``kill -9``
lets go. One run sends each batch's answers from a forked process while it reads the next:
answered once, and a Ctrl-C that reaches both loses none."""

from __future__ import annotations

import mailbox as maildirs
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from duban.ledger.db import session_scope
from duban.ledger.locks import exclusive
from duban.ledger.schema import MessageRow

from . import test_review
from .conftest import EXAMPLE
from .rounds import rounds
from .test_collect import (
    LATE,
    PASSWORD,
    SECRET,
    USER,
    World,
    answers_by_key,
    plan_row,
    records,
)

# The review tests' mailbox and world (a campaign registered on ``ledger_url``, its notices
# sent), under the names pytest knows them by.
imap = test_review.imap
world = test_review.world

REPLIES_PER_UNIT = 3  # the example campaign has 30 units: 90 replies


def replies(world: World) -> list[bytes]:
    """Three replies from every unit of the example campaign, each a new version."""
    return [
        world.make_reply(unit.id, [plan_row(version + 1), plan_row(version + 2)])
        for unit in world.bundle.units
        for version in range(REPLIES_PER_UNIT)
    ]


def deliver_to_maildir(world: World, folder: Path) -> int:
    """The units' replies, as the mail system would deliver them into a Maildir."""
    box = maildirs.Maildir(folder, create=True)
    for raw in replies(world):
        box.add(raw)
    return len(box)


def deliver_to_imap(world: World) -> int:
    for raw in replies(world):
        world.deliver(raw, LATE)
    return world.delivered


def collect_command(world: World, intake: str) -> tuple[list[str], dict[str, str]]:
    """A real ``duban collect`` on the world's home and ledger, reading ``intake``; the clock
    is DUBAN_NOW, so nothing depends on the wall clock."""
    env = {
        **os.environ,
        "DUBAN_DATABASE_URL": world.engine.url.render_as_string(hide_password=False),
        "DUBAN_HOME": str(world.store.parent),
        "DUBAN_SECRET": SECRET.decode(),
        "DUBAN_SMTP_URL": world.answers.url(),
        "DUBAN_INTAKE": intake,
        "DUBAN_NOW": LATE.isoformat(),
        "DUBAN_LANG": "en",
    }
    return [sys.executable, "-m", "duban", "collect", str(EXAMPLE), "--batch-size", "15"], env


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def collect_processes(
    world: World, intake: str, count: int
) -> list[subprocess.CompletedProcess[str]]:
    """``count`` real ``duban collect`` processes started together, each run to its end."""
    command, env = collect_command(world, intake)
    runs = [start(command, env) for _ in range(count)]
    done = []
    for run in runs:
        out, err = run.communicate()
        done.append(subprocess.CompletedProcess(command, run.returncode, out, err))
    return done


def imap_intake(world: World) -> str:
    return world.imap.url(USER, PASSWORD)


@pytest.mark.stress
@pytest.mark.parametrize("round_", rounds(test=2, stress=10))
def test_two_collects_at_once_answer_each_reply_once(
    world: World, tmp_path: Path, round_: int
) -> None:
    folder = tmp_path / "Maildir"
    assert deliver_to_maildir(world, folder) == 90
    for run in collect_processes(world, f"maildir:{folder}", 2):
        assert run.returncode == 0, run.stderr
    assert_each_reply_recorded_and_answered_once(world)


@pytest.mark.stress
@pytest.mark.parametrize("round_", rounds(test=2, stress=10))
def test_two_collects_over_imap_at_once(world: World, round_: int) -> None:
    """Over IMAP the second run once failed outright: moving a message the other run had
    just moved, dovecot answered EXPUNGEISSUED."""
    assert deliver_to_imap(world) == 90
    for run in collect_processes(world, imap_intake(world), 2):
        assert run.returncode == 0, run.stderr
    assert_each_reply_recorded_and_answered_once(world)


def test_a_second_collect_says_it_waits_for_the_mailbox_and_then_goes_on(
    world: World, tmp_path: Path
) -> None:
    folder = tmp_path / "Maildir"
    deliver_to_maildir(world, folder)
    intake = f"maildir:{folder}"
    with exclusive(world.engine, f"intake:{intake}"):  # another run's batch, as it were
        run = start(*collect_command(world, intake))
        assert run.stderr is not None
        said = run.stderr.readline()  # blocks until the run says it waits (or ends)
        assert "another run is collecting from maildir:" in said, said + run.stderr.read()
        assert records(world) == [], "nothing is read while the other run holds the mailbox"
    _out, err = run.communicate()
    assert run.returncode == 0, err
    assert len(records(world)) == 90


def test_a_collect_killed_while_holding_the_mailbox_lets_go(world: World) -> None:
    """A holder killed with ``kill -9`` leaves no lock behind (the kernel drops its flock, the
    server its advisory lock with the connection): the next run does not wait forever."""
    url = world.engine.url.render_as_string(hide_password=False)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, url, "intake:somewhere"], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "held\n"
    holder.send_signal(signal.SIGKILL)
    assert holder.wait() == -signal.SIGKILL
    with exclusive(world.engine, "intake:somewhere"):
        pass  # would wait forever if the lock outlived its holder


HOLD = """
import sys
from duban.ledger.db import make_engine
from duban.ledger.locks import exclusive
with exclusive(make_engine(sys.argv[1]), sys.argv[2]):
    print("held", flush=True)
    __import__("threading").Event().wait()  # until killed
"""


SPY = """
import os, sys
import duban.implement.commands as commands
from duban.cli.app import main

real = commands.later

def later(work):
    def traced():
        print(f"answers sent by {os.getpid()}", file=sys.stderr, flush=True)
        return work()
    return real(traced)

commands.later = later
print(f"command {os.getpid()}", file=sys.stderr, flush=True)
sys.argv[0] = "duban"
main()
"""


def test_one_collect_sends_each_batchs_answers_from_a_forked_process(
    world: World, tmp_path: Path
) -> None:
    """``duban collect`` sends a batch's answers from a forked process while it reads the next
    (``implement.commands``): 90 replies in batches of 15, six batches answered elsewhere than
    in the command, each reply answered once."""
    folder = tmp_path / "Maildir"
    deliver_to_maildir(world, folder)
    command, env = collect_command(world, f"maildir:{folder}")
    run = subprocess.run(
        [sys.executable, "-c", SPY, *command[3:]], env=env, capture_output=True, text=True,
        check=False, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    [own] = [line.split()[1] for line in lines if line.startswith("command ")]
    senders = [line.split()[-1] for line in lines if line.startswith("answers sent by ")]
    assert len(senders) == 6, run.stderr
    assert own not in senders
    assert len(set(senders)) == 6  # a process a batch
    assert "90 answers sent" in run.stdout, run.stdout
    assert_each_reply_recorded_and_answered_once(world)


INTERRUPT = """
import mmap, os, signal, sys
from duban.adapters.mail.mailer import SmtpMailer
from duban.cli.app import main

signal.signal(signal.SIGINT, signal.default_int_handler)  # a pytest-xdist worker ignores it
count = mmap.mmap(-1, 8)  # shared with the processes the command forks
real = SmtpMailer.send_wire

def send_wire(self, wire):
    sent = int.from_bytes(count[:8], "little") + 1
    count[:8] = sent.to_bytes(8, "little")
    if sent == int(os.environ["INTERRUPT_AT"]):  # Ctrl-C, before this message goes
        os.killpg(os.getpgrp(), signal.SIGINT)
    return real(self, wire)

SmtpMailer.send_wire = send_wire
sys.argv[0] = "duban"
main()
"""


def test_a_collect_interrupted_while_its_answers_are_sent_elsewhere_loses_none(
    world: World, tmp_path: Path
) -> None:
    """Ctrl-C reaches the command and the process sending its answers at once (the terminal
    signals the whole group), just before the 20th answer, the second batch's fifth, while the
    command reads the third batch: both stop, the claims not sent are given back, and the next
    run records what is left and sends every answer not sent, each reply answered once."""
    folder = tmp_path / "Maildir"
    deliver_to_maildir(world, folder)
    command, env = collect_command(world, f"maildir:{folder}")
    run = subprocess.run(
        [sys.executable, "-c", INTERRUPT, *command[3:]], env={**env, "INTERRUPT_AT": "20"},
        capture_output=True, text=True, check=False, timeout=300, start_new_session=True,
    )  # fmt: skip
    assert run.returncode == 130, run.stdout + run.stderr  # as a shell reports Ctrl-C
    assert "Traceback" not in run.stderr, run.stderr
    assert len(world.answers.messages) == 19
    with session_scope(world.engine) as session:
        statuses = Counter(session.scalars(select(MessageRow.status)).all())
    assert statuses["sending"] == 0, statuses
    again = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr
    assert_each_reply_recorded_and_answered_once(world)


def assert_each_reply_recorded_and_answered_once(world: World) -> None:
    all_records = records(world)
    assert len(all_records) == 90
    assert len({r.source_ref for r, _ in all_records}) == 90
    with session_scope(world.engine) as session:
        answers = session.scalars(
            select(MessageRow).where(MessageRow.kind.in_(["ack", "rejection"]))
        ).all()
        keys = {row.idempotency_key for row in answers}
        statuses = Counter(row.status for row in answers)
    assert statuses == {"sent": len(keys)}
    answered = answers_by_key(world)
    assert set(answered) == keys
    twice = {key: n for key, n in answered.items() if n != 1}
    assert not twice, f"answered more than once: {twice}"
    assert len(keys) == 90, "every reply gets its answer"
