"""What an escalation says to a group, before any platform's format: a title and lines.

Group bots take about 20 posts a minute, so an escalation over hundreds of late units must name
many units per message: ``batch_lines`` packs unit names into a few messages' worth of lines,
and ``split_parts`` cuts a message that is still too long for one platform into numbered parts
(WeCom markdown takes 4,096 bytes; DingTalk and Feishu refuse requests of about 20 KB). Limits
are in UTF-8 bytes because that is what the platforms count, and a Chinese character is three.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from duban.errors import DubanError

MENTION_ALL = "all"
ELLIPSIS = "…"
UNIT_SEPARATOR = "、"
UNIT_BATCH_BYTES = 3_500  # one batch fits in one WeCom markdown post with its heading
MAX_TITLE_BYTES = 256
_PART_SUFFIX = "（{index}/{count}）"
_WIDEST_SUFFIX = _PART_SUFFIX.format(index=999, count=999)
_MOBILE = re.compile(r"\+?[0-9][0-9-]{4,19}")


@dataclass(frozen=True)
class BotMessage:
    """One escalation message; Chinese text is the normal case.

    ``mentions`` are mobile numbers, or ``"all"`` for everyone: DingTalk and WeCom mention by
    mobile number; a Feishu webhook can mention only everyone (numbers are written as text).
    ``units`` and ``campaign`` travel as data in the generic JSON payload only.
    """

    title: str
    lines: list[str]
    mentions: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    campaign: str | None = None

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise DubanError("a bot message needs a title", zh="群机器人消息需要标题")
        for mention in self.mentions:
            if mention != MENTION_ALL and not _MOBILE.fullmatch(mention):
                raise DubanError(
                    f"cannot mention {mention!r} in a group bot message",
                    hint='give a mobile number such as 13800000000, or "all"',
                    zh=f"群机器人消息无法@“{mention}”",
                    zh_hint="请填写手机号码（如 13800000000），或填 all（@所有人）",
                )

    @property
    def mobiles(self) -> list[str]:
        return [m for m in self.mentions if m != MENTION_ALL]

    @property
    def mentions_all(self) -> bool:
        return MENTION_ALL in self.mentions

    @property
    def one_line_title(self) -> str:
        """The title on one line and at most ``MAX_TITLE_BYTES``: headings must stay headings."""
        return truncate_utf8(" ".join(self.title.split()), MAX_TITLE_BYTES)


@dataclass(frozen=True)
class Part:
    """One post's worth of a message: its (numbered) title and its body lines."""

    title: str
    lines: list[str]


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def truncate_utf8(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes on a character boundary, marked with …."""
    if utf8_len(text) <= limit:
        return text
    room = max(limit - utf8_len(ELLIPSIS), 0)
    cut = text.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return cut + ELLIPSIS if limit >= utf8_len(ELLIPSIS) else ""


def pack_lines(lines: Sequence[str], budget: int, separator: str) -> list[list[str]]:
    """Greedy packing of lines, in order, into groups of at most ``budget`` bytes each.

    A group's size counts ``separator`` between lines; a line longer than the budget on its own
    is truncated rather than dropped, so every line is still seen (if shortened).
    """
    if budget < 1:
        raise ValueError("the budget must be at least one byte")
    groups: list[list[str]] = []
    current: list[str] = []
    used = 0
    step = utf8_len(separator)
    for raw in lines:
        line = truncate_utf8(raw, budget)
        size = utf8_len(line)
        if current and used + step + size > budget:
            groups.append(current)
            current, used = [], 0
        used += size + (step if current else 0)
        current.append(line)
    if current:
        groups.append(current)
    return groups


def split_parts(message: BotMessage, budget: int, separator: str) -> list[Part]:
    """Cut a message's lines into parts whose lines fit ``budget`` bytes; number the titles.

    ``budget`` is for the lines alone: the caller has already taken off the room its heading
    (with the widest part number) and any mention tail need.
    """
    groups = pack_lines(message.lines, budget, separator) or [[]]
    title = message.one_line_title
    if len(groups) == 1:
        return [Part(title, groups[0])]
    count = len(groups)
    return [
        Part(title + _PART_SUFFIX.format(index=index, count=count), group)
        for index, group in enumerate(groups, start=1)
    ]


def widest_title(message: BotMessage) -> str:
    """The longest title a part of ``message`` can have, for reserving room before splitting."""
    return message.one_line_title + _WIDEST_SUFFIX


def batch_lines(
    units: Sequence[str], limit: int = UNIT_BATCH_BYTES, *, per_line: int = 10
) -> list[list[str]]:
    """Name many units in few messages: each inner list is the lines of one message.

    Units are joined with 、 into lines of at most ``per_line`` names, and the lines packed so
    that one message's lines take at most ``limit`` UTF-8 bytes (joined by new lines). With the
    default limit, 300 units of about ten Chinese characters each make three messages instead
    of 300 posts, well inside a bot's 20 posts a minute.
    """
    if per_line < 1:
        raise ValueError("per_line must be at least 1")
    names = [" ".join(unit.split()) for unit in units if unit.strip()]
    lines = [
        UNIT_SEPARATOR.join(group)
        for start in range(0, len(names), per_line)
        # a small limit splits a line again rather than truncating names away
        for group in pack_lines(names[start : start + per_line], limit, UNIT_SEPARATOR)
    ]
    return pack_lines(lines, limit, "\n")
