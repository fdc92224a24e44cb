"""Why a received file was refused, as a stable code, and what a person should do about it.

The code is what the ledger stores and what tests assert on; the sentence from ``describe``
goes into the reply to the unit and the coordinator's intake report, so it names the next step
rather than the parser's complaint. ``is_hostile`` splits refusals in two: files built (or
likely built) to hurt whoever opens them are quarantined and never opened again; the rest are
honest mistakes, refused with advice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from duban.errors import DubanError

Detail = dict[str, str | int | float]
"""Facts behind a refusal (sizes, counts, the part concerned): small and JSON-serialisable."""

Language = Literal["zh-CN", "en"]

HOSTILE_CODES = frozenset(
    {
        "too-many-entries",
        "zip-bomb",
        "macros",
        "embedded-objects",
        "doctype",
        "nested-archive",
        "absurd-dimension",
        "absurd-shared-strings",
        "parser-crashed",
        "parser-timeout",
    }
)
"""Bombs, active content, entity tricks, absurd sizes and whatever killed or hung a parser."""

ADVICE_CODES = frozenset(
    {
        "empty",
        "too-large",
        "external-links",
        "encrypted",
        "xlsb",
        "not-a-workbook",
        "unreadable",
        "no-metadata",
    }
)
"""Honest mistakes: the unit can fix them by saving or sending the file differently."""

CODES = HOSTILE_CODES | ADVICE_CODES


class FileRejected(DubanError):  # noqa: N818 - the name the intake speaks of
    """A received file that duban will not read; ``code`` is one of ``CODES``.

    Raised by the pre-check before any parser runs and by the reader when a worker fails, and
    returned (not raised) by ``WorkbookReader.read_many`` so one bad file never stops a batch.
    """

    def __init__(self, code: str, detail: Mapping[str, str | int | float] | None = None) -> None:
        if code not in CODES:
            raise ValueError(f"unknown rejection code {code!r}")
        self.code = code
        self.detail: Detail = dict(detail or {})
        super().__init__(describe(code, self.detail, "en"))

    def __reduce__(self) -> tuple[type[FileRejected], tuple[str, Detail]]:
        """Pickle by code and detail: rejections travel back from worker processes."""
        return (FileRejected, (self.code, self.detail))

    def __repr__(self) -> str:
        return f"FileRejected({self.code!r}, {self.detail!r})"

    @property
    def hostile(self) -> bool:
        return is_hostile(self.code)


def is_hostile(code: str) -> bool:
    """True when the file is quarantined (kept, never opened again, coordinator alerted),
    false when it is refused with advice to the unit."""
    if code not in CODES:
        raise ValueError(f"unknown rejection code {code!r}")
    return code in HOSTILE_CODES


def describe(code: str, detail: Mapping[str, str | int | float], language: Language) -> str:
    """One or two sentences a unit and a coordinator can act on, in ``language``."""
    if code not in CODES:
        raise ValueError(f"unknown rejection code {code!r}")
    table = _ZH if language == "zh-CN" else _EN
    values = _Values(detail)
    if "kind" in values:
        values["kind"] = _kind_name(values["kind"], language)
    return table[_variant(code, detail)].format_map(values)


def _kind_name(kind: str, language: Language) -> str:
    names = _KINDS_ZH if language == "zh-CN" else _KINDS_EN
    return names.get(kind, kind)


def _variant(code: str, detail: Mapping[str, str | int | float]) -> str:
    """A few codes read better with a word about what exactly was found."""
    if code == "encrypted" and detail.get("what") == "archive":
        return "encrypted-archive"
    if code == "too-large" and "limit_mb" not in detail:
        return "too-large-plain"
    return code


class _Values(dict[str, str]):
    """Detail values for ``str.format_map``, with a readable stand-in for a missing key."""

    def __init__(self, detail: Mapping[str, str | int | float]) -> None:
        super().__init__({key: _text(value) for key, value in detail.items()})

    def __missing__(self, key: str) -> str:
        return "?"


def _text(value: str | int | float) -> str:
    if isinstance(value, float):
        return f"{value:.0f}" if value >= 10 else f"{value:.1f}"
    return str(value)


_KINDS_ZH = {
    "pdf": "PDF 文档",
    "other-ole": "Word 等旧版 Office 文档",
    "zip": "压缩包",
    "other": "非 Excel 文件",
    "encrypted": "加密文档",
}
_KINDS_EN = {
    "pdf": "a PDF document",
    "other-ole": "a legacy Office document such as Word",
    "zip": "an archive",
    "other": "not an Excel file",
    "encrypted": "an encrypted document",
}

_RESEND_ZH = "请用通知所附的模板填写，另存为 .xlsx 格式后重新发送。"
_RESEND_EN = (
    "Please fill in the template attached to the notice, save it as .xlsx and send it again."
)

_ZH: dict[str, str] = {
    "empty": "收到的文件是空的（0 字节），可能是上传未完成。请重新附上文件发送。",
    "too-large": "文件过大（{size_mb} MB，上限 {limit_mb} MB）。"
    "请删除表格中的图片等无关内容后重新发送。",
    "too-large-plain": "文件解压后内容过大，系统无法处理。请删除表格中的图片等无关内容后重新发送。",
    "too-many-entries": "文件内部结构异常（包含 {entries} 个部件），系统已隔离该文件。"
    + _RESEND_ZH,
    "zip-bomb": "文件解压后体积异常（压缩炸弹特征），系统已隔离该文件。" + _RESEND_ZH,
    "macros": "文件包含宏代码，出于安全考虑系统不予读取并已隔离。" + _RESEND_ZH,
    "external-links": "文件包含指向其他文件或数据源的外部链接。"
    "请删除外部链接（或复制后“选择性粘贴-数值”），另存为 .xlsx 后重新发送。",
    "embedded-objects": "文件中嵌入了对象或控件（如插入的文档、ActiveX 控件），"
    "出于安全考虑系统不予读取并已隔离。请删除嵌入对象后重新发送。",
    "doctype": "文件含有不安全的 XML 声明（DOCTYPE/ENTITY），系统已隔离该文件。" + _RESEND_ZH,
    "nested-archive": "压缩包中还套有压缩包，系统不予解压。"
    "请直接附上表格文件，或只压缩一层后重新发送。",
    "absurd-dimension": "表格的数据区域异常庞大（约 {rows} 行 × {cols} 列），"
    "超出本表可能的范围，系统已隔离该文件。请检查是否误填了远处的单元格，删除后重新发送。",
    "absurd-shared-strings": "文件内部的文本表声明异常（{count} 条），系统已隔离该文件。"
    + _RESEND_ZH,
    "encrypted": "文件设置了打开密码，系统无法读取。请取消密码后重新发送。",
    "encrypted-archive": "压缩包设置了密码，系统无法解压。请取消密码后重新发送。",
    "xlsb": "文件是 Excel 二进制工作簿（.xlsb），系统无法读取。"
    "请在 Excel 中“另存为” Excel 工作簿（*.xlsx）后重新发送。",
    "not-a-workbook": "附件不是 Excel 表格（识别为：{kind}）。请附上填写好的 .xlsx 文件重新发送。",
    "unreadable": "文件已损坏或格式不完整，系统无法读取。" + _RESEND_ZH,
    "parser-crashed": "读取该文件时解析程序异常终止，系统已隔离该文件。" + _RESEND_ZH,
    "parser-timeout": "读取该文件超时（超过 {seconds} 秒），系统已隔离该文件。" + _RESEND_ZH,
    "no-metadata": "文件中缺少系统识别信息（隐藏的 _duban 工作表），"
    "可能不是用本次通知所附模板填写的。" + _RESEND_ZH,
}

_EN: dict[str, str] = {
    "empty": "The file is empty (0 bytes); the upload may have failed. Please attach it again.",
    "too-large": "The file is too large ({size_mb} MB; the limit is {limit_mb} MB). Please remove "
    "pictures and other content the form does not need, and send it again.",
    "too-large-plain": "The file unpacks to more data than duban accepts. Please remove pictures "
    "and other content the form does not need, and send it again.",
    "too-many-entries": "The file is built abnormally ({entries} internal parts) and was "
    "quarantined. " + _RESEND_EN,
    "zip-bomb": "The file unpacks to an abnormal size (a zip bomb) and was quarantined. "
    + _RESEND_EN,
    "macros": "The file contains macros; for safety duban does not read it and quarantined it. "
    + _RESEND_EN,
    "external-links": "The file links to other files or data sources. Please remove the links "
    "(or paste the values only), save as .xlsx and send it again.",
    "embedded-objects": "The file contains embedded objects or controls (an inserted document, "
    "an ActiveX control); for safety duban does not read it and quarantined it. Please remove "
    "them and send it again.",
    "doctype": "The file contains unsafe XML declarations (DOCTYPE/ENTITY) and was quarantined. "
    + _RESEND_EN,
    "nested-archive": "The archive contains another archive, which duban does not unpack. "
    "Please attach the workbook itself, or zip it only once, and send it again.",
    "absurd-dimension": "The sheet's data area is implausibly large (about {rows} rows × {cols} "
    "columns) and the file was quarantined. Please check for values typed into far-away cells, "
    "delete them and send it again.",
    "absurd-shared-strings": "The file declares an implausible text table ({count} entries) and "
    "was quarantined. " + _RESEND_EN,
    "encrypted": "The file is protected by a password to open, so duban cannot read it. Please "
    "remove the password and send it again.",
    "encrypted-archive": "The archive is protected by a password, so duban cannot unpack it. "
    "Please remove the password and send it again.",
    "xlsb": "The file is an Excel binary workbook (.xlsb), which duban cannot read. Please save "
    "it as an Excel workbook (*.xlsx) and send it again.",
    "not-a-workbook": "The attachment is not an Excel workbook (found: {kind}). Please attach the "
    "filled-in .xlsx file and send it again.",
    "unreadable": "The file is damaged or incomplete and cannot be read. " + _RESEND_EN,
    "parser-crashed": "Reading this file crashed the parser; the file was quarantined. "
    + _RESEND_EN,
    "parser-timeout": "Reading this file took longer than {seconds} seconds; the file was "
    "quarantined. " + _RESEND_EN,
    "no-metadata": "The file lacks duban's identification sheet (the hidden _duban sheet); it "
    "was probably not made from the template attached to the notice. " + _RESEND_EN,
}
