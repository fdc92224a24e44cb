"""Work done in a forked process while this one goes on (``adapters.forked``): what it returns
or raises comes back as it was; a child that dies says so; nothing is forked beside another
thread.

A pytest worker runs other threads, so the forking cases run in a child of their own with one
thread (as ``test_ahead`` does)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import Any

import pytest

from duban.adapters.forked import can_fork, later
from duban.errors import DubanError

from .conftest import ROOT

CHILD = r"""
import json, os, signal, sys
from duban.adapters.forked import ForkedWorkError, later
from duban.adapters.mail.errors import MailConnectionError

parent = os.getpid()
seen = {}
job = later(lambda: (os.getpid(), os.getppid()))
seen["forked"] = job.forked
pid, ppid = job.result()
seen["elsewhere"] = pid != parent and ppid == parent

def fails():
    raise MailConnectionError("the SMTP server closed the connection", hint="run it again",
                              zh="邮件服务器断开了连接")

try:
    later(fails).result()
except MailConnectionError as error:
    seen["raised"] = [type(error).__name__, error.message, error.hint, error.zh]

class Odd(Exception):
    def __init__(self, a, b):
        super().__init__(f"{a}/{b}")

def odd():
    raise Odd(1, 2)

try:
    later(odd).result()
except ForkedWorkError as error:
    seen["unpicklable"] = error.message

try:
    later(lambda: os.kill(os.getpid(), signal.SIGKILL)).result()
except ForkedWorkError as error:
    seen["killed"] = error.message

big = later(lambda: b"x" * (1 << 20)).result()
seen["big"] = len(big)
print(json.dumps(seen))
"""


def run_child() -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_work_forked_comes_back_as_it_was_returned_or_raised() -> None:
    seen = run_child()
    assert seen["forked"] is True
    assert seen["elsewhere"] is True
    assert seen["raised"] == [
        "MailConnectionError",
        "the SMTP server closed the connection",
        "run it again",
        "邮件服务器断开了连接",
    ]
    assert seen["unpicklable"] == "Odd: 1/2"
    assert seen["killed"] == "the forked process ended without an answer (killed by SIGKILL)"
    assert seen["big"] == 1 << 20


def test_beside_another_thread_the_work_is_done_here_at_once() -> None:
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not can_fork()
        here: list[int] = []

        def work() -> int:
            here.append(1)
            return 7

        job = later(work)
        assert not job.forked
        assert here == [1]  # done before later() returned
        assert job.result() == 7

        def fails() -> None:
            raise DubanError("bad", hint="fix it")

        failing = later(fails)
        with pytest.raises(DubanError, match="bad"):
            failing.result()
    finally:
        release.set()
        other.join()
