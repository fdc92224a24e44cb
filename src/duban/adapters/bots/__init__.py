"""Group bots for escalation (督办): DingTalk, WeCom and Feishu robots, or any JSON hook.

When reminders by email have not worked, the escalation step of the ladder posts to the
office's group chats. ``parse_bots`` reads ``DUBAN_BOTS`` into ``BotSpec``s (the caller passes
the value in; nothing here reads the environment); ``batch_lines`` packs the late units into a
few ``BotMessage``s; ``BotSender.send`` renders, signs and posts each one over the caller's
``httpx.Client``, at most 20 posts per bot in any 60 seconds of the clock, and answers with a
``BotResult``. ``duban.testing.botserver.LocalBotServer`` is the real loopback server the tests use.
"""

from __future__ import annotations

from duban.adapters.bots.message import (
    MENTION_ALL,
    UNIT_BATCH_BYTES,
    BotMessage,
    batch_lines,
    truncate_utf8,
)
from duban.adapters.bots.ratelimit import SlidingWindowLimiter
from duban.adapters.bots.render import render
from duban.adapters.bots.reply import BotResult
from duban.adapters.bots.sender import DEFAULT_PER_MINUTE, BotConnectionError, BotSender
from duban.adapters.bots.spec import BOTS_VARIABLE, BotKind, BotSpec, parse_bot_spec, parse_bots

__all__ = [
    "BOTS_VARIABLE",
    "DEFAULT_PER_MINUTE",
    "MENTION_ALL",
    "UNIT_BATCH_BYTES",
    "BotConnectionError",
    "BotKind",
    "BotMessage",
    "BotResult",
    "BotSender",
    "BotSpec",
    "SlidingWindowLimiter",
    "batch_lines",
    "parse_bot_spec",
    "parse_bots",
    "render",
    "truncate_utf8",
]
