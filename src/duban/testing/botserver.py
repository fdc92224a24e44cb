"""A real HTTP server on 127.0.0.1 that answers like the group-bot platforms, for the tests.

``LocalBotServer`` (stdlib ``ThreadingHTTPServer`` in a thread, on a free port) serves the
webhook paths of DingTalk (``/robot/send?access_token=``), WeCom
(``/cgi-bin/webhook/send?key=``), Feishu (``/open-apis/bot/v2/hook/TOKEN``) and a generic JSON
hook (``/hook/NAME``). It records every request (path, query, headers, raw and parsed body, and
the time on ``clock`` when one is given) and answers each platform's JSON:

- DingTalk and Feishu bots whose token has a secret in ``secrets`` must be signed; a missing or
  wrong signature gets the platform's refusal (DingTalk ``errcode`` 310000, Feishu ``code``
  19021). With a ``clock``, a timestamp more than an hour off is refused too, as the platforms do.
- WeCom markdown over 4,096 bytes is refused with ``errcode`` 40058, so a test proves splitting.
- ``fail_next(n, ...)`` makes the next n requests fail: HTTP ``status`` or, with ``error_code``,
  HTTP 200 carrying that platform error.

Signatures are checked by code of its own, written from the platforms' descriptions, not by
duban's signing module: a mistake in duban's signing cannot then approve itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from duban.clock import Clock

SIGNATURE_TOLERANCE = timedelta(hours=1)
DINGTALK_PATH = "/robot/send"
WECOM_PATH = "/cgi-bin/webhook/send"
FEISHU_PREFIX = "/open-apis/bot/v2/hook/"
JSON_PREFIX = "/hook/"
WECOM_MARKDOWN_LIMIT = 4096
WECOM_TEXT_LIMIT = 2048


@dataclass(frozen=True)
class BotRequest:
    """One request as the server saw it, and what it answered."""

    kind: str  # dingtalk, wecom, feishu, json, or unknown
    token: str | None
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes
    body: Any  # the parsed JSON, or None when the body was not JSON
    at: datetime | None  # the server's clock at arrival, when it has one
    status: int
    reply: Any


@dataclass
class _Failure:
    remaining: int
    status: int
    error_code: int | None


@dataclass(frozen=True)
class _Answer:
    status: int
    reply: Any


class _State:
    """What the handler threads share: configuration, the record, pending failures."""

    def __init__(self, secrets: Mapping[str, str], clock: Clock | None) -> None:
        self.secrets = dict(secrets)
        self.clock = clock
        self.lock = threading.Lock()
        self.requests: list[BotRequest] = []
        self.failure: _Failure | None = None

    def take_failure(self) -> _Failure | None:
        with self.lock:
            failure = self.failure
            if failure is None or failure.remaining <= 0:
                return None
            failure.remaining -= 1
            return failure


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a client's idle keep-alive connection must not block stop()
    state: _State


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx clients expect
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall

    def do_POST(self) -> None:
        state = cast(_Server, self.server).state
        at = None if state.clock is None else state.clock.now()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        kind, token = _route(parts.path, query)
        body = _parse_json(raw)
        answer = _answer(state, kind, token, query, body, at)
        request = BotRequest(
            kind, token, parts.path, query, dict(self.headers.items()), raw, body, at,
            answer.status, answer.reply,
        )  # fmt: skip
        with state.lock:
            state.requests.append(request)
        self._reply(answer)

    def _reply(self, answer: _Answer) -> None:
        if isinstance(answer.reply, str):
            data, content_type = answer.reply.encode(), "text/plain; charset=utf-8"
        else:
            data = json.dumps(answer.reply, ensure_ascii=False).encode()
            content_type = "application/json; charset=utf-8"
        self.send_response(answer.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the record is ``LocalBotServer.requests``, not stderr."""


def _route(path: str, query: Mapping[str, str]) -> tuple[str, str | None]:
    if path == DINGTALK_PATH:
        return "dingtalk", query.get("access_token")
    if path == WECOM_PATH:
        return "wecom", query.get("key")
    if path.startswith(FEISHU_PREFIX):
        return "feishu", unquote(path.removeprefix(FEISHU_PREFIX).strip("/")) or None
    if path.startswith(JSON_PREFIX):
        return "json", unquote(path.removeprefix(JSON_PREFIX)) or None
    return "unknown", None


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _answer(
    state: _State,
    kind: str,
    token: str | None,
    query: Mapping[str, str],
    body: Any,
    at: datetime | None,
) -> _Answer:
    if kind == "unknown" or token is None:
        return _Answer(404, "no such hook")
    failure = state.take_failure()
    if failure is not None:
        return _injected(kind, failure)
    secret = state.secrets.get(token)
    if kind == "dingtalk":
        return _dingtalk(query, body, secret, at)
    if kind == "wecom":
        return _wecom(body)
    if kind == "feishu":
        return _feishu(body, secret, at)
    if not isinstance(body, dict):
        return _Answer(400, {"error": "the body is not a JSON object"})
    return _Answer(200, {"ok": True})


def _injected(kind: str, failure: _Failure) -> _Answer:
    if failure.error_code is None or kind == "json":
        return _Answer(failure.status, "injected failure")
    if kind == "feishu":
        return _Answer(200, {"code": failure.error_code, "msg": "injected failure"})
    return _Answer(200, {"errcode": failure.error_code, "errmsg": "injected failure"})


def _dingtalk(
    query: Mapping[str, str], body: Any, secret: str | None, at: datetime | None
) -> _Answer:
    if secret is not None:
        refusal = _dingtalk_signature_refusal(query, secret, at)
        if refusal is not None:
            return _Answer(200, {"errcode": 310000, "errmsg": refusal})
    if not _dingtalk_shape_ok(body):
        return _Answer(200, {"errcode": 40035, "errmsg": "缺少参数 json"})
    return _Answer(200, {"errcode": 0, "errmsg": "ok"})


def _dingtalk_signature_refusal(
    query: Mapping[str, str], secret: str, at: datetime | None
) -> str | None:
    timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
    if not timestamp.isdigit() or not sign:
        return "sign not match"
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(base64.b64encode(digest).decode(), sign):
        return "sign not match"
    if at is not None and abs(at.timestamp() * 1000 - int(timestamp)) > _tolerance_ms():
        return "invalid timestamp"
    return None


def _dingtalk_shape_ok(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    if body.get("msgtype") == "markdown":
        block = body.get("markdown")
        return isinstance(block, dict) and all(
            isinstance(block.get(k), str) and block.get(k) for k in ("title", "text")
        )
    if body.get("msgtype") == "text":
        block = body.get("text")
        return isinstance(block, dict) and isinstance(block.get("content"), str)
    return False


def _wecom(body: Any) -> _Answer:
    if not isinstance(body, dict) or body.get("msgtype") not in ("markdown", "text"):
        return _Answer(200, {"errcode": 40008, "errmsg": "invalid message type"})
    kind = str(body["msgtype"])
    block = body.get(kind)
    content = block.get("content") if isinstance(block, dict) else None
    if not isinstance(content, str) or not content:
        return _Answer(200, {"errcode": 44004, "errmsg": "empty content"})
    limit = WECOM_MARKDOWN_LIMIT if kind == "markdown" else WECOM_TEXT_LIMIT
    if len(content.encode("utf-8")) > limit:
        return _Answer(
            200, {"errcode": 40058, "errmsg": f"{kind}.content exceed max length {limit}"}
        )
    return _Answer(200, {"errcode": 0, "errmsg": "ok"})


def _feishu(body: Any, secret: str | None, at: datetime | None) -> _Answer:
    if not isinstance(body, dict):
        return _Answer(400, {"code": 9499, "msg": "Bad Request"})
    if secret is not None and not _feishu_signature_ok(body, secret, at):
        message = "sign match fail or timestamp is not within one hour from current time"
        return _Answer(200, {"code": 19021, "msg": message})
    content = body.get("content")
    text = content.get("text") if isinstance(content, dict) else None
    if body.get("msg_type") != "text" or not isinstance(text, str) or not text:
        return _Answer(200, {"code": 9499, "msg": "Bad Request"})
    return _Answer(200, {"code": 0, "data": {}, "msg": "success"})


def _feishu_signature_ok(body: dict[str, Any], secret: str, at: datetime | None) -> bool:
    timestamp, sign = str(body.get("timestamp", "")), body.get("sign")
    if not timestamp.isdigit() or not isinstance(sign, str):
        return False
    key = f"{timestamp}\n{secret}".encode()
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, sign):
        return False
    tolerance = SIGNATURE_TOLERANCE.total_seconds()
    return at is None or abs(at.timestamp() - int(timestamp)) <= tolerance


def _tolerance_ms() -> float:
    return SIGNATURE_TOLERANCE.total_seconds() * 1000


class LocalBotServer:
    """``with LocalBotServer(secrets={token: secret}, clock=clock) as server:`` on 127.0.0.1.

    ``secrets`` maps a DingTalk access token or Feishu hook token to its signing secret (those
    bots then insist on a valid signature); ``clock`` stamps each request and bounds the
    signature's timestamp. ``url(kind, token, secret=...)`` builds a ``DUBAN_BOTS`` spec that
    points here.
    """

    host = "127.0.0.1"

    def __init__(
        self, *, secrets: Mapping[str, str] | None = None, clock: Clock | None = None
    ) -> None:
        self._state = _State(secrets or {}, clock)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Listen on a port the OS picks (port 0), so nothing can take it in between."""
        server = _Server((self.host, 0), _Handler)
        server.state = self._state
        self._server, self.port = server, server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="LocalBotServer", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, kind: str, token: str, *, secret: str | None = None) -> str:
        """A bot spec (as in ``DUBAN_BOTS``) for a bot of ``kind`` on this server."""
        quoted = quote(token, safe="")
        signed = "" if secret is None else f"secret={quote(secret, safe='')}"
        paths = {
            "dingtalk": f"{DINGTALK_PATH}?access_token={quoted}" + (f"&{signed}" if signed else ""),
            "wecom": f"{WECOM_PATH}?key={quoted}",
            "feishu": f"{FEISHU_PREFIX}{quoted}" + (f"?{signed}" if signed else ""),
            "json": f"{JSON_PREFIX}{quoted}",
        }
        if kind not in paths:
            raise ValueError(f"unknown bot kind {kind!r}; the kinds are {', '.join(paths)}")
        return f"{kind}+{self.base_url}{paths[kind]}"

    def fail_next(self, count: int, *, status: int = 500, error_code: int | None = None) -> None:
        """Fail the next ``count`` hook requests: HTTP ``status``, or a platform ``error_code``."""
        with self._state.lock:
            self._state.failure = _Failure(count, status, error_code)

    @property
    def requests(self) -> list[BotRequest]:
        """Every request so far, oldest first (a copy)."""
        with self._state.lock:
            return list(self._state.requests)

    def requests_for(self, token: str) -> list[BotRequest]:
        return [r for r in self.requests if r.token == token]
