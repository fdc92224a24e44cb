"""Two runs of one command at once send each message once (issue 14, item 1): two real
``duban collect`` processes over one Maildir and one ledger, on SQLite and on PostgreSQL, with
90 replies; every reply is recorded once and answered once, counted at a real SMTP server."""

from __future__ import annotations

import mailbox as maildirs
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from duban.ledger.db import session_scope
from duban.ledger.schema import MessageRow

from . import test_review
from .conftest import EXAMPLE
from .test_collect import (
    LATE,
    SECRET,
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


def deliver_to_maildir(world: World, folder: Path) -> int:
    """The units' replies, as the mail system would deliver them into a Maildir."""
    box = maildirs.Maildir(folder, create=True)
    for unit in world.bundle.units:
        for version in range(REPLIES_PER_UNIT):  # each a new version, not a resend
            box.add(world.make_reply(unit.id, [plan_row(version + 1), plan_row(version + 2)]))
    return len(box)


def collect_processes(
    world: World, folder: Path, count: int
) -> list[subprocess.CompletedProcess[str]]:
    """``count`` real ``duban collect`` processes started together on the same home and ledger;
    the clock is DUBAN_NOW, so nothing depends on the wall clock."""
    env = {
        **os.environ,
        "DUBAN_DATABASE_URL": world.engine.url.render_as_string(hide_password=False),
        "DUBAN_HOME": str(world.store.parent),
        "DUBAN_SECRET": SECRET.decode(),
        "DUBAN_SMTP_URL": world.answers.url(),
        "DUBAN_INTAKE": f"maildir:{folder}",
        "DUBAN_NOW": LATE.isoformat(),
        "DUBAN_LANG": "en",
    }
    command = [sys.executable, "-m", "duban", "collect", str(EXAMPLE), "--batch-size", "10"]
    runs = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(count)
    ]
    done = []
    for run in runs:
        out, err = run.communicate()
        done.append(subprocess.CompletedProcess(command, run.returncode, out, err))
    return done


@pytest.mark.parametrize("round_", range(2))
def test_two_collects_at_once_answer_each_reply_once(
    world: World, tmp_path: Path, round_: int
) -> None:
    folder = tmp_path / "Maildir"
    assert deliver_to_maildir(world, folder) == 90
    for run in collect_processes(world, folder, 2):
        assert run.returncode == 0, run.stderr
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
