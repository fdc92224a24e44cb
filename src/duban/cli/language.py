"""Which language the command line speaks, and speaking it: help, click's phrases, our words.

``DUBAN_LANG`` decides; without it, the language of the campaign file the command names; else
that of the campaigns in the ledger when they agree; else Chinese, the office's own. It is
decided before click parses anything, because ``--help`` and a usage error must already be in
that language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from typer.core import TyperGroup

from duban.cli.words import APP_ZH, CLICK_ZH, COMMANDS_ZH, option_zh
from duban.errors import DubanError, is_chinese

DEFAULT = "zh-CN"
current: ContextVar[str] = ContextVar("duban_language", default=DEFAULT)


def speaking() -> str:
    """The language of the command now running."""
    return current.get()


def pick(en: str, zh: str) -> str:
    """One phrase in the language of the command now running."""
    return zh if is_chinese(current.get()) else en


def normalise(tag: str) -> str | None:
    """zh, zh-CN, zh_CN.UTF-8 … → zh-CN; en, en-US … → en; anything else → None."""
    base = tag.strip().split(".")[0].replace("_", "-").lower()
    if base in ("zh", "zh-cn", "zh-hans", "zh-hans-cn", "cn"):
        return "zh-CN"
    if base == "en" or base.startswith("en-"):
        return "en"
    return None


def interface_language(args: Sequence[str], setting: str) -> str:
    """The language of this command line (see the module's docstring for the order);
    ``setting`` is DUBAN_LANG's value, empty when unset."""
    given = setting.strip()
    if given:
        language = normalise(given)
        if language is None:
            raise DubanError(
                f"DUBAN_LANG={given!r} is not a language duban speaks",
                hint="set DUBAN_LANG to zh-CN (中文) or en (English), or leave it unset",
                zh=f"DUBAN_LANG={given!r} 不是 duban 支持的语言",
                zh_hint="把 DUBAN_LANG 设为 zh-CN（中文）或 en（英文），或不设",
            )
        return language
    return _campaign_file_language(args) or _ledger_language() or DEFAULT


def _campaign_file_language(args: Sequence[str]) -> str | None:
    """The ``language:`` of the first campaign YAML named; a broken file says nothing here
    (the command itself reports it, in the default language)."""
    import yaml

    for arg in args:
        path = Path(arg)
        if arg.startswith("-") or path.suffix.lower() not in (".yaml", ".yml"):
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeError, yaml.YAMLError):
            return None
        if isinstance(data, dict):
            return normalise(str(data.get("language") or DEFAULT))
        return None
    return None


def _ledger_language() -> str | None:
    """The language the ledger's campaigns share, if a ledger already exists; never creates
    one (an SQLite file is opened only if it is there) and never fails the command."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from duban.ledger.store import campaign_languages
    from duban.settings import load_settings

    try:
        url = load_settings().ledger_url
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
            return None
        engine = create_engine(url)
        try:
            with Session(engine) as session:
                languages = set(campaign_languages(session).values())
        finally:
            engine.dispose()
    except (DubanError, SQLAlchemyError, ValueError):
        return None
    return normalise(languages.pop()) if len(languages) == 1 else None


@contextmanager
def spoken(group: TyperGroup, language: str) -> Iterator[None]:
    """Run a command line in ``language``: its help texts and click's phrases, then restore
    click's own (tests run many command lines in one process)."""
    token = current.set(language)
    if is_chinese(language):
        _help_in_chinese(group)
    restore = _click_phrases(is_chinese(language))
    try:
        yield
    finally:
        restore()
        current.reset(token)


def _help_in_chinese(group: TyperGroup) -> None:
    """The group's help in Chinese, and that of every command it has loaded; a command group
    it loads later (``cli.group.LazyCommands``) is put in Chinese as it loads."""
    group.help = APP_ZH
    _help_option_in_chinese(group)
    commands = group.commands
    loaded = commands.loaded() if hasattr(commands, "loaded") else commands.items()
    for name, command in loaded:
        in_chinese(name, command)


def in_chinese(name: str, command: Any) -> None:
    """``command``'s help, options and sub-commands' in Chinese (``name`` as typed)."""
    for full, each in [(name, command), *named_commands(command, f"{name} ")]:
        each.help = COMMANDS_ZH.get(full, each.help)
        each.short_help = None
        _help_option_in_chinese(each)
        for param in each.params:
            zh = option_zh(full, param.name or "")
            if zh is not None and hasattr(param, "help"):
                param.help = zh


def named_commands(group: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every command under ``group`` with its name as typed (``rectify close`` for a command
    of a sub-group), the sub-groups themselves included (command groups not loaded yet are
    loaded)."""
    for name, command in getattr(group, "commands", {}).items():
        yield f"{prefix}{name}", command
        yield from named_commands(command, f"{prefix}{name} ")


def _help_option_in_chinese(command: Any) -> None:
    from typer._click.core import Context

    option = command.get_help_option(Context(command))
    if option is not None:
        option.help = option_zh("", "help")


def _chinese_phrase(message: str) -> str:
    return CLICK_ZH.get(message, message)


def _click_phrases(chinese: bool) -> Callable[[], None]:
    """Point typer's own phrases (its panels, "Usage:", the --help option) at the Chinese
    catalog for one command line; return the undo."""
    import typer.core
    import typer.rich_utils as rich_utils
    from typer._click.formatting import HelpFormatter

    saved: list[tuple[Any, str, Any]] = []

    def put(owner: Any, name: str, value: Any) -> None:
        saved.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, value)

    if chinese:
        put(typer.core, "_", _chinese_phrase)
        for name in RICH_TITLES:
            put(rich_utils, name, _chinese_phrase(getattr(rich_utils, name)))
        put(HelpFormatter, "write_usage", _usage_in_chinese(HelpFormatter.write_usage))

    def restore() -> None:
        for owner, name, value in reversed(saved):
            setattr(owner, name, value)

    return restore


def _usage_in_chinese(write_usage: Callable[..., None]) -> Callable[..., None]:
    def wrapper(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        write_usage(self, prog, args, "用法：" if prefix is None else prefix)

    return wrapper


RICH_TITLES = ("ARGUMENTS_PANEL_TITLE", "OPTIONS_PANEL_TITLE", "COMMANDS_PANEL_TITLE",
               "REQUIRED_LONG_STRING", "DEFAULT_STRING")  # fmt: skip
