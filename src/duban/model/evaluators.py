"""The register of evaluators (评议人名录) of a public evaluation (民主评议 / 满意度测评).

Kept by the coordinator as a CSV or XLSX file beside the roster and read the same way (see
``tabular``), like the inspector register. Headers may be English (``id, name, category,
unit, rates, email``) or Chinese (编号, 姓名, 类别, 所在单位, 测评范围, 联系邮箱).

* ``category`` is one of the categories the scoring's public evaluation weighs (党代表,
  人大代表, 政协委员, 企业, 服务对象 …): each category is one pool of marks, so a mistyped
  category would silently leave a ballot out of the count. Without declared categories (one
  pool) it is free and may be empty.
* ``unit`` is the unit the evaluator belongs to (a 党代表 of a town, a department's cadre),
  a roster id or name, or empty: an evaluator never rates their own unit.
* ``rates`` says which units they rate: empty or 全部 for every unit; otherwise, separated
  by ``、``, ``,``, ``;`` or spaces, ranking groups of the scoring (by id or title), tags of
  the roster, or units by id or name (a sample drawn by hand), whose union is rated.
* ``email``: the one address the personal ballot goes to; one ballot counts per evaluator,
  so two evaluators may not share an address.

An evaluator is a plain frozen dataclass, like an inspector; this module does the checking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from duban.errors import InvalidInputError
from duban.model.campaign import Language
from duban.model.register_rows import RegisterRow, UnitNames, read_people, used_twice
from duban.model.roster import Unit, split_list
from duban.model.scoring import Scoring, group_of
from duban.model.tabular import Say, rows_of_each


@dataclass(frozen=True)
class Evaluator:
    """One person of the register; ``unit_id`` is None for one from no member unit."""

    id: str
    name: str
    email: str
    category: str = ""
    unit_id: str | None = None
    rates: frozenset[str] | None = None
    """The ids of the units this evaluator rates (their own unit aside); None: every unit."""

    def rated(self, roster: Sequence[Unit]) -> list[Unit]:
        """The units on this evaluator's ballot, in roster order, never their own."""
        return [
            unit
            for unit in roster
            if unit.id != self.unit_id and (self.rates is None or unit.id in self.rates)
        ]


HEADER_ALIASES: dict[str, str] = {
    "id": "id", "编号": "id", "人员编号": "id", "评议人编号": "id", "测评人编号": "id",
    "name": "name", "姓名": "name", "评议人": "name", "测评人": "name",
    "category": "category", "类别": "category", "评议类别": "category",
    "代表类别": "category", "身份类别": "category",
    "unit": "unit", "所在单位": "unit", "单位": "unit", "工作单位": "unit",
    "rates": "rates", "测评范围": "rates", "评议范围": "rates", "测评对象": "rates",
    "评议对象": "rates",
    "email": "email", "emails": "email", "联系邮箱": "email", "邮箱": "email",
}  # fmt: skip
CHINESE_HEADERS = {
    "id": "编号", "name": "姓名", "category": "类别", "unit": "所在单位", "rates": "测评范围",
    "email": "联系邮箱",
}  # fmt: skip
EVERY_UNIT = frozenset({"全部", "所有单位", "全部单位", "all"})
"""What a ``rates`` cell may say for every unit (as an empty cell does)."""

MESSAGES: dict[Language, dict[str, str]] = {
    "en": {
        "not-found": "evaluator register not found",
        "file-type": "the evaluator register must be a .csv or .xlsx file",
        "encoding": "not UTF-8 or GB18030 text (byte {byte}); save it again as CSV",
        "workbook": "not a readable .xlsx workbook; open it in Excel or WPS and save it as .xlsx",
        "empty": "the evaluator register is empty",
        "missing": "missing column(s) {missing}; headers found: {found}; the header row must "
        "name id, name and email (or 编号, 姓名 and 联系邮箱), and the category (类别) when "
        "the scoring declares categories",
        "required": "empty; every evaluator needs their {label}",
        "id": "not an evaluator id; expected up to 64 letters, digits, _ . or -, starting with "
        "a letter or digit (found {value!r})",
        "name": "expected a name of at most 100 characters on one line (found {value!r})",
        "unit": "{value!r} is neither a unit id nor a unit name of the roster",
        "one-unit": "expected one unit, the evaluator's own (found {value!r})",
        "email": "{value!r} is not an email address; expected one address like name@example.cn",
        "one-email": "expected one address, where the evaluator's own ballot goes (found "
        "{value!r})",
        "category": "{value!r} is not a category of the public evaluation; categories are {known}",
        "rates": "{value!r} is neither 全部 (every unit), a ranking group of the scoring, a tag "
        "of the roster, nor a unit id or name",
        "rates-nothing": "rates no unit: {value!r} names only the evaluator's own unit, which "
        "an evaluator never rates",
        "duplicate-id": "evaluator id {value!r} appears {times}",
        "duplicate-email": "address {value!r} appears {times}; each evaluator needs their own "
        "(one ballot counts per evaluator)",
    },
    "zh-CN": {
        "not-found": "找不到评议人名录文件",
        "file-type": "评议人名录须为 .csv 或 .xlsx 文件",
        "encoding": "不是 UTF-8 或 GB18030 编码的文本（第{byte}字节），请重新另存为 CSV",
        "workbook": "无法读取这个 .xlsx 工作簿，请用 Excel 或 WPS 打开后另存为 .xlsx",
        "empty": "评议人名录中没有内容",
        "missing": "缺少{missing}列；找到的表头为：{found}。表头须包含编号、姓名、联系邮箱"
        "（或 id、name、email），评议设有类别时还须有类别",
        "required": "“{label}”不能为空",
        "id": "编号“{value}”不符合要求：只能使用字母、数字和 _ . -，以字母或数字开头，"
        "不超过64个字符",
        "name": "姓名应写在一行内，不超过100个字（填写的是“{value}”）",
        "unit": "“{value}”不是名单中的单位编号或单位名称",
        "one-unit": "只能填写一个单位，即评议人本人所在单位（填写的是“{value}”）",
        "email": "“{value}”不是有效的邮箱地址，应填写 name@example.cn 这样的一个地址",
        "one-email": "只能填写一个邮箱，即接收本人测评表的邮箱（填写的是“{value}”）",
        "category": "“{value}”不是民主评议的评议类别，现有类别：{known}",
        "rates": "“{value}”既不是“全部”，也不是考核排名分组、名单中的标签，或单位编号、单位名称",
        "rates-nothing": "没有可测评的单位：“{value}”只含评议人本人所在单位，而评议人不测评本单位",
        "duplicate-id": "编号“{value}”重复出现{times}",
        "duplicate-email": "邮箱“{value}”重复出现{times}；每位评议人须有自己的邮箱"
        "（每人只计一份有效测评表）",
    },
}


def scoring_categories(scoring: Scoring) -> list[str]:
    """The categories the public-evaluation sources weigh, in the order declared."""
    found: list[str] = []
    for source in scoring.sources:
        if source.kind == "public-evaluation":
            found += [c for c in source.ballot_spec.categories if c not in found]
    return found


def load_evaluators(
    path: Path, roster: Sequence[Unit], scoring: Scoring, language: Language = "en"
) -> list[Evaluator]:
    """Read and check every row against the roster and the scoring; raise
    ``InvalidInputError`` listing every problem at once (file, row, column as labelled, value
    found, what was expected)."""
    say = Say(path.name, language, MESSAGES)
    scope = _Scope(roster, scoring)
    required = ("id", "name", "email", *(("category",) if scope.categories else ()))
    read, problems = read_people(
        path, say, HEADER_ALIASES, required, CHINESE_HEADERS, lambda r: _evaluator(r, scope)
    )
    for code, values in (
        ("duplicate-id", [(n, e.id) for n, e in read]),
        ("duplicate-email", [(n, e.email.lower()) for n, e in read]),
    ):
        for value, numbers in rows_of_each(values).items():
            if len(numbers) > 1:
                problems.append(used_twice(say, code, value, numbers))
    if problems:
        raise InvalidInputError(str(path), problems)
    return [evaluator for _, evaluator in read]


class _Scope:
    """What a register's cells may name: the roster's units, the scoring's categories, and
    the unit ids each selector of ``rates`` stands for."""

    def __init__(self, roster: Sequence[Unit], scoring: Scoring) -> None:
        self.units = UnitNames(roster)
        self.categories = scoring_categories(scoring)
        self.selectors: dict[str, frozenset[str]] = {}
        """Each word a ``rates`` cell may hold: a unit's id or name over a group's id or
        title over a tag, where two are spelled alike."""
        tagged: dict[str, set[str]] = {}
        for unit in roster:
            for tag in unit.tags:
                tagged.setdefault(tag, set()).add(unit.id)  # not frozenset | {…}: n² at 10,000
        self.selectors.update((tag, frozenset(ids)) for tag, ids in tagged.items())
        groups = {u.id: group_of(scoring.groups, u.tags) for u in roster}
        for group in scoring.groups:
            members = frozenset(u for u, g in groups.items() if g == group.id)
            self.selectors[group.title] = self.selectors[group.id] = members
        self.selectors.update({name: frozenset({unit}) for name, unit in self.units.ids.items()})


def _evaluator(row: RegisterRow, scope: _Scope) -> Evaluator | None:
    identity, name = row.person()
    category = _category(row, scope)
    unit = row.units(scope.units, "unit")
    if len(unit) > 1:
        row.refuse("unit", "one-unit", row.cell("unit"))
    own = unit[0] if unit else None
    rates = _rates(row, scope, own)
    email = _email(row)
    if row.problems:
        return None
    return Evaluator(identity, name, email, category, own, rates)


def _category(row: RegisterRow, scope: _Scope) -> str:
    if not scope.categories:
        return row.cell("category")
    category = row.required("category")
    if category and category not in scope.categories:
        known = "、".join(scope.categories)
        row.refuse("category", "category", category, known=known)
    return category


def _rates(row: RegisterRow, scope: _Scope, own: str | None) -> frozenset[str] | None:
    """The units the ``rates`` cell selects; None for every unit."""
    written = split_list(row.cell("rates"))
    if not written or any(w.lower() in EVERY_UNIT for w in written):
        return None
    found: set[str] = set()
    for selector in written:
        units = scope.selectors.get(selector)
        if units is None:
            row.refuse("rates", "rates", selector)
        else:
            found |= units
    if found and not found - {own}:
        row.refuse("rates", "rates-nothing", row.cell("rates"))
    return frozenset(found)


def _email(row: RegisterRow) -> str:
    if not row.required("email"):
        return ""
    addresses = row.emails("email")
    if len(addresses) > 1:
        row.refuse("email", "one-email", row.cell("email"))
    return addresses[0] if addresses else ""
