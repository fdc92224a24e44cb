"""The bulletin (通报) of one deliverable period: an e-mail (HTML and text) and a .docx to file.

Every figure and every unit named comes from the ``CompileInput``; nothing is typed in. The
sentences come from ``texts.BULLETIN_TEXTS`` and are put in the template context ready-made, so
the e-mail and the printed copy say the same thing; the templates own the layout (and a
coordinator's own templates may use the raw figures and lists instead).

A bulletin is an official document, so figures that contradict the unit lists they summarise
stop it (``InconsistentInputError``) instead of being published.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from jinja2 import Environment

from duban.adapters.render import Rendered, format_moment, render_message
from duban.compile.bulletin_docx import write_docx
from duban.compile.model import CompileInput, Totals, UnitLine
from duban.compile.rectification import RectificationFigures
from duban.compile.texts import (
    BULLETIN_TEXTS,
    KEY_TASK_TEXTS,
    MAKEUP_WHO,
    RECTIFICATION_TEXTS,
    BulletinTexts,
    day_text,
    percent_text,
    period_text,
)
from duban.implement.chain_status import TaskStanding
from duban.model.status import PENDING, State
from duban.selfcheck.rates import Counts

TEMPLATE = "bulletin"

SECTIONS: tuple[tuple[str, frozenset[str]], ...] = (
    ("on_time", frozenset({State.ON_TIME.value})),
    ("late", frozenset({State.LATE.value})),
    ("missing", frozenset({State.OVERDUE.value})),
    ("rejected", frozenset({State.REJECTED.value})),
    ("pending", frozenset(s.value for s in PENDING)),
    ("exempted", frozenset({State.EXEMPTED.value})),
)
"""The unit lists of a bulletin, in the order they are read, and the states in each."""

ALWAYS_SHOWN = frozenset({"on_time", "late", "missing"})
"""Lists shown even when empty ("无"); the others only when some unit is in them."""

BAR_COLOURS = {
    "on_time": "#70AD47",
    "late": "#FFC000",
    "missing": "#C00000",
    "rejected": "#ED7D31",
    "pending": "#5B9BD5",
}


class InconsistentInputError(ValueError):
    """The totals disagree with the unit lines; a bulletin would contradict itself."""


def bulletin_context(
    data: CompileInput, *, makeup_due: str | None = None, number: str | None = None
) -> dict[str, Any]:
    """Everything a bulletin shows, as plain data for Jinja and for the .docx writer.

    ``makeup_due`` is the deadline for late submissions as it should read (e.g. from
    ``render.format_due``) and ``number`` the document number (文号); neither is in the
    ``CompileInput``, so without them the bulletin asks for submissions "as soon as possible"
    and carries only its date.
    """
    _check_totals(data)
    texts = BULLETIN_TEXTS[data.language]
    lists = _unit_lists(data, texts)
    totals = _totals(data.totals)
    return {
        "language": data.language,
        "campaign": {"id": data.campaign_id, "title": data.campaign_title},
        "deliverable": {"id": data.deliverable_id, "title": data.deliverable_title},
        "period": data.period,
        "period_text": None if data.period == "once" else period_text(data.period, data.language),
        "due_text": data.due_text,
        "as_of": data.as_of,
        "zone": data.zone,
        "as_of_text": format_moment(data.as_of, data.zone, data.language),
        "issued_on": day_text(data.as_of.astimezone(data.zone).date(), data.language),
        "number": number,
        "makeup_due": makeup_due,
        "coordinator": {"name": data.coordinator_name},
        "totals": totals,
        **lists,
        "sections": _sections(lists, texts),
        "bars": _bars(data.totals),
        "text": _sentences(data, texts, totals, lists, makeup_due),
        "rectification": None
        if data.rectification is None
        else _rectification(data.rectification, data),
        "key_tasks": None if data.key_tasks is None else _key_tasks(data.key_tasks, data),
    }


def render_bulletin_html(
    data: CompileInput,
    env: Environment,
    *,
    makeup_due: str | None = None,
    number: str | None = None,
) -> Rendered:
    """Subject, plain text and HTML of the e-mailed bulletin (``<language>/bulletin.*``)."""
    context = bulletin_context(data, makeup_due=makeup_due, number=number)
    return render_message(env, data.language, TEMPLATE, context)


def write_bulletin_docx(
    data: CompileInput, path: Path, *, makeup_due: str | None = None, number: str | None = None
) -> None:
    """The printable bulletin (A4, official-document layout) for printing and filing."""
    write_docx(bulletin_context(data, makeup_due=makeup_due, number=number), path)


# ------------------------------------------------------------------------------ the parts


def _check_totals(data: CompileInput) -> None:
    states = Counter(u.state for u in data.units)
    pending = sum(states[s.value] for s in PENDING)
    exempted = states[State.EXEMPTED.value]
    derived = {
        "expected": len(data.units) - exempted,
        "on_time": states[State.ON_TIME.value],
        "late": states[State.LATE.value],
        "missing": states[State.OVERDUE.value],
        "rejected": states[State.REJECTED.value],
        "pending": pending,
        "exempted": exempted,
    }
    wrong = {
        k: (getattr(data.totals, k), v) for k, v in derived.items() if getattr(data.totals, k) != v
    }
    if data.totals.received != data.totals.on_time + data.totals.late:
        wrong["received"] = (data.totals.received, data.totals.on_time + data.totals.late)
    if wrong:
        shown = ", ".join(f"{k} {a} ≠ {b}" for k, (a, b) in sorted(wrong.items()))
        raise InconsistentInputError(f"totals disagree with the unit lines: {shown}")


def _totals(t: Totals) -> dict[str, Any]:
    return {
        "expected": t.expected,
        "received": t.received,
        "on_time": t.on_time,
        "late": t.late,
        "missing": t.missing,
        "rejected": t.rejected,
        "pending": t.pending,
        "exempted": t.exempted,
        "completeness": t.completeness,
        "timeliness": t.timeliness,
        "completeness_text": percent_text(t.completeness),
        "timeliness_text": percent_text(t.timeliness),
    }


def _unit_lists(data: CompileInput, texts: BulletinTexts) -> dict[str, list[dict[str, Any]]]:
    ordered = sorted(data.units, key=lambda u: u.unit_id)
    return {
        key: [_unit(u, data, texts) for u in ordered if u.state in states]
        for key, states in SECTIONS
    }


def _unit(unit: UnitLine, data: CompileInput, texts: BulletinTexts) -> dict[str, Any]:
    days = unit.late_working_days if unit.state == State.LATE.value else None
    received = unit.first_valid_at
    note = ""
    if days:
        note = (texts.late_note_one if days == 1 else texts.late_note).format(days=days)
    return {
        "id": unit.unit_id,
        "name": unit.unit_name,
        "days_late": days,
        "received_text": None
        if received is None
        else format_moment(received, data.zone, data.language),
        "note": note,
        "label": unit.unit_name + note,
    }


def _sections(lists: dict[str, list[dict[str, Any]]], texts: BulletinTexts) -> list[dict[str, Any]]:
    return [
        {
            "key": key,
            "title": texts.headings[key],
            "heading": texts.headings[key] + texts.count.format(n=len(lists[key])),
            "count": len(lists[key]),
            "units": lists[key],
            "line": texts.separator.join(u["label"] for u in lists[key]) or texts.none,
        }
        for key, _ in SECTIONS
        if key in ALWAYS_SHOWN or lists[key]
    ]


def _bars(t: Totals) -> list[dict[str, Any]]:
    """Bars of the e-mail's chart, as a share of expected units (widths in whole per cent so
    every mail client draws them; a non-zero count always gets at least 1%)."""
    counts = {
        "on_time": t.on_time,
        "late": t.late,
        "missing": t.missing,
        "rejected": t.rejected,
        "pending": t.pending,
    }
    bars = []
    for key, count in counts.items():
        if key == "pending" and not count:
            continue
        share = count / t.expected if t.expected else 0.0
        width = min(100, max(1, round(share * 100))) if count else 0
        bars.append(
            {
                "key": key,
                "count": count,
                "width": width,
                "share_text": percent_text(share if t.expected else None),
                "colour": BAR_COLOURS[key],
            }
        )
    return bars


def _sentences(
    data: CompileInput,
    texts: BulletinTexts,
    totals: dict[str, Any],
    lists: dict[str, list[dict[str, Any]]],
    makeup_due: str | None,
) -> dict[str, Any]:
    period = (
        ""
        if data.period == "once"
        else texts.period.format(period=period_text(data.period, data.language))
    )
    title = texts.title.format(deliverable=data.deliverable_title, period=period)
    issued = day_text(data.as_of.astimezone(data.zone).date(), data.language)
    return {
        "title": title,
        "date_line": texts.date_line.format(date=issued),
        "salutation": texts.salutation,
        "intro": _intro(data, texts, totals, period),
        "closing": _closing(data, texts, lists, makeup_due),
        "figures_title": texts.figures_title,
        "figures": list(texts.figures),
        "bar_labels": dict(texts.bar_labels),
    }


def _intro(data: CompileInput, texts: BulletinTexts, totals: dict[str, Any], period: str) -> str:
    def clause(template: str, n: int) -> str:
        return template.format(n=n) if n else ""

    return texts.intro.format(
        campaign=data.campaign_title,
        due=data.due_text,
        deliverable=data.deliverable_title,
        period=period,
        as_of=format_moment(data.as_of, data.zone, data.language),
        expected=totals["expected"],
        received=totals["received"],
        on_time=totals["on_time"],
        late=totals["late"],
        missing=totals["missing"],
        rejected=clause(texts.rejected_clause, totals["rejected"]),
        pending=clause(texts.pending_clause, totals["pending"]),
        exempted=clause(texts.exempted_clause, totals["exempted"]),
        completeness=totals["completeness_text"],
        timeliness=totals["timeliness_text"],
    )


def _closing(
    data: CompileInput,
    texts: BulletinTexts,
    lists: dict[str, list[dict[str, Any]]],
    makeup_due: str | None,
) -> list[str]:
    """The closing paragraphs: who must submit and by when, then the general reminder."""
    missing, rejected = bool(lists["missing"]), bool(lists["rejected"])
    paragraphs = []
    if missing or rejected:
        who = MAKEUP_WHO[data.language][(missing, rejected)]
        if makeup_due:
            paragraphs.append(texts.makeup.format(who=who, due=makeup_due))
        else:
            paragraphs.append(texts.makeup_soon.format(who=who))
    if lists["late"]:
        paragraphs.append(texts.late_advice)
    if not (missing or rejected or lists["late"] or lists["pending"]) and lists["on_time"]:
        paragraphs.append(texts.all_on_time)
    paragraphs.append(texts.closing)
    return paragraphs


def _rectification(figures: RectificationFigures, data: CompileInput) -> dict[str, Any]:
    """A progress report's section on the items: the summary sentence, the table per roster
    tag with its total row, and the units with overdue items named with their count."""
    words = RECTIFICATION_TEXTS[data.language]
    total = figures.total
    late = figures.overdue_units
    named = words.overdue_separator.join(
        words.overdue_unit.format(name=u.unit_name, n=u.counts.overdue) for u in late
    )
    return {
        "heading": words.heading,
        "summary": words.summary.format(
            as_of=format_moment(data.as_of, data.zone, data.language),
            found=total.found,
            closed=total.closed,
            open=total.open,
            overdue=total.overdue,
            closure=percent_text(total.closure_rate),
            on_time=percent_text(total.on_time_rate),
        ),
        "table_title": words.table_title,
        "columns": list(words.columns),
        "rows": [_rate_row(tag, c) for tag, c in figures.tags],
        "total": _rate_row(words.total, total),
        "overdue_units": [
            {"id": u.unit_id, "name": u.unit_name, "overdue": u.counts.overdue} for u in late
        ],
        "overdue_line": words.overdue.format(units=named) if late else words.no_overdue,
    }


def _rate_row(label: str, c: Counts) -> dict[str, Any]:
    """One table row; ``cells`` as printed, in the order of ``RectificationTexts.columns``."""
    cells = [label, str(c.found), str(c.closed), str(c.overdue),
             percent_text(c.closure_rate), percent_text(c.on_time_rate)]  # fmt: skip
    return {"label": label, "counts": c, "cells": cells}


def _key_tasks(tasks: list[TaskStanding], data: CompileInput) -> dict[str, Any]:
    """A chain's section (重点工作推进情况): how many key tasks have a unit late, then one line
    per such task naming its lead and the units late (partners first), with their state."""
    words = KEY_TASK_TEXTS[data.language]
    lines = []
    for task in tasks:
        if not task.late:
            continue
        units = words.separator.join(
            words.unit.format(name=u.name, role=words.roles[u.role],
                              state=words.late_states[u.state.value])
            for u in task.late
        )  # fmt: skip
        lead = task.lead.name if task.lead is not None else "—"
        lines.append(words.line.format(title=task.task.title, lead=lead, units=units))
    n = len(tasks)
    summary = words.summary.format(n=n, k=len(lines)) if lines else words.none_late.format(n=n)
    return {
        "heading": words.heading,
        "summary": summary,
        "lines": lines,
        "tasks": [t.as_dict(data.zone) for t in tasks],
    }
