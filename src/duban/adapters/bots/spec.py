"""Read ``DUBAN_BOTS``: which group bots an escalation posts to, one URL-ish spec per bot.

A spec is the bot's kind, a ``+``, and the webhook address the platform gave, with the signing
secret (where the platform has one) as a ``secret`` query option::

    dingtalk+https://oapi.dingtalk.com/robot/send?access_token=TOKEN&secret=SEC...
    wecom+https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY
    feishu+https://open.feishu.cn/open-apis/bot/v2/hook/TOKEN?secret=SECRET
    json+https://example.internal/hook              (a generic JSON POST)

``DUBAN_BOTS`` lists specs separated by commas or new lines; a comma or ``%`` inside a token or
secret is written ``%2C`` / ``%25``. The access token *is* the bot's password (anyone holding it
may post to the group), so errors never repeat a spec, its token or its secret: they name the
bot by its position in the list and the part that is wrong.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import SplitResult, quote, unquote, urlsplit

from duban.errors import ConfigError

BOTS_VARIABLE = "DUBAN_BOTS"

# Only short letter-only names are ever echoed: a token typed where a name goes must not be.
_SHOWABLE_NAME = re.compile(r"[A-Za-z_]{1,20}")
_EXAMPLES = (
    "write dingtalk+https://oapi.dingtalk.com/robot/send?access_token=…&secret=…, "
    "wecom+https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…, "
    "feishu+https://open.feishu.cn/open-apis/bot/v2/hook/…?secret=… or json+https://…"
)
_EXAMPLES_ZH = (
    "请写成 dingtalk+https://oapi.dingtalk.com/robot/send?access_token=…&secret=…、"
    "wecom+https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…、"
    "feishu+https://open.feishu.cn/open-apis/bot/v2/hook/…?secret=… 或 json+https://…"
)
_WEBHOOK_ZH = "请复制该机器人的 Webhook 地址"


class BotKind(StrEnum):
    """The platform a bot lives on: it decides the payload, the signature and the reply."""

    DINGTALK = "dingtalk"
    WECOM = "wecom"
    FEISHU = "feishu"
    JSON = "json"


@dataclass(frozen=True)
class BotSpec:
    """One bot: where to post and how to sign. ``repr`` and ``str`` show no token or secret.

    ``endpoint`` is the URL posted to (it holds the access token, so it is kept out of
    ``repr``); ``secrets`` are the strings that must never appear in a message or log.
    """

    kind: BotKind
    endpoint: str = field(repr=False)
    host: str
    secret: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        """A name for messages: kind, host and a short fingerprint that tells two bots apart."""
        fingerprint = hashlib.sha256(self.endpoint.encode()).hexdigest()[:6]
        return f"{self.kind} bot at {self.host} #{fingerprint}"

    def __str__(self) -> str:
        return self.label

    def scrub(self, text: str) -> str:
        """``text`` with the token and secret (raw or percent-encoded) replaced by ``***``."""
        for value in (self.token, self.secret):
            if value:
                for form in {value, quote(value, safe="")}:
                    text = text.replace(form, "***")
        return text


def parse_bots(value: str) -> list[BotSpec]:
    """Parse the whole ``DUBAN_BOTS`` value; blank means no bots; a bot listed twice is refused.

    A repeated bot would get every escalation twice and use up its 20 posts a minute twice as
    fast, and is almost always a copy-and-paste slip.
    """
    entries = [entry.strip() for entry in re.split(r"[,\r\n]", value)]
    specs: list[BotSpec] = []
    for position, entry in enumerate((e for e in entries if e), start=1):
        spec = parse_bot_spec(entry, position=position)
        earlier = next((n for n, s in enumerate(specs, 1) if s.endpoint == spec.endpoint), None)
        if earlier is not None:
            raise _error(
                position,
                f"repeats bot {earlier}",
                "list each bot once",
                f"与第 {earlier} 个机器人重复",
                "每个机器人只列一次",
            )
        specs.append(spec)
    return specs


def parse_bot_spec(text: str, *, position: int = 1) -> BotSpec:
    """Parse one spec; ``position`` (1-based) names it in errors instead of its text."""
    kind_text, plus, rest = text.strip().partition("+")
    if not plus or not _SHOWABLE_NAME.fullmatch(kind_text):
        raise _error(
            position,
            "does not start with a kind and '+'",
            _EXAMPLES,
            "开头不是“类型+”",
            _EXAMPLES_ZH,
        )
    try:
        kind = BotKind(kind_text.lower())
    except ValueError:
        kinds = ", ".join(k.value for k in BotKind)
        raise _error(
            position,
            f"unknown kind {kind_text!r}",
            f"the kinds are {kinds}",
            f"不认识的类型“{kind_text}”",
            f"可用的类型：{kinds}",
        ) from None
    parts = _split_url(rest, position)
    options = _query(parts.query, position)
    builder = _BUILDERS[kind]
    return builder(parts, options, position)


def _split_url(text: str, position: int) -> SplitResult:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise _error(
            position,
            "the address after '+' must start with https://",
            _EXAMPLES,
            "“+”后面的地址应以 https:// 开头",
            _EXAMPLES_ZH,
        )
    if "@" in parts.netloc:
        raise _error(
            position,
            "the address holds a user name or '@'",
            "remove it",
            "地址中含有用户名或“@”",
            "请删去",
        )
    if not parts.hostname or any(ch.isspace() for ch in parts.netloc):
        raise _error(
            position, "the address has no host name", _EXAMPLES, "地址中没有主机名", _EXAMPLES_ZH
        )
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        raise _error(
            position,
            "the port is not a number from 1 to 65535",
            "check the address",
            "端口不是 1 到 65535 之间的数字",
            "请检查地址",
        )
    if parts.fragment:
        raise _error(
            position,
            "the address holds a '#'",
            "write '#' in a token as %23",
            "地址中含有“#”",
            "令牌中的“#”请写成 %23",
        )
    return parts


def _query(query: str, position: int) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in filter(None, query.split("&")):
        name, _, value = item.partition("=")
        if name in values:
            raise _error(
                position,
                f"option {_shown(name)} is given twice",
                "keep one of them",
                f"选项 {_shown(name)} 出现了两次",
                "只保留一个",
            )
        values[name] = unquote(value)
    return values


def _dingtalk(parts: SplitResult, options: dict[str, str], position: int) -> BotSpec:
    _only(options, ("access_token", "secret"), position)
    token = _required(options, "access_token", position)
    endpoint = f"{_base(parts)}?access_token={quote(token, safe='')}"
    secret = _secret(options, position)
    return BotSpec(BotKind.DINGTALK, endpoint, _host(parts), secret, token)


def _wecom(parts: SplitResult, options: dict[str, str], position: int) -> BotSpec:
    if "secret" in options:
        raise _error(
            position,
            "WeCom group robots are not signed",
            "remove ?secret=",
            "企业微信群机器人不使用加签",
            "请删去 ?secret=",
        )
    _only(options, ("key",), position)
    key = _required(options, "key", position)
    endpoint = f"{_base(parts)}?key={quote(key, safe='')}"
    return BotSpec(BotKind.WECOM, endpoint, _host(parts), None, key)


def _feishu(parts: SplitResult, options: dict[str, str], position: int) -> BotSpec:
    _only(options, ("secret",), position)
    _, hook, token = parts.path.rpartition("/hook/")
    token = unquote(token.strip("/"))
    if not hook or not token or "/" in token:
        raise _error(
            position,
            "the address does not end in /hook/TOKEN",
            "copy the bot's webhook address",
            "地址不是以 /hook/TOKEN 结尾",
            _WEBHOOK_ZH,
        )
    return BotSpec(BotKind.FEISHU, _base(parts), _host(parts), _secret(options, position), token)


def _json(parts: SplitResult, options: dict[str, str], position: int) -> BotSpec:
    """A generic hook keeps its query as given: it is the receiving service's business."""
    endpoint = _base(parts) + (f"?{parts.query}" if parts.query else "")
    return BotSpec(BotKind.JSON, endpoint, _host(parts), None, None)


_BUILDERS = {
    BotKind.DINGTALK: _dingtalk,
    BotKind.WECOM: _wecom,
    BotKind.FEISHU: _feishu,
    BotKind.JSON: _json,
}


def _base(parts: SplitResult) -> str:
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _host(parts: SplitResult) -> str:
    return parts.netloc.lower()


def _only(options: dict[str, str], allowed: Iterable[str], position: int) -> None:
    allowed = tuple(allowed)
    for name in options:
        if name not in allowed:
            names = ", ".join(allowed)
            raise _error(
                position,
                f"unknown option {_shown(name)}",
                f"the options are {names}",
                f"不认识的选项 {_shown(name)}",
                f"可用的选项：{names}",
            )


def _required(options: dict[str, str], name: str, position: int) -> str:
    value = options.get(name, "")
    if not value.strip():
        raise _error(
            position,
            f"?{name}= is missing or empty",
            "copy the bot's webhook address",
            f"缺少 ?{name}= 或其值为空",
            _WEBHOOK_ZH,
        )
    return value


def _secret(options: dict[str, str], position: int) -> str | None:
    if "secret" not in options:
        return None
    secret = options["secret"]
    if not secret.strip():
        raise _error(
            position,
            "?secret= is empty",
            "give the bot's signing secret or drop it",
            "?secret= 的值为空",
            "请填写该机器人的加签密钥，或删去此项",
        )
    return secret


def _shown(name: str) -> str:
    return repr(name) if _SHOWABLE_NAME.fullmatch(name) else "(unreadable)"


def _error(position: int, message: str, hint: str, zh: str, zh_hint: str) -> ConfigError:
    """The error naming the bot by its position (never its text), in English and Chinese."""
    return ConfigError(
        f"{BOTS_VARIABLE}: bot {position}: {message}",
        hint=hint,
        zh=f"{BOTS_VARIABLE}：第 {position} 个机器人：{zh}",
        zh_hint=zh_hint,
    )
