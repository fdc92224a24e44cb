"""What a unit reads in its template, in the campaign's language (zh-CN or en).

Kept apart from the layout code so wording can be reviewed and changed by someone who reads
the notice, not the openpyxl calls.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Texts:
    instructions_sheet: str
    deliverable: str
    period: str
    unit: str
    deadline: str
    how_to_submit: str
    how_to_submit_text: str
    how_to_fill: str
    how_to_fill_text: str
    contact: str
    contact_phone: str
    contact_email: str
    sheet_heading: str
    sheet_rows: str
    sheet_min_rows: str
    title_unit: str
    required: str
    optional: str
    separator: str
    text_max: str
    integer: str
    decimal: str
    between: str
    at_least: str
    at_most: str
    date: str
    choice: str
    list_separator: str
    email: str
    phone: str
    error_title: str
    error_prefix: str


ZH = Texts(
    instructions_sheet="填报说明",
    deliverable="报送材料",
    period="报送期次",
    unit="填报单位",
    deadline="截止时间",
    how_to_submit="报送方式",
    how_to_submit_text=(
        "填写完成后，请直接回复通知邮件，并将本文件作为附件发送。文件名可以修改；"
        "请勿重命名、删除或新增工作表，请勿修改表头（前两行），请勿增删列。"
    ),
    how_to_fill="填写要求",
    how_to_fill_text=(
        "表头为橙色的列为必填项，蓝色的列为选填项。选中单元格会显示填写提示；"
        "带下拉箭头的列请从列表中选择。日期请按 2026-03-05 的格式填写。"
    ),
    contact="联系人",
    contact_phone="电话：{phone}",
    contact_email="邮箱：{email}",
    sheet_heading="工作表「{name}」",
    sheet_rows="从第{first}行起每行填写一项，最多{max}行",
    sheet_min_rows="，至少填写{min}行",
    title_unit="填报单位：{unit}",
    required="必填",
    optional="选填",
    separator="；",
    text_max="不超过{n}个字",
    integer="整数",
    decimal="数字",
    between="，{low}至{high}",
    at_least="，不小于{low}",
    at_most="，不大于{high}",
    date="日期，如 2026-03-05",
    choice="从下拉列表中选择：{items}",
    list_separator="、",
    email="电子邮箱地址",
    phone="电话号码（手机或带区号的固定电话）",
    error_title="输入有误",
    error_prefix="请按要求填写：",
)

EN = Texts(
    instructions_sheet="Instructions",
    deliverable="Deliverable",
    period="Period",
    unit="Unit",
    deadline="Deadline",
    how_to_submit="How to submit",
    how_to_submit_text=(
        "When you are done, reply to the notice email with this file attached. You may rename "
        "the file, but do not rename, add or delete sheets, do not change the header (the first "
        "two rows) and do not add or remove columns."
    ),
    how_to_fill="How to fill in",
    how_to_fill_text=(
        "Columns with an orange header are required, blue ones are optional. Select a cell to "
        "see a hint; where a column has a drop-down arrow, pick a value from the list. Enter "
        "dates as 2026-03-05."
    ),
    contact="Contact",
    contact_phone="phone: {phone}",
    contact_email="email: {email}",
    sheet_heading="Sheet “{name}”",
    sheet_rows="One item per row from row {first}, up to {max} rows",
    sheet_min_rows=", at least {min}",
    title_unit="Unit: {unit}",
    required="required",
    optional="optional",
    separator="; ",
    text_max="at most {n} characters",
    integer="whole number",
    decimal="number",
    between=" from {low} to {high}",
    at_least=" of at least {low}",
    at_most=" of at most {high}",
    date="date, e.g. 2026-03-05",
    choice="pick from the list: {items}",
    list_separator=", ",
    email="email address",
    phone="phone number",
    error_title="Invalid entry",
    error_prefix="Please enter: ",
)

TEXTS = {"zh-CN": ZH, "en": EN}
