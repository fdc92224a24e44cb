"""Reader workers die with the process that started them (issue 14, item 5).

A child interpreter opens a ``WorkbookReader`` with the campaign's forms, has both workers read
a real template, then gives one of them a file whose parser never returns (a hostile file, as
far as the worker can tell) and prints the workers' process ids. The test kills the child with
SIGKILL, which no ``finally`` survives, and waits for every worker to be gone: the idle one and
the one still reading.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from duban.adapters.xlsx import sign
from duban.adapters.xlsx.template import MasterTemplate, TemplateContext, build_master
from duban.model.loader import CampaignBundle
from tests.conftest import EXAMPLE

TRIALS = 3
_STARTING = 60.0
_DYING = 10.0
"""Bounds on waiting for an event (the child's report, the workers' deaths), not measures."""

STALL = '''
"""A parser that reads the file, then, once the file "stall" exists beside it, reports its
process id on the FIFO "fifo" and never returns."""
import os
import time
from pathlib import Path

from duban.implement.intake.parse import parse_workbook

HERE = Path(__file__).parent


def parse_or_stall(data, kind, limits):
    parsed = parse_workbook(data, kind, limits)
    if (HERE / "stall").exists():
        with (HERE / "fifo").open("w") as fifo:
            fifo.write(f"{os.getpid()}\\n")
        while True:
            time.sleep(3600)
    return parsed
'''

CHILD = """
import sys
from pathlib import Path

folder = Path(sys.argv[1])
sys.path.insert(0, str(folder))
from stall import parse_or_stall

from duban.implement.intake.prevalidate import FormsByDeliverable
from duban.implement.intake.parse import ParsedWorkbook
from duban.implement.intake.reader import WorkbookReader
from duban.implement.intake.sniff import Kind
from duban.model.loader import load_campaign

campaign = load_campaign(Path(sys.argv[2])).campaign
template = (folder / "template.xlsx").read_bytes()
reader = WorkbookReader(2, parser=parse_or_stall, forms=FormsByDeliverable.of(campaign))
read = reader.read_many([(template, Kind.XLSX)] * 2)  # one each: both workers are up
assert all(isinstance(r, ParsedWorkbook) and r.prevalidated for r in read), read
(folder / "stall").touch()
reading = reader.start([(template, Kind.XLSX)])  # one worker reads it without end
with (folder / "fifo").open() as fifo:
    stalled = int(fifo.readline())
print(stalled, *reader.worker_pids, flush=True)
sys.stdin.read()
"""


def template(bundle: CampaignBundle) -> bytes:
    """The personalised, unfilled workbook unit T01 receives."""
    campaign = bundle.campaign
    context = TemplateContext("zh-CN", campaign.id, campaign.title, "plan", "实施方案", "once",
                              "2026年3月5日", "张三", "office@example.gov.cn")  # fmt: skip
    master = MasterTemplate(build_master(campaign.form("plan"), context))
    return master.personalise("T01", "金城镇", sign(b"0" * 32, master.identity("T01")))


def running(pid: int) -> bool:
    """The process is there and not a zombie (whoever reaps orphans here may not hurry)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        return stat.read_text().rpartition(")")[2].split()[0] != "Z"
    return not stat.parent.parent.is_dir()  # without /proc, os.kill's answer stands


def report(child: subprocess.Popen[str], errors: Path) -> list[int]:
    """The child's line of process ids: the stalled worker's, then every worker's."""
    assert child.stdout is not None
    ready, _, _ = select.select([child.stdout], [], [], _STARTING)
    line = child.stdout.readline() if ready else ""
    assert line, f"the child reported no workers: {errors.read_text()[-2000:]}"
    stalled, *pids = (int(word) for word in line.split())
    assert len(pids) == 2
    assert stalled in pids
    return pids


def trial(folder: Path, workbook: bytes) -> list[int]:
    """Start the child, kill it once its workers are up, and name the workers still running
    after they have had their chance to go."""
    folder.mkdir()
    (folder / "stall.py").write_text(STALL)
    (folder / "template.xlsx").write_bytes(workbook)
    os.mkfifo(folder / "fifo")
    errors = folder / "child.err"
    pids: list[int] = []
    with errors.open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(folder), str(EXAMPLE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        pids = report(child, errors)
        assert all(running(pid) for pid in pids)
        child.send_signal(signal.SIGKILL)
        child.wait()
        deadline = time.monotonic() + _DYING
        while any(running(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        return [pid for pid in pids if running(pid)]
    finally:
        child.kill()
        child.wait()
        for pid in pids:  # a survivor of a failed trial must not outlive the test either
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for pipe in (child.stdin, child.stdout):
            if pipe is not None:
                pipe.close()


def test_workers_die_with_a_killed_intake_process(
    example_bundle: CampaignBundle, tmp_path: Path
) -> None:
    workbook = template(example_bundle)
    survivors = [trial(tmp_path / f"trial-{n}", workbook) for n in range(TRIALS)]
    assert survivors == [[]] * TRIALS
