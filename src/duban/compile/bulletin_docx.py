"""The printed bulletin: a .docx laid out like an official document (GB/T 9704 in spirit).

A4 with the standard margins, a red issuing-office line, a centred title, body in 仿宋 at 三号
(16 pt) on a fixed 28 pt line, numbered lists of units, a small table of the figures, and the
signature and date on the right; under the figures, a bar chart of them. Section headings are
黑体 and marked as headings (outline level 1). Chinese text needs its font named in
``w:eastAsia`` (python-docx's ``font.name`` sets only the Latin slots), and the document's
default fonts are made explicit so Word's theme fonts do not override them.

Official fonts such as 仿宋_GB2312 are missing from many computers, so the font table names a
fallback for each (``w:altName``: 仿宋, 宋体) that Word uses in its place; python-docx has no
API for the font table, so it is rewritten in the saved package.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from duban.compile.chart import bar_chart

FONT_TABLE = "word/fontTable.xml"
RED = RGBColor(0xC0, 0x00, 0x00)
BODY_SIZE = Pt(16)  # 三号
TITLE_SIZE = Pt(22)  # 二号
LINE = Pt(28)  # 固定值 28 磅: 22 lines to an A4 page
CHART_WIDTH = Mm(130)


@dataclass(frozen=True)
class Fonts:
    latin: str
    body: str
    title: str
    heading: str
    fallbacks: tuple[tuple[str, str], ...]  # (font, the font Word uses if it is missing)


FONTS = {
    "zh-CN": Fonts(
        latin="Times New Roman",
        body="仿宋_GB2312",
        title="方正小标宋简体",
        heading="黑体",
        fallbacks=(("仿宋_GB2312", "仿宋"), ("方正小标宋简体", "宋体"), ("黑体", "SimHei")),
    ),
    "en": Fonts(
        latin="Times New Roman",
        body="宋体",
        title="宋体",
        heading="宋体",
        fallbacks=(),
    ),
}


def write_docx(context: dict[str, Any], path: Path) -> None:
    """Lay out a bulletin context (see ``bulletin.bulletin_context``) and save it to ``path``."""
    document, fonts = _started(context)
    _body(document, context, fonts)
    _signature(document, context)
    _save(document, context, fonts, path)


def write_notice_docx(context: dict[str, Any], path: Path) -> None:
    """Lay out a notice made of numbered parts, each a heading, paragraphs and an optional
    table (``parts``: heading, paragraphs, table: {title, rows}), in the bulletin's official
    layout: head, salutation, introduction, parts, closing, signature. The inspection bulletin
    (督查通报) is one."""
    document, fonts = _started(context)
    text = context["text"]
    _run(_paragraph(document), text["salutation"], fonts.body, fonts)
    _run(_paragraph(document, indent=True), text["intro"], fonts.body, fonts)
    for index, part in enumerate(context["parts"]):
        heading = _paragraph(document, indent=True)
        _outline_level(heading, 0)
        _run(heading, _ordinal(index, context["language"]) + part["heading"], fonts.heading, fonts)
        for line in part["paragraphs"]:
            _run(_paragraph(document, indent=True), line, fonts.body, fonts)
        if part.get("table"):
            caption = _paragraph(document, WD_ALIGN_PARAGRAPH.CENTER)
            _run(caption, part["table"]["title"], fonts.heading, fonts, size=Pt(14))
            _table(document, part["table"]["rows"], fonts, bold_rows={0})
            _paragraph(document)
    for paragraph in text["closing"]:
        _run(_paragraph(document, indent=True), paragraph, fonts.body, fonts)
    _signature(document, context)
    _save(document, context, fonts, path)


def _started(context: dict[str, Any]) -> tuple[Any, Fonts]:
    """A new A4 document with the language's fonts, its properties and the red head."""
    fonts = FONTS[context["language"]]
    document = Document()
    _page(document)
    _defaults(document, fonts, context["language"])
    _properties(document, context)
    _head(document, context, fonts)
    return document, fonts


def _save(document: Any, context: dict[str, Any], fonts: Fonts, path: Path) -> None:
    buffer = io.BytesIO()
    document.save(buffer)
    local = context["as_of"].astimezone(context["zone"])
    path.write_bytes(_repackaged(buffer.getvalue(), fonts, local))


def _page(document: Any) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)


def _defaults(document: Any, fonts: Fonts, language: str) -> None:
    """Explicit default fonts and language, replacing the template's theme fonts."""
    r_pr = document.styles.element.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}")
    r_fonts = r_pr.find(qn("w:rFonts"))
    for name in list(r_fonts.attrib):
        del r_fonts.attrib[name]
    _set_fonts(r_fonts, fonts.latin, fonts.body)
    lang = r_pr.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "zh-CN" if language == "zh-CN" else "en-US")
    normal = document.styles["Normal"]
    normal.font.size = BODY_SIZE
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = LINE


def _set_fonts(r_fonts: Any, latin: str, east_asian: str) -> None:
    for slot in ("w:ascii", "w:hAnsi", "w:cs"):
        r_fonts.set(qn(slot), latin)
    r_fonts.set(qn("w:eastAsia"), east_asian)


def _properties(document: Any, context: dict[str, Any]) -> None:
    """Core properties from the input, not the clock (python-docx's template says 2013)."""
    moment: datetime = context["as_of"].astimezone(UTC).replace(tzinfo=None)
    core = document.core_properties
    core.title = context["text"]["title"]
    core.author = core.last_modified_by = context["coordinator"]["name"]
    core.subject = context.get("subject") or f"{context['deliverable']['id']} {context['period']}"
    core.comments = "duban"
    core.created = core.modified = moment
    core.revision = 1


def _run(paragraph: Paragraph, text: str, font: str, fonts: Fonts, **style: Any) -> None:
    run = paragraph.add_run(text)
    run.font.name = fonts.latin
    _set_fonts(run.element.get_or_add_rPr().get_or_add_rFonts(), fonts.latin, font)
    run.font.size = style.get("size", BODY_SIZE)
    run.font.bold = style.get("bold")
    if "colour" in style:
        run.font.color.rgb = style["colour"]


def _paragraph(document: Any, align: Any = None, indent: bool = False) -> Paragraph:
    paragraph: Paragraph = document.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = BODY_SIZE * 2
    return paragraph


def _head(document: Any, context: dict[str, Any], fonts: Fonts) -> None:
    """Issuing office in red, document number and date, a red rule, then the title."""
    office = _paragraph(document, WD_ALIGN_PARAGRAPH.CENTER)
    office.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    _run(office, context["coordinator"]["name"], fonts.title, fonts, size=Pt(26), colour=RED)
    mark = _paragraph(document, WD_ALIGN_PARAGRAPH.CENTER)
    number = context["number"]
    line = f"{number}　{context['text']['date_line']}" if number else context["text"]["date_line"]
    _run(mark, line, fonts.body, fonts)
    _red_rule(mark)
    _paragraph(document)
    title = _paragraph(document, WD_ALIGN_PARAGRAPH.CENTER)
    title.paragraph_format.line_spacing = Pt(36)
    _run(title, context["text"]["title"], fonts.title, fonts, size=TITLE_SIZE, bold=True)
    _paragraph(document)


# What follows w:pBdr in w:pPr (ECMA-376 order, which Word enforces).
_AFTER_BORDERS = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
    "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
    "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
    "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip


def _red_rule(paragraph: Paragraph) -> None:
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (
        ("w:val", "single"),
        ("w:sz", "12"),
        ("w:space", "4"),
        ("w:color", "C00000"),
    ):
        bottom.set(qn(key), value)
    borders.append(bottom)
    p_pr = paragraph.paragraph_format.element.get_or_add_pPr()
    p_pr.insert_element_before(borders, *_AFTER_BORDERS)


def _body(document: Any, context: dict[str, Any], fonts: Fonts) -> None:
    text = context["text"]
    _run(_paragraph(document), text["salutation"], fonts.body, fonts)
    _run(_paragraph(document, indent=True), text["intro"], fonts.body, fonts)
    for index, section in enumerate(context["sections"]):
        heading = _paragraph(document, indent=True)
        _outline_level(heading, 0)
        _run(
            heading, _ordinal(index, context["language"]) + section["heading"], fonts.heading, fonts
        )
        _run(_paragraph(document, indent=True), section["line"], fonts.body, fonts)
    _figures(document, context, fonts)
    _chart(document, context, fonts)
    if context["rectification"] is not None:
        _rectification(document, context, fonts, len(context["sections"]))
    if context.get("key_tasks") is not None:
        index = len(context["sections"]) + (context["rectification"] is not None)
        _key_tasks(document, context, fonts, index)
    for paragraph in text["closing"]:
        _run(_paragraph(document, indent=True), paragraph, fonts.body, fonts)


def _rectification(document: Any, context: dict[str, Any], fonts: Fonts, index: int) -> None:
    """A progress report's section on the items: numbered after the unit lists, its summary,
    the table per roster tag (with the total row) and the units with overdue items."""
    section = context["rectification"]
    heading = _paragraph(document, indent=True)
    _outline_level(heading, 0)
    _run(heading, _ordinal(index, context["language"]) + section["heading"], fonts.heading, fonts)
    _run(_paragraph(document, indent=True), section["summary"], fonts.body, fonts)
    caption = _paragraph(document, WD_ALIGN_PARAGRAPH.CENTER)
    _run(caption, section["table_title"], fonts.heading, fonts, size=Pt(14))
    rows = [section["columns"], *(r["cells"] for r in section["rows"]), section["total"]["cells"]]
    _table(document, rows, fonts, bold_rows={0, len(rows) - 1})
    _paragraph(document)
    _run(_paragraph(document, indent=True), section["overdue_line"], fonts.body, fonts)


def _key_tasks(document: Any, context: dict[str, Any], fonts: Fonts, index: int) -> None:
    """A key task chain's section: numbered after the others, its summary, then one paragraph
    per key task with a unit late."""
    section = context["key_tasks"]
    heading = _paragraph(document, indent=True)
    _outline_level(heading, 0)
    _run(heading, _ordinal(index, context["language"]) + section["heading"], fonts.heading, fonts)
    for line in [section["summary"], *section["lines"]]:
        _run(_paragraph(document, indent=True), line, fonts.body, fonts)


def _table(document: Any, rows: list[list[str]], fonts: Fonts, bold_rows: set[int]) -> None:
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    # row by row: table.cell() rebuilds the whole grid each call (minutes for 1,000 rows)
    for r, (row, cells) in enumerate(zip(table.rows, rows, strict=True)):
        for box, text in zip(row.cells, cells, strict=True):
            cell = box.paragraphs[0]
            cell.alignment = WD_ALIGN_PARAGRAPH.CENTER
            cell.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
            _run(cell, text, fonts.body, fonts, size=Pt(12), bold=r in bold_rows)


def _outline_level(paragraph: Paragraph, level: int) -> None:
    """Mark a heading as one (Word's navigation pane and a PDF's bookmarks list it) while it
    keeps the official look: 黑体 at the body size, not a Heading style's."""
    outline = OxmlElement("w:outlineLvl")
    outline.set(qn("w:val"), str(level))
    p_pr = paragraph.paragraph_format.element.get_or_add_pPr()
    p_pr.insert_element_before(outline, *_AFTER_BORDERS[_AFTER_BORDERS.index("w:divId") :])


def _chart(document: Any, context: dict[str, Any], fonts: Fonts) -> None:
    """The figures as bars (share of the units expected), with a legend in the body font."""
    bars = context["bars"]
    png = bar_chart([(b["count"], b["colour"]) for b in bars], context["totals"]["expected"])
    picture = _paragraph(document, WD_ALIGN_PARAGRAPH.CENTER)
    picture.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    picture.add_run().add_picture(io.BytesIO(png), width=CHART_WIDTH)
    legend = _paragraph(document, WD_ALIGN_PARAGRAPH.CENTER)
    labels = context["text"]["bar_labels"]
    for index, bar in enumerate(bars):
        colour = RGBColor.from_string(bar["colour"].lstrip("#"))
        _run(legend, ("　" if index else "") + "■", fonts.body, fonts, size=Pt(12), colour=colour)
        _run(legend, f"{labels[bar['key']]} {bar['count']}", fonts.body, fonts, size=Pt(12))
    _paragraph(document)


def _ordinal(index: int, language: str) -> str:
    if language == "zh-CN":
        return "一二三四五六七八九十"[index] + "、"
    return f"{index + 1}. "


def _figures(document: Any, context: dict[str, Any], fonts: Fonts) -> None:
    """The figures as a two-row table (headers, values), small enough for one line of A4."""
    totals = context["totals"]
    values = [
        totals["expected"],
        totals["received"],
        totals["on_time"],
        totals["late"],
        totals["missing"],
        totals["rejected"],
        totals["completeness_text"],
        totals["timeliness_text"],
    ]
    caption = _paragraph(document, WD_ALIGN_PARAGRAPH.CENTER)
    _run(caption, context["text"]["figures_title"], fonts.heading, fonts, size=Pt(14))
    table = document.add_table(rows=2, cols=len(values))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for col, (label, value) in enumerate(zip(context["text"]["figures"], values, strict=True)):
        for row, text, bold in ((0, label, True), (1, str(value), False)):
            cell = table.cell(row, col).paragraphs[0]
            cell.alignment = WD_ALIGN_PARAGRAPH.CENTER
            cell.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
            _run(cell, text, fonts.body, fonts, size=Pt(12), bold=bold)
    _paragraph(document)


def _signature(document: Any, context: dict[str, Any]) -> None:
    """落款: the issuing office and the date, right-aligned with a margin of two characters."""
    fonts = FONTS[context["language"]]
    _paragraph(document)
    for text in (context["coordinator"]["name"], context["issued_on"]):
        paragraph = _paragraph(document, WD_ALIGN_PARAGRAPH.RIGHT)
        paragraph.paragraph_format.right_indent = BODY_SIZE * 2
        _run(paragraph, text, fonts.body, fonts)


def _repackaged(package: bytes, fonts: Fonts, moment: datetime) -> bytes:
    """The saved package with each official font declared in the font table with its
    fallback, and every entry dated ``moment`` instead of the wall clock python-docx used,
    so the same bulletin gives the same bytes (the other parts are copied as they are)."""
    stamp = moment.timetuple()[:6]
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(package)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename == FONT_TABLE and fonts.fallbacks:
                data = _declare_fonts(data, fonts.fallbacks)
            target.writestr(zipfile.ZipInfo(info.filename, stamp), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _declare_fonts(font_table: bytes, fallbacks: tuple[tuple[str, str], ...]) -> bytes:
    entries = "".join(
        f"<w:font w:name={quoteattr(name)}><w:altName w:val={quoteattr(alt)}/>"
        '<w:charset w:val="86"/><w:family w:val="auto"/><w:pitch w:val="variable"/></w:font>'
        for name, alt in fallbacks
    )
    text = font_table.decode("utf-8")
    return text.replace("</w:fonts>", entries + "</w:fonts>", 1).encode("utf-8")
