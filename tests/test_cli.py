"""The CLI contract: what a coordinator types and what comes back."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from duban.cli.app import app

from .conftest import EXAMPLE, ROOT

runner = CliRunner()


def duban(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command in a child process, as a coordinator would."""
    return subprocess.run(
        [sys.executable, "-m", "duban", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


LOADED = """
import sys
from duban.cli.app import app
app(sys.argv[1:], standalone_mode=False)
print(sorted({m.split(".")[2] for m in sys.modules if m.startswith("duban.cli.")}))
"""


@pytest.mark.parametrize("language", ["en", "zh-CN"])
@pytest.mark.parametrize(
    ("args", "groups"),
    [(["validate", str(EXAMPLE)], []), (["archive", "verify", "--help"], ["archive"]),
     (["users", "list", "--help"], ["users"])],
)  # fmt: skip
def test_a_command_imports_only_the_command_group_it_names(
    args: list[str], groups: list[str], language: str
):
    """The command groups load when named (cli.group.LazyCommands): ``duban validate`` does
    not import the archive's replay or the board's password hashing, in either language (the
    Chinese help of a group is written as it loads). In a child process, as the conftest
    imports every group for the tests in this one."""
    env = {**os.environ, "DUBAN_LANG": language}
    result = subprocess.run([sys.executable, "-c", LOADED, *args], capture_output=True,
                            text=True, check=False, env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1].replace("'", '"'))
    lazy = {"rectify", "inspect", "evaluate", "users", "archive"}
    assert sorted(lazy & set(loaded)) == groups
    if groups and language == "zh-CN":  # the named group's help, loaded late, is in Chinese
        assert "用法" in result.stdout
        assert ("核验" if groups == ["archive"] else "账号") in result.stdout


def test_validate_the_example_exits_0() -> None:
    result = duban("validate", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert "is valid: 30 units" in result.stdout


def test_validate_a_broken_copy_exits_1_naming_the_field(example_copy: Path) -> None:
    text = example_copy.read_text(encoding="utf-8").replace("2026-03-05}", "2026-13-05}")
    example_copy.write_text(text, encoding="utf-8")
    result = duban("validate", str(example_copy))
    assert result.returncode == 1
    assert "deliverables[0].due.date: expected a date like 2026-03-05, found '2026-13-05'" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr + result.stdout


def test_validate_a_broken_email_exits_1_naming_row_and_column(example_copy: Path) -> None:
    roster = example_copy.parent / "roster.csv"
    roster.write_text(roster.read_text(encoding="utf-8").replace("sifa@jt", "sifa@@jt"), "utf-8")
    result = duban("validate", str(example_copy))
    assert result.returncode == 1
    assert "roster.csv row 31, column emails" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "env",
    [{"DUBAN_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}, {"DUBAN_NOW": "yesterday"}],
    ids=["unreachable-database", "bad-now"],
)
def test_misconfiguration_names_the_setting(env: dict[str, str], tmp_path: Path) -> None:
    result = duban("status", env={"DUBAN_HOME": str(tmp_path), **env})
    assert result.returncode == 1
    assert next(iter(env)) in result.stderr
    assert "Traceback" not in result.stderr


def test_init_then_status_json(ledger_url: str, tmp_path: Path) -> None:
    env = {"DUBAN_DATABASE_URL": ledger_url, "DUBAN_HOME": str(tmp_path)}
    first = runner.invoke(app, ["init", str(EXAMPLE)], env=env)
    again = runner.invoke(app, ["init", str(EXAMPLE)], env=env)
    assert first.exit_code == 0, first.output
    assert "campaign created" in first.output
    assert "nothing changed" in again.output
    result = runner.invoke(app, ["status", "--json", "--as-of", "2026-03-06"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["as_of"] == "2026-03-05T16:00:00+00:00"  # local midnight in Shanghai
    [campaign] = report["campaigns"]
    plan = next(r for r in campaign["deliverables"] if r["deliverable"] == "plan")
    assert (plan["expected"], plan["received"], plan["missing"]) == (30, 0, 30)
    assert plan["completeness"] == 0.0
    q1 = next(r for r in campaign["deliverables"] if r["period"] == "2026-Q1")
    assert (q1["expected"], q1["pending"]) == (5, 5)


def test_status_per_unit(tmp_path: Path) -> None:
    env = {"DUBAN_HOME": str(tmp_path)}
    assert runner.invoke(app, ["init", str(EXAMPLE)], env=env).exit_code == 0
    args = ["status", "--json", "--units", "--deliverable", "plan", "--as-of", "2026-03-05T10:00"]
    result = runner.invoke(app, args, env=env)
    units = json.loads(result.output)["campaigns"][0]["units"]
    assert len(units) == 30
    assert units[0] == {
        "unit": "B01", "name": "市委办公室", "deliverable": "plan", "period": "once",
        "due": "2026-03-05", "state": "due-today",
    }  # fmt: skip


def test_status_table_for_people(tmp_path: Path) -> None:
    env = {"DUBAN_HOME": str(tmp_path), "COLUMNS": "160"}
    runner.invoke(app, ["init", str(EXAMPLE)], env=env)
    result = runner.invoke(app, ["status", "--as-of", "2026-03-06"], env=env)
    assert result.exit_code == 0
    assert "能力作风建设提升年" in result.output
    assert re.search(r"^plan\s+once\s+30\s+0\s", result.output, re.M)


def command_names() -> Iterator[str]:
    """Every command as the command line resolves it (the groups it imports when named
    included): "status", "archive write", …"""
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    context = typer.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if isinstance(command, TyperGroup):
            yield from (f"{name} {inner}" for inner in command.list_commands(context))
        else:
            yield name


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = list(command_names())
    assert {"status", "archive write", "users add", "board"} <= set(commands)
    missing = [name for name in commands if f"`duban {name}" not in readme]
    assert missing == [], f"commands missing from README.md: {missing}"


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```")[1]
    assert "make demo" in first_block
    assert "make test" in first_block


def test_status_by_tag(tmp_path: Path) -> None:
    env = {"DUBAN_HOME": str(tmp_path), "COLUMNS": "160"}
    assert runner.invoke(app, ["init", str(EXAMPLE)], env=env).exit_code == 0
    args = ["status", "--json", "--by-tag", "--deliverable", "plan", "--as-of", "2026-03-06"]
    tags = json.loads(runner.invoke(app, args, env=env).output)["campaigns"][0]["tags"]
    by_tag = {row["tag"]: row for row in tags}
    assert by_tag["镇区"]["expected"] == 10  # nine towns and the development zone
    assert by_tag["窗口单位"]["missing"] == 7
    table = runner.invoke(app, ["status", "--by-tag", "--as-of", "2026-03-06"], env=env)
    assert "per tag" in table.output


def test_outbox_lists_what_was_sent(tmp_path: Path) -> None:
    from duban.testing.mailserver import LocalSmtpServer

    with LocalSmtpServer() as server:
        env = {
            "DUBAN_HOME": str(tmp_path),
            "DUBAN_SECRET": "s" * 20,
            "DUBAN_SMTP_URL": server.url(),
            "DUBAN_NOW": "2026-02-10T09:00",
            "COLUMNS": "200",
        }
        assert runner.invoke(app, ["init", str(EXAMPLE)], env=env).exit_code == 0
        from duban.adapters.mail.mailer import SmtpMailer
        from duban.adapters.mail.smtp_url import parse_smtp_url
        from duban.adapters.render import environment
        from duban.clock import FixedClock
        from duban.ledger.db import make_engine, session_scope
        from duban.mobilize.send import NoticeRequest, plan_notices, send_notices
        from duban.model.loader import load_campaign
        from duban.settings import load_settings

        bundle, clock = (
            load_campaign(EXAMPLE),
            FixedClock(load_settings(home=tmp_path, now="2026-02-10T09:00").clock().now()),
        )
        engine = make_engine(f"sqlite:///{tmp_path / 'duban.sqlite3'}")
        with session_scope(engine) as session, SmtpMailer(parse_smtp_url(server.url())) as mailer:
            plan = plan_notices(session, bundle, NoticeRequest("plan", unit_ids=("T01", "B08")),
                                clock=clock, secret=b"s" * 20, env=environment())  # fmt: skip
            send_notices(session, bundle, plan.instance_ids, mailer=mailer, clock=clock,
                         secret=b"s" * 20, env=environment())  # fmt: skip
    listed = runner.invoke(app, ["outbox", "--json", "--to", "jiaoyu@jt.example"], env=env)
    [row] = json.loads(listed.output)
    assert (row["kind"], row["status"]) == ("notice", "sent")
    assert "市教育局" in row["subject"]
    table = runner.invoke(app, ["outbox"], env=env)
    assert "金城镇" in table.output
    assert "2026-02-10 09:00" in table.output


@pytest.mark.parametrize(
    ("command", "env", "named"),
    [
        (["mobilize", str(EXAMPLE), "--deliverable", "plan"], {}, "DUBAN_SECRET"),
        (["mobilize", str(EXAMPLE), "--deliverable", "plan"],
         {"DUBAN_SECRET": "s" * 20}, "DUBAN_SMTP_URL"),
        (["mobilize", str(EXAMPLE), "--deliverable", "plan"],
         {"DUBAN_SECRET": "s" * 20, "DUBAN_SMTP_URL": "smtp://127.0.0.1:9"}, "DUBAN_SMTP_URL"),
        (["collect", str(EXAMPLE)],
         {"DUBAN_SECRET": "s" * 20, "DUBAN_SMTP_URL": "SMTP", "DUBAN_INTAKE": "imap://u:p@127.0.0.1:9/INBOX"},
         "DUBAN_INTAKE"),
        (["chase", str(EXAMPLE)], {"DUBAN_SECRET": "s" * 20, "DUBAN_SMTP_URL": "SMTP",
                                   "DUBAN_BOTS": "slack+https://x"}, "DUBAN_BOTS"),
    ],
    ids=["no-secret", "no-smtp", "smtp-unreachable", "imap-unreachable", "bad-bots"],
)  # fmt: skip
def test_misconfigured_runs_name_the_setting_before_any_flow(
    command: list[str], env: dict[str, str], named: str, tmp_path: Path
) -> None:
    from duban.testing.mailserver import LocalSmtpServer

    base = {"DUBAN_HOME": str(tmp_path)}
    assert runner.invoke(app, ["init", str(EXAMPLE)], env=base).exit_code == 0
    with LocalSmtpServer() as server:
        env = {k: server.url() if v == "SMTP" else v for k, v in env.items()}
        result = duban(*command, env={**base, **env})
    assert result.returncode == 1
    assert named in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "Beginning flow run" not in result.stderr + result.stdout


def test_status_shows_the_moment_in_the_campaigns_zone_to_the_minute(tmp_path: Path) -> None:
    env = {"DUBAN_HOME": str(tmp_path), "COLUMNS": "200"}
    assert runner.invoke(app, ["init", str(EXAMPLE)], env=env).exit_code == 0
    result = runner.invoke(app, ["status", "--as-of", "2026-03-06T09:30"], env=env)
    assert result.exit_code == 0, result.output
    assert "as of 2026-03-06 09:30" in result.output
    assert "+00:00" not in result.output
