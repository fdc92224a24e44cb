"""The bulletin's bar chart as a PNG, drawn here so a .docx needs no plotting library.

Bars only (on time, late, missing, returned, …), as a share of the units expected, on a white
ground with a base line; the words and counts are printed beside it as text, which stays sharp
and searchable. The same figures give the same bytes, so the .docx stays reproducible.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

WIDTH, HEIGHT = 720, 260
_MARGIN, _GAP = 40, 36
_WHITE = (255, 255, 255)
_AXIS = (166, 166, 166)


def bar_chart(bars: Sequence[tuple[int, str]], scale: int) -> bytes:
    """A PNG of ``bars`` (count, colour ``#RRGGBB``), each as tall as its count is of ``scale``
    (the units expected; a non-zero count is at least 2 px)."""
    slot = (WIDTH - 2 * _MARGIN) // max(1, len(bars))
    top = _MARGIN // 2
    spans = []
    for index, (count, colour) in enumerate(bars):
        height = 0 if not count else max(2, round((HEIGHT - top - 1) * count / max(1, scale)))
        left = _MARGIN + index * slot + _GAP // 2
        spans.append((left, left + slot - _GAP, HEIGHT - 1 - height, _rgb(colour)))
    rows = [_row(y, spans) for y in range(HEIGHT)]
    return _png(rows)


def _row(y: int, spans: list[tuple[int, int, int, tuple[int, int, int]]]) -> bytes:
    """One scan line: white, the bars that reach up to ``y``, and the base line at the foot."""
    if y == HEIGHT - 1:
        return b"\0" + bytes(_AXIS) * WIDTH
    line = bytearray(bytes(_WHITE) * WIDTH)
    for left, right, bar_top, colour in spans:
        if y >= bar_top:
            line[left * 3 : right * 3] = bytes(colour) * (right - left)
    return b"\0" + bytes(line)


def _rgb(colour: str) -> tuple[int, int, int]:
    value = int(colour.lstrip("#"), 16)
    return (value >> 16) & 255, (value >> 8) & 255, value & 255


def _png(rows: list[bytes]) -> bytes:
    """An 8-bit RGB PNG of filtered scan lines (filter byte 0 leading each)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(rows), 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
