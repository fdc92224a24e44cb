"""Post a ``BotMessage`` to one bot over an ``httpx.Client`` the caller owns.

The client is passed in (its timeouts, proxy and TLS settings are the caller's, and a test
points it at ``LocalBotServer`` on 127.0.0.1); so are the clock that signs and rate-limits and
the ``sleep`` that waits. A platform's refusal comes back as a failed ``BotResult`` with its
error code, for the caller to record; only a transport failure raises, because then nobody
knows whether the group saw the post and the caller must decide whether to try again.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from duban.adapters.bots.message import BotMessage
from duban.adapters.bots.ratelimit import SlidingWindowLimiter
from duban.adapters.bots.render import Payload, render
from duban.adapters.bots.reply import BotResult, interpret
from duban.adapters.bots.signing import dingtalk_signed_url, feishu_signature_fields
from duban.adapters.bots.spec import BOTS_VARIABLE, BotKind, BotSpec
from duban.clock import Clock
from duban.errors import DubanError

DEFAULT_PER_MINUTE = 20
_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


class BotConnectionError(DubanError):
    """A bot could not be reached, or the connection broke before its answer came."""


class BotSender:
    """Sends messages to group bots, at most ``per_minute`` posts per bot in any 60 s."""

    def __init__(
        self,
        client: httpx.Client,
        clock: Clock,
        *,
        per_minute: int = DEFAULT_PER_MINUTE,
        sleep: Callable[[float], None],
    ) -> None:
        self._client = client
        self._clock = clock
        self._limiter = SlidingWindowLimiter(clock, limit=per_minute, sleep=sleep)

    def send(self, spec: BotSpec, message: BotMessage) -> BotResult:
        """Post every part of ``message``; stop at the first refused part and report it."""
        payloads = render(spec.kind, message)
        result = BotResult(False, None, None, "nothing was posted", posts=0)
        for number, payload in enumerate(payloads, start=1):
            result = self._post(spec, payload, number, len(payloads))
            if not result.ok:
                break
        return result

    def _post(self, spec: BotSpec, payload: Payload, number: int, count: int) -> BotResult:
        at = self._limiter.acquire(spec.endpoint)
        url, body = spec.endpoint, payload
        if spec.secret is not None and spec.kind is BotKind.DINGTALK:
            url = dingtalk_signed_url(spec.endpoint, spec.secret, at)
        if spec.secret is not None and spec.kind is BotKind.FEISHU:
            body = {**feishu_signature_fields(spec.secret, at), **payload}
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            response = self._client.post(url, content=content, headers=_HEADERS)
        except httpx.TransportError as exc:
            raise _connection_error(spec, exc, number, count) from None
        result = interpret(spec.kind, response.status_code, response.content)
        detail = spec.scrub(result.detail)
        if count > 1:
            detail = f"part {number} of {count}: {detail}"
        return BotResult(result.ok, result.status, result.error_code, detail, posts=number)


def _connection_error(
    spec: BotSpec, exc: httpx.TransportError, number: int, count: int
) -> BotConnectionError:
    """Say what failed and what may have reached the group, without the token or secret."""
    reason = spec.scrub(str(exc).strip()) or type(exc).__name__
    done = f"; parts 1–{number - 1} of {count} were posted" if number > 1 else ""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        state = "nothing was posted in this attempt"
    else:
        state = "the post may or may not have reached the group"
    return BotConnectionError(
        f"could not reach the {spec.label}: {reason} ({state}{done})",
        hint=f"check the network, a proxy, and the bot's address in {BOTS_VARIABLE}",
    )
