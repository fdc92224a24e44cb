"""Load a campaign file and its roster, and check everything a coordinator could get wrong.

Errors name the file, the line, the field path and what was expected, and all of them are
reported at once: a coordinator fixing a file should not have to run ``validate`` ten times.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from duban.errors import (
    CalendarUnknownError,
    DubanError,
    InvalidInputError,
    Problem,
    UnknownIdError,
)
from duban.model.assignment import InstanceSpec, assigned_units, instances_for
from duban.model.campaign import REPORTED_BY, Campaign, Deliverable, WordedValueError
from duban.model.due import periods_for
from duban.model.evaluators import Evaluator, load_evaluators
from duban.model.forms import Column, Form, Sheet
from duban.model.inspection_checks import check_inspections
from duban.model.inspectors import Inspector, load_inspectors
from duban.model.roster import Unit, load_roster
from duban.model.scoring_checks import check_scoring
from duban.model.workdays import DeclaredYear, WorkCalendar, unknown_year_error


@dataclass(frozen=True)
class CampaignBundle:
    """A campaign with its roster and calendar, checked as a whole."""

    path: Path
    campaign: Campaign
    units: tuple[Unit, ...]
    calendar: WorkCalendar
    inspectors: tuple[Inspector, ...] = ()
    evaluators: tuple[Evaluator, ...] = ()

    @cached_property
    def units_by_id(self) -> dict[str, Unit]:
        return {u.id: u for u in self.units}

    @cached_property
    def units_by_address(self) -> dict[str, Unit]:
        """Each registered address, lower-cased, to the first unit in roster order that
        lists it: what ``Unit.has_address`` answers, without asking every unit (intake asks
        for every message, and a scan of 10,000 units per reply was most of collect's time)."""
        found: dict[str, Unit] = {}
        for unit in self.units:
            for email in unit.emails:
                found.setdefault(email.lower(), unit)
        return found

    def unit_of_address(self, address: str | None) -> Unit | None:
        """The first unit that registered ``address`` (any case, outer spaces ignored)."""
        if not address:
            return None
        return self.units_by_address.get(address.strip().lower())

    def unit(self, unit_id: str) -> Unit:
        """The unit, or ``UnknownIdError`` naming the roster's ids (a mistyped id)."""
        found = self.units_by_id.get(unit_id)
        if found is None:
            known = list(self.units_by_id)
            raise UnknownIdError(
                "unit",
                unit_id,
                known,
                where=f" in the roster of {self.campaign.id}",
                zh_where=f"活动 {self.campaign.id} 的花名册中",
            )
        return found

    def instances(self) -> Iterator[InstanceSpec]:
        return instances_for(self.campaign, self.units, self.calendar)


class CampaignLoader(yaml.SafeLoader):
    """YAML 1.1 minus its surprises: dates stay text for pydantic to check with a clear
    message, and ``17:30`` stays a time instead of becoming the base-60 integer 1050."""


CampaignLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:int")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
CampaignLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?(?:0|[1-9][0-9_]*))$"),
    list("-+0123456789"),
)


class _FastCampaignLoader(getattr(yaml, "CSafeLoader", CampaignLoader)):  # type: ignore[misc]
    """``CampaignLoader`` on libyaml's parser where PyYAML has it (PyPI's wheels do): a campaign
    file with a thousand key tasks took 0.4 s to parse in Python, on every command. Its
    complaints are vaguer (a tab is "a character"), so a file it refuses is parsed again by
    ``CampaignLoader`` for the message."""

    yaml_implicit_resolvers = CampaignLoader.yaml_implicit_resolvers


def load_campaign(path: Path | str) -> CampaignBundle:
    """Read, validate and cross-check a campaign file; ``InvalidInputError`` lists problems."""
    path = Path(path)
    text = _read_text(path)
    data, root = _parse_yaml(path, text)
    campaign = _validate(path, data, root)
    roster_path = (path.parent / campaign.roster).resolve()
    units = _roster(roster_path)
    calendar = calendar_of(campaign)
    problems = [*cross_check(campaign, units, calendar), *_office_key(path, campaign)]
    if problems:
        raise InvalidInputError(str(path), [_with_line(p, root, path.name) for p in problems])
    inspectors = _inspectors(path, campaign, units)
    evaluators = _evaluators(path, campaign, units)
    return CampaignBundle(path.resolve(), campaign, units, calendar, inspectors, evaluators)


def _office_key(path: Path, campaign: Campaign) -> Iterator[Problem]:
    """The office's public key must be where the campaign says; what it holds is checked when
    the archive is written (by GnuPG, which a campaign that never archives need not have)."""
    name = campaign.archive.office_key
    if name and not (path.parent / name).is_file():
        yield Problem("archive.office_key",
                      f"no file {name} (the office's OpenPGP public key, relative to the "
                      "campaign file)",
                      zh=f"找不到文件 {name}"
                      "（办公室的 OpenPGP 公钥，路径相对于活动文件）")  # fmt: skip


def _evaluators(path: Path, campaign: Campaign, units: Sequence[Unit]) -> tuple[Evaluator, ...]:
    """The evaluator register, read only when the campaign names one; its problems in the
    campaign's language, checked against the roster and the scoring's categories."""
    if campaign.evaluators is None:
        return ()
    where = (path.parent / campaign.evaluators).resolve()
    return tuple(load_evaluators(where, units, campaign.scoring, campaign.language))


def _inspectors(path: Path, campaign: Campaign, units: Sequence[Unit]) -> tuple[Inspector, ...]:
    """The inspector register, read only when the campaign names one; its problems in the
    campaign's language; an inspection whose team no register could fill is named."""
    if campaign.inspectors is None:
        return ()
    found = tuple(
        load_inspectors((path.parent / campaign.inspectors).resolve(), units, campaign.language)
    )
    short = [
        Problem(
            f"inspections[{n}].team_size",
            f"teams of {spec.team_size} need at least {spec.team_size} inspectors; "
            f"the register has {len(found)}",
            zh=f"每组 {spec.team_size} 人，检查人员名录至少要有 {spec.team_size} 人，现有 "
            f"{len(found)} 人",
        )
        for n, spec in enumerate(campaign.inspections)
        if spec.team_size > len(found)
    ]
    if short:
        raise InvalidInputError(str(path), short)
    return found


def _roster(path: Path) -> tuple[Unit, ...]:
    """The roster; its problems in both languages (read twice only when there are some)."""
    try:
        return tuple(load_roster(path))
    except InvalidInputError as english:
        try:
            load_roster(path, "zh-CN")
        except InvalidInputError as chinese:
            if len(chinese.problems) == len(english.problems):
                pairs = zip(english.problems, chinese.problems, strict=True)
                both = [replace(e, zh=c.message, zh_where=c.where) for e, c in pairs]
                raise InvalidInputError(english.source, both) from None
        raise


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise InvalidInputError(
            str(path), [Problem(str(path), "campaign file not found", zh="找不到活动文件")]
        )
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        where = f"{path.name} byte {error.start}"
        raise InvalidInputError(
            str(path),
            [
                Problem(
                    where,
                    "not UTF-8 text; save as UTF-8",
                    zh="不是 UTF-8 编码的文本，请另存为 UTF-8 编码",
                )
            ],
        ) from None


def _parse_yaml(path: Path, text: str) -> tuple[Any, yaml.Node | None]:
    try:
        root, data = _compose_and_construct(text, _FastCampaignLoader)
    except yaml.YAMLError as fast_error:
        error = _said_by_python(text) or fast_error
        mark = getattr(error, "problem_mark", None)
        where = f"{path.name}:{mark.line + 1}" if mark is not None else path.name
        problem = getattr(error, "problem", None) or str(error)
        said = Problem(
            where, f"not valid YAML: {problem}", zh=f"不是有效的 YAML：{_yaml_zh(problem)}"
        )
        raise InvalidInputError(str(path), [said]) from None
    if not isinstance(data, dict):
        said = Problem(
            path.name, "expected a mapping of campaign keys", zh="活动文件应由“键: 值”组成"
        )
        raise InvalidInputError(str(path), [said])
    return data, root


def _said_by_python(text: str) -> yaml.YAMLError | None:
    try:
        _compose_and_construct(text, CampaignLoader)
    except yaml.YAMLError as error:
        return error
    return None


def _compose_and_construct(text: str, kind: type[Any]) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (its line numbers name a problem's place) and the data built
    from that same tree: one parse, not two."""
    loader = kind(text)
    try:
        root = loader.get_single_node()
        return root, None if root is None else loader.construct_document(root)
    finally:
        loader.dispose()


def _validate(path: Path, data: dict[str, Any], root: yaml.Node | None) -> Campaign:
    try:
        return Campaign.model_validate(data)
    except ValidationError as error:
        problems = [
            _with_line(
                Problem(dotted(item["loc"]), explain(item), explain_zh(item)), root, path.name
            )
            for item in error.errors()
        ]
        raise InvalidInputError(str(path), problems) from None


def dotted(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


_EXPECTED = {
    "date_from_datetime_parsing": "expected a date like 2026-03-05",
    "date_parsing": "expected a date like 2026-03-05",
    "date_type": "expected a date like 2026-03-05",
    "time_parsing": "expected a time like 17:30",
    "time_type": "expected a time like 17:30",
    "missing": "this key is required",
    "extra_forbidden": "unknown key; check its spelling against the README",
}


def explain(item: Any) -> str:
    found = item.get("input")
    expected = _EXPECTED.get(item["type"])
    message = str(item["msg"]).removeprefix("Value error, ")
    if expected is None:
        return message
    if item["type"] in ("missing", "extra_forbidden"):
        return expected
    return f"{expected}, found {found!r} ({message})"


_YAML_ZH = {
    "mapping values are not allowed here": "此处不能出现“键: 值”（常见原因：缩进不对，"
    "或值里有未加引号的“: ”）",
    "found character '\\t' that cannot start any token": "含有制表符（Tab），请只用空格缩进",
    "could not find expected ':'": "找不到应有的冒号“:”",
    "did not find expected key": "缩进不对，找不到应有的键",
    "did not find expected '-' indicator": "缩进不对，找不到列表项的“-”",
}


def _yaml_zh(problem: str) -> str:
    """PyYAML's common complaints in Chinese; any other is shown as PyYAML says it."""
    return _YAML_ZH.get(problem, problem)


_EXPECTED_ZH = {
    "date_from_datetime_parsing": "应为日期，如 2026-03-05",
    "date_parsing": "应为日期，如 2026-03-05",
    "date_type": "应为日期，如 2026-03-05",
    "time_parsing": "应为时间，如 17:30",
    "time_type": "应为时间，如 17:30",
    "missing": "缺少此项（必须填写）",
    "extra_forbidden": "不认识的字段，请对照 README 检查拼写",
    "string_type": "应为文字",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表，如 [a, b]",
    "dict_type": "应为“键: 值”的形式",
    "model_type": "应为“键: 值”的形式",
    "model_attributes_type": "应为“键: 值”的形式",
    "string_pattern_mismatch": "编号格式不对：只能用小写英文字母、数字、“_”和“-”，以字母开头",
}
_LIMITS_ZH = {
    "greater_than_equal": ("ge", "不能小于 {}"),
    "less_than_equal": ("le", "不能大于 {}"),
    "greater_than": ("gt", "应大于 {}"),
    "less_than": ("lt", "应小于 {}"),
    "string_too_long": ("max_length", "不能超过 {} 个字"),
    "too_short": ("min_length", "至少要有 {} 项"),
    "too_long": ("max_length", "最多只能有 {} 项"),
}


def explain_zh(item: Any) -> str:
    """``explain`` in Chinese: pydantic's common error types and duban's own validators; any
    other message is shown as pydantic gives it."""
    kind = item["type"]
    ctx = item.get("ctx") or {}
    found = _shown(item.get("input"))
    error = ctx.get("error")
    if kind in ("missing", "extra_forbidden"):
        return _EXPECTED_ZH[kind]
    if kind in _EXPECTED_ZH:
        return f"{_EXPECTED_ZH[kind]}，填写的是“{found}”"
    if kind == "string_too_short":
        return (
            "不能为空" if ctx.get("min_length") == 1 else f"至少要有 {ctx.get('min_length')} 个字"
        )
    if kind in _LIMITS_ZH and ctx.get(_LIMITS_ZH[kind][0]) is not None:
        name, template = _LIMITS_ZH[kind]
        return f"{template.format(ctx[name])}，填写的是“{found}”"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        shown = "、".join(choices) if choices else str(ctx.get("expected", ""))
        return f"应为以下之一：{shown}，填写的是“{found}”"
    if isinstance(error, WordedValueError):
        return error.zh
    message = str(item["msg"]).removeprefix("Value error, ")
    if message.startswith("value is not a valid email address"):
        return f"不是有效的电子邮箱地址：“{found}”"
    return message


def _shown(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def calendar_of(campaign: Campaign) -> WorkCalendar:
    spec = campaign.calendar
    declared = {
        year: DeclaredYear(frozenset(y.holidays), frozenset(y.working_days))
        for year, y in spec.years.items()
    }
    return WorkCalendar(spec.kind, frozenset(spec.closed), frozenset(spec.working), declared)


def cross_check(
    campaign: Campaign, units: Sequence[Unit], calendar: WorkCalendar
) -> Iterator[Problem]:
    """Every reference between the campaign, its forms, its key tasks and the roster."""
    yield from _unique_ids(campaign)
    known_units = {u.id for u in units}
    known_tags = {t for u in units for t in u.tags}
    for i, task in enumerate(campaign.key_tasks):
        for j, unit_id in enumerate([task.lead, *task.partners]):
            field = "lead" if j == 0 else f"partners[{j - 1}]"
            if unit_id not in known_units:
                yield Problem(
                    f"key_tasks[{i}].{field}",
                    f"unit {unit_id!r} is not on the roster",
                    zh=f"单位“{unit_id}”不在花名册中",
                )
    yield from _check_deliverables(campaign, units, known_units, known_tags)
    yield from check_inspections(campaign, units)
    yield from check_scoring(campaign.scoring, units)
    yield from _check_calendar(campaign, calendar)


def _unique_ids(campaign: Campaign) -> Iterator[Problem]:
    for name, items in (
        ("phases", campaign.phases),
        ("forms", campaign.forms),
        ("deliverables", campaign.deliverables),
        ("key_tasks", campaign.key_tasks),
        ("checklists", campaign.checklists),
        ("inspections", campaign.inspections),
    ):
        ids = [item.id for item in items]
        for dupe in sorted({i for i in ids if ids.count(i) > 1}):
            yield Problem(
                f"{name}[{ids.index(dupe)}].id",
                f"id {dupe!r} is used more than once",
                zh=f"编号“{dupe}”用了不止一次",
            )


def _check_deliverables(
    campaign: Campaign, units: Sequence[Unit], known_units: set[str], known_tags: set[str]
) -> Iterator[Problem]:
    phases = {p.id for p in campaign.phases}
    forms = {f.id for f in campaign.forms}
    tasks = {t.id for t in campaign.key_tasks}
    for i, d in enumerate(campaign.deliverables):
        at = f"deliverables[{i}]"
        if d.phase not in phases:
            yield Problem(
                f"{at}.phase",
                f"no phase {d.phase!r}; phases are {sorted(phases)}",
                zh=f"没有阶段“{d.phase}”；现有阶段：{'、'.join(sorted(phases))}",
            )
        if d.form not in forms:
            yield Problem(
                f"{at}.form",
                f"no form {d.form!r}; forms are {sorted(forms)}",
                zh=f"没有报表模板“{d.form}”；现有模板：{'、'.join(sorted(forms))}",
            )
        for field, values in (("units", d.assign.units), ("exclude", d.assign.exclude)):
            for j, unit_id in enumerate(values):
                if unit_id not in known_units:
                    yield Problem(
                        f"{at}.assign.{field}[{j}]",
                        f"unit {unit_id!r} is not on the roster",
                        zh=f"单位“{unit_id}”不在花名册中",
                    )
        for j, tag in enumerate(d.assign.tags):
            if tag not in known_tags:
                yield Problem(
                    f"{at}.assign.tags[{j}]",
                    f"no unit on the roster has tag {tag!r}",
                    zh=f"花名册中没有带标签“{tag}”的单位",
                )
        if isinstance(d.assign.leads, list):
            for j, task_id in enumerate(d.assign.leads):
                if task_id not in tasks:
                    yield Problem(
                        f"{at}.assign.leads[{j}]",
                        f"no key task {task_id!r}",
                        zh=f"没有重点工作“{task_id}”",
                    )
        if d.phase in phases and not assigned_units(campaign, units, d.assign):
            yield Problem(f"{at}.assign", "selects no unit at all", zh="一个单位也没有选中")
        if d.rectification is not None and d.form in forms:
            yield from _check_rectification(campaign, d, f"{at}.rectification")
        if d.rectification_progress is not None and d.form in forms:
            yield from _check_progress(campaign, d, f"{at}.rectification_progress")
        if d.partners is not None and d.form in forms:
            yield from _check_partners(campaign, d, f"{at}.partners")


def _check_partners(campaign: Campaign, d: Deliverable, at: str) -> Iterator[Problem]:
    """Partners report to the lead: the deliverable is the leads' (of key tasks with
    partners), and its form names the key task in a column of the sheet, where the lead's
    ``reported_by`` column can go."""
    spec = d.partners
    assert spec is not None
    if d.assign.leads is None:
        yield Problem(
            f"{at}", f"deliverable {d.id!r}: partners report to a lead; assign it to the "
            "leads of key tasks (assign: {leads: all})",
            zh=f"报送事项“{d.id}”：配合单位向牵头单位报送，须分配给重点工作的牵头单位"
            "（assign: {leads: all}）",
        )  # fmt: skip
    elif not any(t.partners for t in campaign.key_tasks
                 if d.assign.leads == "all" or t.id in d.assign.leads):  # fmt: skip
        yield Problem(at, f"deliverable {d.id!r}: none of its key tasks has partners",
                      zh=f"报送事项“{d.id}”：所选重点工作都没有配合单位")  # fmt: skip
    form = campaign.form(d.form)
    sheet = yield from _named_sheet(form, d.id, spec.sheet, f"{at}.sheet")
    if sheet is None:
        return
    keys = {c.key: c for c in sheet.columns}
    if spec.task_column not in keys or keys[spec.task_column].type not in ("text", "choice"):
        yield Problem(
            f"{at}.task_column",
            f"deliverable {d.id!r}: sheet {sheet.name!r} has no text column "
            f"{spec.task_column!r} to name the key task in",
            zh=f"报送事项“{d.id}”：工作表“{sheet.name}”没有可填写重点工作名称的文本列"
            f"“{spec.task_column}”",
        )
    if REPORTED_BY in keys:
        yield Problem(
            f"{at}", f"deliverable {d.id!r}: the column key {REPORTED_BY!r} is duban's (who "
            "reported a row, on the lead's template); rename the form's column",
            zh=f"报送事项“{d.id}”：列编号“{REPORTED_BY}”由系统用于牵头单位模板中的“报送单位”"
            "列，请为表单中的该列改用其他编号",
        )  # fmt: skip


def _check_rectification(campaign: Campaign, d: Deliverable, at: str) -> Iterator[Problem]:
    """The item fields of ``d.rectification`` name columns its form has, on one sheet: a
    mapping to a missing column would create items with that field silently empty."""
    spec = d.rectification
    assert spec is not None
    form = campaign.form(d.form)
    sheet = yield from _named_sheet(
        form, d.id, spec.sheet, f"{at}.sheet", ("lists the problems", "问题清单在")
    )
    if sheet is None:
        return
    mapped = yield from _mapped_columns(form, d.id, spec.columns.items(), sheet, at)
    for field, key, column in mapped:
        if field == "due" and column.type != "date":
            yield Problem(
                f"{at}.columns.due",
                f"deliverable {d.id!r}: column {key!r} is a {column.type} column; "
                "a deadline needs a date column",
                zh=f"报送事项“{d.id}”：列“{key}”不是日期列，整改时限须对应日期列",
            )


def _check_progress(campaign: Campaign, d: Deliverable, at: str) -> Iterator[Problem]:
    """The columns of ``d.rectification_progress`` are on one sheet of its form, dates where
    days go, and its state column offers the ``claimed`` choice: a progress report whose
    completion choice is not on the list could never claim anything."""
    spec = d.rectification_progress
    assert spec is not None
    form = campaign.form(d.form)
    sheet = yield from _named_sheet(form, d.id, spec.sheet, f"{at}.sheet")
    if sheet is None:
        return
    mapped = yield from _mapped_columns(form, d.id, spec.columns.items(), sheet, at)
    for field, key, column in mapped:
        if field in ("due", "completed_on") and column.type != "date":
            yield Problem(
                f"{at}.columns.{field}",
                f"deliverable {d.id!r}: column {key!r} is a {column.type} column; "
                f"{field} needs a date column",
                zh=f"报送事项“{d.id}”：列“{key}”不是日期列，{field} 须对应日期列",
            )
        elif field == "state" and spec.claimed not in (column.choices or []):
            yield Problem(
                f"{at}.claimed",
                f"deliverable {d.id!r}: the state column {key!r} must be a choice column "
                f"offering {spec.claimed!r} (what claims completion)",
                zh=f"报送事项“{d.id}”：状态列“{key}”须为下拉选择列，且含有选项“{spec.claimed}”"
                "（表示申请销号）",
            )
        elif field in ("code", "finding", "measure", "due") and column.required:
            yield Problem(
                f"{at}.columns.{field}",
                f"deliverable {d.id!r}: column {key!r} is pre-filled from the ledger and must "
                "not be required (a unit with no items, or a new problem, leaves it empty)",
                zh=f"报送事项“{d.id}”：列“{key}”由台账预填，不能设为必填",
            )


def _mapped_columns(
    form: Form, deliverable_id: str, mapping: Iterable[tuple[str, str]], sheet: Sheet, at: str
) -> Generator[Problem, None, list[tuple[str, str, Column]]]:
    """The mapped (field, column key, column) of ``sheet``; a problem for each key the sheet
    lacks (a field mapped to nothing would stay silently empty)."""
    columns = {c.key: c for c in sheet.columns}
    found = []
    for field, key in mapping:
        column = columns.get(key)
        if column is None:
            yield Problem(
                f"{at}.columns.{field}",
                f"deliverable {deliverable_id!r}: form {form.id!r} has no column {key!r}; "
                f"columns are {', '.join(columns)}",
                zh=f"报送事项“{deliverable_id}”：表单“{form.id}”没有列“{key}”；"
                f"现有列：{'、'.join(columns)}",
            )
        else:
            found.append((field, key, column))
    return found


def _named_sheet(
    form: Form,
    deliverable_id: str,
    name: str | None,
    at: str,
    which: tuple[str, str] = ("one", "是哪一个"),
) -> Generator[Problem, None, Sheet | None]:
    """The sheet ``name`` of ``form``, or its only sheet when no name is given; a problem and
    None when there is no such sheet, or a choice to make (``which``: what the sheet is for,
    in the problem's English and Chinese)."""
    names = [s.name for s in form.sheets]
    if name is None and len(form.sheets) > 1:
        yield Problem(
            at,
            f"deliverable {deliverable_id!r}: form {form.id!r} has {len(names)} sheets; "
            f"say which {which[0]}: {', '.join(names)}",
            zh=f"报送事项“{deliverable_id}”：表单“{form.id}”有 {len(names)} 个工作表，"
            f"请写明{which[1]}哪一个：{'、'.join(names)}",
        )
        return None
    sheet = next((s for s in form.sheets if s.name == (name or names[0])), None)
    if sheet is None:
        yield Problem(
            at,
            f"deliverable {deliverable_id!r}: form {form.id!r} has no sheet {name!r}; "
            f"sheets are {', '.join(names)}",
            zh=f"报送事项“{deliverable_id}”：表单“{form.id}”没有工作表“{name}”；"
            f"现有工作表：{'、'.join(names)}",
        )
    return sheet


def _check_calendar(campaign: Campaign, calendar: WorkCalendar) -> Iterator[Problem]:
    for year, spec in campaign.calendar.years.items():
        for day in [*spec.holidays, *spec.working_days]:
            if day.year != year:
                yield Problem(
                    f"calendar.years.{year}",
                    f"{day} is not in {year}",
                    zh=f"{day} 不在 {year} 年内",
                )
    for i, phase in enumerate(campaign.phases):
        for year in calendar.unknown_years([phase.start, phase.end]):
            yield _unknown(f"phases[{i}]", year)
    phase_ids = {p.id for p in campaign.phases}
    for i, d in enumerate(campaign.deliverables):
        if d.phase not in phase_ids:
            continue
        try:
            for period in periods_for(d, campaign.phase(d.phase), calendar, campaign.zone):
                _rung_days(period.due_date, campaign, calendar, d)
        except CalendarUnknownError as error:
            yield Problem(f"deliverables[{i}].due", str(error), zh=_zh_lines(error))


def _rung_days(due: date, campaign: Campaign, calendar: WorkCalendar, d: Deliverable) -> None:
    for rung in campaign.ladder_of(d):
        calendar.add_working_days(due, rung.offset_working_days)


def _unknown(where: str, year: int) -> Problem:
    error = unknown_year_error(year)
    return Problem(where, str(error), zh=_zh_lines(error))


def _zh_lines(error: DubanError) -> str:
    """An error as a problem line in Chinese: like ``str(error)``, the hint under it."""
    message, hint = error.said("zh-CN")
    return message if hint is None else f"{message}\n  → {hint}"


def _with_line(problem: Problem, root: yaml.Node | None, filename: str) -> Problem:
    line = _line_of(root, problem.where)
    prefix = f"{filename}:{line}" if line else filename
    return Problem(f"{prefix} {problem.where}", problem.message, problem.zh)


_PATH_PART = re.compile(r"\[(\d+)\]|\.?([^.\[]+)")


def _line_of(root: yaml.Node | None, where: str) -> int | None:
    """The 1-based line of the deepest node the dotted path reaches in the YAML file."""
    node, line = root, None
    for index, key in _PATH_PART.findall(where):
        if node is None:
            break
        line = node.start_mark.line + 1
        node = _child(node, int(index) if index else key)
    if node is not None and root is not None:
        line = node.start_mark.line + 1
    return line


def _child(node: yaml.Node, key: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int):
        return node.value[key] if key < len(node.value) else None
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if str(k.value) == str(key):
                return v if isinstance(v, yaml.Node) else None
    return None
