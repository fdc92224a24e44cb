"""Two runs of a sending command at once send each message once (issue 14): two real
``duban mobilize`` processes, and two real ``duban chase`` processes, started together on one
ledger (SQLite and PostgreSQL) over a campaign of 90 units, counted at a real SMTP server on
loopback (and, for the escalation, a real bot server). The clock is DUBAN_NOW throughout.
Two ``duban init`` at once, on a new ledger and on one already migrated, register the campaign
once and both succeed (before: one failed on the migration's tables, or on a duty's key).

Each test checks the three places a message could be doubled: the ledger (one row per
idempotency key, every row 'sent'), the wire (each key and each Message-ID received once) and
the two runs' own summaries (what they say they sent adds up to what was received)."""

from __future__ import annotations

import email
import email.policy
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from bench.mobilize import synthetic_campaign
from duban.adapters.mail.mailer import SmtpMailer
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.adapters.render import environment
from duban.clock import FixedClock
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import EventRow, InstanceRow, MessageRow
from duban.ledger.store import register
from duban.mobilize.send import NoticeRequest, plan_notices, send_notices
from duban.model.loader import load_campaign
from duban.testing.botserver import LocalBotServer
from duban.testing.mailserver import Delivery, LocalSmtpServer

from .rounds import rounds

pytestmark = pytest.mark.stress

SECRET = "a test secret of more than sixteen bytes"
# synthetic_campaign writes this many units and keeps the example's 20 lead units (B01–B20)
SYNTHETIC = 70
UNITS = 90
# The plan is due Thu 5 Mar 2026; its notices go out before, on Tue 10 Feb.
NOTICES_AT = "2026-02-10T09:00:00+08:00"
# The default ladder's overdue notice (to the unit, the head in copy) is due 1 working day
# after, Fri 6 Mar at 09:00: the highest rung due then, so each unit gets exactly that one.
OVERDUE_AT = "2026-03-06T10:00:00+08:00"
# The escalation (to the coordinator and the bots) is due 3 working days after: Tue 10 Mar.
ESCALATION_AT = "2026-03-10T10:00:00+08:00"
# The key tasks' partners owe their first-quarter parts by Wed 18 Mar (5 working days before the
# leads' 25 Mar): on Thu 19 Mar, none in, each lead is sent its copy naming its late partners.
PARTS_LATE_AT = "2026-03-19T10:00:00+08:00"
RUNS = 2


@dataclass
class World:
    """A campaign of 90 units, its ledger (``engine``), its mail server and its bot server."""

    campaign: Path
    engine: Engine
    smtp: LocalSmtpServer
    bots: LocalBotServer
    env: dict[str, str]

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "duban", args[0], str(self.campaign), *args[1:]]


@pytest.fixture
def unregistered(ledger_url: str, tmp_path: Path) -> Iterator[World]:
    """The campaign's files, the servers and an empty ledger (no schema yet)."""
    campaign = synthetic_campaign(tmp_path / "campaign", SYNTHETIC)
    engine = make_engine(ledger_url)
    with LocalSmtpServer() as smtp, LocalBotServer() as bots:
        env = {
            **os.environ,
            "DUBAN_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "DUBAN_HOME": str(tmp_path / "home"),
            "DUBAN_SECRET": SECRET,
            "DUBAN_SMTP_URL": smtp.url(),
            "DUBAN_LANG": "en",
        }
        env.pop("DUBAN_BOTS", None)
        yield World(campaign, engine, smtp, bots, env)
    engine.dispose()


@pytest.fixture
def world(unregistered: World) -> World:
    """``unregistered``, the campaign registered."""
    campaign, engine = unregistered.campaign, unregistered.engine
    migrate(engine)  # what ``duban init`` does, in this process: one start-up less
    bundle = load_campaign(campaign)
    assert len(bundle.units) == UNITS
    with session_scope(engine) as session:
        register(session, bundle, FixedClock(datetime.fromisoformat(NOTICES_AT)))
    return unregistered


def run_together(
    world: World, now: str, count: int, *args: str, bots: bool = False
) -> list[subprocess.CompletedProcess[str]]:
    """``count`` real ``duban`` processes started together (all are started before any is
    waited for) on the same home, ledger and mail server, the clock fixed at ``now``."""
    env = {**world.env, "DUBAN_NOW": now}
    if bots:
        env["DUBAN_BOTS"] = world.bots.url("wecom", "office-group")
    command = world.command(*args)
    runs = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(count)
    ]
    done = []
    for run in runs:
        out, err = run.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(command, run.returncode, out, err))
    for run_done in done:
        assert run_done.returncode == 0, run_done.stdout + run_done.stderr
    return done


def mobilize_here(world: World) -> None:
    """The plan's notices, sent by this process alone (what ``duban mobilize`` does)."""
    clock = FixedClock(datetime.fromisoformat(NOTICES_AT))
    bundle, env = load_campaign(world.campaign), environment()
    with session_scope(world.engine) as session:
        plan = plan_notices(
            session, bundle, NoticeRequest("plan"), clock=clock, secret=SECRET.encode(), env=env
        )
    with session_scope(world.engine) as session, SmtpMailer(parse_smtp_url(world.smtp.url())) as m:
        outcomes = send_notices(
            session, bundle, plan.instance_ids, mailer=m, clock=clock, secret=SECRET.encode(),
            env=env,
        )  # fmt: skip
    assert sum(o.sent_now for o in outcomes) == UNITS == len(world.smtp.messages)


def said(runs: list[subprocess.CompletedProcess[str]], pattern: str) -> int:
    """The sum over the runs of the number each printed in ``pattern``'s group; a run that found
    every rung already claimed by the other says it had nothing left to send (0)."""
    total = 0
    for run in runs:
        found = re.search(pattern, run.stdout)
        if found is None:
            assert "nothing left to send" in run.stdout, run.stdout
            continue
        total += int(found.group(1))
    return total


def header(delivery: Delivery, name: str) -> str:
    message = email.message_from_bytes(delivery.raw, policy=email.policy.default)
    return str(message[name])


def ledger_rows(world: World, *kinds: str) -> list[MessageRow]:
    with session_scope(world.engine) as session:
        rows = session.scalars(select(MessageRow).where(MessageRow.kind.in_(kinds))).all()
        session.expunge_all()
        return list(rows)


def plan_duties(world: World) -> dict[int, str]:
    """The plan's duties, instance id → unit id; and no duty recorded twice."""
    with session_scope(world.engine) as session:
        twice = session.execute(
            select(InstanceRow.deliverable_id, InstanceRow.period, InstanceRow.unit_id)
            .group_by(
                InstanceRow.campaign_id,
                InstanceRow.deliverable_id,
                InstanceRow.period,
                InstanceRow.unit_id,
            )
            .having(func.count() > 1)
        ).all()
        assert not twice, f"duties recorded twice: {twice}"
        rows = session.execute(
            select(InstanceRow.id, InstanceRow.unit_id).where(InstanceRow.deliverable_id == "plan")
        ).all()
    duties = {int(instance_id): str(unit_id) for instance_id, unit_id in rows}
    assert len(duties) == UNITS
    return duties


def assert_sent_once(
    rows: list[MessageRow], deliveries: list[Delivery], expected_keys: set[str]
) -> None:
    """The ledger holds each expected key once, sent; the server received each key once,
    under the Message-ID the ledger recorded for it, and nothing else."""
    assert Counter(row.idempotency_key for row in rows) == Counter(expected_keys)
    assert Counter(row.status for row in rows) == {"sent": len(expected_keys)}
    received = Counter(header(d, "X-Duban-Key") for d in deliveries)
    twice = sorted(key for key, n in received.items() if n != 1)
    assert not twice, f"{len(twice)} received more than once, e.g. {twice[:3]}"
    assert set(received) == expected_keys
    message_ids = Counter(header(d, "Message-ID") for d in deliveries)
    assert set(message_ids.values()) == {1}
    assert set(message_ids) == {row.message_id for row in rows}


@pytest.mark.parametrize("round_", rounds(test=2, stress=10))
def test_two_mobilizes_at_once_send_each_notice_once(world: World, round_: int) -> None:
    runs = run_together(world, NOTICES_AT, RUNS, "mobilize", "--deliverable", "plan")
    duties = plan_duties(world)
    keys = {f"notice:nlzf-2026:plan:once:{unit}": unit for unit in duties.values()}
    rows = ledger_rows(world, "notice")
    assert_sent_once(rows, world.smtp.messages, set(keys))
    assert {row.instance_id for row in rows} == set(duties)
    assert said(runs, r"(\d+) sent now") == UNITS, [r.stdout for r in runs]
    # each unit's notice went to that unit's own addresses
    units = load_campaign(world.campaign).units_by_id
    for delivery in world.smtp.messages:
        unit = units[keys[header(delivery, "X-Duban-Key")]]
        assert set(delivery.rcpt_tos) == set(unit.emails)


@pytest.mark.parametrize("round_", rounds(test=2, stress=10))
def test_two_chases_at_once_send_each_rung_once(world: World, round_: int) -> None:
    mobilize_here(world)
    duties = plan_duties(world)
    notices = len(world.smtp.messages)

    # Fri 6 Mar: nobody has replied, so all 90 units get their overdue notice, once
    runs = run_together(world, OVERDUE_AT, RUNS, "chase")
    chased = world.smtp.messages[notices:]
    # one message a unit and day, keyed so (issue 15), naming the unit's one duty
    keys = {f"chase:nlzf-2026:{unit}:2026-03-06" for unit in duties.values()}
    assert_sent_once(ledger_rows(world, "overdue-notice"), chased, keys)
    assert said(runs, r"overdue-notice (\d+)") == UNITS, [r.stdout for r in runs]
    units = load_campaign(world.campaign).units_by_id
    for delivery in chased:  # to the unit, its head in copy
        unit = units[header(delivery, "X-Duban-Key").split(":")[2]]
        [instance] = header(delivery, "X-Duban-Covers").split()
        assert duties[int(instance.rsplit(":", 1)[1])] == unit.id
        assert set(delivery.rcpt_tos) == {*unit.emails, unit.head_email}

    # Tue 10 Mar: one escalation to the coordinator naming the 90 units, one post to the bot
    runs = run_together(world, ESCALATION_AT, RUNS, "chase", bots=True)
    escalated = world.smtp.messages[notices + UNITS :]
    group = "escalation:nlzf-2026:plan:once:escalation:2026-03-10"
    assert_sent_once(ledger_rows(world, "escalation"), escalated, {group})
    posts = world.bots.requests
    assert [post.status for post in posts] == [200], f"{len(posts)} posts to the bot"
    [bot_row] = ledger_rows(world, "bot")
    assert (bot_row.idempotency_key, bot_row.status) == (f"bot:{group}:1", "sent")
    assert said(runs, r"escalations (\d+)") == 1
    assert said(runs, r"bot posts (\d+)") == 1
    assert len(ledger_rows(world, "overdue-notice", "reminder", "final-notice")) == UNITS


@pytest.mark.parametrize("round_", rounds(test=2, stress=10))
def test_two_chases_at_once_send_each_lead_copy_once(world: World, round_: int) -> None:
    runs = run_together(world, PARTS_LATE_AT, RUNS, "chase")
    leads = {t.lead for t in load_campaign(world.campaign).campaign.key_tasks}
    rows = ledger_rows(world, "lead-copy")
    keys = {row.idempotency_key for row in rows}
    assert {key.split(":")[4] for key in keys} == leads  # lead-copy:campaign:progress:Q:unit:…
    copies = [d for d in world.smtp.messages if header(d, "X-Duban-Key").startswith("lead-copy:")]
    assert_sent_once(rows, copies, keys)
    told = [re.search(r"leads' consolidated\s+copies (\d+)", run.stdout) for run in runs]
    assert sum(int(found.group(1)) for found in told if found) == len(leads), [
        r.stdout for r in runs
    ]


@pytest.mark.parametrize("migrated", [False, True], ids=["new-ledger", "migrated-ledger"])
@pytest.mark.parametrize("round_", rounds(test=2, stress=10))
def test_two_inits_at_once_register_the_campaign_once(
    unregistered: World, migrated: bool, round_: int
) -> None:
    if migrated:  # only the registration races: both runs find the schema at head
        migrate(unregistered.engine)
    runs = run_together(unregistered, NOTICES_AT, RUNS, "init")
    outcomes = sorted(run.stdout.strip().split(": ", 1)[1] for run in runs)
    assert outcomes == [
        f"campaign created; instances added 502, units added {UNITS}",
        "ledger already up to date, nothing changed",
    ]
    plan_duties(unregistered)  # no duty recorded twice, the plan's 90 there
    with session_scope(unregistered.engine) as session:
        events = session.scalars(select(EventRow.kind)).all()
        instances = session.scalar(select(func.count()).select_from(InstanceRow))
    assert events == ["campaign.registered", "campaign.sources_kept"]  # each once
    assert instances == 502  # with the key tasks' 32 partners' parts
