"""Group bots: specs, payloads, signatures, replies and the rate limit, against a real server.

Every post goes to ``LocalBotServer`` on 127.0.0.1, which checks the DingTalk and Feishu
signatures with code of its own and records each request at the time of the test's clock.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from duban.adapters.bots import (
    BotConnectionError,
    BotKind,
    BotMessage,
    BotSender,
    BotSpec,
    batch_lines,
    parse_bot_spec,
    parse_bots,
    truncate_utf8,
)
from duban.clock import FixedClock
from duban.errors import ConfigError, DubanError
from duban.testing.botserver import LocalBotServer

START = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
DT_TOKEN = "dt0123456789abcdef0123456789abcdef"
DT_SECRET = "SECabc+def/ghi=jkl0123456789"  # + / = must survive the query string
FS_TOKEN = "fs-6f1e2d3c-4b5a-4968-8776-655443322110"
FS_SECRET = "feishuSecret/+=42"
WC_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
TITLE = "【督办】关于实施方案逾期未报送情况的通报"
LINES = [
    "截至3月9日9时，以下单位仍未报送《实施方案》：",
    "市发展和改革委员会、市教育局、市公安局（交警支队）",
    "请于今日17:30前通过电子邮件报送。",
]


class FakeSleep:
    """Advances the test's clock instead of waiting, and remembers how long it was asked to."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.advance(timedelta(seconds=seconds))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def sleep(clock: FixedClock) -> FakeSleep:
    return FakeSleep(clock)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    # trust_env=False: a proxy set in the environment must not carry loopback traffic away.
    with httpx.Client(timeout=5.0, trust_env=False) as http:
        yield http


@pytest.fixture
def server(clock: FixedClock) -> Iterator[LocalBotServer]:
    with LocalBotServer(secrets={DT_TOKEN: DT_SECRET, FS_TOKEN: FS_SECRET}, clock=clock) as bots:
        yield bots


@pytest.fixture
def sender(client: httpx.Client, clock: FixedClock, sleep: FakeSleep) -> BotSender:
    return BotSender(client, clock, sleep=sleep)


def message(**changes: object) -> BotMessage:
    fields: dict[str, object] = {"title": TITLE, "lines": list(LINES)}
    fields.update(changes)
    return BotMessage(**fields)  # type: ignore[arg-type]


# --- DingTalk ------------------------------------------------------------------------------


def test_dingtalk_signed_markdown_reaches_the_group(server, sender, clock) -> None:
    spec = parse_bot_spec(server.url("dingtalk", DT_TOKEN, secret=DT_SECRET))

    result = sender.send(spec, message(mentions=["13800000000"]))

    assert (result.ok, result.status, result.error_code, result.posts) == (True, 200, 0, 1)
    (request,) = server.requests
    assert request.path == "/robot/send"
    assert request.query["access_token"] == DT_TOKEN
    assert request.query["timestamp"] == str(int(START.timestamp() * 1000))
    assert request.reply == {"errcode": 0, "errmsg": "ok"}  # the server verified the sign
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    body = request.body
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == TITLE
    assert body["markdown"]["text"].startswith(f"### {TITLE}\n\n{LINES[0]}")
    assert "@13800000000" in body["markdown"]["text"]
    assert body["at"] == {"atMobiles": ["13800000000"], "isAtAll": False}
    assert "市公安局（交警支队）".encode() in request.raw  # UTF-8 on the wire, not \\u escapes
    assert DT_SECRET not in request.raw.decode() + str(request.query)


def test_dingtalk_wrong_or_missing_secret_is_a_failed_result(server, sender) -> None:
    wrong = parse_bot_spec(server.url("dingtalk", DT_TOKEN, secret="SECwrong"))
    unsigned = parse_bot_spec(server.url("dingtalk", DT_TOKEN))

    for spec in (wrong, unsigned):
        result = sender.send(spec, message())
        assert not result.ok
        assert (result.status, result.error_code) == (200, 310000)
        assert "sign not match" in result.detail


def test_dingtalk_stale_timestamp_is_refused(client, clock, sleep) -> None:
    late_server_clock = FixedClock(START + timedelta(hours=2))
    with LocalBotServer(secrets={DT_TOKEN: DT_SECRET}, clock=late_server_clock) as bots:
        spec = parse_bot_spec(bots.url("dingtalk", DT_TOKEN, secret=DT_SECRET))
        result = BotSender(client, clock, sleep=sleep).send(spec, message())
    assert (result.ok, result.error_code) == (False, 310000)


def test_dingtalk_unsigned_bot_gets_no_signature(server, sender) -> None:
    spec = parse_bot_spec(server.url("dingtalk", "plain-token"))
    assert sender.send(spec, message()).ok
    (request,) = server.requests
    assert set(request.query) == {"access_token"}


# --- WeCom ---------------------------------------------------------------------------------


def test_wecom_markdown_reaches_the_group(server, sender) -> None:
    spec = parse_bot_spec(server.url("wecom", WC_KEY))

    result = sender.send(spec, message())

    assert (result.ok, result.error_code) == (True, 0)
    (request,) = server.requests
    assert request.query == {"key": WC_KEY}
    assert request.body == {
        "msgtype": "markdown",
        "markdown": {"content": "\n".join([f"**{TITLE}**", *LINES])},
    }


def test_wecom_long_content_is_split_into_numbered_parts(server, sender) -> None:
    spec = parse_bot_spec(server.url("wecom", WC_KEY))
    lines = [f"第{n}项：某某单位某某工作任务推进情况说明，尚未完成。" for n in range(1, 201)]
    huge = "超长说明" * 2000  # 24,000 bytes on one line: truncated, not dropped

    result = sender.send(spec, message(lines=[*lines, huge]))

    assert result.ok, result.detail
    requests = server.requests
    assert result.posts == len(requests) >= 3
    contents = [r.body["markdown"]["content"] for r in requests]
    assert all(len(c.encode()) <= 4096 for c in contents)  # the server refuses more anyway
    count = len(contents)
    for number, content in enumerate(contents, start=1):
        assert content.startswith(f"**{TITLE}（{number}/{count}）**\n")
    sent_lines = [line for c in contents for line in c.split("\n")[1:]]
    assert sent_lines[:-1] == lines
    assert sent_lines[-1].startswith("超长说明")
    assert sent_lines[-1].endswith("…")


def test_wecom_mentions_follow_as_a_text_message(server, sender) -> None:
    spec = parse_bot_spec(server.url("wecom", WC_KEY))

    result = sender.send(spec, message(mentions=["13800000000", "all"]))

    assert (result.ok, result.posts) == (True, 2)
    markdown, text = (r.body for r in server.requests)
    assert markdown["msgtype"] == "markdown"
    assert text == {
        "msgtype": "text",
        "text": {"content": TITLE, "mentioned_mobile_list": ["13800000000", "@all"]},
    }


def test_wecom_oversized_content_is_refused_by_the_server(server, client) -> None:
    """The server's 4,096-byte check is real, so the splitting test above proves something."""
    content = "超" * 1400  # 4,200 bytes
    reply = client.post(
        f"{server.base_url}/cgi-bin/webhook/send?key={WC_KEY}",
        json={"msgtype": "markdown", "markdown": {"content": content}},
    )
    assert reply.json()["errcode"] == 40058


# --- Feishu --------------------------------------------------------------------------------


def test_feishu_signed_text_reaches_the_group(server, sender) -> None:
    spec = parse_bot_spec(server.url("feishu", FS_TOKEN, secret=FS_SECRET))

    result = sender.send(spec, message(mentions=["all"]))

    assert (result.ok, result.error_code) == (True, 0)
    (request,) = server.requests
    assert request.path == f"/open-apis/bot/v2/hook/{FS_TOKEN}"
    assert request.query == {}
    body = request.body
    assert body["timestamp"] == str(int(START.timestamp()))
    assert body["sign"]
    assert body["msg_type"] == "text"
    assert body["content"]["text"] == "\n".join([TITLE, *LINES, '<at user_id="all">所有人</at>'])
    assert request.reply == {"code": 0, "data": {}, "msg": "success"}


def test_feishu_wrong_secret_is_a_failed_result(server, sender) -> None:
    spec = parse_bot_spec(server.url("feishu", FS_TOKEN, secret="not-the-secret"))

    result = sender.send(spec, message())

    assert (result.ok, result.status, result.error_code) == (False, 200, 19021)
    assert "sign" in result.detail


# --- generic JSON, failures, replies -------------------------------------------------------


def test_generic_json_hook_gets_title_text_units_and_campaign(server, sender) -> None:
    spec = parse_bot_spec(server.url("json", "duban-escalations"))
    units = ["市发展和改革委员会", "市教育局"]

    result = sender.send(spec, message(units=units, campaign="nlzf-2026"))

    assert (result.ok, result.status, result.error_code) == (True, 200, None)
    (request,) = server.requests
    assert request.body == {
        "title": TITLE,
        "text": "\n".join(LINES),
        "units": units,
        "campaign": "nlzf-2026",
        "mentions": [],
    }


def test_http_errors_and_platform_errors_are_results_not_exceptions(server, sender) -> None:
    dingtalk = parse_bot_spec(server.url("dingtalk", DT_TOKEN, secret=DT_SECRET))
    generic = parse_bot_spec(server.url("json", "hook"))

    server.fail_next(1, status=500)
    broken = sender.send(dingtalk, message())
    server.fail_next(1, error_code=130101)
    throttled = sender.send(dingtalk, message())
    server.fail_next(1, status=503)
    generic_down = sender.send(generic, message())
    recovered = sender.send(dingtalk, message())

    assert (broken.ok, broken.status, broken.error_code) == (False, 500, None)
    assert "HTTP 500" in broken.detail
    assert (throttled.ok, throttled.status, throttled.error_code) == (False, 200, 130101)
    assert (generic_down.ok, generic_down.status) == (False, 503)
    assert recovered.ok


def test_a_refused_part_stops_the_rest(server, sender) -> None:
    spec = parse_bot_spec(server.url("wecom", WC_KEY))
    lines = [f"第{n}项：" + "未完成事项说明" * 10 for n in range(60)]
    server.fail_next(1, error_code=45009)

    result = sender.send(spec, message(lines=lines))

    assert (result.ok, result.error_code, result.posts) == (False, 45009, 1)
    assert result.detail.startswith("part 1 of ")
    assert len(server.requests) == 1


def test_a_reply_without_errcode_is_not_success(server, sender) -> None:
    """A proxy's page with HTTP 200 must not pass for a delivered escalation."""
    # A WeCom spec whose address leads to something that answers {"ok": true}, not WeCom.
    spec = BotSpec(BotKind.WECOM, f"{server.base_url}/hook/proxy", "127.0.0.1", None, "x")
    result = sender.send(spec, message())
    assert (result.ok, result.status, result.error_code) == (False, 200, None)
    assert "no errcode" in result.detail


def test_connection_refused_raises_a_clear_duban_error(sender) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    spec = parse_bot_spec(
        f"dingtalk+http://127.0.0.1:{port}/robot/send?access_token={DT_TOKEN}&secret={DT_SECRET}"
    )

    with pytest.raises(BotConnectionError) as caught:
        sender.send(spec, message())

    text = str(caught.value)
    assert isinstance(caught.value, DubanError)
    assert "could not reach the dingtalk bot at 127.0.0.1" in text
    assert "refused" in text.lower()
    assert "nothing was posted" in text
    assert "DUBAN_BOTS" in text
    assert DT_TOKEN not in text
    assert DT_SECRET not in text


# --- rate limit and batching ---------------------------------------------------------------


def test_no_sixty_seconds_ever_hold_more_than_twenty_posts(server, sender, clock, sleep) -> None:
    spec = parse_bot_spec(server.url("dingtalk", DT_TOKEN, secret=DT_SECRET))

    for number in range(45):
        assert sender.send(spec, message(title=f"督办提醒 第{number + 1}条")).ok
        clock.advance(timedelta(seconds=2))  # the office's own pace between escalations

    times = [r.at for r in server.requests]
    assert len(times) == 45
    assert all(t is not None for t in times)
    window = timedelta(seconds=60)
    busiest = max(sum(1 for t in times if start <= t < start + window) for start in times)
    assert busiest == 20
    assert times[20] == times[0] + window  # the 21st waits exactly until the 1st leaves
    assert sleep.calls  # it waited on the injected sleep, never on the wall clock
    assert all(r.reply["errcode"] == 0 for r in server.requests)  # signed at the waited time


def test_each_bot_has_its_own_window(server, sender, sleep) -> None:
    first = parse_bot_spec(server.url("wecom", "bot-1"))
    second = parse_bot_spec(server.url("wecom", "bot-2"))

    for _ in range(20):
        assert sender.send(first, message()).ok
    assert sender.send(second, message()).ok

    assert sleep.calls == []


def test_a_clock_that_never_moves_is_reported_not_waited_on_forever(server, client, clock):
    spec = parse_bot_spec(server.url("wecom", WC_KEY))
    stuck = BotSender(client, clock, per_minute=1, sleep=lambda seconds: None)
    assert stuck.send(spec, message()).ok
    with pytest.raises(DubanError, match="clock did not move"):
        stuck.send(spec, message())


def test_many_late_units_go_out_in_few_messages(server, sender, sleep) -> None:
    units = [f"第{n:03d}号成员单位（市直机关）" for n in range(1, 301)]
    spec = parse_bot_spec(server.url("wecom", WC_KEY))

    batches = batch_lines(units)
    results = [
        sender.send(spec, message(title=f"{TITLE}（{i}/{len(batches)}）", lines=lines))
        for i, lines in enumerate(batches, start=1)
    ]

    assert 2 <= len(batches) <= 5
    assert all(r.ok and r.posts == 1 for r in results)
    assert len(server.requests) == len(batches) < 20
    assert sleep.calls == []
    named = [name for lines in batches for line in lines for name in line.split("、")]
    assert named == units


def test_batch_lines_respects_its_limits() -> None:
    units = [f"单位{n}" for n in range(95)]
    batches = batch_lines(units, 200, per_line=7)
    assert all(len("\n".join(lines).encode()) <= 200 for lines in batches)
    assert all(len(line.split("、")) <= 7 for lines in batches for line in lines)
    assert [u for lines in batches for line in lines for u in line.split("、")] == units
    assert batch_lines([]) == []
    assert batch_lines(["  市  教育局 ", ""]) == [["市 教育局"]]


def test_truncate_utf8_cuts_on_a_character_boundary() -> None:
    assert truncate_utf8("督办督办", 12) == "督办督办"
    assert truncate_utf8("督办督办", 11) == "督办…"
    assert truncate_utf8("督办督办", 2) == ""


def test_message_refuses_a_mention_it_cannot_express() -> None:
    with pytest.raises(DubanError, match="cannot mention"):
        message(mentions=['"><at user_id="x">'])
    with pytest.raises(DubanError, match="title"):
        message(title="  ")


# --- DUBAN_BOTS ----------------------------------------------------------------------------


def test_duban_bots_lists_specs_by_comma_or_new_line() -> None:
    value = (
        "dingtalk+https://oapi.dingtalk.com/robot/send?access_token=T1&secret=SEC%2C1,\n"
        " wecom+https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K2\n"
        "\n"
        "feishu+https://open.feishu.cn/open-apis/bot/v2/hook/H3?secret=S3,"
        "json+https://example.internal/hook?team=duban"
    )
    specs = parse_bots(value)

    assert [s.kind for s in specs] == list(BotKind)
    dingtalk, wecom, feishu, generic = specs
    assert dingtalk.endpoint == "https://oapi.dingtalk.com/robot/send?access_token=T1"
    assert dingtalk.secret == "SEC,1"
    assert wecom.endpoint == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K2"
    assert (feishu.endpoint, feishu.secret) == (
        "https://open.feishu.cn/open-apis/bot/v2/hook/H3",
        "S3",
    )
    assert generic.endpoint == "https://example.internal/hook?team=duban"
    assert parse_bots("  \n ") == []


def test_a_spec_shows_no_token_or_secret() -> None:
    spec = parse_bot_spec(
        f"dingtalk+https://oapi.dingtalk.com/robot/send?access_token={DT_TOKEN}&secret=SECx9"
    )
    for shown in (repr(spec), str(spec), spec.label):
        assert DT_TOKEN not in shown
        assert "SECx9" not in shown
    assert spec.label.startswith("dingtalk bot at oapi.dingtalk.com #")


TOKEN = "tok3n9f8e7d6c5b4a39281706f5e4d3c2b1a0"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}", "bot 1: does not start"),
        (f"dingding+https://oapi.dingtalk.com/robot/send?access_token={TOKEN}", "'dingding'"),
        (f"dingtalk+ftp://oapi.dingtalk.com/robot/send?access_token={TOKEN}", "https://"),
        (f"dingtalk+https://oapi.dingtalk.com/robot/send?token={TOKEN}", "unknown option 'token'"),
        (f"dingtalk+https://oapi.dingtalk.com/robot/send?{TOKEN}", "(unreadable)"),
        ("dingtalk+https://oapi.dingtalk.com/robot/send?secret=" + TOKEN, "access_token"),
        (f"wecom+https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={TOKEN}&secret=x", "signed"),
        (f"feishu+https://open.feishu.cn/open-apis/bot/v2/hook/?secret={TOKEN}", "/hook/TOKEN"),
        (f"json+https://user:{TOKEN}@example.internal/hook", "'@'"),
        (f"json+https://example.internal:99999/{TOKEN}", "port"),
        (f"wecom+https://q.example/send?key=a,wecom+https://q.example/send?ky={TOKEN}", "bot 2:"),
        (f"wecom+https://q.example/send?key={TOKEN}\nwecom+https://q.example/send?key={TOKEN}",
         "bot 2: repeats bot 1"),
    ],
)  # fmt: skip
def test_bad_duban_bots_names_the_setting_and_hides_the_token(value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_bots(value)
    text = str(caught.value)
    assert text.startswith("DUBAN_BOTS: bot ")
    assert expected in text
    assert TOKEN not in text
