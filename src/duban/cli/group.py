"""The ``duban`` command group: it picks the language first, and ends every mistake the same way.

A coordinator's mistake — a wrong option, a missing argument, a wrong id, a wrong setting —
ends in one ``error:`` line (the problems of a file under it), a ``→`` line saying what to do,
and exit code 1 (2 for a usage error, as click has it). Never a traceback: those are for bugs.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from typing import Any, ClassVar

import typer
from rich.console import Console
from rich.markup import escape
from typer import Abort
from typer._click import Command
from typer._click import exceptions as click
from typer.core import TyperGroup

from duban.cli.language import in_chinese, interface_language, pick, speaking, spoken
from duban.cli.words import usage_zh
from duban.errors import DubanError, is_chinese
from duban.settings import language_setting

USAGE = 2


def report(error: DubanError, language: str) -> None:
    """Print a ``DubanError`` for a person: message, its problems, then what to do."""
    message, hint = error.said(language)
    show(message, [*error.details(language)], hint)


def show(message: str, details: list[str], hint: str | None) -> None:
    err = Console(stderr=True, soft_wrap=True, highlight=False)
    err.print(f"[bold red]error:[/] {escape(message)}")
    for line in details:
        err.print(f"  - {escape(line)}")
    if hint:
        err.print(f"  → {escape(hint)}")


def _usage(error: click.UsageError, command: str) -> None:
    message = error.format_message()
    show(
        usage_zh(message) if is_chinese(speaking()) else message,
        [],
        pick(f"run `{command} --help` to see what it takes", f"运行 `{command} --help` 查看用法"),
    )


class LazyCommands(MutableMapping[str, Command]):
    """The group's commands, where a command group named in ``lazy`` ("module:attribute", a
    ``typer.Typer``) is imported the first time it is looked up: ``duban status`` need not
    import the archive's replay or the board's password hashing (about half of the command
    line's start-up). Names and order are known without importing; ``in`` imports nothing."""

    def __init__(self, loaded: Mapping[str, Command], lazy: Mapping[str, str]) -> None:
        self._loaded = dict(loaded)
        self._lazy = {name: spec for name, spec in lazy.items() if name not in self._loaded}

    def __getitem__(self, name: str) -> Command:
        if name in self._lazy:
            group = _import_group(name, self._lazy.pop(name))
            if is_chinese(speaking()):
                in_chinese(name, group)
            self._loaded[name] = group
        return self._loaded[name]

    def loaded(self) -> list[tuple[str, Command]]:
        """The commands loaded so far (those in ``lazy`` only once looked up)."""
        return list(self._loaded.items())

    def __contains__(self, name: object) -> bool:
        return name in self._loaded or name in self._lazy

    def __setitem__(self, name: str, command: Command) -> None:
        self._lazy.pop(name, None)
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if self._lazy.pop(name, None) is None:
            del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        yield from list(self._loaded)
        yield from list(self._lazy)

    def __len__(self) -> int:
        return len(self._loaded) + len(self._lazy)


def _import_group(name: str, spec: str) -> Command:
    module, _, attribute = spec.partition(":")
    group: Command = typer.main.get_group(getattr(importlib.import_module(module), attribute))
    group.name = name
    return group


class DubanGroup(TyperGroup):
    """Typer's group, with the language chosen before parsing and errors ended our way; the
    command groups in ``lazy`` are imported when named (``LazyCommands``)."""

    lazy: ClassVar[dict[str, str]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = LazyCommands(self.commands, self.lazy)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)  # names only: TyperGroup's would import every group

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        try:
            language = interface_language(argv, language_setting())
        except DubanError as error:
            report(error, "en")
            return _end(1, standalone_mode)
        with spoken(self, language):
            code = self._run(argv, prog_name, complete_var, **extra)
        return _end(code, standalone_mode)

    def _run(
        self, argv: list[str], prog_name: str | None, complete_var: str | None, **extra: Any
    ) -> int:
        try:
            result = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except click.NoArgsIsHelpError as error:
            typer.echo(error.ctx.get_help() if error.ctx else "")
            return USAGE
        except click.UsageError as error:
            _usage(error, self._command_of(argv))
            return USAGE
        except click.ClickException as error:
            show(error.format_message(), [], None)
            return error.exit_code
        except Abort:
            show(pick("cancelled", "已取消"), [], None)
            return 1
        return result if isinstance(result, int) else 0

    def _command_of(self, argv: list[str]) -> str:
        """``duban NAME`` for the command the arguments name, else ``duban``."""
        name = next((arg for arg in argv if arg in self.commands), None)
        if name is None:
            return "duban"
        inner = getattr(self.commands[name], "commands", {})
        sub = next((arg for arg in argv[argv.index(name) + 1 :] if arg in inner), None)
        return f"duban {name} {sub}" if sub else f"duban {name}"


def _end(code: int, standalone_mode: bool) -> int:
    if standalone_mode:
        sys.exit(code)
    return code
