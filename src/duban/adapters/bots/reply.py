"""Read a platform's answer into a ``BotResult``: a refused post is a result, not an exception.

The platforms answer HTTP 200 to most refusals and put the verdict in the JSON: DingTalk and
WeCom in ``errcode`` (0 is success), Feishu in ``code`` (older hooks: ``StatusCode``). A reply
without that field is a failure too: something other than the platform answered (a proxy's
login page, a captive portal), and calling it a success would hide a lost escalation. A generic
JSON hook succeeds on any 2xx.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from duban.adapters.bots.spec import BotKind

_EXCERPT_CHARS = 200
_CODE_FIELDS = {
    BotKind.DINGTALK: ("errcode",),
    BotKind.WECOM: ("errcode",),
    BotKind.FEISHU: ("code", "StatusCode"),
    BotKind.JSON: (),
}
_MESSAGE_FIELDS = ("errmsg", "msg", "StatusMessage", "message", "error")


@dataclass(frozen=True)
class BotResult:
    """What became of one message: ``ok``, the last HTTP status, the platform's error code.

    ``posts`` counts the posts made (a long message is several); after a failure, the parts
    before it were delivered and the rest were not tried.
    """

    ok: bool
    status: int | None
    error_code: int | None
    detail: str
    posts: int = 1


def interpret(kind: BotKind, status: int, body: bytes) -> BotResult:
    """The result of one post from its HTTP status and body."""
    reply = _json_object(body)
    message = _first_text(reply, _MESSAGE_FIELDS)
    code = _first_int(reply, _CODE_FIELDS[kind])
    if not 200 <= status < 300:
        return BotResult(False, status, code, f"HTTP {status}: {message or _excerpt(body)}")
    if kind is BotKind.JSON:
        return BotResult(True, status, None, f"HTTP {status}")
    if code is None:
        field = _CODE_FIELDS[kind][0]
        detail = f"the reply has no {field}, so the post may not have reached the platform"
        return BotResult(False, status, None, f"{detail}: {_excerpt(body)}")
    return BotResult(code == 0, status, code, message or ("ok" if code == 0 else "no message"))


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _first_int(reply: dict[str, Any], names: tuple[str, ...]) -> int | None:
    for name in names:
        value = reply.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _first_text(reply: dict[str, Any], names: tuple[str, ...]) -> str:
    for name in names:
        value = reply.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _excerpt(body: bytes) -> str:
    text = " ".join(body.decode("utf-8", errors="replace").split())
    if not text:
        return "(empty reply)"
    return text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS] + "…"
