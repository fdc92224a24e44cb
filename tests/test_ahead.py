"""Messages built ahead in forked workers (``sending.ahead``, issue 20) are the messages this
process would have built, byte for byte; a draft that fails to build fails here with its own
error; a worker that dies leaves the rest to be built here; and nothing is forked where it is
not safe (another thread running) or not worth it.

Forking needs a process with one thread, which a pytest worker is not, so the forking cases
run in a child process (``python -c``) and report what they saw as JSON. The end-to-end proof
is elsewhere: ``duban mobilize`` as a process of its own, with the SMTP server in another,
forks its builders in test_concurrent_sending (two runs at once, each notice once on the wire),
test_crash_sending (killed mid-run) and test_bench_round (every unit's reply to the workbook
it was sent, accepted)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from duban.adapters.mail.mailer import SmtpMailer, Wire
from duban.adapters.mail.message import Address, Attachment, OutgoingMessage
from duban.adapters.mail.smtp_url import parse_smtp_url
from duban.sending.ahead import WORTH_FORKING, Ahead, workers_for
from duban.sending.dispatch import Draft

CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    from datetime import UTC, datetime
    from duban.adapters.mail.mailer import SmtpMailer, Wire, prepare
    from duban.adapters.mail.message import Address, Attachment, OutgoingMessage, build
    from duban.adapters.mail.smtp_url import parse_smtp_url
    from duban.errors import DubanError
    from duban.sending.ahead import Ahead
    from duban.sending.dispatch import Draft

    count, failing, kill_at = json.loads(sys.argv[1])
    parent = os.getpid()
    never, _ = os.pipe()  # nothing is ever written: a worker reading it waits until killed

    def draft(n):
        def compose(message_id):
            if 0 <= kill_at <= n and os.getpid() != parent:
                os.read(never, 1)
            if n == failing:
                raise DubanError(f"the workbook made for 单位{n} failed its check")
            return OutgoingMessage(
                sender=Address("县优化办", "yhb@jt.example"),
                to=(Address(f"单位{n}", f"u{n}@jt.example"),), subject=f"【督办】通知 {n}",
                message_id=message_id, date=datetime(2026, 2, 10, tzinfo=UTC),
                text=f"单位{n}：请按时报送。", html=f"<p>单位{n}</p>",
                attachments=(Attachment(f"实施方案-单位{n}.xlsx", bytes([n % 256]) * 5000),),
            )
        return Draft(f"k:{n}", "notice", "c", n, (f"u{n}@jt.example",), "s", compose)

    drafts = [draft(n) for n in range(count)]
    mailer = SmtpMailer(parse_smtp_url("smtp://127.0.0.1:25"))  # never opened
    ids = [f"<{n}@jt.example>" for n in range(count)]
    seen = []
    with Ahead(drafts, mailer) as ahead:
        for n in range(count):
            if n % 50 == 0:  # as dispatch does: a group's at a time
                ahead.start([(i, ids[i]) for i in range(n, min(n + 50, count))])
            if n == kill_at:  # every worker waits at a draft from here on: kill them
                for pid in list(ahead._pool._processes):
                    os.kill(pid, signal.SIGKILL)
            try:
                built = ahead.take(n, ids[n])
            except DubanError as error:
                seen.append({"n": n, "error": str(error)})
                continue
            wire = built if isinstance(built, Wire) else prepare(built)
            here = prepare(build(drafts[n].compose(ids[n])))
            seen.append({"n": n, "from_worker": isinstance(built, Wire),
                         "same": wire == here, "recipients": list(wire.recipients)})
    print(json.dumps({"seen": seen, "parent": os.getpid(), "forked": ahead._pool is not None}))
    """
)


def _in_child(count: int, failing: int = -1, kill_at: int = -1) -> dict[str, Any]:
    """Run ``CHILD`` in a process of its own (one thread: forking allowed)."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps([count, failing, kill_at])],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_workers_build_the_same_bytes_as_this_process_would() -> None:
    result = _in_child(40)
    assert result["forked"]
    seen = result["seen"]
    assert [s["n"] for s in seen] == list(range(40))
    assert all(s["same"] for s in seen)
    assert all(s["from_worker"] for s in seen)
    assert [s["recipients"] for s in seen] == [[f"u{n}@jt.example"] for n in range(40)]


def test_a_draft_that_fails_in_a_worker_fails_here_with_its_own_error() -> None:
    seen = _in_child(30, failing=7)["seen"]
    assert seen[7] == {"n": 7, "error": "the workbook made for 单位7 failed its check"}
    others = [s for s in seen if s["n"] != 7]
    assert len(others) == 29
    assert all(s["same"] for s in others)


def test_workers_killed_leave_the_rest_to_be_built_here() -> None:
    """The workers build drafts 0–2, then wait at the fourth until killed: the rest of that
    group, and the next groups (no pool to hand them to), are built here."""
    seen = _in_child(120, kill_at=3)["seen"]
    assert [s["n"] for s in seen] == list(range(120))
    assert all(s["same"] for s in seen)
    assert [s["from_worker"] for s in seen] == [True] * 3 + [False] * 117


KILLED = textwrap.dedent(
    """
    import os, signal, sys
    exec(sys.argv[2])  # CHILD's drafts, up to its loop
    with Ahead(drafts, mailer) as ahead:
        ahead.start(list(enumerate(ids)))
        ahead.take(0, ids[0])
        print(" ".join(map(str, ahead._pool._processes)), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_workers_die_with_a_killed_sender() -> None:
    """A sending process killed with its builders at work leaves none behind: they hold its
    output pipes, so ``run`` returning at all shows they are gone (before they died with it,
    a killed ``duban chase`` held its caller's pipes open for ever)."""
    head = CHILD[: CHILD.index("seen = []")]
    done = subprocess.run(
        [sys.executable, "-c", KILLED, json.dumps([60, -1, 5]), head],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == -signal.SIGKILL, done.stderr
    pids = [int(pid) for pid in done.stdout.split()]
    assert len(pids) >= 1
    assert all(_ends(pid) for pid in pids)


def _ends(pid: int) -> bool:
    """Whether ``pid`` is gone or a zombie, waiting for it to finish exiting (a process that
    closed its files may still be running its exit) up to a generous bound."""
    for _ in range(3000):
        try:
            state = Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0]
        except FileNotFoundError:
            return True
        if state in {"Z", "X"}:
            return True
        time.sleep(0.01)
    return False


def _drafts(count: int) -> list[Draft]:
    def compose(message_id: str) -> OutgoingMessage:
        return OutgoingMessage(
            sender=Address("", "yhb@jt.example"), to=(Address("", "u@jt.example"),),
            subject="s", message_id=message_id, date=datetime(2026, 2, 10, tzinfo=UTC),
            text="t", attachments=(Attachment("a.xlsx", b"x"),),
        )  # fmt: skip

    return [Draft(f"k:{n}", "notice", "c", n, ("u@jt.example",), "s", compose)
            for n in range(count)]  # fmt: skip


def test_nothing_is_forked_beside_another_thread_for_another_mailer_or_a_few_drafts() -> None:
    smtp = SmtpMailer(parse_smtp_url("smtp://127.0.0.1:25"))
    many, few = _drafts(WORTH_FORKING), _drafts(WORTH_FORKING - 1)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert workers_for(many, smtp) == 0  # another thread: a fork could inherit its locks
    finally:
        stop.set()
        other.join()
    assert workers_for(few, smtp) == 0
    assert workers_for(many, object()) == 0  # type: ignore[arg-type]


def test_built_here_when_nothing_is_forked() -> None:
    """Beside another thread ``Ahead`` builds each message itself, as dispatch did."""
    drafts = _drafts(WORTH_FORKING + 5)
    smtp = SmtpMailer(parse_smtp_url("smtp://127.0.0.1:25"))
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        with Ahead(drafts, smtp) as ahead:
            ahead.start([(n, f"<{n}@jt.example>") for n in range(len(drafts))])
            built = [ahead.take(n, f"<{n}@jt.example>") for n in range(len(drafts))]
    finally:
        stop.set()
        other.join()
    assert not any(isinstance(b, Wire) for b in built)
    ids = [b["Message-ID"] for b in built if not isinstance(b, Wire)]
    assert ids == [f"<{n}@jt.example>" for n in range(len(drafts))]
