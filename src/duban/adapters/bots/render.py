"""Turn a ``BotMessage`` into each platform's JSON bodies (unsigned; one body per post).

Pure functions of the message: signing needs the time and happens at posting (``signing``).
A message too long for one post becomes several numbered parts; mentions go with the last part
only, so a long escalation pings each person once.

Formats (the platforms' custom/group robot webhooks):

- DingTalk: ``{"msgtype": "markdown", "markdown": {"title", "text"}, "at": {...}}``; a mobile
  mentioned must also appear as ``@mobile`` in the text or DingTalk does not highlight it.
- WeCom: ``{"msgtype": "markdown", "markdown": {"content"}}`` (at most 4,096 bytes). WeCom
  markdown cannot mention by mobile, so mentions are one more ``text`` post with
  ``mentioned_mobile_list`` (``"@all"`` for everyone).
- Feishu: ``{"msg_type": "text", "content": {"text"}}``; ``<at user_id="all">`` mentions all.
- Generic JSON: ``{"title", "text", "units", "campaign", "mentions"}``, never split: the
  receiving service decides what to do with a long list.
"""

from __future__ import annotations

from typing import Any

from duban.adapters.bots.message import (
    BotMessage,
    Part,
    split_parts,
    truncate_utf8,
    utf8_len,
    widest_title,
)
from duban.adapters.bots.spec import BotKind

Payload = dict[str, Any]

WECOM_MARKDOWN_BYTES = 4_096
WECOM_TEXT_BYTES = 2_048
# DingTalk and Feishu refuse requests of about 20 KB; JSON escaping and the signature fields
# need some of that, so text stays well below it.
DINGTALK_TEXT_BYTES = 16_000
FEISHU_TEXT_BYTES = 16_000


def render(kind: BotKind, message: BotMessage) -> list[Payload]:
    """The JSON bodies to post, in order, for one message to one bot of ``kind``."""
    renderers = {
        BotKind.DINGTALK: dingtalk_payloads,
        BotKind.WECOM: wecom_payloads,
        BotKind.FEISHU: feishu_payloads,
        BotKind.JSON: json_payloads,
    }
    return renderers[kind](message)


def dingtalk_payloads(message: BotMessage) -> list[Payload]:
    separator = "\n\n"
    tail = "".join(f" @{mobile}" for mobile in message.mobiles)
    tail = separator + tail.strip() if tail else ""
    heading_room = utf8_len(f"### {widest_title(message)}{separator}")
    parts = _fit(message, DINGTALK_TEXT_BYTES - heading_room - utf8_len(tail), separator)
    payloads: list[Payload] = []
    for number, part in enumerate(parts, start=1):
        last = number == len(parts)
        text = _join(f"### {part.title}", part, separator) + (tail if last else "")
        payload: Payload = {"msgtype": "markdown", "markdown": {"title": part.title, "text": text}}
        if last and message.mentions:
            payload["at"] = {"atMobiles": message.mobiles, "isAtAll": message.mentions_all}
        payloads.append(payload)
    return payloads


def wecom_payloads(message: BotMessage) -> list[Payload]:
    separator = "\n"
    heading_room = utf8_len(f"**{widest_title(message)}**{separator}")
    parts = _fit(message, WECOM_MARKDOWN_BYTES - heading_room, separator)
    payloads: list[Payload] = [
        {"msgtype": "markdown", "markdown": {"content": _join(f"**{part.title}**", part, "\n")}}
        for part in parts
    ]
    if message.mentions:
        everyone = ["@all"] if message.mentions_all else []
        text = {
            "content": truncate_utf8(message.one_line_title, WECOM_TEXT_BYTES),
            "mentioned_mobile_list": message.mobiles + everyone,
        }
        payloads.append({"msgtype": "text", "text": text})
    return payloads


def feishu_payloads(message: BotMessage) -> list[Payload]:
    separator = "\n"
    marks = ['<at user_id="all">所有人</at>'] if message.mentions_all else []
    marks += [f"@{mobile}" for mobile in message.mobiles]
    tail = separator + " ".join(marks) if marks else ""
    heading_room = utf8_len(widest_title(message) + separator)
    parts = _fit(message, FEISHU_TEXT_BYTES - heading_room - utf8_len(tail), separator)
    return [
        {
            "msg_type": "text",
            "content": {
                "text": _join(part.title, part, separator) + (tail if n == len(parts) else "")
            },
        }
        for n, part in enumerate(parts, start=1)
    ]


def json_payloads(message: BotMessage) -> list[Payload]:
    return [
        {
            "title": message.title,
            "text": "\n".join(message.lines),
            "units": list(message.units),
            "campaign": message.campaign,
            "mentions": list(message.mentions),
        }
    ]


def _fit(message: BotMessage, budget: int, separator: str) -> list[Part]:
    return split_parts(message, max(budget, 1), separator)


def _join(heading: str, part: Part, separator: str) -> str:
    return separator.join([heading, *part.lines]) if part.lines else heading
