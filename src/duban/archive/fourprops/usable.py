"""可用性 (usable): every payload file's format identified and the file read through by an open
tool (see ``formats``); a ledger CSV against its JSON Schema's columns."""

from __future__ import annotations

import json

from duban.archive.fourprops.bagview import BagView
from duban.archive.fourprops.formats import read
from duban.archive.fourprops.model import Check


def checks(view: BagView) -> list[Check]:
    check = Check("formats", "识别每个内容文件的格式，并用开放工具完整读取（Office 文件为含 "
                  "[Content_Types].xml 和主体部件的完好 zip，邮件用标准库解析，CSV 对照其 JSON "
                  "Schema 的列，JSON 与 JSON Lines 逐行解析，文本按 UTF-8 解码）；PDF 与图片只识别",
                  "every payload file's format identified and the file read through by an open "
                  "tool (Office files: a sound zip with [Content_Types].xml and the main part; "
                  "mail: the stdlib email parser; CSV: against its JSON Schema's columns; JSON "
                  "and JSON lines parsed; text decoded as UTF-8); PDF and images only "
                  "identified")  # fmt: skip
    for relative, path in view.files():
        check.items += 1
        reading = read(path, _columns(view, relative))
        check.count(f"{reading.format} {reading.status}")
        if reading.status == "unreadable":
            check.fail(
                relative, f"{reading.format}: {reading.en}", f"{reading.format}：{reading.zh}"
            )
    return [check]


def _columns(view: BagView, relative: str) -> list[str] | None:
    schema = view.root / (relative.removesuffix(".csv") + ".schema.json")
    if not relative.endswith(".csv") or not schema.is_file():
        return None
    try:
        return list(json.loads(schema.read_text(encoding="utf-8"))["properties"])
    except (ValueError, KeyError, TypeError):
        return []  # a schema that does not say its columns: the CSV cannot match it
