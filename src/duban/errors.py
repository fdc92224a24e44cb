"""Errors a coordinator can act on.

Every error that may reach a person carries a plain message and, where it helps, a hint that
names the setting or file to fix. The CLI prints these without a traceback; anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is, what was found, what was expected."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class DubanError(Exception):
    """Base of every error duban reports to a person instead of a traceback."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message}\n  → {self.hint}"


class InvalidInputError(DubanError):
    """A campaign, roster or form file failed validation; holds every problem, not the first."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{source}: {len(problems)} {noun}")
        self.source = source
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join([self.message, *(f"  - {p}" for p in self.problems)])


class UnknownIdError(DubanError):
    """A deliverable, unit, period or campaign named on the command line does not exist."""

    def __init__(self, what: str, given: str, known: list[str], *, where: str = "") -> None:
        shown = ", ".join(known[:12]) + (f" … ({len(known)} in all)" if len(known) > 12 else "")
        super().__init__(
            f"no {what} {given!r}{where}",
            hint=f"choose one of: {shown}" if known else f"there is no {what} yet",
        )


class ConfigError(DubanError):
    """A setting is missing or wrong; the hint names the environment variable to fix."""


class CalendarUnknownError(DubanError):
    """A date falls in a year for which no official calendar is known."""
