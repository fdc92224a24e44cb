from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from duban.errors import InvalidInputError
from duban.model.roster import load_roster, split_list

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
