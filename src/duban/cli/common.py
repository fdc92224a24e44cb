"""What every command shares: the campaign-file argument, ``--as-of``, the settings it reads,
and the way a ``DubanError`` ends a command. Apart from ``app`` so that command groups
(``rectify``) use the same pieces without importing the app that registers them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer

from duban.cli.group import report
from duban.cli.language import speaking
from duban.errors import DubanError
from duban.settings import Settings, load_settings

P = ParamSpec("P")
R = TypeVar("R")

CampaignFile = Annotated[Path, typer.Argument(help="the campaign YAML file")]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="the moment to act as of (ISO date or time; default: now or DUBAN_NOW)"
    ),
]


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a ``DubanError`` into a readable message in the command's language and exit 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except DubanError as error:
            report(error, speaking())
            raise typer.Exit(1) from None

    return wrapper


def settings_for(as_of: str | None) -> Settings:
    return load_settings(blame={"now": "--as-of"}, now=as_of)
