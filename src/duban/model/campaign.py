"""The campaign model: what a coordinating office declares in one YAML file.

A campaign has phases (mobilize, implement, self-check, evaluate), key tasks with lead units,
deliverables (what units must send, by when, chased how), roles and scoring rules. The roster
of units is a separate CSV or XLSX file the campaign points at (see ``roster``). Cross-file
checks (a deliverable naming a unit that is not on the roster) live in ``loader``.
"""

from __future__ import annotations

import datetime as dt
from datetime import date, time
from typing import Literal, Self, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import EmailStr, Field, field_validator, model_validator

from duban.errors import UnknownIdError
from duban.model.forms import Column, Form, Identifier, Strict, kind_from_id
from duban.model.forms import WordedValueError as WordedValueError  # the loader imports it here
from duban.model.inspections import Checklist, InspectionSpec
from duban.model.scoring import Scoring

PhaseKind = Literal["mobilize", "implement", "self-check", "evaluate"]
PHASE_KINDS: tuple[PhaseKind, ...] = ("mobilize", "implement", "self-check", "evaluate")
Recurrence = Literal["month", "quarter", "half-year", "year"]
RungKind = Literal["reminder", "final-notice", "overdue-notice", "escalation"]
Recipient = Literal["unit", "head", "supervisor", "coordinator", "bots"]
Language = Literal["zh-CN", "en"]


class DeclaredYearSpec(Strict):
    holidays: list[date] = Field(default_factory=list)
    working_days: list[date] = Field(default_factory=list)


class CalendarSpec(Strict):
    kind: Literal["cn-official", "weekends"] = "cn-official"
    closed: list[date] = Field(default_factory=list, description="extra days off for this campaign")
    working: list[date] = Field(default_factory=list, description="extra working days")
    years: dict[int, DeclaredYearSpec] = Field(
        default_factory=dict, description="official days of years chinese-calendar does not know"
    )


class Phase(Strict):
    id: Identifier
    kind: PhaseKind
    title: str = Field(min_length=1)
    start: date
    end: date

    @model_validator(mode="before")
    @classmethod
    def _kind_from_id(cls, data: object) -> object:
        return kind_from_id(data, PHASE_KINDS)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise WordedValueError(
                f"phase ends ({self.end}) before it starts ({self.start})",
                f"阶段的结束日（{self.end}）早于开始日（{self.start}）",
            )
        return self


class KeyTask(Strict):
    """A key task (重点工作) owned by a lead unit (牵头单位) with partner units (配合单位)."""

    id: Identifier
    title: str = Field(min_length=1)
    lead: str
    partners: list[str] = Field(default_factory=list)


class Assign(Strict):
    """Who must submit: the union of every selector given, minus ``exclude``."""

    all: bool = False
    tags: list[str] = Field(default_factory=list)
    units: list[str] = Field(default_factory=list)
    leads: list[Identifier] | Literal["all"] | None = Field(
        default=None, description="lead units of these key tasks ('all' for every key task)"
    )
    partners_of: list[Identifier] | Literal["all"] | None = Field(
        default=None,
        description="partner units of these key tasks ('all' for every key task); what a "
        "deliverable's partners (牵头汇总) are assigned",
    )
    exclude: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not (self.all or self.tags or self.units or self.leads or self.partners_of):
            raise WordedValueError(
                "say who must submit: all: true, tags: [...], units: [...] or leads",
                "请写明由哪些单位报送：all: true、tags: [...]、units: [...] 或 leads",
            )
        return self


class DueRule(Strict):
    """Either a fixed date, or a recurrence due at an offset after each period ends, or on a
    day of the period's last month (``day: 25``: "by the 25th of the quarter's last month").

    The due day counts whole by default (on time until midnight local time); ``cutoff`` sets an
    earlier time on the due day, such as 17:30.
    """

    date: dt.date | None = None
    every: Recurrence | None = None
    offset_working_days: int | None = Field(default=None, ge=-60, le=60)
    offset_days: int | None = Field(default=None, ge=-120, le=120)
    day: int | None = Field(
        default=None,
        ge=1,
        le=31,
        description="day of the period's last month (its last day when the month is shorter)",
    )
    start: dt.date | None = Field(
        default=None, description="first period starts here; default phase"
    )
    end: dt.date | None = Field(
        default=None, description="last period ends here; default phase end"
    )
    cutoff: dt.time | None = None
    roll: Literal["none", "next-working-day"] = "none"
    before_working_days: int | None = Field(
        default=None,
        ge=1,
        le=30,
        description="due this many working days before the day the rest of the rule gives "
        "(partners' parts, due before the lead's report)",
    )

    @model_validator(mode="after")
    def _one_rule(self) -> Self:
        if (self.date is None) == (self.every is None):
            raise WordedValueError(
                "give either 'date' (a fixed due date) or 'every' (a recurrence)",
                "date（固定截止日）和 every（按周期报送）二者必须且只能写一个",
            )
        given = [o for o in (self.offset_working_days, self.offset_days, self.day) if o is not None]
        if self.date is not None and (given or self.start or self.end):
            raise WordedValueError(
                "a fixed 'date' takes no offset, day, start or end",
                "写了固定截止日 date，就不能再写 offset、day、start 或 end",
            )
        if self.every is not None and len(given) > 1:
            raise WordedValueError(
                "give one of offset_working_days, offset_days or day",
                "offset_working_days、offset_days 和 day 只能写一个",
            )
        return self


class Rung(Strict):
    """One step of the reminder ladder, at a working-day offset from the due day."""

    kind: RungKind
    offset_working_days: int = Field(ge=-30, le=30)
    at: time = time(9, 0)
    to: list[Recipient] = Field(default_factory=lambda: list[Recipient](["unit"]), min_length=1)


DEFAULT_LADDER: tuple[Rung, ...] = (
    Rung(kind="reminder", offset_working_days=-3, to=["unit"]),
    Rung(kind="final-notice", offset_working_days=0, to=["unit"]),
    Rung(kind="overdue-notice", offset_working_days=1, to=["unit", "head"]),
    Rung(kind="escalation", offset_working_days=3, to=["coordinator", "bots"]),
)


class OfficeHours(Strict):
    """When reminders may go out: working days only, between these local times."""

    start: dt.time = dt.time(8, 30)
    end: dt.time = dt.time(18, 0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise WordedValueError(
                "office hours end before they start", "办公时间的结束时间早于开始时间"
            )
        return self


ItemField = Literal[
    "finding", "measure", "category", "cause", "owner", "due", "partners", "long_term"
]
"""The fields of a rectification item (整改台账) a form column may fill."""
ItemSource = Literal["self-check", "inspection", "assigned"]
"""Where a problem was found: by the unit itself (自查), by an inspection (督查发现) or handed
down by the coordinator (交办)."""


class RectificationSpec(Strict):
    """A deliverable whose form lists problems: each valid row becomes a rectification item.

    ``columns`` maps an item field to the form column that fills it (``owner: owner``), so a
    campaign keeps its own column keys and labels. ``finding`` and ``due`` are required (an item
    with no problem or no deadline cannot be tracked to closure); ``sheet`` is needed only when
    the form has more than one. The loader checks every column against the form.
    """

    source: ItemSource = "self-check"
    sheet: str | None = None
    columns: dict[ItemField, Identifier]
    roll: Literal["none", "next-working-day"] = Field(
        default="next-working-day",
        description="a deadline on a day off moves to the next working day (期间届满日顺延)",
    )

    @model_validator(mode="after")
    def _required_fields(self) -> Self:
        missing = [f for f in ("finding", "due") if f not in self.columns]
        if missing:
            raise WordedValueError(
                f"columns must map {' and '.join(missing)} to a form column",
                f"columns 须写明 {'、'.join(missing)} 对应表单的哪一列",
            )
        return self


ProgressField = Literal[
    "code", "finding", "measure", "due", "progress", "state", "completed_on", "evidence"
]
"""What a column of a progress report (整改进展) holds: the item's code, what the ledger says
of it (finding, measure, due: pre-filled and locked), and what the unit reports."""
PROGRESS_LOCKED: tuple[ProgressField, ...] = ("code", "finding", "measure", "due")
"""The pre-filled columns a unit may not change: the ledger keeps them as recorded."""


class ProgressSpec(Strict):
    """A deliverable that reports on the unit's open rectification items (整改进展).

    Each unit's template comes pre-filled with its open items, one row each, the ``code``,
    ``finding``, ``measure`` and ``due`` columns locked; the unit writes its progress, picks
    the state, and for a completed item gives the day and its evidence. ``columns`` maps each
    of these to the form column holding it (``code``, ``state`` and ``evidence`` are needed);
    ``claimed`` is the state column's choice that claims completion (申请销号), any other
    choice reports progress. ``new_items``: a row without a code becomes a new item (it then
    needs its finding and deadline); false answers such a row with a note and records nothing.
    """

    sheet: str | None = None
    columns: dict[ProgressField, Identifier]
    claimed: str = Field(default="已完成", min_length=1)
    new_items: bool = True
    source: ItemSource = "self-check"

    @model_validator(mode="after")
    def _required_fields(self) -> Self:
        needed: list[ProgressField] = ["code", "state", "evidence"]
        if self.new_items:
            needed += ["finding", "due"]
        missing = [f for f in needed if f not in self.columns]
        if missing:
            raise WordedValueError(
                f"columns must map {', '.join(missing)} to a form column"
                + (" (new_items: true needs finding and due)" if self.new_items else ""),
                f"columns 须写明 {'、'.join(missing)} 对应表单的哪一列"
                + ("（new_items: true 时须有 finding 和 due）" if self.new_items else ""),
            )
        return self


class PartnerSpec(Strict):
    """Partners report to the lead first (牵头汇总、配合报送).

    For a deliverable assigned to the leads of key tasks, the partners (配合单位) of those tasks
    each owe their part first: a deliverable of its own, ``<id>-parts``, made by duban with the
    same form and periods, due ``before_working_days`` working days before the lead's. A
    partner's template lists one row per key task it partners, the key task in
    ``task_column`` pre-filled and locked. The lead's template gains a column naming who
    reported each row (``reported_by``), and comes pre-filled with the partners' accepted rows,
    locked, beside its own rows to fill.
    """

    before_working_days: int = Field(ge=1, le=30)
    task_column: Identifier = Field(description="the form's column naming the key task")
    sheet: str | None = Field(default=None, description="the form's sheet (default: its first)")


REPORTED_BY = "reported_by"
"""The key of the column a lead's template gains: who reported the row (报送单位)."""
PARTS_SUFFIX = "-parts"


class Deliverable(Strict):
    id: Identifier
    phase: Identifier
    title: str = Field(min_length=1)
    form: Identifier
    assign: Assign
    due: DueRule
    ladder: list[Rung] | None = Field(default=None, description="default: the campaign's ladder")
    rectification: RectificationSpec | None = Field(
        default=None, description="each row of this deliverable's form becomes an item"
    )
    rectification_progress: ProgressSpec | None = Field(
        default=None, description="units report on their open items, pre-filled in the form"
    )
    partners: PartnerSpec | None = Field(
        default=None, description="the key tasks' partners report their parts to the lead first"
    )
    part_of: Identifier | None = Field(
        default=None,
        description="set by duban on the partners' deliverable it makes: the lead's deliverable",
    )

    @model_validator(mode="after")
    def _lists_or_reports(self) -> Self:
        if self.rectification is not None and self.rectification_progress is not None:
            raise WordedValueError(
                "a deliverable either lists problems (rectification) or reports on the "
                "items (rectification_progress), not both",
                "一个报送事项要么报送问题清单（rectification），要么报送整改进展"
                "（rectification_progress），不能两者都写",
            )
        return self


_Named = TypeVar("_Named", "Deliverable", InspectionSpec)


class Person(Strict):
    name: str = Field(min_length=1)
    email: EmailStr
    phone: str | None = None


class Roles(Strict):
    coordinator: Person
    distribution: list[EmailStr] = Field(default_factory=list)
    inspectors: list[Person] = Field(default_factory=list)


BallotsKept = Literal["leave-out", "encrypt"]


class ArchiveSpec(Strict):
    """What ``duban archive write`` does with the public evaluation's raw ballots.

    A raw ballot names its evaluator beside the marks, so it never goes into the bag in the
    clear: ``leave-out`` (the default) files only the marks, anonymised (the ledger's export);
    ``encrypt`` also files the raw ballots and the messages that carried them, in one OpenPGP
    file encrypted to the office's public key, which only the holder of its secret key can open.
    """

    ballots: BallotsKept = Field(
        default="leave-out",
        description="leave-out: raw ballots stay out of the archive; encrypt: they go in "
        "encrypted to office_key",
    )
    office_key: str | None = Field(
        default=None,
        description="the office's OpenPGP public key (an exported .asc or .gpg file), relative "
        "to this file; required with ballots: encrypt",
    )

    @model_validator(mode="after")
    def _key_to_encrypt_to(self) -> Self:
        if self.ballots == "encrypt" and not self.office_key:
            raise WordedValueError(
                "ballots: encrypt needs office_key: the office's OpenPGP public key file "
                "(e.g. keys/office-public.asc)",
                "ballots: encrypt 须写 office_key：办公室的 OpenPGP 公钥文件"
                "（如 keys/office-public.asc）",
            )
        return self


class Campaign(Strict):
    id: Identifier
    title: str = Field(min_length=1, max_length=200)
    language: Language = "zh-CN"
    timezone: str = "Asia/Shanghai"
    calendar: CalendarSpec = Field(default_factory=CalendarSpec)
    roster: str = Field(min_length=1, description="CSV or XLSX file, relative to this file")
    inspectors: str | None = Field(
        default=None,
        description="the inspector register (检查人员名录), CSV or XLSX, relative to this file",
    )
    evaluators: str | None = Field(
        default=None,
        description="the evaluator register (评议人名录) of the public evaluation, CSV or XLSX, "
        "relative to this file",
    )
    phases: list[Phase] = Field(min_length=1)
    key_tasks: list[KeyTask] = Field(default_factory=list)
    forms: list[Form] = Field(min_length=1)
    deliverables: list[Deliverable] = Field(min_length=1)
    ladder: list[Rung] = Field(default_factory=lambda: list(DEFAULT_LADDER))
    roles: Roles
    scoring: Scoring = Field(default_factory=Scoring)
    checklists: list[Checklist] = Field(default_factory=list)
    inspections: list[InspectionSpec] = Field(default_factory=list)
    approval: bool = Field(
        default=False, description="hold every send until the coordinator approves its preview"
    )
    office_hours: OfficeHours = Field(default_factory=OfficeHours)
    archive: ArchiveSpec = Field(
        default_factory=ArchiveSpec,
        description="what the campaign's archive files of the raw ballots (归档时原始选票的处理)",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise WordedValueError(
                f"unknown time zone {value!r}; use a name like Asia/Shanghai",
                f"不认识的时区“{value}”，请写 Asia/Shanghai 这样的时区名",
            ) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def form(self, form_id: str) -> Form:
        return next(f for f in self.forms if f.id == form_id)

    def phase(self, phase_id: str) -> Phase:
        return next(p for p in self.phases if p.id == phase_id)

    def deliverable(self, deliverable_id: str) -> Deliverable:
        """The deliverable, or ``UnknownIdError`` listing the campaign's (a mistyped id)."""
        return self._named("deliverable", self.deliverables, deliverable_id)

    def inspection(self, inspection_id: str) -> InspectionSpec:
        """The inspection, or ``UnknownIdError`` listing the campaign's (a mistyped id)."""
        return self._named("inspection", self.inspections, inspection_id)

    def _named(self, what: str, items: list[_Named], wanted: str) -> _Named:
        found = next((item for item in items if item.id == wanted), None)
        if found is None:
            known = [item.id for item in items]
            raise UnknownIdError(
                what, wanted, known, where=f" in {self.id}", zh_where=f"活动 {self.id} 中"
            )
        return found

    def checklist(self, checklist_id: str) -> Checklist:
        return next(c for c in self.checklists if c.id == checklist_id)

    @model_validator(mode="after")
    def _partners_report_first(self) -> Self:
        """Each deliverable with ``partners`` gets its partners' deliverable (``<id>-parts``),
        unless this campaign was made from one that has it already."""
        made = {d.part_of for d in self.deliverables if d.part_of is not None}
        for lead in [d for d in self.deliverables if d.partners is not None]:
            if lead.id not in made:
                self.deliverables.append(partners_deliverable(lead, self.language))
        return self

    def parts_of(self, deliverable: Deliverable) -> Deliverable | None:
        """The partners' deliverable of a lead's one, if it has partners."""
        return next((d for d in self.deliverables if d.part_of == deliverable.id), None)

    def form_of(self, deliverable: Deliverable) -> Form:
        """The form a deliverable's templates are made from and read with: its declared form,
        with the lead's ``reported_by`` column when partners report to the lead first."""
        form = self.form(deliverable.form)
        if deliverable.partners is None:
            return form
        return lead_form(form, deliverable.partners, self.language)

    def ladder_of(self, deliverable: Deliverable) -> list[Rung]:
        return deliverable.ladder if deliverable.ladder is not None else self.ladder


def partners_deliverable(lead: Deliverable, language: Language) -> Deliverable:
    """The partners' deliverable duban makes for a lead's deliverable with ``partners``."""
    assert lead.partners is not None
    tasks = lead.assign.leads if lead.assign.leads is not None else "all"
    title = f"{lead.title}（配合单位报送）" if language == "zh-CN" else f"{lead.title} (partners)"
    return Deliverable(
        id=lead.id + PARTS_SUFFIX, phase=lead.phase, title=title, form=lead.form,
        assign=Assign(partners_of=tasks),
        due=lead.due.model_copy(update={"before_working_days":
                                        lead.partners.before_working_days}),
        ladder=lead.ladder, part_of=lead.id,
    )  # fmt: skip


def lead_form(form: Form, spec: PartnerSpec, language: Language) -> Form:
    """The form with a column after the key task's naming who reported each row (报送单位):
    a partner's name on its rows, pre-filled and locked; the lead's own rows left empty."""
    label = "报送单位" if language == "zh-CN" else "Reported by"
    zh_help = "配合单位报送的行由系统预填并锁定；本单位填写的行此栏留空"
    en_help = "partners' rows are pre-filled and locked; leave it empty on your own rows"
    help_ = zh_help if language == "zh-CN" else en_help
    column = Column(key=REPORTED_BY, label=label, width=16, help=help_)
    sheet_name = spec.sheet or form.sheets[0].name
    sheets = []
    for sheet in form.sheets:
        if sheet.name == sheet_name:
            keys = [c.key for c in sheet.columns]
            at = keys.index(spec.task_column) + 1 if spec.task_column in keys else 0
            columns = [*sheet.columns[:at], column, *sheet.columns[at:]]
            sheet = sheet.model_copy(update={"columns": columns})
        sheets.append(sheet)
    return form.model_copy(update={"sheets": sheets})
