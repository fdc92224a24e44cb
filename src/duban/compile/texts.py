"""The words of the summary workbook and of the printed bulletin, per campaign language.

Kept apart from the xlsxwriter and python-docx calls so that someone who reads the bulletin can
review the wording without reading layout code. The e-mailed bulletin keeps its wording in its
Jinja templates (``templates/<language>/bulletin.*``), which a coordinator may override.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from duban.model.campaign import Language

STATE_WORDS: dict[Language, dict[str, str]] = {
    "zh-CN": {
        "on-time": "按时报送",
        "late": "逾期报送",
        "overdue": "未报送",
        "rejected": "已退回待重报",
        "exempted": "免报",
        "not-yet-due": "未到期",
        "extended": "已延期",
        "due-soon": "即将到期",
        "due-today": "今日到期",
    },
    "en": {
        "on-time": "On time",
        "late": "Late",
        "overdue": "Missing",
        "rejected": "Returned, awaiting resubmission",
        "exempted": "Exempted",
        "not-yet-due": "Not yet due",
        "extended": "Extended",
        "due-soon": "Due soon",
        "due-today": "Due today",
    },
}


def state_word(state: str, language: Language) -> str:
    """A state in words; an unknown state shows as itself rather than failing the compile."""
    return STATE_WORDS[language].get(state, state)


@dataclass(frozen=True)
class WorkbookTexts:
    overview_sheet: str
    units_sheet: str
    detail_sheet: str
    continued: str  # a detail sheet past Excel's row limit: "{name}（续{n}）"
    title: str
    campaign: str
    deliverable: str
    period: str
    due: str
    as_of: str
    figures: str
    item: str
    count: str
    expected: str
    received: str
    on_time: str
    late: str
    missing: str
    rejected: str
    pending: str
    exempted: str
    completeness: str
    timeliness: str
    detail_rows: str
    units_compiled: str
    chart_title: str
    unit_columns: tuple[str, ...]
    detail_lead_columns: tuple[str, ...]
    detail_tail_columns: tuple[str, ...]
    tag_separator: str
    file_name: str  # "{title}{period}汇总表": the period as said in the language, or nothing
    bulletin_file_name: str
    file_period: str

    @property
    def source_columns(self) -> tuple[str, ...]:
        """Every column a detail row adds to the form's, as bench/compile.py's baseline
        writes them."""
        return (*self.detail_lead_columns, *self.detail_tail_columns)


ZH = WorkbookTexts(
    overview_sheet="概览",
    units_sheet="报送情况",
    detail_sheet="明细",
    continued="{name}（续{n}）",
    title="{campaign}《{deliverable}》汇总表",
    campaign="活动名称",
    deliverable="报送材料",
    period="报送期次",
    due="截止时间",
    as_of="统计时间",
    figures="报送情况统计",
    item="项目",
    count="数量",
    expected="应报送单位",
    received="已报送单位",
    on_time="按时报送",
    late="逾期报送",
    missing="未报送",
    rejected="已退回待重报",
    pending="未到期",
    exempted="免报",
    completeness="报送率",
    timeliness="及时率",
    detail_rows="汇总数据行数",
    units_compiled="汇总单位数",
    chart_title="报送情况",
    unit_columns=(
        "单位编号",
        "单位名称",
        "标签",
        "报送状态",
        "截止时间",
        "首次有效报送时间",
        "最新版本",
        "最新报送时间",
        "版本数",
        "逾期工作日",
    ),
    detail_lead_columns=("单位编号", "单位名称", "版本"),
    detail_tail_columns=("收到时间", "文件SHA-256"),
    tag_separator="、",
    file_name="{title}{period}汇总表",
    bulletin_file_name="{title}{period}通报",
    file_period="（{period}）",
)

EN = WorkbookTexts(
    overview_sheet="Overview",
    units_sheet="Units",
    detail_sheet="Detail",
    continued="{name} ({n})",
    title="{campaign}: {deliverable}, summary",
    campaign="Campaign",
    deliverable="Deliverable",
    period="Period",
    due="Due",
    as_of="As of",
    figures="Submissions",
    item="Item",
    count="Count",
    expected="Expected",
    received="Received",
    on_time="On time",
    late="Late",
    missing="Missing",
    rejected="Returned, awaiting resubmission",
    pending="Not yet due",
    exempted="Exempted",
    completeness="Completeness",
    timeliness="Timeliness",
    detail_rows="Rows compiled",
    units_compiled="Units compiled",
    chart_title="Submissions",
    unit_columns=(
        "Unit id",
        "Unit",
        "Tags",
        "State",
        "Due",
        "First valid received",
        "Latest version",
        "Latest received",
        "Versions",
        "Working days late",
    ),
    detail_lead_columns=("Unit id", "Unit", "Version"),
    detail_tail_columns=("Received", "File SHA-256"),
    tag_separator=", ",
    file_name="{title}{period} summary",
    bulletin_file_name="{title}{period} bulletin",
    file_period=" ({period})",
)

WORKBOOK_TEXTS: dict[Language, WorkbookTexts] = {"zh-CN": ZH, "en": EN}

_QUARTERS_ZH = "一二三四"
_PERIOD = re.compile(r"^(\d{4})(?:-(Q[1-4]|H[12]|\d{2}))?$")


def period_text(period: str, language: Language) -> str:
    """A period key (``once``, ``2026-Q2``, ``2026-09``, ``2026-H1``, ``2026``) as people say it.

    Keys duban does not know are shown as they are, so a new recurrence never breaks a compile.
    """
    if period == "once":
        return "一次性报送" if language == "zh-CN" else "One-off"
    match = _PERIOD.match(period)
    if match is None:
        return period
    year, part = match.groups()
    if language == "zh-CN":
        return _period_zh(year, part)
    return _period_en(int(year), part)


def _period_zh(year: str, part: str | None) -> str:
    if part is None:
        return f"{year}年度"
    if part.startswith("Q"):
        return f"{year}年第{_QUARTERS_ZH[int(part[1]) - 1]}季度"
    if part.startswith("H"):
        return f"{year}年{'上' if part == 'H1' else '下'}半年"
    return f"{year}年{int(part)}月"


def _period_en(year: int, part: str | None) -> str:
    if part is None or part[0] in "QH":
        return f"{part} {year}" if part else str(year)
    return date(year, int(part), 1).strftime("%B %Y")


def day_text(day: date, language: Language) -> str:
    """A date as a signature line writes it (成文日期): 2026年3月6日 / 6 March 2026."""
    if language == "zh-CN":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {day.strftime('%B %Y')}"


def percent_text(rate: float | None) -> str:
    """A rate with one decimal where it matters: 93.3%, 100%; a dash when nothing was expected."""
    if rate is None:
        return "—"
    shown = f"{rate * 100:.1f}".removesuffix(".0")
    return f"{shown}%"


@dataclass(frozen=True)
class BulletinTexts:
    """The sentences of a bulletin, shared by the e-mail templates and the printed copy so that
    what is mailed and what is filed say the same thing."""

    title: str
    period: str
    issue: str  # the issue number (期数) as the head of the bulletin shows it
    date_line: str
    salutation: str
    intro: str
    rejected_clause: str
    exempted_clause: str
    pending_clause: str
    headings: dict[str, str]
    count: str
    separator: str
    late_note: str
    late_note_one: str
    none: str
    makeup: str
    makeup_soon: str
    late_advice: str
    all_on_time: str
    closing: str
    figures_title: str
    figures: tuple[str, ...]
    bar_labels: dict[str, str]  # the chart's legend, by bar key (bulletin.BAR_COLOURS)


BULLETIN_ZH = BulletinTexts(
    title="关于《{deliverable}》{period}报送情况的通报",
    period="（{period}）",
    issue="第{n}期",
    date_line="（{date}）",
    salutation="各镇（区）、各部门：",
    intro=(
        "根据《{campaign}》工作安排，各单位应于{due}报送《{deliverable}》{period}。"
        "截至{as_of}，应报送单位{expected}个，已报送{received}个，其中按时报送{on_time}个、"
        "逾期报送{late}个；未报送{missing}个{rejected}{pending}{exempted}。"
        "报送率{completeness}，及时率{timeliness}。现将有关情况通报如下："
    ),
    rejected_clause="；报送后被退回、尚未重新报送{n}个",
    exempted_clause="；另有{n}个单位免报",
    pending_clause="；尚未到期{n}个",
    headings={
        "on_time": "按时报送的单位",
        "late": "逾期报送的单位",
        "missing": "未报送的单位",
        "rejected": "被退回待重新报送的单位",
        "pending": "尚未到期的单位",
        "exempted": "免报单位",
    },
    count="（{n}个）",
    separator="、",
    late_note="（逾期{days}个工作日）",
    late_note_one="（逾期{days}个工作日）",
    none="无。",
    makeup="请{who}于{due}前补报。",
    makeup_soon="请{who}抓紧补报。",
    late_advice="逾期报送的单位要认真查找原因，切实增强时限意识。",
    all_on_time="各单位均已按时报送，望继续保持。",
    closing="请各单位高度重视，严格按照时限和要求报送有关材料。",
    figures_title="报送情况统计",
    figures=("应报送", "已报送", "按时", "逾期", "未报送", "退回待重报", "报送率", "及时率"),
    bar_labels={
        "on_time": "按时报送",
        "late": "逾期报送",
        "missing": "未报送",
        "rejected": "退回待重报",
        "pending": "未到期",
    },
)

BULLETIN_EN = BulletinTexts(
    title="Bulletin on the submission of “{deliverable}”{period}",
    period=" ({period})",
    issue="No. {n}",
    date_line="({date})",
    salutation="To all participating units:",
    intro=(
        "Under {campaign}, every unit was to submit “{deliverable}”{period}, due {due}. "
        "As of {as_of}, {expected} units were expected to submit and {received} have, "
        "{on_time} on time and {late} late; {missing} have not submitted{rejected}{pending}"
        "{exempted}. Completeness is {completeness} and timeliness {timeliness}. "
        "The details follow."
    ),
    rejected_clause="; {n} returned and not yet resubmitted",
    exempted_clause="; {n} exempted",
    pending_clause="; {n} not yet due",
    headings={
        "on_time": "Units that submitted on time",
        "late": "Units that submitted late",
        "missing": "Units that have not submitted",
        "rejected": "Units whose submission was returned, awaiting resubmission",
        "pending": "Units not yet due",
        "exempted": "Exempted units",
    },
    count=" ({n})",
    separator=", ",
    late_note=" ({days} working days late)",
    late_note_one=" ({days} working day late)",
    none="None.",
    makeup="{who} are asked to submit by {due}.",
    makeup_soon="{who} are asked to submit as soon as possible.",
    late_advice="Units that submitted late are asked to look into why and keep to the deadline.",
    all_on_time="Every unit submitted on time; thank you.",
    closing="All units are asked to send what is required, complete and on time.",
    figures_title="Figures",
    figures=(
        "Expected",
        "Received",
        "On time",
        "Late",
        "Missing",
        "Returned",
        "Completeness",
        "Timeliness",
    ),
    bar_labels={
        "on_time": "On time",
        "late": "Late",
        "missing": "Missing",
        "rejected": "Returned",
        "pending": "Not yet due",
    },
)

BULLETIN_TEXTS: dict[Language, BulletinTexts] = {"zh-CN": BULLETIN_ZH, "en": BULLETIN_EN}

MAKEUP_WHO: dict[Language, dict[tuple[bool, bool], str]] = {
    "zh-CN": {
        (True, False): "未报送单位",
        (False, True): "被退回单位",
        (True, True): "未报送单位和被退回单位",
    },
    "en": {
        (True, False): "Units that have not submitted",
        (False, True): "Units whose submission was returned",
        (True, True): "Units that have not submitted or whose submission was returned",
    },
}
"""Who is asked to submit again, by (some missing, some returned)."""


@dataclass(frozen=True)
class RectificationTexts:
    """The words of a progress report's rectification section (bulletin and workbook sheet)."""

    heading: str
    summary: str
    table_title: str
    columns: tuple[str, ...]  # the bulletin's table: tag, found, closed, overdue, two rates
    total: str
    overdue: str
    overdue_unit: str
    overdue_separator: str
    no_overdue: str
    sheet: str
    sheet_columns: tuple[str, ...]


RECTIFICATION_TEXTS: dict[Language, RectificationTexts] = {
    "zh-CN": RectificationTexts(
        heading="问题整改情况",
        summary=(
            "截至{as_of}，各单位共查摆问题{found}个，已整改销号{closed}个，尚未完成{open}个，"
            "其中逾期未完成{overdue}个。整改完成率{closure}，按期整改率{on_time}。"
        ),
        table_title="整改情况统计（按单位类别）",
        columns=("单位类别", "查摆问题", "已销号", "逾期未完成", "整改完成率", "按期整改率"),
        total="合计",
        overdue="整改逾期单位：{units}。请上述单位认真分析原因，抓紧整改到位，按期销号。",
        overdue_unit="{name}（{n}个）",
        overdue_separator="、",
        no_overdue="各单位整改事项均未逾期，望继续保持。",
        sheet="整改情况",
        sheet_columns=(
            "单位编号", "单位名称", "单位类别", "查摆问题", "已销号", "按期销号", "逾期未完成",
            "整改完成率", "按期整改率",
        ),
    ),
    "en": RectificationTexts(
        heading="Rectification of the problems found",
        summary=(
            "As of {as_of}, {found} problems have been found, {closed} closed and {open} still "
            "open, {overdue} of them overdue. The closure rate is {closure} and the on-time "
            "closure rate {on_time}."
        ),
        table_title="Rectification by group of units",
        columns=("Group", "Found", "Closed", "Overdue", "Closure rate", "On-time closure rate"),
        total="Total",
        overdue="Units with overdue items: {units}. These units are asked to find out why and "
        "complete them without delay.",
        overdue_unit="{name} ({n})",
        overdue_separator=", ",
        no_overdue="No unit has an overdue item.",
        sheet="Rectification",
        sheet_columns=(
            "Unit ID", "Unit", "Groups", "Found", "Closed", "Closed on time", "Overdue",
            "Closure rate", "On-time closure rate",
        ),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class KeyTaskTexts:
    """The words of a key task chain's section (重点工作推进情况) in the lead's bulletin and
    its sheet in the summary workbook."""

    heading: str
    summary: str  # some unit late: {n} key tasks, {k} of them with a unit late
    none_late: str  # no unit late: {n} key tasks
    line: str  # a task with a unit late: {title}, {lead}, {units}
    unit: str  # a unit late in the line: {name}, {role}, {state}
    separator: str
    roles: dict[str, str]  # by TaskStanding role: lead, partner
    late_states: dict[str, str]  # by state: late, overdue, rejected
    sheet: str
    sheet_columns: tuple[str, ...]
    holding: str  # the sheet's last column, for a unit holding the task up


KEY_TASK_TEXTS: dict[Language, KeyTaskTexts] = {
    "zh-CN": KeyTaskTexts(
        heading="重点工作推进情况",
        summary="{n}项重点工作中，{k}项有牵头单位或配合单位逾期：",
        none_late="{n}项重点工作的牵头单位和配合单位均无逾期。",
        line="“{title}”（牵头单位：{lead}）：{units}。",
        unit="{name}（{role}）{state}",
        separator="、",
        roles={"lead": "牵头", "partner": "配合"},
        late_states={"late": "逾期报送", "overdue": "逾期未报送", "rejected": "被退回未重新报送"},
        sheet="重点工作推进情况",
        sheet_columns=(
            "重点工作", "角色", "单位编号", "单位名称", "截止时间", "首次有效报送时间",
            "报送状态", "卡住该项工作",
        ),
        holding="是",
    ),
    "en": KeyTaskTexts(
        heading="Key tasks",
        summary="In {k} of the {n} key tasks a lead or partner unit is late:",
        none_late="No lead or partner unit of the {n} key tasks is late.",
        line="“{title}” (lead: {lead}): {units}.",
        unit="{name} ({role}) {state}",
        separator="; ",
        roles={"lead": "lead", "partner": "partner"},
        late_states={
            "late": "reported late",
            "overdue": "has not reported",
            "rejected": "was returned and has not reported again",
        },
        sheet="Key tasks",
        sheet_columns=(
            "Key task", "Role", "Unit id", "Unit", "Due", "First valid received", "State",
            "Holding the task up",
        ),
        holding="Yes",
    ),
}  # fmt: skip
