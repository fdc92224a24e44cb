from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from duban.errors import InvalidInputError
from duban.model.campaign import Language
from duban.model.roster import load_roster, split_list
from tests.conftest import EXAMPLE

CHINESE_HEADER = "单位编号,单位名称,标签,联系邮箱,负责人邮箱,分管领导邮箱\n"


def test_gb18030_csv_with_chinese_headers(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    text = CHINESE_HEADER + "T01,金城镇,镇区、重点镇,a@jt.example；b@jt.example,h@jt.example,\n"
    path.write_bytes(text.encode("gb18030"))  # as Excel saves CSV on a Chinese Windows
    [unit] = load_roster(path)
    assert unit.name == "金城镇"
    assert unit.tags == ("镇区", "重点镇")
    assert unit.emails == ("a@jt.example", "b@jt.example")
    assert unit.supervisor_email is None
    assert unit.has_address("A@JT.example")


def test_xlsx_roster(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "name", "tags", "emails"])
    sheet.append(["B01", "市委办公室", "市级机关", "office@jt.example"])
    sheet.append([None, None, None, None])  # blank rows are skipped
    sheet.append(["B02", "市政府办公室", None, "gov@jt.example"])
    book.save(tmp_path / "roster.xlsx")
    assert [u.id for u in load_roster(tmp_path / "roster.xlsx")] == ["B01", "B02"]


def test_every_bad_row_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(
        "id,name,emails\nT01,金城镇,not-an-email\nT01,儒林镇,r@jt.example\nT03,,z@jt.example\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError) as caught:
        load_roster(path)
    message = str(caught.value)
    assert "roster.csv row 2, column emails" in message
    assert "roster.csv row 4, column name" in message
    assert "unit id 'T01' appears twice" not in message  # row 2 was invalid, so no clash
    assert "2 problems" in message
    assert "(found 'not-an-email')" in message


def test_duplicate_ids_and_names(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(
        "id,name,emails\nT01,金城镇,a@jt.example\nT01,金城镇,b@jt.example\n", encoding="utf-8"
    )
    with pytest.raises(InvalidInputError) as caught:
        load_roster(path)
    assert "unit id 'T01' appears twice" in str(caught.value)
    assert "unit name '金城镇' appears twice" in str(caught.value)


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("编号,名称\nT01,金城镇\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="missing column"):
        load_roster(path)


def test_other_file_types_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "roster.txt"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"\.csv or \.xlsx"):
        load_roster(path)


def test_list_separators() -> None:
    assert split_list(" a; b，c、d , ") == ("a", "b", "c", "d")


# Roster files as offices save them (issue 13, item 8)

ROW = "T01,金城镇,镇区,a@jt.example,,\n"


def problems_of(path: Path, language: Language | None = None) -> str:
    """The problems listed, without the first line (which names the file's full path)."""
    with pytest.raises(InvalidInputError) as caught:
        load_roster(path) if language is None else load_roster(path, language)
    return str(caught.value).split("\n", 1)[1]


def test_gb18030_csv_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(("\ufeff" + CHINESE_HEADER + ROW).encode("gb18030"))
    assert path.read_bytes().startswith(b"\x84\x31\x95\x33")  # GB18030's own mark
    [unit] = load_roster(path)
    assert (unit.id, unit.name) == ("T01", "金城镇")


def test_gbk_csv_behind_a_utf8_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (CHINESE_HEADER + ROW).encode("gbk"))
    [unit] = load_roster(path)
    assert (unit.id, unit.name, unit.tags) == ("T01", "金城镇", ("镇区",))


def test_utf8_csv_with_a_byte_order_mark_and_a_title_row(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    text = "某某县参加单位名单,,,,,\n,,,,,\n" + CHINESE_HEADER + ROW + "T02,儒林镇,,bad@,,\n"
    path.write_bytes(text.encode("utf-8-sig"))
    assert problems_of(path) == (
        "  - roster.csv row 5, column 联系邮箱: "
        "not an email address; expected one like name@example.cn (found 'bad@')"
    )


def titled_workbook(path: Path, *rows: list[str | None]) -> Path:
    """A roster as an office keeps it: a merged title row, a blank row, then the header."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["某某县参加单位名单"])
    sheet.merge_cells("A1:D1")
    sheet.append([])
    sheet.append(["单位编号", "单位名称", "标签", "联系邮箱（多个用；分隔）"])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_xlsx_with_a_title_row_above_the_header(tmp_path: Path) -> None:
    path = titled_workbook(
        tmp_path / "roster.xlsx",
        ["T01", "金城镇", "镇区", "a@jt.example；b@jt.example"],
        ["T02", "儒林镇", None, "r@jt.example"],
    )
    units = load_roster(path)
    assert [(u.id, u.emails) for u in units] == [
        ("T01", ("a@jt.example", "b@jt.example")),
        ("T02", ("r@jt.example",)),
    ]


def test_a_bad_address_names_the_spreadsheet_row_the_label_and_the_value(tmp_path: Path) -> None:
    path = titled_workbook(
        tmp_path / "roster.xlsx",
        ["T01", "金城镇", "镇区", "a@jt.example"],
        ["T02", "儒林镇", None, "r@jt.example；r.jt.example"],
    )
    assert problems_of(path) == (
        "  - roster.xlsx row 5, column 联系邮箱（多个用；分隔）: 'r.jt.example' is not an email "
        "address; expected addresses like name@example.cn separated by ; or , "
        "(found 'r@jt.example；r.jt.example')"
    )
    assert problems_of(path, "zh-CN") == (
        "  - roster.xlsx 第5行“联系邮箱（多个用；分隔）”列: “r@jt.example；r.jt.example”中的"
        "“r.jt.example”不是有效的邮箱地址，应填写 name@example.cn 这样的地址，多个地址用；或，分隔"
    )


def test_a_duplicate_id_names_both_rows(tmp_path: Path) -> None:
    path = titled_workbook(
        tmp_path / "roster.xlsx",
        ["T01", "金城镇", None, "a@jt.example"],
        ["T02", "儒林镇", None, "r@jt.example"],
        ["T01", "后塍镇", None, "h@jt.example"],
    )
    assert problems_of(path) == "  - roster.xlsx rows 4 and 6: unit id 'T01' appears twice"
    assert problems_of(path, "zh-CN") == "  - roster.xlsx 第4行、第6行: 单位编号“T01”重复出现2次"


def test_a_missing_column_lists_the_headers_found(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("某某县参加单位名单,,\n编号,名称,邮件\nT01,金城镇,a@jt.example\n", "utf-8")
    assert problems_of(path) == (
        "  - roster.csv row 2: missing column(s) name, emails; headers found: 编号, 名称, 邮件; "
        "the header row must name id, name, emails (or 单位编号, 单位名称, 联系邮箱)"
    )
    assert problems_of(path, "zh-CN") == (
        "  - roster.csv 第2行: 缺少“单位名称”、“联系邮箱”列；找到的表头为：“编号”、“名称”、“邮件”。"
        "表头须包含单位编号、单位名称、联系邮箱（或 id、name、emails）"
    )


def test_unreadable_files_are_named_not_a_traceback(tmp_path: Path) -> None:
    csv_path = tmp_path / "roster.csv"
    csv_path.write_bytes(b"id,name,emails\nT01,\x81 ,a@jt.example\n")  # neither UTF-8 nor GBK
    assert problems_of(csv_path) == (
        "  - roster.csv: not UTF-8 or GB18030 text (byte 19); save it again as CSV"
    )
    xlsx_path = tmp_path / "roster.xlsx"
    xlsx_path.write_bytes(b"an .xls renamed, or a damaged download")
    assert problems_of(xlsx_path, "zh-CN") == (
        "  - roster.xlsx: 无法读取这个 .xlsx 工作簿，请用 Excel 或 WPS 打开后另存为 .xlsx"
    )


def test_a_name_used_three_times_names_every_row(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    rows = "".join(f"T0{n},金城镇,t{n}@jt.example\n" for n in (1, 2, 3))
    path.write_text("id,name,emails\n" + rows, encoding="utf-8")
    assert problems_of(path) == "  - roster.csv rows 2, 3 and 4: unit name '金城镇' appears 3 times"


# Line breaks in cells that become mail headers (issue 14, item 6)


def test_a_line_break_in_a_name_or_an_address_is_refused_with_its_row(tmp_path: Path) -> None:
    """The mail builder refuses a header holding a line break; validate says so first, naming
    the row, instead of the first mobilize failing on that unit."""
    path = titled_workbook(
        tmp_path / "roster.xlsx",
        ["T01", "金城镇\r\nBcc: x@evil.example", None, "a@jt.example"],
        ["T02", "儒林镇", None, "r@jt.example\nBcc: x@evil.example"],
        ["T03", "后塍镇", None, "h@jt.example\r\ni@jt.example"],  # an Alt+Enter between two
    )
    assert problems_of(path) == (
        "  - roster.xlsx row 4, column 单位名称: holds a line break (found '金城镇\\r\\nBcc: "
        "x@evil.example'); write it on one line\n"
        "  - roster.xlsx row 5, column 联系邮箱（多个用；分隔）: holds a line break (found "
        "'r@jt.example\\nBcc: x@evil.example'); write it on one line, several addresses "
        "separated by ; or ,\n"
        "  - roster.xlsx row 6, column 联系邮箱（多个用；分隔）: holds a line break (found "
        "'h@jt.example\\r\\ni@jt.example'); write it on one line, several addresses separated "
        "by ; or ,"
    )
    assert problems_of(path, "zh-CN").splitlines()[0] == (
        "  - roster.xlsx 第4行“单位名称”列: “单位名称”中有换行（填写的是“金城镇\\r\\nBcc: "
        "x@evil.example”），请写在一行内"
    )


def test_a_line_break_in_a_head_address_of_a_csv_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(
        'id,name,emails,head_email\nT01,"金城\u2028镇",a@jt.example,\n'
        'T02,儒林镇,r@jt.example,"h@jt.example\nBcc: x@evil.example"\n',
        encoding="utf-8",
    )
    assert problems_of(path, "zh-CN").splitlines() == [
        "  - roster.csv 第2行“name”列: “name”中有换行（填写的是“金城\\u2028镇”），请写在一行内",
        "  - roster.csv 第3行“head_email”列: “head_email”中有换行（填写的是“h@jt.example\\nBcc: "
        "x@evil.example”），请写在一行内，多个地址用；或，分隔",
    ]


def test_unit_of_address_answers_as_a_scan_of_the_roster(tmp_path: Path) -> None:
    """The bundle's address index gives the unit a scan with ``has_address`` finds first,
    for any case and outer spaces, and nothing for an unregistered address."""
    from dataclasses import replace

    from duban.model.loader import load_campaign

    path = tmp_path / "roster.csv"
    text = (
        CHINESE_HEADER + "T01,金城镇,,A@jt.example；shared@jt.example,,\n"
        "T02,银城镇,,b@jt.example；Shared@JT.example,,\n"
    )
    path.write_text(text, encoding="utf-8")
    units = tuple(load_roster(path))
    bundle = replace(load_campaign(EXAMPLE), units=units)
    for address in ("a@JT.example", " shared@jt.example ", "B@jt.example", "c@jt.example", ""):
        scan = next((u for u in units if address and u.has_address(address)), None)
        assert bundle.unit_of_address(address) == scan
    assert bundle.unit_of_address("SHARED@jt.example") == units[0]
    assert bundle.unit_of_address(None) is None
