"""A duban command killed with SIGKILL right after the SMTP server accepted its N-th message.

``python -m tests.crashing COMMAND CAMPAIGN N [--deliverable D]`` (from the project's root) runs
``mobilize``, ``collect`` or ``chase`` as ``duban COMMAND`` does: settings from the environment,
one ``Runtime`` (the composition root), the same checks and the same use-case function. Only the
runtime is this module's ``CrashingRuntime``, whose mailer is the real SMTP mailer with one
difference: once the server has accepted the N-th message of the process, it kills the process
with SIGKILL, before ``dispatch`` marks that message's row sent (from a child the command
forked to send, the command and the child). That is the worst moment for
exactly-once sending: the message is out, its claim is still 'sending', nothing is committed
after it and no ``finally`` runs. Nothing in duban knows about it (no switch in production
code); the crash tests (``test_crash_sending.py``) then run the real command again.

Just before it dies the process prints ``children: PID …`` (its child processes, from /proc),
so a test can name any that outlive it.
"""

from __future__ import annotations

import argparse
import mmap
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from duban.adapters.mail.mailer import SendResult, SmtpMailer, Wire
from duban.adapters.mail.smtp_url import SmtpConfig, parse_smtp_url
from duban.cli.app import BAR_BATCH
from duban.cli.common import settings_for
from duban.runtime import Runtime
from duban.settings import Settings

COMMANDS = ("mobilize", "collect", "chase")


class Countdown:
    """The messages the command may still send; the one that reaches zero is its last.

    Counted in memory shared with the processes the command forks (``collect`` sends a batch's
    answers from a forked child while it reads the next), and the kill is the command's: the
    process that made the countdown, then the one that sent (the same one, or its child, which
    would die with it anyway)."""

    def __init__(self, sends: int) -> None:
        if sends < 1:
            raise ValueError("the process must send at least one message")
        self.command = os.getpid()
        self.shared = mmap.mmap(-1, 8)
        self.left = sends

    @property
    def left(self) -> int:
        return int.from_bytes(self.shared[:8], "little", signed=True)

    @left.setter
    def left(self, value: int) -> None:
        self.shared[:8] = value.to_bytes(8, "little", signed=True)

    def sent_one(self) -> None:
        self.left -= 1
        if self.left == 0:
            sys.stdout.write(f"children: {' '.join(map(str, children(self.command)))}\n")
            sys.stdout.flush()
            os.kill(self.command, signal.SIGKILL)
            os.kill(os.getpid(), signal.SIGKILL)


class KillingSmtpMailer(SmtpMailer):
    """The real SMTP mailer, which kills its process once the countdown reaches zero: after
    the server's 250 for the message, before the caller hears of it."""

    def __init__(self, config: SmtpConfig, countdown: Countdown) -> None:
        super().__init__(config)
        self.countdown = countdown

    def send_wire(self, wire: Wire) -> SendResult:
        """Every message goes through here: ``send`` prepares it and calls this, and
        ``dispatch`` calls it for a message its forked builders prepared."""
        result = super().send_wire(wire)
        self.countdown.sent_one()
        return result


class CrashingRuntime(Runtime):
    """A ``Runtime`` whose every mailer counts down on one countdown (a command may open
    several: one to check the settings, one a batch)."""

    def __init__(self, settings: Settings, campaign_file: str | Path, sends: int) -> None:
        super().__init__(settings, campaign_file)
        self.countdown = Countdown(sends)

    @contextmanager
    def mailer(self) -> Iterator[SmtpMailer]:
        with KillingSmtpMailer(parse_smtp_url(self.settings.smtp()), self.countdown) as mailer:
            yield mailer


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, from /proc (empty where there is no /proc)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rpartition(")")[2].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.parent.name))
    return sorted(found)


def run(command: str, campaign: str, sends: int, deliverable: str | None) -> object:
    """What ``duban COMMAND CAMPAIGN [--deliverable D]`` does, on a crashing runtime (without
    the progress bar, which is not drawn outside a terminal anyway)."""
    with CrashingRuntime(settings_for(None), campaign, sends) as rt:
        if command == "mobilize":
            from duban.mobilize import commands as mobilizing
            from duban.mobilize.send import NoticeRequest

            if deliverable is None:
                raise SystemExit("mobilize needs a deliverable")
            rt.check(secret=True, smtp=True)
            request = NoticeRequest(deliverable)
            return mobilizing.mobilize(rt, request, batch_size=BAR_BATCH)
        from duban.implement import commands

        if command == "collect":
            rt.check(secret=True, smtp=True, intake=True)
            return commands.collect(rt)
        if deliverable is not None:
            rt.bundle.campaign.deliverable(deliverable)
        rt.check(secret=True, smtp=True, bots=True)
        return commands.chase(rt, deliverable=deliverable)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.crashing")
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument("campaign")
    parser.add_argument("sends", type=int, help="the message after which the process dies")
    parser.add_argument("--deliverable")
    given = parser.parse_args(argv)
    result = run(given.command, given.campaign, given.sends, given.deliverable)
    # Reached only if the command sent fewer than N messages: the test's N was too high.
    sys.stdout.write(f"finished without reaching message {given.sends}: {result}\n")
    raise SystemExit(3)


if __name__ == "__main__":
    main(sys.argv[1:])
