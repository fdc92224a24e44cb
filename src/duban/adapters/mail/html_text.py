"""Turn the HTML of a notice into readable plain text for the text/plain alternative.

Some units read mail in clients (or forwarding gateways) that show only the plain-text part;
yagmail puts the raw HTML there, so they saw tags. This keeps paragraphs, list items, table
rows and link targets, and drops scripts, styles and every tag.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = {
    "address", "article", "blockquote", "br", "div", "footer", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hr", "li", "ol", "p", "pre", "section", "table", "tr", "ul",
}  # fmt: skip
_HIDDEN = {"head", "script", "style", "template", "title"}
_CELLS = {"td", "th"}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden = 0
        self._pre = 0
        self._links: list[tuple[str | None, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
            return
        if tag == "pre":
            self._pre += 1
        if tag in _BLOCKS:
            self.chunks.append("\n- " if tag == "li" else "\n")
        elif tag in _CELLS:
            self.chunks.append("\t")
        elif tag == "a":
            self._links.append((dict(attrs).get("href"), len(self.chunks)))

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
            return
        if tag == "pre":
            self._pre = max(0, self._pre - 1)
        if tag in _BLOCKS and tag not in ("li", "tr"):
            self.chunks.append("\n")
        elif tag == "a" and self._links:
            self._end_link(*self._links.pop())

    def _end_link(self, href: str | None, start: int) -> None:
        """Show where a link goes, unless its text already says so."""
        if not href or not href.startswith(("http://", "https://", "mailto:")):
            return
        target = href.removeprefix("mailto:")
        if "".join(self.chunks[start:]).strip() != target:
            self.chunks.append(f" ({target})")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.chunks.append(data if self._pre else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Plain text of ``html``: one line per block, blank lines collapsed, no tags."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    text = "\n".join(_clean_line(line) for line in "".join(collector.chunks).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _clean_line(line: str) -> str:
    """Collapse spaces; table cells (marked by tabs) become ``a | b | c``."""
    cells = (re.sub(r"[ \r\f\v]+", " ", cell).strip() for cell in line.split("\t"))
    return " | ".join(cell for cell in cells if cell)
