"""Errors a coordinator can act on.

Every error that may reach a person carries a plain message and, where it helps, a hint that
names the setting or file to fix — in English and, where the raiser gave it, in Chinese, because
the coordinator reads the campaign's language (``said``). The CLI prints these without a
traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def is_chinese(language: str) -> bool:
    """Whether a language tag (zh-CN, zh, en …) asks for the Chinese wording."""
    return language.lower().startswith("zh")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is, what was found, what was expected."""

    where: str
    message: str
    zh: str | None = None
    zh_where: str | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    def said(self, language: str) -> str:
        if is_chinese(language) and self.zh is not None:
            return f"{self.zh_where or self.where}：{self.zh}"
        return str(self)


def some_of(ids: Sequence[str], most: int = 10) -> str:
    """Ids for a problem line: the first ``most``, then how many in all."""
    shown = ", ".join(ids[:most])
    return shown + (f" … ({len(ids)} in all)" if len(ids) > most else "")


class DubanError(Exception):
    """Base of every error duban reports to a person instead of a traceback.

    ``zh`` and ``zh_hint`` are the Chinese wording; without them a Chinese reader gets the
    English one (a test lists the raisers the command line can reach, so gaps are found).
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        zh: str | None = None,
        zh_hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.zh = zh
        self.zh_hint = zh_hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message}\n  → {self.hint}"

    def said(self, language: str) -> tuple[str, str | None]:
        """The message and the hint in ``language``, English where no Chinese was given."""
        if is_chinese(language) and self.zh is not None:
            return self.zh, self.zh_hint if self.zh_hint is not None else self.hint
        return self.message, self.hint

    def details(self, language: str) -> list[str]:
        """Further lines under the message (the problems of a file); none by default."""
        return []


class ProblemsError(DubanError):
    """An error that holds every problem found, not the first, each said on a line of its own."""

    def __init__(
        self, message: str, problems: list[Problem], *, hint: str, zh: str, zh_hint: str
    ) -> None:
        super().__init__(message, hint=hint, zh=zh, zh_hint=zh_hint)
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join([self.message, *(f"  - {p}" for p in self.problems)])

    def details(self, language: str) -> list[str]:
        return [problem.said(language) for problem in self.problems]


class InvalidInputError(ProblemsError):
    """A campaign, roster or form file failed validation; holds every problem, not the first."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(
            f"{source}: {len(problems)} {noun}",
            problems,
            hint="fix them and run `duban validate` again",
            zh=f"{source}：{len(problems)} 处问题",
            zh_hint="改正后再运行 `duban validate`",
        )
        self.source = source


WHAT_ZH = {
    "deliverable": "报送事项",
    "unit": "单位",
    "period": "期次",
    "tag": "标签",
    "campaign": "活动",
    "rectification item": "整改事项",
    "inspection": "督查",
}


class UnknownIdError(DubanError):
    """A deliverable, unit, period or campaign named on the command line does not exist."""

    def __init__(
        self, what: str, given: str, known: list[str], *, where: str = "", zh_where: str = ""
    ) -> None:
        shown = ", ".join(known[:12]) + (f" … ({len(known)} in all)" if len(known) > 12 else "")
        shown_zh = "、".join(known[:12]) + (f" …（共 {len(known)} 个）" if len(known) > 12 else "")
        noun = WHAT_ZH.get(what, what)
        super().__init__(
            f"no {what} {given!r}{where}",
            hint=f"choose one of: {shown}" if known else f"there is no {what} yet",
            zh=f"{zh_where}没有{noun}“{given}”",
            zh_hint=f"可选：{shown_zh}" if known else f"还没有任何{noun}",
        )


class ConfigError(DubanError):
    """A setting is missing or wrong; the hint names the environment variable to fix."""


class CalendarUnknownError(DubanError):
    """A date falls in a year for which no official calendar is known."""
