"""What the office and the units print: the templates, the summary workbook and the bulletin
converted to PDF by LibreOffice headless, their pages counted and read; and the bulletin's
issue number (期数), counted per campaign in the ledger (SQLite and PostgreSQL).

The page counts depend on the fonts: `make services` installs fonts-noto-cjk (and LibreOffice),
so a clean machine counts the same pages; the tests say so when they are missing rather than
count pages set in a fallback font.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import docx
import pypdf
import pytest
from sqlalchemy import Engine, select

from duban.adapters.render import environment
from duban.adapters.xlsx.template import build_master
from duban.clock import FixedClock
from duban.compile.bulletin import write_bulletin_docx
from duban.compile.outputs import compile_outputs
from duban.compile.workbook import write_summary
from duban.ledger.db import make_engine, migrate, session_scope
from duban.ledger.schema import BulletinIssueRow
from duban.ledger.store import register
from duban.model.loader import CampaignBundle
from tests.test_compile_outputs import make_input
from tests.test_xlsx_template import context_for

A4_PORTRAIT, A4_LANDSCAPE = (595, 842), (842, 595)


def _pdfs(files: list[Path], folder: Path) -> dict[str, pypdf.PdfReader]:
    """Every file as LibreOffice prints it, in one run with a profile of its own (parallel
    runs would otherwise share, and lock, the user's)."""
    soffice = shutil.which("soffice")
    assert soffice is not None, "LibreOffice is installed by `make services`"
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
    assert "Noto" in fonts.stdout, "fonts-noto-cjk is installed by `make services`"
    subprocess.run(
        [soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
         "--convert-to", "pdf", "--outdir", str(folder / "pdf"), *map(str, files)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return {f.name: pypdf.PdfReader(folder / "pdf" / f"{f.stem}.pdf") for f in files}


def sizes(pdf: pypdf.PdfReader) -> list[tuple[int, int]]:
    return [(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in pdf.pages]


def flat(pdf: pypdf.PdfReader, page: int) -> str:
    """A page's text without the line breaks and spaces a layout puts in."""
    return "".join(pdf.pages[page].extract_text().split())


@pytest.fixture(scope="module")
def printed(
    example_bundle: CampaignBundle, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, pypdf.PdfReader]:
    folder = tmp_path_factory.mktemp("printed")
    files = []
    for form in example_bundle.campaign.forms:
        path = folder / f"template-{form.id}.xlsx"
        path.write_bytes(build_master(form, context_for(example_bundle)))
        files.append(path)
    data = make_input(example_bundle.campaign.form("plan"))
    write_summary(data, folder / "summary.xlsx")
    write_bulletin_docx(make_input(data.form), folder / "bulletin.docx", number="第1期")
    return _pdfs([*files, folder / "summary.xlsx", folder / "bulletin.docx"], folder)


@pytest.mark.parametrize("form_id", ["plan", "progress", "rectification", "summary"])
def test_each_template_sheet_prints_on_one_page(
    printed: dict[str, pypdf.PdfReader], example_bundle: CampaignBundle, form_id: str
) -> None:
    """The instructions on one portrait page, the empty form on one page: a sheet two pages
    wide would print its last columns on pages of their own."""
    pdf = printed[f"template-{form_id}.xlsx"]
    [sheet] = example_bundle.campaign.form(form_id).sheets
    wide = form_id != "summary"  # 总结 has two columns, which fit portrait
    assert sizes(pdf) == [A4_PORTRAIT, A4_LANDSCAPE if wide else A4_PORTRAIT]
    instructions, form = flat(pdf, 0), flat(pdf, 1)
    assert "“能力作风建设提升年”" in instructions
    assert "请勿增删列。" in instructions  # the last words of a wrapped instruction
    assert all(column.label in form for column in sheet.columns)
    assert "第2页，共2页" in form


def test_the_summary_workbook_prints_readable(printed: dict[str, pypdf.PdfReader]) -> None:
    """Overview and units one page each, the 93 detail rows on four landscape pages, each
    headed by the header row, the unit first and the received time last (no hash)."""
    pdf = printed["summary.xlsx"]
    assert sizes(pdf) == [A4_LANDSCAPE] * 6
    assert "《实施方案》汇总表" in flat(pdf, 0)
    assert "单位编号" in flat(pdf, 1)
    for page in range(2, 6):
        text = flat(pdf, page)
        assert text.startswith("单位编号单位名称版本工作类别"), text[:40]
        assert "完成时限收到时间" in text
        assert "SHA-256" not in text


def test_the_bulletin_prints_on_three_pages(printed: dict[str, pypdf.PdfReader]) -> None:
    pdf = printed["bulletin.docx"]
    assert sizes(pdf) == [A4_PORTRAIT] * 3
    assert "第1期" in flat(pdf, 0)
    assert "■按时报送18" in "".join(flat(pdf, p) for p in range(3))
    assert flat(pdf, 2).endswith("2026年3月12日")


# --------------------------------------------------------------------- the issue number


@pytest.fixture
def office(ledger_url: str, example_bundle: CampaignBundle) -> Iterator[Engine]:
    engine = make_engine(ledger_url)
    migrate(engine)
    with session_scope(engine) as session:
        register(session, example_bundle, FixedClock(datetime(2026, 2, 9, tzinfo=UTC)))
    yield engine
    engine.dispose()


def test_issue_numbers_are_counted_per_campaign_and_kept(
    office: Engine, example_bundle: CampaignBundle, tmp_path: Path
) -> None:
    def compiled(deliverable: str, period: str, day: int) -> str:
        as_of = datetime(2026, 10, day, 2, tzinfo=UTC)
        clock = FixedClock(as_of)
        result = compile_outputs(office, example_bundle, deliverable, period, as_of=as_of,
                                 out=tmp_path, env=environment(), clock=clock)  # fmt: skip
        with zipfile.ZipFile(result.docx) as z:
            assert f"第{result.issue}期".encode() in z.read("word/document.xml")
        assert f"第{result.issue}期" in result.bulletin.html
        text = "\n".join(p.text for p in docx.Document(str(result.docx)).paragraphs)
        return text.split("\n")[1].split("　")[0]

    assert compiled("plan", "once", 8) == "第1期"
    assert compiled("progress", "2026-Q1", 9) == "第2期"
    assert compiled("plan", "once", 12) == "第1期"  # compiled again: the same number
    assert compiled("progress", "2026-Q2", 13) == "第3期"
    with session_scope(office) as session:
        rows = session.scalars(select(BulletinIssueRow).order_by(BulletinIssueRow.number)).all()
        assert [(r.deliverable_id, r.period, r.number) for r in rows] == [
            ("plan", "once", 1),
            ("progress", "2026-Q1", 2),
            ("progress", "2026-Q2", 3),
        ]
        assert rows[0].issued_at == datetime(2026, 10, 8, 2, tzinfo=UTC)
