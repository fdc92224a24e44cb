"""Received files: sniffing by content, the pre-check, archives and isolated reading.

Every fixture is generated here: a real duban template filled with openpyxl, its LibreOffice
re-saves (xlsx, xls, ods), and a corpus of hostile files built byte by byte.
"""

from __future__ import annotations

import io
import os
import pickle
import re
import shutil
import signal
import struct
import subprocess
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from duban.adapters.xlsx import sign
from duban.adapters.xlsx.layout import METADATA_KEYS, METADATA_SHEET
from duban.adapters.xlsx.metadata import read_metadata
from duban.adapters.xlsx.template import MasterTemplate, TemplateContext, build_master
from duban.implement.intake.archive import unpack_archive
from duban.implement.intake.cfb import root_names
from duban.implement.intake.limits import Limits
from duban.implement.intake.parse import ParsedWorkbook, parse_workbook
from duban.implement.intake.precheck import precheck
from duban.implement.intake.reader import WorkbookReader
from duban.implement.intake.reasons import CODES, FileRejected, Language, describe, is_hostile
from duban.implement.intake.sniff import Kind, sniff
from duban.model.loader import CampaignBundle
from duban.model.validation import validate_workbook

SECRET = b"0123456789abcdef-intake-secret"
DATA_SHEET = "实施方案"
ROWS = 50
SOFFICE = shutil.which("soffice")
needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is absent")


# --- a real template, filled ---------------------------------------------------------------


def context_for(bundle: CampaignBundle) -> TemplateContext:
    campaign = bundle.campaign
    coordinator = campaign.roles.coordinator
    return TemplateContext(
        language="zh-CN",
        campaign_id=campaign.id,
        campaign_title=campaign.title,
        deliverable_id="plan",
        deliverable_title="实施方案",
        period="once",
        due_text="2026年3月5日（星期四）24:00前",
        coordinator_name=coordinator.name,
        coordinator_email=str(coordinator.email),
        coordinator_phone=coordinator.phone,
    )


@pytest.fixture(scope="module")
def template(example_bundle: CampaignBundle) -> bytes:
    """The personalised, unfilled workbook unit T01 receives."""
    form = next(f for f in example_bundle.campaign.forms if f.id == "plan")
    master = MasterTemplate(build_master(form, context_for(example_bundle)))
    return master.personalise("T01", "金城镇", sign(SECRET, master.identity("T01")))


def fill(template: bytes, rows: int = ROWS) -> bytes:
    """What a unit sends back: the template with ``rows`` rows typed in, saved by openpyxl."""
    wb = openpyxl.load_workbook(io.BytesIO(template))
    ws = wb[DATA_SHEET]
    assert isinstance(ws, Worksheet)
    for n in range(rows):
        row = 3 + n
        ws.cell(row, 1, "教育培训" if n % 2 else "作风整顿")
        ws.cell(row, 2, f"第{n + 1}项工作任务")
        ws.cell(row, 3, "组织全体干部职工开展专题学习，" * 2)
        ws.cell(row, 4, "办公室")
        ws.cell(row, 5, "张三")
        ws.cell(row, 6, 13800000000 + n)  # typed as a number, as units do
        ws.cell(row, 7, date(2026, 3, 1 + n % 28))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def filled(template: bytes) -> bytes:
    return fill(template)


@pytest.fixture(scope="module")
def reader() -> Iterator[WorkbookReader]:
    with WorkbookReader(workers=2) as shared:
        yield shared


def check_filled(parsed: ParsedWorkbook, expected_metadata: dict[str, str]) -> None:
    """The grid and metadata every producer's copy of the filled template must give."""
    assert parsed.metadata == expected_metadata
    assert METADATA_SHEET in parsed.sheets  # hidden sheets are included
    grid = parsed.sheets[DATA_SHEET]
    assert len(grid) == 2 + ROWS
    assert grid[1][:2] == ["工作类别", "工作任务"]
    assert [row[1] for row in grid[2:]] == [f"第{n + 1}项工作任务" for n in range(ROWS)]
    assert grid[2][5] == 13800000000  # a float from calamine, kept raw
    typed = grid[2][6]  # a date, or a datetime at midnight (xls)
    assert isinstance(typed, date)
    assert (typed.year, typed.month, typed.day) == (2026, 3, 1)
    assert grid[0][1] is None  # inside the merged title: empty cells are None


def test_a_filled_template_reads_back_with_its_metadata(
    filled: bytes, reader: WorkbookReader
) -> None:
    assert sniff(filled, "实施方案.xlsx") is Kind.XLSX
    precheck(filled, Kind.XLSX)
    parsed = reader.read(filled, Kind.XLSX)
    assert parsed.kind is Kind.XLSX
    check_filled(parsed, read_metadata(filled))
    assert list(parsed.require_metadata()) == list(METADATA_KEYS)
    assert parsed.metadata is not None
    assert parsed.metadata["unit_name"] == "金城镇"
    assert list(parsed.sheets)[-1] == METADATA_SHEET


def test_workers_for_a_campaign_validate_as_the_intake_process_would(
    example_bundle: CampaignBundle, template: bytes, filled: bytes
) -> None:
    """The workers check each workbook against the form its metadata names; the result is the
    one ``validate_workbook`` gives in this process, problems and normalised rows alike."""
    wb = openpyxl.load_workbook(io.BytesIO(filled))
    wb[DATA_SHEET]["G5"] = "下个月"  # not a date
    wb[DATA_SHEET]["A6"] = None  # a required choice left empty
    broken = io.BytesIO()
    wb.save(broken)
    form = example_bundle.campaign.form("plan")

    with WorkbookReader.for_campaign(example_bundle.campaign, workers=1) as reader:
        results = reader.read_many([(filled, Kind.XLSX), (broken.getvalue(), Kind.XLSX),
                                    (template, Kind.XLSX)])  # fmt: skip

    for result in results:
        assert isinstance(result, ParsedWorkbook)
        assert result.prevalidated is not None
        assert result.prevalidated.deliverable_id == "plan"
        assert result.prevalidated.template_version == "1"
        here = validate_workbook(form, result.sheets, "1")
        assert result.prevalidated.checked == here
    good, bad, empty = (
        r.prevalidated.checked for r in results if isinstance(r, ParsedWorkbook) and r.prevalidated
    )
    assert good.valid
    assert good.row_count == ROWS
    assert [(p.cell, p.code) for p in bad.problems] == [("G5", "date"), ("A6", "required")]
    assert [p.code for p in empty.problems] == ["min_rows"]


def test_workers_without_forms_leave_validation_to_the_intake_process(
    filled: bytes, reader: WorkbookReader
) -> None:
    parsed = reader.read(filled, Kind.XLSX)
    assert parsed.prevalidated is None


def test_rows_past_a_false_dimension_are_not_lost(filled: bytes, reader: WorkbookReader) -> None:
    lying = patch_sheet(
        filled, lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:B2"/>', xml)
    )
    precheck(lying, Kind.XLSX)
    assert len(reader.read(lying, Kind.XLSX).sheets[DATA_SHEET]) == 2 + ROWS


def test_a_workbook_without_metadata_says_so(reader: WorkbookReader) -> None:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "随便一个表"  # type: ignore[index]
    out = io.BytesIO()
    wb.save(out)
    parsed = reader.read(out.getvalue(), Kind.XLSX)
    assert parsed.metadata is None
    with pytest.raises(FileRejected) as caught:
        parsed.require_metadata()
    assert caught.value.code == "no-metadata"
    assert not is_hostile("no-metadata")


# --- the same workbook saved by LibreOffice ------------------------------------------------


@pytest.fixture(scope="module")
def resaved(filled: bytes, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The filled workbook re-saved by LibreOffice as xlsx, xls and ods."""
    folder = tmp_path_factory.mktemp("libreoffice")
    source = folder / "source" / "实施方案.xlsx"
    source.parent.mkdir()
    source.write_bytes(filled)
    profile = (folder / "profile").as_uri()
    copies: dict[str, bytes] = {}
    for fmt in ("xlsx", "xls", "ods"):
        out = folder / fmt
        assert SOFFICE is not None
        subprocess.run(
            [
                SOFFICE,
                f"-env:UserInstallation={profile}",
                "--headless",
                "--convert-to",
                fmt,
                "--outdir",
                str(out),
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
        copies[fmt] = (out / f"实施方案.{fmt}").read_bytes()
    return copies


@needs_soffice
@pytest.mark.parametrize(
    ("fmt", "kind"), [("xlsx", Kind.XLSX), ("xls", Kind.XLS), ("ods", Kind.ODS)]
)
def test_libreoffice_copies_read_like_the_original(
    resaved: dict[str, bytes], filled: bytes, reader: WorkbookReader, fmt: str, kind: Kind
) -> None:
    data = resaved[fmt]
    assert sniff(data, f"实施方案.{fmt}") is kind
    assert sniff(data, "改了名字.xlsx") is kind  # the name never decides
    precheck(data, kind)
    parsed = reader.read(data, kind)
    assert parsed.kind is kind
    check_filled(parsed, read_metadata(filled))


# --- sniffing by content --------------------------------------------------------------------


def test_renamed_files_sniff_by_content(filled: bytes) -> None:
    assert sniff(filled, "实施方案.xls") is Kind.XLSX
    assert sniff(filled, "实施方案.pdf") is Kind.XLSX
    assert sniff(filled, None) is Kind.XLSX
    assert sniff(compound_file(["Workbook"]), "实施方案.xlsx") is Kind.XLS
    assert sniff(compound_file(["Book"]), None) is Kind.XLS  # Excel 95
    assert sniff(minimal_ods(b"<table:table-row/>"), "表.xlsx") is Kind.ODS
    assert sniff(compound_file(["EncryptionInfo", "EncryptedPackage"]), "a.xlsx") is Kind.ENCRYPTED
    assert sniff(compound_file(["WordDocument", "1Table"]), "a.xls") is Kind.OTHER_OLE
    assert sniff(b"%PDF-1.7\n...", "a.xlsx") is Kind.PDF
    assert sniff(b"\x00\x01garbage" * 100, "a.xlsx") is Kind.OTHER
    assert sniff(zip_of({"报送材料/进展.xlsx": filled}), "a.xlsx") is Kind.ZIP


def test_a_macro_enabled_workbook_sniffs_as_xlsm(filled: bytes) -> None:
    ooxml = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    macro_enabled = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    xlsm = with_members(
        filled, {"[Content_Types].xml": lambda xml: xml.replace(ooxml, macro_enabled)}
    )
    assert sniff(xlsm, "a.xlsx") is Kind.XLSM
    precheck(xlsm, Kind.XLSM)  # macro-enabled but without macros: nothing to refuse


def test_a_damaged_zip_is_a_workbook_only_by_its_name(filled: bytes) -> None:
    cut = filled[: len(filled) // 2]
    assert sniff(cut, "实施方案.xlsx") is Kind.XLSX
    assert sniff(cut, "材料.zip") is Kind.OTHER
    with pytest.raises(FileRejected) as caught:
        precheck(cut, Kind.XLSX)
    assert caught.value.code == "unreadable"


# --- the hostile corpus ----------------------------------------------------------------------


def zip_bomb(filled: bytes) -> bytes:
    """A workbook carrying a picture that unpacks to 150 MB of zeros."""
    return with_members(filled, add={"xl/media/image1.png": zeros(150 * 2**20)})


def ratio_bomb(filled: bytes) -> bytes:
    """Under the total cap, but 20 MB from 20 KB."""
    return with_members(filled, add={"xl/media/image1.png": zeros(20 * 2**20)})


def far_cell(filled: bytes) -> bytes:
    """NOTES.md: A1 plus XFD1048576 made calamine ask for 512 GiB."""
    return patch_sheet(
        filled,
        lambda xml: xml.replace(
            b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
        ),
    )


def far_dimension(filled: bytes) -> bytes:
    return patch_sheet(
        filled,
        lambda xml: re.sub(
            rb"<dimension ref=\"[^\"]*\"/>", b'<dimension ref="A1:XFD1048576"/>', xml
        ),
    )


def far_cell_without_refs(filled: bytes) -> bytes:
    """The same reach by a row reference alone, its cell placed there by position."""
    return patch_sheet(
        filled,
        lambda xml: xml.replace(
            b"</sheetData>", b'<row r="1048576"><c><v>1</v></c></row></sheetData>'
        ),
    )


def forged_shared_strings(template: bytes) -> bytes:
    """NOTES.md: a count forged to 4e9 made calamine ask for 96 GB."""
    return with_members(
        template,
        {
            "xl/sharedStrings.xml": lambda xml: re.sub(
                rb'uniqueCount="\d+"', b'uniqueCount="4000000000"', xml
            )
        },
    )


def entity_declaration(filled: bytes) -> bytes:
    return with_members(
        filled,
        {
            "xl/workbook.xml": lambda xml: xml.replace(
                b"<workbook", b'<!DOCTYPE workbook [<!ENTITY lol "lol">]><workbook', 1
            )
        },
    )


def with_macros(filled: bytes) -> bytes:
    return with_members(filled, add={"xl/vbaProject.bin": compound_file(["VBA", "PROJECT"])})


def with_external_link(filled: bytes) -> bytes:
    return with_members(
        filled,
        add={
            "xl/externalLinks/externalLink1.xml": b"<externalLink/>",
            "xl/externalLinks/_rels/externalLink1.xml.rels": EXTERNAL_RELS,
        },
    )


def with_external_relationship(filled: bytes) -> bytes:
    """No externalLinks folder: just a relationship pointing out of the file."""
    return with_members(filled, add={"xl/worksheets/_rels/sheet2.xml.rels": EXTERNAL_RELS})


def with_embedded_object(filled: bytes) -> bytes:
    return with_members(
        filled, add={"xl/embeddings/oleObject1.bin": compound_file(["\x01Ole10Native"])}
    )


def with_hidden_zip(filled: bytes) -> bytes:
    return with_members(filled, add={"xl/media/image1.png": zip_of({"a.txt": b"x"})})


def with_too_many_parts(filled: bytes) -> bytes:
    return with_members(filled, add={f"xl/media/x{n}.txt": b"" for n in range(1_500)})


EXTERNAL_RELS = (
    b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    b'officeDocument/2006/relationships/externalLinkPath" Target="file:///C:/secret.xlsx" '
    b'TargetMode="External"/></Relationships>'
)

HOSTILE: list[tuple[str, Callable[[bytes, bytes], bytes], str]] = [
    ("zip bomb", lambda f, t: zip_bomb(f), "zip-bomb"),
    ("ratio bomb", lambda f, t: ratio_bomb(f), "zip-bomb"),
    ("far cell XFD1048576", lambda f, t: far_cell(f), "absurd-dimension"),
    ("far dimension", lambda f, t: far_dimension(f), "absurd-dimension"),
    ("far cell without refs", lambda f, t: far_cell_without_refs(f), "absurd-dimension"),
    ("shared strings 4e9", lambda f, t: forged_shared_strings(t), "absurd-shared-strings"),
    ("DOCTYPE and ENTITY", lambda f, t: entity_declaration(f), "doctype"),
    ("macros", lambda f, t: with_macros(f), "macros"),
    ("external link", lambda f, t: with_external_link(f), "external-links"),
    ("external relationship", lambda f, t: with_external_relationship(f), "external-links"),
    ("embedded object", lambda f, t: with_embedded_object(f), "embedded-objects"),
    ("zip inside", lambda f, t: with_hidden_zip(f), "nested-archive"),
    ("too many parts", lambda f, t: with_too_many_parts(f), "too-many-entries"),
]


@pytest.mark.parametrize(("name", "build", "code"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_the_precheck_refuses_hostile_workbooks(
    filled: bytes, template: bytes, name: str, build: Callable[[bytes, bytes], bytes], code: str
) -> None:
    data = build(filled, template)
    kind = sniff(data, "实施方案.xlsx")
    assert kind in (Kind.XLSX, Kind.XLSM)
    with pytest.raises(FileRejected) as caught:
        precheck(data, kind)
    assert caught.value.code == code
    assert describe(code, caught.value.detail, "zh-CN")
    assert is_hostile(code) == (code != "external-links")


def test_an_encrypted_workbook_is_refused_with_advice() -> None:
    data = compound_file(["EncryptionInfo", "EncryptedPackage"])
    kind = sniff(data, "实施方案.xlsx")
    with pytest.raises(FileRejected) as caught:
        precheck(data, kind)
    rejection = caught.value
    assert rejection.code == "encrypted"
    assert not rejection.hostile
    assert describe("encrypted", rejection.detail, "zh-CN") == (
        "文件设置了打开密码，系统无法读取。请取消密码后重新发送。"
    )
    assert "password" in describe("encrypted", {}, "en")


@pytest.mark.parametrize(
    "data",
    [b"\x89PNG\r\n\x1a\n" + bytes(200), b"%PDF-1.4\n" + bytes(200), b"hello, world\n"],
    ids=["picture", "pdf", "text"],
)
def test_files_that_are_no_workbook_are_refused(data: bytes) -> None:
    kind = sniff(data, "实施方案.xlsx")
    with pytest.raises(FileRejected) as caught:
        precheck(data, kind)
    assert caught.value.code == "not-a-workbook"
    assert not is_hostile("not-a-workbook")


def test_an_empty_file_and_an_oversized_one_are_refused(filled: bytes) -> None:
    with pytest.raises(FileRejected) as caught:
        precheck(b"", Kind.OTHER)
    assert caught.value.code == "empty"
    with pytest.raises(FileRejected) as caught:
        precheck(filled, Kind.XLSX, Limits(max_file_bytes=1024))
    assert caught.value.code == "too-large"
    assert "MB" in describe("too-large", caught.value.detail, "zh-CN")


def test_a_legacy_workbook_with_macros_is_refused() -> None:
    data = compound_file(["Workbook", "_VBA_PROJECT_CUR"])
    assert sniff(data, None) is Kind.XLS
    with pytest.raises(FileRejected) as caught:
        precheck(data, Kind.XLS)
    assert caught.value.code == "macros"


def test_hyperlinks_are_not_external_links(template: bytes) -> None:
    """Excel turns every typed e-mail address into a mailto: link; that is no reason to refuse."""
    wb = openpyxl.load_workbook(io.BytesIO(fill(template, rows=3)))
    ws = wb[DATA_SHEET]
    assert isinstance(ws, Worksheet)
    ws["B3"].hyperlink = "mailto:zhangsan@example.cn"
    ws["B4"].hyperlink = "https://www.example.cn/"
    out = io.BytesIO()
    wb.save(out)
    precheck(out.getvalue(), Kind.XLSX)


def test_an_ods_that_repeats_a_filled_cell_a_billion_times_is_refused() -> None:
    row = (
        b'<table:table-row table:number-rows-repeated="1048576"><table:table-cell '
        b'office:value-type="string" table:number-columns-repeated="16384"><text:p>x</text:p>'
        b"</table:table-cell></table:table-row>"
    )
    with pytest.raises(FileRejected) as caught:
        precheck(minimal_ods(row), Kind.ODS)
    assert caught.value.code == "absurd-dimension"


def test_an_ods_with_libreoffice_style_empty_repeats_passes() -> None:
    rows = (
        b'<table:table-row><table:table-cell office:value-type="string"><text:p>x</text:p>'
        b'</table:table-cell><table:table-cell table:number-columns-repeated="16383"/>'
        b'</table:table-row><table:table-row table:number-rows-repeated="1048575">'
        b'<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
    )
    precheck(minimal_ods(rows), Kind.ODS)


# --- archives ----------------------------------------------------------------------------------


def test_a_zip_with_a_gbk_name_unpacks_with_the_right_name(filled: bytes) -> None:
    archive = zip_with_raw_name("报送材料/实施方案（金城镇）.xlsx".encode("gbk"), filled)
    assert sniff(archive, "材料.zip") is Kind.ZIP
    precheck(archive, Kind.ZIP)
    [found] = unpack_archive(archive, path=("材料.zip",))
    assert found.filename == "实施方案（金城镇）.xlsx"
    assert found.path == ("材料.zip", "报送材料")
    assert found.data == filled
    assert sniff(found.data, found.filename) is Kind.XLSX


def test_a_zip_with_unflagged_utf8_names_unpacks_with_the_right_name(filled: bytes) -> None:
    archive = zip_with_raw_name("进展情况.xlsx".encode(), filled)
    [found] = unpack_archive(archive)
    assert found.filename == "进展情况.xlsx"


def test_archive_names_are_only_labels(filled: bytes) -> None:
    archive = zip_of(
        {
            "../../etc/passwd": b"root",
            "C:\\Windows\\evil.xlsx": filled,
            "__MACOSX/._x.xlsx": b"junk",
        }
    )
    found = {f.filename: f.path for f in unpack_archive(archive)}
    assert found == {"passwd": ("etc",), "evil.xlsx": ("C:", "Windows")}


def test_a_zip_inside_a_zip_is_not_unpacked(filled: bytes) -> None:
    inner = zip_of({"实施方案.xlsx": filled})
    archive = zip_of({"inner.zip": inner})
    with pytest.raises(FileRejected) as caught:
        unpack_archive(archive)
    assert caught.value.code == "nested-archive"
    found = unpack_archive(archive, Limits(max_archive_depth=2), path=("a.zip",))
    assert [(f.path, f.filename) for f in found] == [(("a.zip", "inner.zip"), "实施方案.xlsx")]


def test_an_archive_bomb_stops_at_the_cap() -> None:
    archive = zip_of({"a.bin": zeros(150 * 2**20)})
    for check in (lambda: precheck(archive, Kind.ZIP), lambda: unpack_archive(archive)):
        with pytest.raises(FileRejected) as caught:
            check()
        assert caught.value.code == "zip-bomb"


def test_a_password_protected_zip_asks_for_the_password_to_go(filled: bytes) -> None:
    archive = bytearray(zip_of({"a.xlsx": filled}))
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = archive.find(signature)
        archive[at + flag_offset] |= 0x01
    with pytest.raises(FileRejected) as caught:
        unpack_archive(bytes(archive))
    assert caught.value.code == "encrypted"
    assert "压缩包" in describe("encrypted", caught.value.detail, "zh-CN")


# --- isolated reading ----------------------------------------------------------------------


def marker_parser(data: bytes, kind: Kind, limits: Limits) -> ParsedWorkbook:
    """A parser for tests, run in the workers: markers make it die, hang or exhaust memory."""
    if data.startswith(b"die"):
        os.kill(os.getpid(), signal.SIGKILL)
    if data.startswith(b"abort"):
        os.abort()
    if data.startswith(b"hang:"):
        Path(data[5:].decode()).touch()
        time.sleep(600)
    if data.startswith(b"oom"):
        bytearray(4 * 2**30)
    if data.startswith(b"raise"):
        raise ValueError("a parser bug")
    return parse_workbook(data, kind, limits)


def ghost_parser(data: bytes, kind: Kind, limits: Limits) -> ParsedWorkbook:
    raise AssertionError("never imported: its module is renamed below")


ghost_parser.__module__ = "no_such_module_for_duban"


def test_a_reader_whose_workers_cannot_start_fails_loudly() -> None:
    """Else every file would be quarantined as a parser crash."""
    with (
        WorkbookReader(workers=2, parser=ghost_parser) as reader,
        pytest.raises(RuntimeError, match="no_such_module_for_duban"),
    ):
        reader.read(b"PK\x03\x04 any file", Kind.XLSX)
    with pytest.raises(ValueError, match="module-level"):
        WorkbookReader(
            workers=1, parser=lambda data, kind, limits: parse_workbook(data, kind, limits)
        )


def test_a_parser_exception_is_the_files_fault_not_a_crash(filled: bytes) -> None:
    with WorkbookReader(workers=1, check_first=False, parser=marker_parser) as reader:
        [pid] = reader.worker_pids
        results = reader.read_many([(b"raise", Kind.XLSX), (filled, Kind.XLSX)])
        assert reader.worker_pids == [pid]
        assert reader.read_many([]) == []
    assert isinstance(results[0], FileRejected)
    assert results[0].code == "unreadable"
    assert "a parser bug" in str(results[0].detail["reason"])
    assert isinstance(results[1], ParsedWorkbook)


def test_a_worker_killed_mid_parse_is_replaced(filled: bytes, tmp_path: Path) -> None:
    started = tmp_path / "started"
    with WorkbookReader(workers=1, check_first=False, parser=marker_parser) as reader:
        [pid] = reader.worker_pids

        def kill_when_parsing() -> None:
            while not started.exists():
                time.sleep(0.01)
            os.kill(pid, signal.SIGKILL)

        killer = threading.Thread(target=kill_when_parsing)
        killer.start()
        results = reader.read_many([(f"hang:{started}".encode(), Kind.XLSX), (filled, Kind.XLSX)])
        killer.join()
        assert isinstance(results[0], FileRejected)
        assert results[0].code == "parser-crashed"
        assert results[0].detail["signal"] == "SIGKILL"
        assert isinstance(results[1], ParsedWorkbook)
        assert reader.worker_pids != [pid]


@pytest.mark.parametrize(
    ("marker", "detail"),
    [
        (b"die", {"signal": "SIGKILL"}),
        (b"abort", {"signal": "SIGABRT"}),
        (b"oom", {"reason": "MemoryError"}),
    ],
)
def test_a_dying_worker_rejects_only_its_file(
    filled: bytes, marker: bytes, detail: dict[str, str]
) -> None:
    with WorkbookReader(
        workers=2, check_first=False, parser=marker_parser, memory_limit=512 * 2**20
    ) as reader:
        items = [(filled, Kind.XLSX), (marker, Kind.XLSX), (filled, Kind.XLSX), (marker, Kind.XLSX)]
        results = reader.read_many([*items, (filled, Kind.XLSX)])
    assert [type(r).__name__ for r in results] == [
        "ParsedWorkbook",
        "FileRejected",
        "ParsedWorkbook",
        "FileRejected",
        "ParsedWorkbook",
    ]
    for rejection in (results[1], results[3]):
        assert isinstance(rejection, FileRejected)
        assert rejection.code == "parser-crashed"
        assert detail.items() <= rejection.detail.items()
        assert rejection.hostile


def test_a_worker_that_hangs_is_timed_out(filled: bytes, tmp_path: Path) -> None:
    with WorkbookReader(
        workers=1, check_first=False, parser=marker_parser, time_limit=1.0
    ) as reader:
        results = reader.read_many(
            [(f"hang:{tmp_path / 's'}".encode(), Kind.XLSX), (filled, Kind.XLSX)]
        )
    assert isinstance(results[0], FileRejected)
    assert results[0].code == "parser-timeout"
    assert isinstance(results[1], ParsedWorkbook)


def test_calamine_aborting_on_a_far_cell_only_loses_that_file(filled: bytes) -> None:
    """Without the pre-check the real parser meets the XFD1048576 trick: the worker's memory cap
    turns calamine's 512 GiB request into the death of that worker alone."""
    with WorkbookReader(workers=1, check_first=False) as reader:
        results = reader.read_many([(far_cell(filled), Kind.XLSX), (filled, Kind.XLSX)])
    assert isinstance(results[0], FileRejected)
    assert results[0].hostile  # parser-crashed today; absurd-dimension if calamine grows wiser
    if results[0].code == "parser-crashed":
        assert results[0].detail["signal"] == "SIGABRT"
        assert "memory allocation" in str(results[0].detail["message"])
    assert isinstance(results[1], ParsedWorkbook)


def test_read_many_keeps_order_and_prechecks(
    filled: bytes, template: bytes, reader: WorkbookReader
) -> None:
    items = [
        (filled, Kind.XLSX),
        (b"not a workbook", Kind.OTHER),
        (far_cell(filled), Kind.XLSX),
        (template, Kind.XLSX),
        (compound_file(["EncryptionInfo", "EncryptedPackage"]), Kind.ENCRYPTED),
    ] * 3
    results = reader.read_many(items)
    codes = [r.code if isinstance(r, FileRejected) else len(r.sheets[DATA_SHEET]) for r in results]
    assert codes == [2 + ROWS, "not-a-workbook", "absurd-dimension", 2, "encrypted"] * 3


def test_the_precheck_runs_in_the_worker_and_its_refusal_comes_back_as_such(
    filled: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pre-check runs in the worker, under its memory cap and time limit: a refusal is that
    ``FileRejected``, not a crash, and the worker stays."""

    def not_here(*args: object) -> None:
        raise AssertionError("the pre-check ran in the intake process")

    for module in (
        "duban.implement.intake.precheck",
        "duban.implement.intake.worker",
    ):
        monkeypatch.setattr(f"{module}.precheck", not_here)
    with WorkbookReader(workers=1) as checked:
        [pid] = checked.worker_pids
        results = checked.read_many([(far_cell(filled), Kind.XLSX), (filled, Kind.XLSX)])
        assert checked.worker_pids == [pid]
    assert isinstance(results[0], FileRejected)
    assert results[0].code == "absurd-dimension"
    assert results[0].detail["cols"] == 16384
    assert isinstance(results[1], ParsedWorkbook)
    precheck(filled, Kind.XLSX)  # still callable on its own, in this process


def test_a_reading_goes_on_while_the_caller_works(filled: bytes, template: bytes) -> None:
    with WorkbookReader(workers=2) as pool:
        with pool.start([(filled, Kind.XLSX)] * 3) as reading:
            added = reading.add([(template, Kind.XLSX), (b"not a workbook", Kind.OTHER)])
            assert list(added) == [3, 4]
            taken: dict[int, object] = {}
            while not reading.done:
                reading.poll(wait=True)
                taken.update(reading.take())
            results = reading.wait()
        assert sorted(taken) == [0, 1, 2, 3, 4]
        assert [taken[i] for i in range(5)] == results
        sizes = [len(r.sheets[DATA_SHEET]) if isinstance(r, ParsedWorkbook) else r.code
                 for r in results]  # fmt: skip
        assert sizes == [2 + ROWS] * 3 + [2, "not-a-workbook"]


def test_an_abandoned_reading_takes_its_busy_workers_with_it(filled: bytes, tmp_path: Path) -> None:
    """Left unfinished, a reading's busy workers are replaced: they would otherwise answer the
    next reading with this one's files."""
    started = tmp_path / "started"

    def interrupted_while_reading(pool: WorkbookReader) -> None:
        with pool.start([(f"hang:{started}".encode(), Kind.XLSX)]):
            while not started.exists():
                time.sleep(0.01)
            raise KeyboardInterrupt

    with WorkbookReader(workers=1, check_first=False, parser=marker_parser) as pool:
        [pid] = pool.worker_pids
        with pytest.raises(KeyboardInterrupt):
            interrupted_while_reading(pool)
        assert pool.worker_pids != [pid]
        [result] = pool.read_many([(filled, Kind.XLSX)])
    assert isinstance(result, ParsedWorkbook)


def test_malformed_xml_is_unreadable(filled: bytes, reader: WorkbookReader) -> None:
    broken = patch_sheet(filled, lambda xml: xml[: len(xml) // 2])
    with pytest.raises(FileRejected) as caught:
        reader.read(broken, Kind.XLSX)
    assert caught.value.code == "unreadable"


# --- reasons ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_has_advice_in_both_languages(code: str) -> None:
    languages: tuple[Language, ...] = ("zh-CN", "en")
    for language in languages:
        text = describe(code, {"kind": "pdf", "rows": 1048576, "cols": 16384}, language)
        assert len(text) > 10
    assert re.search(r"[\u4e00-\u9fff]", describe(code, {}, "zh-CN"))


def test_rejections_survive_pickling() -> None:
    rejection = FileRejected("zip-bomb", {"ratio": 1000.0})
    copy = pickle.loads(pickle.dumps(rejection))
    assert (copy.code, copy.detail) == ("zip-bomb", {"ratio": 1000.0})
    with pytest.raises(ValueError, match="unknown"):
        FileRejected("no-such-code")


# --- builders -----------------------------------------------------------------------------


def zeros(size: int) -> bytes:
    """``size`` zero bytes, compressed: the member data of a bomb, without holding it."""
    return ZEROS_MARKER + struct.pack("<Q", size)


ZEROS_MARKER = b"\x00zeros-of-size:"


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            write_member(archive, name, content)
    return out.getvalue()


def write_member(archive: zipfile.ZipFile, name: str, content: bytes) -> None:
    if content.startswith(ZEROS_MARKER):
        (size,) = struct.unpack("<Q", content[len(ZEROS_MARKER) :])
        with archive.open(name, "w", force_zip64=True) as member:
            block = bytes(2**20)
            for _ in range(size // len(block)):
                member.write(block)
        return
    archive.writestr(name, content)


def with_members(
    data: bytes,
    change: dict[str, Callable[[bytes], bytes]] | None = None,
    add: dict[str, bytes] | None = None,
) -> bytes:
    """A copy of zip ``data`` with some members changed and others added."""
    change = change or {}
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            content = src.read(info)
            if info.filename in change:
                content = change[info.filename](content)
            dst.writestr(info.filename, content)
        for name, content in (add or {}).items():
            write_member(dst, name, content)
    return out.getvalue()


def patch_sheet(data: bytes, change: Callable[[bytes], bytes]) -> bytes:
    """Change the XML of the form's data sheet (openpyxl writes it as sheet2)."""
    return with_members(data, {"xl/worksheets/sheet2.xml": change})


def zip_with_raw_name(raw: bytes, content: bytes) -> bytes:
    """A zip whose member name is ``raw`` bytes without the UTF-8 flag, as Windows writes."""
    placeholder = b"N" * len(raw)
    data = zip_of({placeholder.decode(): content})
    assert data.count(placeholder) == 2  # the local header and the central directory
    return data.replace(placeholder, raw)


def minimal_ods(rows: bytes) -> bytes:
    content = (
        b'<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        b'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        b'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">'
        b'<office:body><office:spreadsheet><table:table table:name="Sheet1">'
        + rows
        + b"</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def compound_file(names: list[str]) -> bytes:
    """A minimal OLE compound file whose root holds empty streams called ``names``."""
    sector = 512
    entries = [_directory_entry("Root Entry", 5, child=1 if names else None)]
    for index, name in enumerate(names, start=1):
        following = index + 1 if index < len(names) else None
        entries.append(_directory_entry(name, 2, right=following))
    while len(entries) % 4:
        entries.append(bytes(64) + struct.pack("<HBB3I", 0, 0, 0, *[0xFFFFFFFF] * 3) + bytes(48))
    directory = b"".join(entries)
    dir_sectors = len(directory) // sector
    fat = [0xFFFFFFFD] + [n + 1 for n in range(1, dir_sectors)] + [0xFFFFFFFE]
    fat += [0xFFFFFFFF] * (sector // 4 - len(fat))
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
    header += struct.pack("<IIIIIIII", 0, 1, 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE)
    header += (
        struct.pack("<I", 0) + struct.pack("<I", 0) + struct.pack("<108I", *[0xFFFFFFFF] * 108)
    )
    assert len(header) == sector
    return header + struct.pack(f"<{sector // 4}I", *fat) + directory


def _directory_entry(
    name: str, kind: int, child: int | None = None, right: int | None = None
) -> bytes:
    encoded = name.encode("utf-16-le")
    none = 0xFFFFFFFF
    return (
        encoded.ljust(64, b"\x00")
        + struct.pack("<HBB", len(encoded) + 2, kind, 1)
        + struct.pack(
            "<III", none, none if right is None else right, none if child is None else child
        )
        + bytes(16 + 4 + 16)
        + struct.pack("<IQ", 0xFFFFFFFE, 0)
    )


def test_the_compound_file_builder_is_sane() -> None:
    """The crafted OLE files above are only as good as their directory: check it."""
    data = compound_file(["EncryptionInfo", "EncryptedPackage", "\x06DataSpaces", "x", "y"])
    assert len(data) % 512 == 0
    assert root_names(data) == {"EncryptionInfo", "EncryptedPackage", "\x06DataSpaces", "x", "y"}
