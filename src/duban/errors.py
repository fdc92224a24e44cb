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


class ConfigError(DubanError):
    """A setting is missing or wrong; the hint names the environment variable to fix."""


class CalendarUnknownError(DubanError):
    """A date falls in a year for which no official calendar is known."""
