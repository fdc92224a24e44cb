"""The CLI as a user runs it: ``duban mobilize`` of 30 units beside ``duban status``.

    .venv/bin/python bench/cli.py [--rounds 3]

In a temporary folder: the example campaign (data/example, 30 units) set up with
``duban init``, and an SMTP server on 127.0.0.1 with STARTTLS and AUTH (LocalSmtpServer, in
this process: it idles while the command runs in its own). Then, alternately for each round,
the real command (a child process of .venv/bin/duban) times
``duban mobilize CAMPAIGN --deliverable plan`` on a fresh copy of the ledger, so it really
sends 30 notices (the server must receive 30 more), and ``duban status``. Best of each.
``duban status`` is the baseline: a command that starts, opens the ledger and prints.
Target (issue 13): mobilize within 1.5× of status.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from duban.testing.mailserver import (
    LocalSmtpServer,
    make_self_signed_certificate,
    server_tls_context,
)

ROOT = Path(__file__).resolve().parents[1]
DUBAN = ROOT / ".venv" / "bin" / "duban"
USER, PASSWORD = "youhuaban@jt.example", "bench-password"
UNITS = 30
TARGET = 1.5


def run(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Seconds the command took (fork to exit) and its output; it must exit 0."""
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[1:])} exited {done.returncode}:\n{done.stderr}")
    return elapsed, done.stdout


def fresh_ledger(pristine: Path, ledger: Path) -> None:
    """The ledger as ``duban init`` left it: every notice still to send."""
    for leftover in (ledger.with_name(ledger.name + s) for s in ("-wal", "-shm", "-journal")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(pristine, ledger)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        campaign = folder / "campaign" / "campaign.yaml"
        shutil.copytree(ROOT / "data" / "example", campaign.parent)
        cert, key = make_self_signed_certificate(folder)
        context = server_tls_context(cert, key)
        with LocalSmtpServer(
            starttls_context=context, require_starttls=True, users={USER: PASSWORD}
        ) as server:
            env = {
                **os.environ,
                "DUBAN_HOME": str(folder / "home"),
                "DUBAN_SECRET": "bench secret, long enough for HMAC",
                "DUBAN_NOW": "2026-02-10T09:00",
                "DUBAN_LANG": "zh-CN",  # the office's language, as a coordinator runs it
                "DUBAN_SMTP_URL": f"smtp+starttls://{USER}:{PASSWORD}@127.0.0.1:{server.port}"
                f"?cafile={cert}",
            }
            run([str(DUBAN), "init", str(campaign)], env)
            ledger = folder / "home" / "duban.sqlite3"
            pristine = folder / "pristine.sqlite3"
            shutil.copyfile(ledger, pristine)
            mobilize_times: list[float] = []
            status_times: list[float] = []
            for _ in range(args.rounds):
                fresh_ledger(pristine, ledger)
                before = len(server.messages)
                seconds, output = run(
                    [str(DUBAN), "mobilize", str(campaign), "--deliverable", "plan"], env
                )
                received = len(server.messages) - before
                if received != UNITS or f"本次发出 {UNITS} 份" not in output:
                    raise SystemExit(f"mobilize sent {received} messages, not {UNITS}:\n{output}")
                mobilize_times.append(seconds)
                seconds, output = run([str(DUBAN), "status"], env)
                if "plan" not in output:
                    raise SystemExit(f"status printed no deliverable:\n{output}")
                status_times.append(seconds)
            sessions = server.sessions
    mobilize, status = min(mobilize_times), min(status_times)
    ratio = mobilize / status
    say = print
    say(f"duban mobilize  {mobilize:6.2f} s   ({UNITS} notices sent over STARTTLS+AUTH; "
        f"best of {args.rounds}: {', '.join(f'{t:.2f}' for t in mobilize_times)})")  # fmt: skip
    say(f"duban status    {status:6.2f} s   (best of {args.rounds}: "
        f"{', '.join(f'{t:.2f}' for t in status_times)})")  # fmt: skip
    say(f"server received {UNITS * args.rounds} messages over {sessions} SMTP sessions")
    say(f"ratio mobilize / status: {ratio:.2f}×; target ≤ {TARGET}×: "
        f"{'PASS' if ratio <= TARGET else 'over'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
