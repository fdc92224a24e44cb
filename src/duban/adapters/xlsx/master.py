"""Per-unit copies of a master template, by patching its shared strings: no openpyxl per unit.

The master's shared strings part is cut once at its placeholders; a copy joins the pieces with
the unit's XML-escaped values and re-deflates that one small part, while every other member of
the zip is reused byte for byte (``ZipCopier``).
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree

from duban.adapters.xlsx.layout import PLACEHOLDER_MARKER, PLACEHOLDERS, SHARED_STRINGS
from duban.adapters.xlsx.metadata import read_metadata
from duban.adapters.xlsx.token import TemplateIdentity
from duban.adapters.xlsx.zipcopy import ZipCopier

_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Excel reads _xHHHH_ in a string as an escaped character; a literal one is written _x005F_xHHHH_.
_LOOKS_ESCAPED = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;", "\r": "&#13;"}
)
_FIXED_KEYS = ("campaign", "deliverable", "period", "template_version", "form_id")
_EXACTLY_ONCE = ("unit_id", "token")
"""Placeholders that appear in the metadata sheet alone; the unit name also heads sheets."""


class MasterTemplateError(ValueError):
    """The master's placeholders are not where personalisation expects them (a duban bug or
    a master from elsewhere); raised when the master is loaded, never per unit."""


class MasterTemplate:
    """A master workbook held in memory, ready to personalise for any number of units."""

    def __init__(self, master: bytes) -> None:
        metadata = read_metadata(master)
        for key, placeholder in PLACEHOLDERS.items():
            if metadata[key] != placeholder:
                raise MasterTemplateError(f"metadata {key} is not its placeholder")
        shared = _placeholders_only_in_shared_strings(master)
        _check_shared_strings(shared)
        alternation = b"|".join(re.escape(p.encode("utf-8")) for p in PLACEHOLDERS.values())
        self._pieces = re.split(b"(" + alternation + b")", shared)
        self._keys = {p.encode("utf-8"): key for key, p in PLACEHOLDERS.items()}
        self._copier = ZipCopier(master, SHARED_STRINGS)
        self.metadata = {key: metadata[key] for key in _FIXED_KEYS}
        """The values every copy shares: campaign, deliverable, period, template_version,
        form_id."""

    def identity(self, unit_id: str) -> TemplateIdentity:
        """The identity to sign for ``unit_id``'s copy of this master."""
        return TemplateIdentity(
            campaign_id=self.metadata["campaign"],
            deliverable_id=self.metadata["deliverable"],
            period=self.metadata["period"],
            unit_id=unit_id,
            template_version=int(self.metadata["template_version"]),
        )

    def personalise(self, unit_id: str, unit_name: str, token: str) -> bytes:
        """The unit's workbook: the master with its id, name and token filled in."""
        values = {
            "unit_id": xml_text(unit_id, "unit_id"),
            "unit_name": xml_text(unit_name, "unit_name"),
            "token": xml_text(token, "token"),
        }
        pieces = list(self._pieces)
        for index in range(1, len(pieces), 2):
            pieces[index] = values[self._keys[pieces[index]]]
        return self._copier.copy(b"".join(pieces))


def xml_text(value: str, name: str) -> bytes:
    """``value`` as XML character data that Excel shows unchanged; refuses what XML cannot
    carry (control characters) instead of writing a file Excel declares corrupt."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string")
    if _ILLEGAL_XML.search(value):
        raise ValueError(f"{name} contains a character a workbook cannot hold: {value!r}")
    return _LOOKS_ESCAPED.sub("_x005F_", value).translate(_ESCAPES).encode("utf-8")


def cell_text(value: str) -> bytes:
    """``value`` as XML character data that Excel shows unchanged, with the characters XML
    cannot carry (control characters, lone surrogates) dropped: for text a unit or a ledger
    wrote, which must reach the workbook rather than be refused."""
    value = _ILLEGAL_XML.sub("", value)
    return _LOOKS_ESCAPED.sub("_x005F_", value).translate(_ESCAPES).encode("utf-8")


def _placeholders_only_in_shared_strings(master: bytes) -> bytes:
    """The shared strings part, after checking no other part mentions a placeholder (it would
    keep the placeholder in every unit's copy)."""
    marker = PLACEHOLDER_MARKER.encode("utf-8")
    with zipfile.ZipFile(io.BytesIO(master)) as archive:
        if SHARED_STRINGS not in archive.namelist():
            raise MasterTemplateError(f"the master has no {SHARED_STRINGS}")
        for info in archive.infolist():
            if info.filename != SHARED_STRINGS and marker in archive.read(info):
                raise MasterTemplateError(f"a placeholder is in {info.filename}")
        return archive.read(SHARED_STRINGS)


def _check_shared_strings(shared: bytes) -> None:
    """Every placeholder sits in the text of a whitespace-preserving <t>, whole, not in an
    attribute nor split across rich-text runs, so patching bytes patches exactly those texts."""
    root = ElementTree.fromstring(shared)
    texts = [t for t in root.iter() if t.tag.rpartition("}")[2] == "t"]
    for key, placeholder in PLACEHOLDERS.items():
        raw = shared.count(placeholder.encode("utf-8"))
        holders = [t for t in texts if placeholder in (t.text or "")]
        in_text = sum((t.text or "").count(placeholder) for t in holders)
        if raw == 0 or raw != in_text:
            raise MasterTemplateError(f"placeholder {key}: {raw} in bytes, {in_text} in text")
        if key in _EXACTLY_ONCE and raw != 1:
            raise MasterTemplateError(f"placeholder {key} appears {raw} times, expected once")
        if any(t.get(_XML_SPACE) != "preserve" for t in holders):
            raise MasterTemplateError(f"placeholder {key} is in a <t> that trims spaces")
    if _stray_marker(texts):
        raise MasterTemplateError("an unknown placeholder is in the shared strings")


def _stray_marker(texts: list[ElementTree.Element]) -> bool:
    known = tuple(PLACEHOLDERS.values())
    for t in texts:
        text = t.text or ""
        for placeholder in known:
            text = text.replace(placeholder, "")
        if PLACEHOLDER_MARKER in text:
            return True
    return False
