"""Jinja2 rendering of emails and bulletins, and dates written the way each language writes them.

Templates live in ``templates/<language>/`` at the top of the project; the wheel carries them
as ``duban/templates`` (``DUBAN_TEMPLATES`` overrides the folder). Undefined variables are
errors, so a typo in a template fails a test instead of sending a notice with a blank where the
deadline should be.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from duban.model.campaign import Language
from duban.model.forms import display_title

PACKAGE = Path(__file__).resolve().parents[1]
SOURCE_TEMPLATES = PACKAGE.parents[1] / "templates"
INSTALLED_TEMPLATES = PACKAGE / "templates"
_WEEKDAYS_ZH = "一二三四五六日"


def default_templates() -> Path:
    """The templates inside the installed package, else those of the source checkout."""
    return INSTALLED_TEMPLATES if INSTALLED_TEMPLATES.is_dir() else SOURCE_TEMPLATES


def environment(folder: Path | None = None) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(folder or default_templates())),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["percent"] = lambda rate: "—" if rate is None else f"{rate:.0%}"
    # A campaign file is typed with straight quotes; a Chinese document prints “ ” (GB/T 15834).
    env.filters["zh_title"] = lambda title: display_title(str(title), "zh-CN")
    return env


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render_message(
    env: Environment, language: Language, name: str, context: dict[str, object]
) -> Rendered:
    """Render ``<language>/<name>.subject.txt``, ``.txt`` and ``.html`` with one context."""
    text, html = render_bodies(env, language, name, context)
    return Rendered(render_subject(env, language, name, context), text, html)


def render_subject(
    env: Environment, language: Language, name: str, context: dict[str, object]
) -> str:
    """The subject alone, on one line whatever the template did: what a message's intent
    records long before its body is needed."""
    return " ".join(_render(env, language, name, "subject.txt", context).split())


def render_bodies(
    env: Environment, language: Language, name: str, context: dict[str, object]
) -> tuple[str, str]:
    """The plain text and the HTML body."""
    return (
        _render(env, language, name, "txt", context),
        _render(env, language, name, "html", context),
    )


def _render(
    env: Environment, language: Language, name: str, suffix: str, context: dict[str, object]
) -> str:
    return env.get_template(f"{language}/{name}.{suffix}").render(**context)


def format_due(due_at: datetime, zone: ZoneInfo, language: Language) -> str:
    """The deadline as a person reads it: the due day in local time and the hour it ends."""
    local = due_at.astimezone(zone)
    whole_day = local.time() == time(0, 0)
    day = (local - timedelta(days=1)).date() if whole_day else local.date()
    if language == "zh-CN":
        clock = "24:00" if whole_day else local.strftime("%H:%M")
        return f"{day.year}年{day.month}月{day.day}日（星期{_WEEKDAYS_ZH[day.weekday()]}）{clock}前"
    weekday = day.strftime("%A")
    ends = "the end of the day" if whole_day else local.strftime("%H:%M")
    return f"{weekday} {day.day} {day.strftime('%B %Y')}, by {ends} ({zone.key} time)"


def format_moment(moment: datetime, zone: ZoneInfo, language: Language) -> str:
    local = moment.astimezone(zone)
    if language == "zh-CN":
        return f"{local.year}年{local.month}月{local.day}日 {local.strftime('%H:%M')}"
    return local.strftime("%d %B %Y %H:%M")


def format_day(moment: datetime, zone: ZoneInfo, language: Language) -> str:
    """The local day, as a letter's date line writes it."""
    local = moment.astimezone(zone)
    if language == "zh-CN":
        return f"{local.year}年{local.month}月{local.day}日"
    return f"{local.day} {local.strftime('%B %Y')}"
