"""The words of the rectification ledger workbook (整改台账), per campaign language.

Kept apart from the xlsxwriter calls, as the summary workbook's are (``compile.texts``), so the
wording can be reviewed without reading layout code. States are named as ``states`` names them.
"""

from __future__ import annotations

from dataclasses import dataclass

from duban.model.campaign import Language
from duban.selfcheck.states import STATE_EN, STATE_ZH, State


@dataclass(frozen=True)
class LedgerTexts:
    summary_sheet: str
    overdue_sheet: str
    untagged_sheet: str  # units of the roster with no tag, and items of units not on it
    continued: str  # a sheet past Excel's row limit: "{name}（续{n}）"
    title: str  # "{campaign}整改台账", or the bare word without a campaign title
    bare_title: str
    as_of: str
    columns: tuple[str, ...]
    long_term: str  # 长期坚持: the deadline cell of a long-term item, and its state while open
    states: dict[State, str]
    summary_columns: tuple[str, ...]
    total: str
    no_rate: str
    file_name: str  # the workbook's file name as of a day, without .xlsx


ZH = LedgerTexts(
    summary_sheet="汇总",
    overdue_sheet="逾期未完成",
    untagged_sheet="未分组",
    continued="{name}（续{n}）",
    title="{campaign}整改台账",
    bare_title="整改台账",
    as_of="统计日期",
    columns=(
        "序号",
        "问题编号",
        "问题类别",
        "问题描述",
        "整改措施",
        "责任单位",
        "责任人",
        "整改时限",
        "整改进展",
        "完成情况",
        "销号时间",
    ),
    long_term="长期坚持",
    states=STATE_ZH,
    summary_columns=(
        "分组",
        "问题总数",
        "已销号",
        "未销号",
        "逾期未完成",
        "已作废",
        "整改完成率",
        "按期整改率",
    ),
    total="合计",
    no_rate="—",
    file_name="整改台账（{day}）",
)

EN = LedgerTexts(
    summary_sheet="Summary",
    overdue_sheet="Overdue",
    untagged_sheet="No tag",
    continued="{name} ({n})",
    title="{campaign}: rectification ledger",
    bare_title="Rectification ledger",
    as_of="As of",
    columns=(
        "No.",
        "Item",
        "Category",
        "Finding",
        "Measure",
        "Responsible unit",
        "Responsible person",
        "Deadline",
        "Progress",
        "Status",
        "Closed on",
    ),
    long_term="long-term",
    states=STATE_EN,
    summary_columns=(
        "Group",
        "Items found",
        "Closed",
        "Open",
        "Overdue",
        "Cancelled",
        "Closure rate",
        "On-time closure rate",
    ),
    total="Total",
    no_rate="—",
    file_name="rectification ledger ({day})",
)

LEDGER_TEXTS: dict[Language, LedgerTexts] = {"zh-CN": ZH, "en": EN}


@dataclass(frozen=True)
class VerifyTexts:
    """The verification workbook (核验销号表): its sheet, columns and verdict words.

    ``columns`` are, in order: 序号, the item's code, unit, finding, measure, deadline, the
    claim's evidence, the day completion was claimed (locked), then the verdict, the note and
    the second reviewer (the coordinator's to fill)."""

    sheet: str
    title: str  # the workbook's title property: "{campaign}核验销号表"
    bare_title: str
    columns: tuple[str, ...]
    close: str  # the verdict that closes (同意销号)
    give_back: str  # the verdict that returns (退回)
    long_term: str
    file_name: str  # "核验销号表（{day}）", without .xlsx
    prompt: str  # the dropdown's input message


ZH_VERIFY = VerifyTexts(
    sheet="核验销号表",
    title="{campaign}核验销号表",
    bare_title="核验销号表",
    columns=(
        "序号",
        "整改编号",
        "责任单位",
        "问题描述",
        "整改措施",
        "整改时限",
        "完成情况",
        "申请销号日期",
        "核验结论",
        "核验意见",
        "复核人",
    ),
    close="同意销号",
    give_back="退回",
    long_term="长期坚持",
    file_name="核验销号表（{day}）",
    prompt="请选择：同意销号 或 退回（退回须在核验意见中写明理由）",
)

EN_VERIFY = VerifyTexts(
    sheet="Verification",
    title="{campaign}: verification sheet",
    bare_title="Verification sheet",
    columns=(
        "No.",
        "Item",
        "Responsible unit",
        "Finding",
        "Measure",
        "Deadline",
        "Evidence",
        "Claimed on",
        "Verdict",
        "Note",
        "Second reviewer",
    ),
    close="close",
    give_back="return",
    long_term="long-term",
    file_name="verification sheet ({day})",
    prompt="Choose close or return (a return needs its reason under Note)",
)

VERIFY_TEXTS: dict[Language, VerifyTexts] = {"zh-CN": ZH_VERIFY, "en": EN_VERIFY}
