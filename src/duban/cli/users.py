"""``duban users``: the board's accounts (add, list, passwd, disable, enable).

Passwords are asked at the terminal twice, hidden, or read from standard input with
``--password-stdin`` (a script's way, so a password never sits in the shell history or in
``ps``). Each command builds one ``Runtime`` and calls one function of ``board.accounts``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from duban.board import accounts
from duban.cli.common import reports_errors, settings_for
from duban.cli.language import pick
from duban.cli.tables import house_table
from duban.errors import DubanError
from duban.runtime import Runtime

users = typer.Typer(
    help="The board's accounts: add, list, passwd, disable, enable.", no_args_is_help=True
)
out = Console()

Name = Annotated[str, typer.Argument(help="the account's user name")]
FromStdin = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from standard input")
]
By = Annotated[str, typer.Option(help="who acts (kept in the audit trail)")]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise DubanError(
                "no password on standard input",
                hint="pipe the password into --password-stdin, or leave it out to be asked",
                zh="标准输入中没有密码",
                zh_hint="用管道把密码交给 --password-stdin，或不加此项以交互输入",
            )
        return line
    return str(typer.prompt(pick("password", "密码"), hide_input=True, confirmation_prompt=True))


@users.command("add")
@reports_errors
def add(
    name: Name,
    role: Annotated[
        str, typer.Option(help="coordinator (everything), inspector, or viewer (read-only)")
    ],
    inspector: Annotated[
        list[str] | None,
        typer.Option(
            "--inspector",
            help="an inspector account's id in the inspector register "
            "(repeat for several): it sees the rounds that id is assigned to",
        ),
    ] = None,
    password_stdin: FromStdin = False,
    by: By = "coordinator",
) -> None:
    """Add a board account with a role."""
    settings = settings_for(None)  # a wrong setting is said before a password is asked
    password = _password(password_stdin)
    with Runtime(settings) as rt, rt.migrated() as session:
        made = accounts.add_user(session, rt.clock, name, password, role, by,
                                 tuple(inspector or ()))  # fmt: skip
    out.print(pick(f"board user {escape(made.name)} added ({made.role.value})",
                   f"已添加看板用户 {escape(made.name)}（{made.role.value}）"))  # fmt: skip


@users.command("passwd")
@reports_errors
def passwd(name: Name, password_stdin: FromStdin = False, by: By = "coordinator") -> None:
    """Set a new password for a board account."""
    settings = settings_for(None)
    password = _password(password_stdin)
    with Runtime(settings) as rt, rt.migrated() as session:
        accounts.set_password(session, rt.clock, name, password, by)
    out.print(pick(f"password of {escape(name)} changed", f"{escape(name)} 的密码已修改"))


@users.command("disable")
@reports_errors
def disable(name: Name, by: By = "coordinator") -> None:
    """Disable a board account: it is signed out at its next page and cannot sign in."""
    _set_active(name, False, by)


@users.command("enable")
@reports_errors
def enable(name: Name, by: By = "coordinator") -> None:
    """Enable a disabled board account again."""
    _set_active(name, True, by)


def _set_active(name: str, active: bool, by: str) -> None:
    with Runtime(settings_for(None)) as rt, rt.migrated() as session:
        changed = accounts.set_active(session, rt.clock, name, active, by)
    state = pick("enabled", "已启用") if active else pick("disabled", "已停用")
    note = "" if changed else pick(" (it already was)", "（原本即是）")
    out.print(f"{escape(name)}: {state}{note}")


@users.command("list")
@reports_errors
def list_command() -> None:
    """List the board accounts with their roles."""
    with Runtime(settings_for(None)) as rt, rt.migrated() as session:
        rows = accounts.list_users(session)
        table = house_table(pick("board users", "看板用户"))
        for header in (pick("name", "用户名"), pick("role", "角色"), pick("state", "状态")):
            table.add_column(header)
        for row in rows:
            state = pick("active", "启用") if row.active else pick("disabled", "停用")
            table.add_row(escape(row.name), row.role, state)
    out.print(table)
