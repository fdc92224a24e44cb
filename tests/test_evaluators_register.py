"""The evaluator register (评议人名录, issue 17) is read like the inspector register: CSV as
Excel or WPS save it, or XLSX; units written as roster ids or names; categories those the
scoring's public evaluation weighs; every problem named by row and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from duban.errors import InvalidInputError
from duban.model.evaluators import Evaluator, load_evaluators
from duban.model.loader import CampaignBundle, load_campaign
from duban.model.roster import Unit
from duban.model.scoring import Scoring

ROSTER = [
    Unit(id="T01", name="金城镇", tags=("镇区",), emails=("t01@jt.example",)),
    Unit(id="T02", name="儒林镇", tags=("镇区",), emails=("t02@jt.example",)),
    Unit(id="B01", name="市委办公室", tags=("市级机关",), emails=("b01@jt.example",)),
    Unit(id="B02", name="市行政审批局", tags=("市级机关", "窗口单位"), emails=("b02@jt.example",)),
]
SCORING = Scoring.model_validate(
    {
        "sources": [
            {"id": "timeliness", "title": "报送及时率", "weight": 50},
            {
                "id": "public-evaluation", "title": "民主评议", "weight": 50,
                "ballots": {"categories": {"党代表": 40, "企业": 30, "服务对象": 30}},
            },
        ],
        "groups": [
            {"id": "towns", "title": "镇区", "tags": ["镇区"]},
            {"id": "departments", "title": "市级机关", "tags": ["市级机关"]},
        ],
    }
)  # fmt: skip


def test_chinese_headers_in_gb18030_with_groups_tags_and_units(tmp_path: Path) -> None:
    path = tmp_path / "evaluators.csv"
    text = (
        "某某市民主评议评议人名录\n"  # a title row above the header
        "编号*,姓名,类别,所在单位,测评范围,联系邮箱\n"
        "E01,周建国,党代表,金城镇,,zhou@jt.example\n"
        "E02,朱建平,企业,,窗口单位、towns,zhu@jt.example\n"
        "E03,何玉兰,服务对象,,市级机关 金城镇,he@jt.example\n"
        "E04,吕卫民,服务对象,T01,全部,lv@jt.example\n"
    )
    path.write_bytes(text.encode("gb18030"))
    first, second, third, fourth = load_evaluators(path, ROSTER, SCORING)
    assert first == Evaluator("E01", "周建国", "zhou@jt.example", "党代表", "T01")
    assert [u.id for u in first.rated(ROSTER)] == ["T02", "B01", "B02"]  # never its own
    assert second.rates == frozenset({"B02", "T01", "T02"})
    assert third.rates == frozenset({"B01", "B02", "T01"})  # a group's title, and a unit by name
    assert fourth.rates is None
    assert [u.id for u in fourth.rated(ROSTER)] == ["T02", "B01", "B02"]


def test_xlsx_register(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "name", "category", "unit", "rates", "email"])
    sheet.append(["E01", "周建国", "党代表", "B01", "departments", "zhou@jt.example"])
    book.save(tmp_path / "evaluators.xlsx")
    [evaluator] = load_evaluators(tmp_path / "evaluators.xlsx", ROSTER, SCORING)
    assert [u.id for u in evaluator.rated(ROSTER)] == ["B02"]


def test_every_problem_is_named_by_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "evaluators.csv"
    path.write_text(
        "编号,姓名,类别,所在单位,测评范围,联系邮箱\n"
        "E01,周建国,人大代表,金城乡,,zhou@jt.example\n"  # a category the scoring does not weigh
        "E 02,,企业,T01、T02,村镇,not-an-email\n"
        "E03,何玉兰,,B01,市委办公室,he@jt.example;he2@jt.example\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError) as caught:
        load_evaluators(path, ROSTER, SCORING)  # read in English; the Chinese is beside it
    assert str(caught.value.problems[0]) == (
        "evaluators.csv row 2, column 类别: '人大代表' is not a category of the public "
        "evaluation; categories are 党代表、企业、服务对象"
    )
    said = caught.value.details("zh-CN")
    assert said == [
        "evaluators.csv 第2行“类别”列：“人大代表”不是民主评议的评议类别，"
        "现有类别：党代表、企业、服务对象",
        "evaluators.csv 第2行“所在单位”列：“金城乡”不是名单中的单位编号或单位名称",
        "evaluators.csv 第3行“姓名”列：“姓名”不能为空",
        "evaluators.csv 第3行“编号”列：编号“E 02”不符合要求：只能使用字母、数字和 _ . -，"
        "以字母或数字开头，不超过64个字符",
        "evaluators.csv 第3行“所在单位”列：只能填写一个单位，即评议人本人所在单位"
        "（填写的是“T01、T02”）",
        "evaluators.csv 第3行“测评范围”列：“村镇”既不是“全部”，也不是考核排名分组、名单中的标签，"
        "或单位编号、单位名称",
        "evaluators.csv 第3行“联系邮箱”列：“not-an-email”不是有效的邮箱地址，"
        "应填写 name@example.cn 这样的一个地址",
        "evaluators.csv 第4行“类别”列：“类别”不能为空",
        "evaluators.csv 第4行“测评范围”列：没有可测评的单位：“市委办公室”只含评议人本人所在单位，"
        "而评议人不测评本单位",
        "evaluators.csv 第4行“联系邮箱”列：只能填写一个邮箱，即接收本人测评表的邮箱"
        "（填写的是“he@jt.example;he2@jt.example”）",
    ]


def test_duplicate_ids_and_addresses_and_a_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "evaluators.csv"
    path.write_text(
        "id,name,category,email\nE01,张三,企业,a@jt.example\nE01,李四,企业,A@jt.example\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError) as caught:
        load_evaluators(path, ROSTER, SCORING)
    assert [str(p) for p in caught.value.problems] == [
        "evaluators.csv rows 2 and 3: evaluator id 'E01' appears twice",
        "evaluators.csv rows 2 and 3: address 'a@jt.example' appears twice; each evaluator "
        "needs their own (one ballot counts per evaluator)",
    ]
    path.write_text("id,name,email\nE01,张三,a@jt.example\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        load_evaluators(path, ROSTER, SCORING)  # categories declared: the column is needed
    assert "missing column(s) category; headers found: id, name, email" in str(caught.value)
    [evaluator] = load_evaluators(path, ROSTER, Scoring())  # one pool: no category needed
    assert evaluator.category == ""


def test_the_example_campaign_names_its_register(example_bundle: CampaignBundle) -> None:
    evaluators = example_bundle.evaluators
    assert len(evaluators) == 15
    categories = {e.category for e in evaluators}
    assert categories == {"党代表", "人大代表", "政协委员", "企业", "服务对象"}
    for evaluator in evaluators:
        rated = evaluator.rated(example_bundle.units)
        assert rated
        assert evaluator.unit_id not in {u.id for u in rated}


def test_the_campaign_reports_its_registers_problems_in_its_language(example_copy: Path) -> None:
    register = example_copy.parent / "evaluators.csv"
    register.write_text(
        register.read_text(encoding="utf-8").replace("E02,吴秀英,党代表", "E02,吴秀英,党员"),
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError) as caught:
        load_campaign(example_copy)
    [problem] = caught.value.problems
    assert problem.where == "evaluators.csv 第3行“类别”列"
    assert problem.message.startswith("“党员”不是民主评议的评议类别")
