"""What the registers of people check alike, row by row: the inspectors (检查人员名录) and the
evaluators of a public evaluation (评议人名录).

Both are read like the roster (``tabular``) and name each person by an id and a name, their
own unit by a roster id or name, and their addresses; each register words its own messages
(the codes ``required``, ``id``, ``name``, ``unit`` and ``email`` used here, and the
``duplicate-…`` ones it passes to ``used_twice``). A problem names the file, the row and the
column as labelled in the file, in the reader's language with the Chinese beside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from duban.errors import InvalidInputError, Problem
from duban.model.roster import Unit, is_email, split_list
from duban.model.tabular import Header, Say, read_rows, records

Person = TypeVar("Person")

PERSON_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
NAME_LIMIT = 100
LINE_BREAKS = re.compile("[\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
"""What a mail header refuses: a name with one could not head the message sent to them."""


@dataclass(frozen=True)
class UnitNames:
    """A roster unit by its id or its name, as a coordinator may write either."""

    ids: dict[str, str]

    def __init__(self, roster: Sequence[Unit]) -> None:
        ids = {unit.name: unit.id for unit in roster} | {unit.id: unit.id for unit in roster}
        object.__setattr__(self, "ids", ids)


def read_people(
    path: Path,
    say: Say,
    aliases: Mapping[str, str],
    required: Sequence[str],
    chinese: Mapping[str, str],
    person: Callable[[RegisterRow], Person | None],
) -> tuple[list[tuple[int, Person]], list[Problem]]:
    """Every row below the header made into a person (with its row's number) by ``person``,
    which notes a row's problems on it and returns None for a row refused; and the problems
    of every row. A missing file is refused at once (``not-found``)."""
    if not path.is_file():
        missing = say.problem(lambda _: str(path), lambda s: s("not-found"))
        raise InvalidInputError(str(path), [missing])
    rows = read_rows(path, say)
    problems: list[Problem] = []
    read: list[tuple[int, Person]] = []
    found = records(rows, aliases, required, chinese, say, problems)
    if found is None:
        return read, problems
    header, below = found
    for number, cells in below:
        row = RegisterRow(number, header, cells, say, chinese)
        made = person(row)
        problems.extend(row.problems)
        if made is not None:
            read.append((number, made))
    return read, problems


def used_twice(say: Say, code: str, value: str, numbers: list[int]) -> Problem:
    """A value that must be unique, found on every row of ``numbers`` (message ``code``)."""

    def message(s: Say) -> str:
        return s(code, value=value, times=s.times(len(numbers)))

    return say.problem(lambda s: s.rows(numbers), message)


class RegisterRow:
    """One row of a register being read: its cells, and the problems found in them."""

    def __init__(
        self, number: int, header: Header, cells: list[str], say: Say, chinese: Mapping[str, str]
    ) -> None:
        self.number, self.header, self.cells, self.say = number, header, cells, say
        self.chinese = chinese
        """Each field's Chinese label, for a column the file does not have."""
        self.problems: list[Problem] = []

    def person(self) -> tuple[str, str]:
        """The row's id and name, both required, each checked."""
        identity, name = self.required("id"), self.required("name")
        if identity and not PERSON_ID.match(identity):
            self.refuse("id", "id", identity)
        if name and (len(name) > NAME_LIMIT or LINE_BREAKS.search(name)):
            self.refuse("name", "name", name)
        return identity, name

    def cell(self, key: str) -> str:
        return self.header.cell(self.cells, key)

    def required(self, key: str) -> str:
        value = self.cell(key)
        if not value:
            self.note(key, lambda s: s("required", label=self.label(key, s)))
        return value

    def units(self, units: UnitNames, key: str) -> list[str]:
        """The roster ids of the units the cell names (by id or name), each other refused."""
        found: list[str] = []
        for written in split_list(self.cell(key)):
            unit_id = units.ids.get(written)
            if unit_id is None:
                self.refuse(key, "unit", written)
            else:
                found.append(unit_id)
        return found

    def emails(self, key: str) -> tuple[str, ...]:
        """The addresses of the cell, each not an address refused."""
        found = split_list(self.cell(key))
        for address in found:
            if not is_email(address):
                self.refuse(key, "email", address)
        return found

    def refuse(self, key: str, code: str, value: str, **detail: str) -> None:
        self.note(key, lambda s: s(code, value=value, **detail))

    def note(self, key: str, message: Callable[[Say], str]) -> None:
        where = self.say.problem(lambda s: s.cell(self.number, self.label(key, s)), message)
        self.problems.append(where)

    def label(self, key: str, say: Say) -> str:
        label = self.header.labels.get(key)
        if label is None:
            label = self.chinese[key] if say.language == "zh-CN" else key
        return label
