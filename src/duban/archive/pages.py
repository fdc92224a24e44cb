"""A bulletin as mailed (its ``.html``) in the bag, rendered again with the bag's templates.

The mailed page is rendered from Jinja templates an office may replace (``DUBAN_TEMPLATES``),
so ``duban archive write`` files the templates in effect under ``data/templates/``. The replay
renders the page again from the same context as its ``.docx`` (the figures recomputed for its
moment, its issue number) with those templates, and compares the two pages line by line: a
rendering is deterministic, so any difference is an edit (or templates changed after the page
was sent, which the bag cannot tell apart and says as a difference). A bag written before the
templates were filed has none, and its pages are not replayed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from itertools import zip_longest
from pathlib import Path

from jinja2 import Environment

from duban.adapters.render import default_templates, environment
from duban.errors import Problem

Render = Callable[[Environment], str]
"""What renders one page again, given the environment of the bag's templates."""

FOLDER = "templates"
"""Under ``data/``: the templates the outputs were rendered with."""
MOST = 10
"""Differing lines named per page; past it, how many more."""


def file_templates(templates: Path | None, target: Path) -> int:
    """Copy the templates in effect (``templates``, else duban's own) to ``target``; the
    board's pages are not outputs and stay out. How many files were filed."""
    source = templates or default_templates()
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("board", "__pycache__"))
    return sum(1 for p in target.rglob("*") if p.is_file())


def bag_templates(bag: Path) -> Path | None:
    folder = bag / "data" / FOLDER
    return folder if folder.is_dir() else None


def check_page(path: Path, relative: str, templates: Path, render: Render) -> list[Problem]:
    """Each line of the bag's page that differs from the page rendered again."""
    again = render(environment(templates))
    have = path.read_text(encoding="utf-8", errors="replace").splitlines()
    found: list[Problem] = []
    more = 0
    for number, (kept, wanted) in enumerate(zip_longest(have, again.splitlines()), start=1):
        if kept == wanted:
            continue
        if len(found) == MOST:
            more += 1
            continue
        found.append(Problem(f"{relative} line {number}", f"reads {kept!r}, rendered {wanted!r}",
                             f"为 {kept!r}，重新生成为 {wanted!r}",
                             f"{relative} 第 {number} 行"))  # fmt: skip
    if more:
        found.append(Problem(relative, f"and {more} more lines differ", f"另有 {more} 行不同"))
    return found
