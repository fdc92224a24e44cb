"""The command line in the campaign's language, and every mistake ended the same way (issue 13).

Every command is run with a wrong argument and with a wrong setting: one ``error:`` line, a
``→`` hint, exit 1 (2 for usage), never a traceback — in Chinese for the (Chinese) example
campaign, in English under ``DUBAN_LANG=en``. Tables fit 80 columns in both.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from rich.cells import cell_len
from typer.testing import CliRunner

from duban.cli.app import app
from duban.cli.language import interface_language, named_commands, normalise
from duban.cli.words import COMMANDS_ZH, option_zh
from duban.testing.helpers import copy_campaign, edit_campaign

from .conftest import EXAMPLE

runner = CliRunner()
CAMPAIGN = str(EXAMPLE)
CJK = re.compile(r"[\u4e00-\u9fff]")


def chinese_env(tmp_path: Path, **extra: str) -> dict[str, str | None]:
    """The environment of a coordinator who never set DUBAN_LANG."""
    return {"DUBAN_LANG": None, "DUBAN_HOME": str(tmp_path), "DUBAN_SECRET": "s" * 20,
            "DUBAN_NOW": "2026-03-10", "COLUMNS": "80", **extra}  # fmt: skip


@pytest.fixture
def home(tmp_path: Path) -> Path:
    env = chinese_env(tmp_path)
    assert runner.invoke(app, ["init", CAMPAIGN], env=env).exit_code == 0
    return tmp_path


WRONG_ARGUMENT = {
    "validate": (["validate", "nosuch.yaml"], 1),
    "init": (["init", "nosuch.yaml"], 1),
    "status": (["status", "--deliverable", "nosuch"], 1),
    "mobilize": (["mobilize", CAMPAIGN, "--deliverable", "nosuch", "--dry-run"], 1),
    "approve": (["approve", CAMPAIGN, "--deliverable", "nosuch"], 1),
    "collect": (["collect", CAMPAIGN, "--batch-size", "many"], 2),
    "review": (["review", CAMPAIGN, "--open", "X12"], 1),
    "chase": (["chase", CAMPAIGN, "--deliverable", "nosuch", "--dry-run"], 1),
    "remind": (["remind", CAMPAIGN, "--deliverable", "nosuch"], 1),
    "compile": (["compile", CAMPAIGN, "--deliverable", "nosuch"], 1),
    "outbox": (["outbox", "--limit", "ten"], 2),
    "extend": (["extend", CAMPAIGN, "--deliverable", "plan", "--unit", "T01",
                "--to", "2026-02-30", "--reason", "x"], 1),
    "exempt": (["exempt", CAMPAIGN, "--deliverable", "plan", "--unit", "ZZ", "--reason", "x"], 1),
    "rectify list": (["rectify", "list", CAMPAIGN, "--state", "done"], 1),
    "rectify show": (["rectify", "show", CAMPAIGN, "ZG-ZZ-001"], 1),
    "rectify close": (["rectify", "close", CAMPAIGN, "ZG-B03-001"], 1),
    "rectify return": (["rectify", "return", CAMPAIGN, "ZG-B03-001", "--reason", "x"], 1),
    "rectify extend": (["rectify", "extend", CAMPAIGN, "ZG-B03-001", "--to", "2026-02-30",
                        "--reason", "x"], 1),
    "rectify cancel": (["rectify", "cancel", CAMPAIGN, "ZG-B03-001"], 2),
    "rectify import": (["rectify", "import", CAMPAIGN, "nosuch.xlsx"], 1),
    "rectify ledger": (["rectify", "ledger", CAMPAIGN, "--out", "/sys/x.xlsx"], 1),
    "rectify sheet": (["rectify", "sheet", CAMPAIGN, "--unit", "ZZ"], 1),
    "rectify verdicts": (["rectify", "verdicts", CAMPAIGN, "nosuch.xlsx"], 1),
    "inspect commit": (["inspect", "commit", CAMPAIGN, "nosuch"], 1),
    "inspect draw": (["inspect", "draw", CAMPAIGN, "nosuch", "--seed", "1"], 1),
    "inspect approve": (["inspect", "approve", CAMPAIGN, "quarterly"], 1),
    "inspect notify": (["inspect", "notify", CAMPAIGN, "quarterly"], 1),
    "inspect recuse": (["inspect", "recuse", CAMPAIGN, "quarterly", "ZZ", "I01", "--reason", "x"],
                       1),
    "inspect verify": (["inspect", "verify", CAMPAIGN, "quarterly", "--round", "2026-Q9"], 1),
    "inspect status": (["inspect", "status", CAMPAIGN, "nosuch"], 1),
    "inspect publish": (["inspect", "publish", CAMPAIGN, "quarterly", "--count", "x"], 2),
    "inspect report": (["inspect", "report", CAMPAIGN, "quarterly"], 1),
    "evaluate adjustments": (["evaluate", "adjustments", CAMPAIGN, "nosuch.xlsx"], 1),
    "evaluate compute": (["evaluate", "compute", CAMPAIGN, "--closes", "tomorrow"], 1),
    "evaluate appeal": (["evaluate", "appeal", CAMPAIGN, "T01", "--line", "timeliness",
                         "--statement", "x"], 1),
    "evaluate decide": (["evaluate", "decide", CAMPAIGN, "B7", "--reason", "x"], 1),
    "evaluate freeze": (["evaluate", "freeze", CAMPAIGN], 1),
    "evaluate publish": (["evaluate", "publish", CAMPAIGN], 1),
    "evaluate verify": (["evaluate", "verify", CAMPAIGN, "--label", "2025"], 1),
    "evaluate status": (["evaluate", "status", CAMPAIGN, "--labels", "2025"], 2),
    "evaluate ballots": (["evaluate", "ballots", CAMPAIGN, "--source", "nosuch"], 1),
    "board": (["board", "nosuch.yaml"], 1),
    "verify": (["verify", "--campaign", "nosuch"], 1),
    "users add": (["users", "add", "ana", "--role", "chief", "--password-stdin"], 1),
    "users passwd": (["users", "passwd", "nobody", "--password-stdin"], 1),
    "users disable": (["users", "disable", "nobody"], 1),
    "users enable": (["users", "enable", "nobody"], 1),
    "users list": (["users", "list", "extra"], 2),
    "archive write": (["archive", "write", "nosuch.yaml", "--out", "bag"], 1),
    "archive verify": (["archive", "verify", "nosuch-bag"], 1),
}  # fmt: skip


def commands() -> list[str]:
    """Every command as typed, those of a group (``rectify close``) instead of the group."""
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    return [name for name, command in named_commands(group) if not hasattr(command, "commands")]


def test_every_command_has_a_wrong_argument_case() -> None:
    assert sorted(WRONG_ARGUMENT) == sorted(commands())


def assert_one_error(output: str, *, chinese: bool) -> None:
    assert "Traceback" not in output, output
    lines = [line for line in output.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    hints = [line for line in lines if line.strip().startswith("→")]
    assert len(errors) == 1, output
    assert len(hints) == 1, output
    assert lines[0] == errors[0], output
    assert lines[-1] == hints[0], output
    said = errors[0] + hints[0]
    assert bool(CJK.search(said.replace("能力作风", ""))) is chinese, output


@pytest.mark.parametrize("command", sorted(WRONG_ARGUMENT))
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_a_wrong_argument_is_one_error_and_a_hint(home: Path, command: str, language: str) -> None:
    args, code = WRONG_ARGUMENT[command]
    env = chinese_env(home, DUBAN_LANG=language) if language == "en" else chinese_env(home)
    result = runner.invoke(app, args, env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == code, result.output
    assert_one_error(result.output, chinese=language == "zh-CN")


WRONG_OPTION = {
    "archive verify --office-key": ["archive", "verify", "nosuch-bag", "--office-key", "no.asc"],
}
"""An option that names a file, wrong: said before anything else is read."""


@pytest.mark.parametrize("case", sorted(WRONG_OPTION))
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_a_wrong_option_is_one_error_and_a_hint(home: Path, case: str, language: str) -> None:
    env = chinese_env(home, DUBAN_LANG=language) if language == "en" else chinese_env(home)
    result = runner.invoke(app, WRONG_OPTION[case], env=env)
    assert result.exit_code == 1, result.output
    assert_one_error(result.output, chinese=language == "zh-CN")
    assert case.rsplit(" ", 1)[1] in result.output


WRONG_SETTING = {"DUBAN_TIMEZONE": "Mars/Olympus", "DUBAN_DATABASE_URL": "mysql://db/duban"}


def wrong_setting_args(command: str) -> list[str]:
    """The command at its most ordinary: the campaign, the first deliverable where needed."""
    if command == "validate":
        return ["validate", CAMPAIGN]
    if command == "archive verify":
        return ["archive", "verify", "bag"]
    if command in ("status", "outbox", "verify"):
        return [command]
    if command.startswith("rectify "):
        options: dict[str, list[str]] = {
            "list": [],
            "show": [],
            "close": [],
            "return": ["--reason", "x"],
            "cancel": ["--reason", "x"],
            "extend": ["--to", "2026-10-01", "--reason", "x"],
            "import": [],
            "ledger": [],
            "sheet": [],
            "verdicts": [],
        }
        action = command.split()[1]
        code = {"list": [], "ledger": [], "sheet": [], "import": ["problems.xlsx"],
                "verdicts": ["verdicts.xlsx"]}.get(action, ["ZG-B03-001"])  # fmt: skip
        return ["rectify", action, CAMPAIGN, *code, *options[action]]
    if command.startswith("inspect "):
        action = command.split()[1]
        more = {"draw": ["--seed", "1"], "recuse": ["T01", "I01", "--reason", "x"]}
        return ["inspect", action, CAMPAIGN, "quarterly", *more.get(action, [])]
    if command.startswith("evaluate "):
        action = command.split()[1]
        more = {"appeal": ["T01", "--line", "timeliness", "--statement", "x"],
                "adjustments": ["adjustments.xlsx"], "ballots": ["--closes", "2026-12-18"],
                "decide": ["A1", "--reason", "x"]}  # fmt: skip
        return ["evaluate", action, CAMPAIGN, *more.get(action, [])]
    if command == "archive write":
        return ["archive", "write", CAMPAIGN, "--out", "bag"]
    if command.startswith("users "):
        action = command.split()[1]
        who = {"add": ["ana", "--role", "viewer"], "list": []}.get(action, ["ana"])
        return ["users", action, *who]
    needs = {"mobilize", "approve", "remind", "compile", "extend", "exempt"}
    extra = ["--deliverable", "plan"] if command in needs else []
    if command in ("extend", "exempt"):
        extra += ["--unit", "T01", "--reason", "x"] + (
            ["--to", "2026-03-20"] * (command == "extend")
        )
    return [command, CAMPAIGN, *extra]


@pytest.mark.parametrize("command", sorted(WRONG_ARGUMENT))
def test_a_wrong_setting_is_one_error_and_a_hint_in_chinese(home: Path, command: str) -> None:
    if command in ("validate", "archive verify"):  # these read no setting but the language
        env = chinese_env(home, DUBAN_LANG="klingon")
    else:
        env = chinese_env(home, **WRONG_SETTING)
    result = runner.invoke(app, wrong_setting_args(command), env=env)
    assert result.exit_code == 1, result.output
    assert_one_error(result.output, chinese=True)


def test_all_wrong_settings_are_named_at_once(home: Path) -> None:
    env = chinese_env(home, DUBAN_SECRET="abc", **WRONG_SETTING)
    result = runner.invoke(app, ["status"], env=env)
    assert result.exit_code == 1
    for name in ("DUBAN_SECRET", "DUBAN_TIMEZONE", "DUBAN_DATABASE_URL"):
        assert name in result.output, result.output


def test_the_real_command_never_prints_a_traceback(home: Path) -> None:
    """The same through the installed entry point, as a coordinator types it."""
    env = {k: v for k, v in os.environ.items() if k != "DUBAN_LANG"}
    env.update({"DUBAN_HOME": str(home), "DUBAN_SECRET": "abc"})
    result = subprocess.run(
        [sys.executable, "-m", "duban", "mobilize", CAMPAIGN, "--deliverable", "plan"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert_one_error(result.stderr, chinese=True)
    assert "DUBAN_SECRET" in result.stderr


def test_help_speaks_the_campaigns_language(home: Path) -> None:
    chinese = runner.invoke(app, ["mobilize", CAMPAIGN, "--help"], env=chinese_env(home))
    assert "向每个承担单位发送通知" in chinese.output
    assert "用法：" in chinese.output
    assert "选项" in chinese.output
    english = runner.invoke(app, ["mobilize", "--help"], env=chinese_env(home, DUBAN_LANG="en"))
    assert "Send every assigned unit its notice" in english.output
    assert not CJK.search(english.output.replace("一键催办", ""))


def test_every_command_and_option_has_its_chinese() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    named = dict(named_commands(group))
    missing = [name for name in named if name not in COMMANDS_ZH]
    missing += [
        f"{name} {param.name}"
        for name, command in named.items()
        for param in command.params
        if option_zh(name, param.name or "") is None
    ]
    assert missing == []


def test_the_language_comes_from_the_setting_the_campaign_or_the_ledger(tmp_path: Path) -> None:
    english = edit_campaign(
        copy_campaign(EXAMPLE, tmp_path / "en"), lambda data: data.update(language="en")
    )
    assert interface_language([str(english)], "zh_CN.UTF-8") == "zh-CN"
    assert interface_language(["status", str(english)], "") == "en"
    assert interface_language(["validate", CAMPAIGN], "") == "zh-CN"
    assert [normalise(t) for t in ("zh", "en-GB", "fr")] == ["zh-CN", "en", None]
    env = chinese_env(tmp_path / "ledger")
    assert runner.invoke(app, ["init", str(english)], env=env).exit_code == 0
    status = runner.invoke(app, ["status"], env=env)
    assert "owed" in status.output
    assert "应报" not in status.output


def test_status_fits_80_columns_numbers_whole(home: Path) -> None:
    for language in ("zh-CN", "en"):
        env = chinese_env(home, DUBAN_LANG=language)
        result = runner.invoke(app, ["status", "--units", "--by-tag"], env=env)
        assert result.exit_code == 0, result.output
        widest = max(cell_len(line.rstrip()) for line in result.output.splitlines())
        assert widest <= 80, result.output
        assert re.search(r"^plan\s+once\s+30\s+0\s+0\s+0\s+30\s", result.output, re.M)
        heading = "应报" if language == "zh-CN" else "owed"
        assert heading in result.output
        assert ("逾期未报" in result.output) is (language == "zh-CN")


@pytest.mark.parametrize("terminal", [True, False])
def test_progress_shows_on_a_terminal_only(tmp_path: Path, terminal: bool) -> None:
    """Mobilize over real SMTP through the real command: on a terminal (FORCE_COLOR makes
    rich treat stderr as one) the bar is drawn; in a pipe nothing but the summary."""
    from duban.testing.mailserver import LocalSmtpServer

    env = {k: v for k, v in os.environ.items() if k not in ("DUBAN_LANG", "FORCE_COLOR")}
    env.update(DUBAN_HOME=str(tmp_path), DUBAN_SECRET="s" * 20, DUBAN_NOW="2026-02-10T09:00")
    if terminal:
        env["FORCE_COLOR"] = "1"
    with LocalSmtpServer() as server:
        env["DUBAN_SMTP_URL"] = f"smtp://127.0.0.1:{server.port}"
        for args in (["init", CAMPAIGN], ["mobilize", CAMPAIGN, "--deliverable", "plan"]):
            result = subprocess.run(
                [sys.executable, "-m", "duban", *args],
                capture_output=True, text=True, env=env, check=False,
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
        assert len(server.messages) == 30
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", result.stdout)
    assert "本次发出 30 份" in plain
    assert ("正在发送通知" in result.stderr) is terminal, result.stderr
    if not terminal:
        assert result.stderr == ""


def test_validate_names_roster_problems_in_the_campaigns_language(tmp_path: Path) -> None:
    campaign = copy_campaign(EXAMPLE, tmp_path / "c")
    roster = campaign.parent / "roster.csv"
    lines = roster.read_text(encoding="utf-8-sig").splitlines()
    lines[2] = lines[2].replace("@", "#", 1)
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    chinese = runner.invoke(app, ["validate", str(campaign)], env={"DUBAN_LANG": None})
    assert chinese.exit_code == 1
    assert "roster.csv 第3行“emails”列：" in chinese.output
    assert "不是有效的邮箱地址" in chinese.output
    english = runner.invoke(app, ["validate", str(campaign)], env={"DUBAN_LANG": "en"})
    assert "roster.csv row 3, column emails: not an email address" in english.output
