"""bench/cli.py runs (one round), and ``duban mobilize`` never imports Prefect.

The times themselves are the benchmark's business, never asserted here.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from .conftest import EXAMPLE, ROOT


def test_bench_cli_runs_one_round_and_prints_the_ratio() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "cli.py"), "--rounds", "1"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ratio mobilize / status:" in done.stdout
    assert "target ≤ 1.5×" in done.stdout


# A fresh interpreter (this one may have imported Prefect for other tests): the CLI's init and
# a real mobilize through typer's CliRunner, then which prefect modules were loaded.
IN_PROCESS = textwrap.dedent(
    """
    import os, sys, tempfile
    from pathlib import Path
    from typer.testing import CliRunner
    from duban.testing.mailserver import LocalSmtpServer

    campaign = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp, LocalSmtpServer() as server:
        os.environ.update(
            DUBAN_HOME=str(Path(tmp) / "home"),
            DUBAN_SECRET="a test secret, long enough for HMAC",
            DUBAN_NOW="2026-02-10T09:00",
            DUBAN_SMTP_URL=f"smtp://127.0.0.1:{server.port}",
        )
        from duban.cli.app import app

        runner = CliRunner()
        for args in (["init", campaign], ["mobilize", campaign, "--deliverable", "plan"]):
            result = runner.invoke(app, args)
            assert result.exit_code == 0, result.output
        assert len(server.messages) == 30, len(server.messages)
    print("prefect modules:", sorted(m for m in sys.modules if m.split(".")[0] == "prefect"))
    """
)


def test_cli_mobilize_does_not_import_prefect() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IN_PROCESS, str(EXAMPLE)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "prefect modules: []" in done.stdout, done.stdout
