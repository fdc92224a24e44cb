"""The inspector register (检查人员名录) is read like the roster: CSV as Excel or WPS save it, or
XLSX; units written as roster ids or names; every problem named by row and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from duban.errors import InvalidInputError
from duban.model.inspectors import Inspector, load_inspectors
from duban.model.roster import Unit

ROSTER = [
    Unit(id="T01", name="金城镇", emails=("t01@jt.example",)),
    Unit(id="T02", name="儒林镇", emails=("t02@jt.example",)),
    Unit(id="B01", name="市委办公室", emails=("b01@jt.example",)),
]


def test_chinese_headers_in_gb18030_with_unit_names(tmp_path: Path) -> None:
    path = tmp_path / "inspectors.csv"
    text = (
        "某某市督查检查人员名录\n"  # a title row above the header
        "编号*,姓名,所在单位,标签,回避单位（多个用、分隔）,联系邮箱\n"
        "I01,张三,金城镇,纪检、财务,儒林镇、B01,zhang@jt.example\n"
        "I02,李四,,,,\n"
    )
    path.write_bytes(text.encode("gb18030"))
    first, second = load_inspectors(path, ROSTER)
    assert first == Inspector("I01", "张三", "T01", ("纪检", "财务"), frozenset({"T02", "B01"}))
    assert first.emails == ("zhang@jt.example",)
    assert second == Inspector("I02", "李四")


def test_xlsx_register(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "name", "unit", "conflicts"])
    sheet.append(["I01", "张三", "T01", "T02 B01"])
    book.save(tmp_path / "inspectors.xlsx")
    [inspector] = load_inspectors(tmp_path / "inspectors.xlsx", ROSTER)
    assert inspector.conflicts == {"T02", "B01"}


def test_every_problem_is_named_by_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "inspectors.csv"
    path.write_text(
        "编号,姓名,所在单位,回避单位,联系邮箱\n"
        "I01,张三,金城乡,,\n"  # a mistyped unit would let them inspect their own unit
        "I 02,,T01、T02,X99,not-an-email\n"
        "I01,王五,,,\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError) as caught:
        load_inspectors(path, ROSTER)  # read in English; the Chinese is beside it
    assert str(caught.value.problems[0]) == (
        "inspectors.csv row 2, column 所在单位: '金城乡' is neither a unit id nor a unit name "
        "of the roster"
    )
    said = caught.value.details("zh-CN")
    assert said == [
        "inspectors.csv 第2行“所在单位”列：“金城乡”不是名单中的单位编号或单位名称",
        "inspectors.csv 第3行“姓名”列：“姓名”不能为空",
        "inspectors.csv 第3行“编号”列：编号“I 02”不符合要求：只能使用字母、数字和 _ . -，"
        "以字母或数字开头，不超过64个字符",
        "inspectors.csv 第3行“所在单位”列：只能填写一个单位，即检查人员本人所在单位"
        "（填写的是“T01、T02”）",
        "inspectors.csv 第3行“回避单位”列：“X99”不是名单中的单位编号或单位名称",
        "inspectors.csv 第3行“联系邮箱”列：“not-an-email”不是有效的邮箱地址，"
        "应填写 name@example.cn 这样的地址，多个地址用；或，分隔",
    ]
    assert len(said) == 6  # row 4's I01 is no clash: row 2 was refused


def test_duplicate_ids_and_a_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "inspectors.csv"
    path.write_text("id,name\nI01,张三\nI01,李四\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        load_inspectors(path, ROSTER)
    [twice] = caught.value.problems
    assert str(twice) == "inspectors.csv rows 2 and 3: inspector id 'I01' appears twice"
    path.write_text("id,单位\nI01,T01\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        load_inspectors(path, ROSTER)
    assert "missing column(s) name; headers found: id, 单位" in str(caught.value)
