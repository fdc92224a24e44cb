"""Reading received messages: envelope, files and problems, as real Chinese clients send them.

Messages are built twice over: with Python's ``email`` package (what a standards-following
client sends) and as raw bytes copying what Foxmail, Outlook and webmail clients really put on
the wire (raw GBK names, RFC 2047 words inside quotes, RFC 2231 continuations in GB18030,
winmail.dat). A minimal TNEF stream is written by hand following MS-OXTNEF, since tnefparse
cannot write one.
"""

from __future__ import annotations

import base64
import random
import struct
from email.message import EmailMessage
from email.policy import SMTP
from urllib.parse import quote_from_bytes

import pytest

from duban.implement.intake.mime import (
    FORWARDED,
    MAX_DEPTH,
    MAX_PARTS,
    WINMAIL,
    ParsedMessage,
    read_envelope,
    read_files,
)
from duban.implement.intake.mime import read_message as read_whole
from duban.implement.intake.mimetext import decode_bytes, decode_words, parameter, split_header
from duban.implement.intake.model import FoundFile

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WORKBOOK = b"PK\x03\x04" + bytes(range(256)) * 4  # stands in for a workbook: only bytes matter
NAME = "2026年实施方案（B03 市交通局）.xlsx"
LONG_NAME = ("关于报送2026年能力作风建设提升年活动实施方案及重点工作任务清单的函" * 4)[
    :115
] + ".xlsx"


def _built(
    *,
    subject: str = "报送：实施方案",
    sender: str = "张三 <zhangsan@b03.example>",
    filename: str | None = NAME,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "youhuaban@jt.example"
    message["Reply-To"] = "someone-else@elsewhere.example"
    message["Subject"] = subject
    message["Message-ID"] = "<reply-1@b03.example>"
    message["In-Reply-To"] = "<notice-1@jt.example>"
    message["Date"] = "Mon, 02 Mar 2026 10:15:00 +0800"
    message.set_content("附件是我单位的实施方案，请查收。")
    if filename is not None:
        message.add_attachment(
            WORKBOOK, maintype="application", subtype=XLSX.split("/")[1], filename=filename
        )
    return message


def _raw(headers: list[bytes], parts: list[bytes]) -> bytes:
    """A multipart/mixed message from raw header lines and raw parts (CRLF line ends)."""
    head = b"\r\n".join(
        [
            *headers,
            b"MIME-Version: 1.0",
            b'Content-Type: multipart/mixed; boundary="==b=="',
        ]
    )
    body = b"".join(b"--==b==\r\n" + part + b"\r\n" for part in parts) + b"--==b==--\r\n"
    return head + b"\r\n\r\n" + body


def _b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _attachment_part(headers: bytes, data: bytes = WORKBOOK) -> bytes:
    return headers + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + _b64(data)


def read_message(data: bytes, **limits: int) -> ParsedMessage:
    """``read_message``, checking on every message of this module that ``read_files`` (what
    intake calls, its envelope read apart) finds exactly the same files."""
    parsed = read_whole(data, **limits)
    found = read_files(data, **limits)
    assert (found.files, found.cut) == (parsed.files, parsed.cut)
    return parsed


TEXT_PART = b"Content-Type: text/plain; charset=GBK\r\n\r\n" + "请查收。".encode("gbk")


# ---------------------------------------------------------------- built with the email package


def test_a_standard_reply_gives_its_envelope_and_workbook() -> None:
    parsed = read_message(_built().as_bytes(policy=SMTP))

    envelope = parsed.envelope
    assert envelope.sender == "zhangsan@b03.example"  # From, not Reply-To
    assert envelope.sender_name == "张三"
    assert envelope.subject == "报送：实施方案"
    assert envelope.message_id == "<reply-1@b03.example>"
    assert envelope.in_reply_to == "<notice-1@jt.example>"
    assert envelope.date is not None
    assert envelope.date.isoformat() == "2026-03-02T10:15:00+08:00"
    assert parsed.files == [FoundFile(NAME, XLSX, WORKBOOK, ())]
    assert parsed.problems == []
    assert parsed.cut is None


def test_a_120_character_chinese_file_name_survives_the_email_package() -> None:
    assert len(LONG_NAME) == 120
    parsed = read_message(_built(filename=LONG_NAME).as_bytes(policy=SMTP))

    assert [f.filename for f in parsed.files] == [LONG_NAME]


def test_a_message_without_attachments_has_no_files() -> None:
    parsed = read_message(_built(filename=None).as_bytes())

    assert parsed.files == []
    assert parsed.problems == []


def test_forwarded_message_is_walked_and_the_envelope_stays_the_forwarders() -> None:
    inner = _built(sender="李四 <lisi@b10.example>")
    outer = EmailMessage()
    outer["From"] = "王五 <wangwu@b03.example>"
    outer["Subject"] = "转发：报送：实施方案"
    outer.set_content("转发如下。")
    outer.add_attachment(inner)  # message/rfc822
    twice = EmailMessage()
    twice["From"] = "赵六 <zhaoliu@b03.example>"
    twice["Subject"] = "再转发"
    twice.set_content("见附件")
    twice.add_attachment(outer)

    once = read_message(outer.as_bytes())
    nested = read_message(twice.as_bytes())

    assert once.envelope.sender == "wangwu@b03.example"
    assert once.files == [FoundFile(NAME, XLSX, WORKBOOK, (FORWARDED,))]
    assert nested.envelope.sender_name == "赵六"
    assert [f.path for f in nested.files] == [(FORWARDED, FORWARDED)]


def test_inline_named_parts_and_nameless_octet_streams_are_files_but_bodies_are_not() -> None:
    message = _built(filename=None)
    message.add_related(b"\x89PNG....", maintype="image", subtype="png", filename="签名.png")
    message.add_attachment(b"\x00\x01binary", maintype="application", subtype="octet-stream")
    message.add_attachment("备注文本", disposition="attachment")  # text attachment, no name
    message.add_attachment(b"PK\x05\x06" + b"\0" * 18, maintype="application", subtype="zip",
                           filename="材料.zip")  # fmt: skip

    parsed = read_message(message.as_bytes())

    assert [(f.filename, f.content_type) for f in parsed.files] == [
        ("签名.png", "image/png"),
        (None, "application/octet-stream"),
        (None, "text/plain"),
        ("材料.zip", "application/zip"),  # archives are returned whole, not unpacked here
    ]


# ---------------------------------------------------------------- raw bytes from real clients


def test_foxmail_raw_gbk_names_subject_and_display_name() -> None:
    name = "附件1：2026年度重点工作进展表（镕）.xlsx".encode("gbk")
    raw = _raw(
        [
            b"From: " + '"交通局 办公室"'.encode("gbk") + b" <bgs@b03.example>",
            b"Subject: " + "回复：关于报送进展的通知".encode("gbk"),
            b"Date: Tue, 3 Mar 2026 09:00:01 +0800",
        ],
        [
            TEXT_PART,
            _attachment_part(
                b'Content-Type: application/octet-stream; name="' + name + b'"\r\n'
                b'Content-Disposition: attachment; filename="' + name + b'"'
            ),
        ],
    )

    parsed = read_message(raw)

    assert parsed.envelope.sender_name == "交通局 办公室"
    assert parsed.envelope.subject == "回复：关于报送进展的通知"
    assert [f.filename for f in parsed.files] == ["附件1：2026年度重点工作进展表（镕）.xlsx"]
    assert parsed.files[0].data == WORKBOOK


def test_raw_utf8_names_are_read_as_utf8() -> None:
    name = "第二季度进展（财政局）.xlsx".encode()
    raw = _raw(
        [b"From: a@b05.example", b"Subject: " + "进展".encode()],
        [_attachment_part(b"Content-Type: application/vnd.ms-excel; name=" + name)],
    )

    parsed = read_message(raw)

    assert parsed.envelope.subject == "进展"
    assert [f.filename for f in parsed.files] == ["第二季度进展（财政局）.xlsx"]


def test_outlook_rfc2047_words_inside_quotes_labelled_gb2312_with_characters_outside_it() -> None:
    # 镕 and 喆 are not in GB2312; Outlook and webmail still label such names gb2312.
    text = "朱镕喆同志填报的自查表.xlsx"
    word = b"=?gb2312?B?" + base64.b64encode(text.encode("gb18030")) + b"?="
    raw = _raw(
        [
            b"From: =?gb2312?B?"
            + base64.b64encode("朱镕喆".encode("gb18030"))
            + b"?= <z@b07.example>"
        ],
        [
            _attachment_part(
                b'Content-Type: application/vnd.ms-excel; name="' + word + b'"\r\n'
                b'Content-Disposition: attachment; filename="' + word + b'"'
            )
        ],
    )

    parsed = read_message(raw)

    assert parsed.envelope.sender_name == "朱镕喆"
    assert [f.filename for f in parsed.files] == [text]


def test_rfc2047_words_split_in_the_middle_of_a_character_are_joined_first() -> None:
    data = "自查报告汇总表.xlsx".encode()
    first, second = base64.b64encode(data[:7]), base64.b64encode(data[7:])  # splits 报
    value = b'"=?UTF-8?B?' + first + b"?= =?UTF-8?B?" + second + b'?="'
    raw = _raw(
        [b"From: x@b08.example", b"Subject: =?GBK?Q?=D7=D4=B2=E9?= report"],
        [_attachment_part(b"Content-Type: application/octet-stream\r\n"
                          b"Content-Disposition: attachment; filename=" + value)],
    )  # fmt: skip

    parsed = read_message(raw)

    assert parsed.envelope.subject == "自查 report"
    assert [f.filename for f in parsed.files] == ["自查报告汇总表.xlsx"]


def test_rfc2231_gb18030_continuations_split_mid_character_with_120_characters() -> None:
    name = LONG_NAME[:-5] + "𠀀.xlsx"  # U+20000 exists only in GB18030 (four bytes)
    data = name.encode("gb18030")
    # Cut every 17 bytes: most cuts fall inside a two- or four-byte character.
    pieces = [quote_from_bytes(data[i : i + 17], safe="") for i in range(0, len(data), 17)]
    sections = [f"filename*{i}*={'gb18030' + chr(39) * 2 if i == 0 else ''}{p}"
                for i, p in enumerate(pieces)]  # fmt: skip
    header = "Content-Disposition: attachment;\r\n " + ";\r\n ".join(sections)
    raw = _raw(
        [b"From: y@b09.example"],
        [_attachment_part(b"Content-Type: application/vnd.ms-excel\r\n" + header.encode())],
    )

    parsed = read_message(raw)

    assert len(pieces) > 3
    assert [f.filename for f in parsed.files] == [name]
    assert parsed.problems == []


def test_rfc2231_gbk_label_and_disposition_name_wins_over_content_type_name() -> None:
    raw = _raw(
        [b"From: y@b09.example"],
        [
            _attachment_part(
                b'Content-Type: application/vnd.ms-excel; name="old.xls"\r\n'
                b"Content-Disposition: attachment; filename*=GBK''"
                + quote_from_bytes("整改台账.xls".encode("gbk")).encode()
            )
        ],
    )

    assert [f.filename for f in read_message(raw).files] == ["整改台账.xls"]


def test_a_path_in_a_file_name_is_dropped() -> None:
    raw = _raw(
        [b"From: y@b09.example"],
        [_attachment_part(b'Content-Type: application/octet-stream; name="C:\\\\fakepath\\\\..\\\\'
                          + "汇总.xlsx".encode("gbk") + b'"')],
    )  # fmt: skip

    assert [f.filename for f in read_message(raw).files] == ["汇总.xlsx"]


def test_forwarded_message_wrongly_sent_in_base64_is_still_read() -> None:
    inner = _built().as_bytes(policy=SMTP)
    raw = _raw(
        [b"From: fwd@b03.example", b"Subject: Fw"],
        [
            b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + _b64(inner)
        ],
    )

    parsed = read_message(raw)

    assert parsed.files == [FoundFile(NAME, XLSX, WORKBOOK, (FORWARDED,))]


# ---------------------------------------------------------------- winmail.dat (TNEF)


def _tnef_attribute(level: int, attribute: int, kind: int, data: bytes) -> bytes:
    """One TNEF attribute (MS-OXTNEF 2.1.3): level, id, type, length, data, checksum."""
    checksum = sum(data) & 0xFFFF
    return (
        struct.pack("<BHHI", level, attribute, kind, len(data)) + data + struct.pack("<H", checksum)
    )


def _mapi_unicode(property_id: int, text: str) -> bytes:
    raw = text.encode("utf-16-le") + b"\0\0"
    return struct.pack("<HHII", 0x001F, property_id, 1, len(raw)) + raw + b"\0" * (-len(raw) % 4)


def _tnef(files: list[tuple[bytes | None, str | None, bytes]], codepage: int = 936) -> bytes:
    """A winmail.dat: (short title, long file name, data) per attachment."""
    stream = struct.pack("<IH", 0x223E9F78, 0x0001)
    stream += _tnef_attribute(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))  # version
    stream += _tnef_attribute(1, 0x9007, 0x0006, struct.pack("<II", codepage, 0))  # OEM code page
    for title, long_name, data in files:
        stream += _tnef_attribute(2, 0x9002, 0x0006, struct.pack("<HiiiH", 1, -1, 0, 0, 0))
        if title is not None:
            stream += _tnef_attribute(2, 0x8010, 0x0001, title + b"\0")  # attAttachTitle
        stream += _tnef_attribute(2, 0x800F, 0x0006, data)  # attAttachData
        if long_name is not None:  # attAttachment: MAPI properties, here PR_ATTACH_LONG_FILENAME
            props = struct.pack("<I", 1) + _mapi_unicode(0x3707, long_name)
            stream += _tnef_attribute(2, 0x9005, 0x0006, props)
    return stream


def _with_winmail(stream: bytes) -> bytes:
    subject = b"Subject: =?gb2312?B?" + base64.b64encode("报送".encode("gbk")) + b"?="
    winmail = _attachment_part(b'Content-Type: application/ms-tnef; name="winmail.dat"', stream)
    return _raw([b"From: outlook@b11.example", subject], [TEXT_PART, winmail])


def test_winmail_dat_is_unpacked_even_with_a_gbk_title_and_no_long_file_name() -> None:
    stream = _tnef([("材料（B11）.xlsx".encode("gbk"), None, WORKBOOK),
                    (b"PLAN~1.XLS", "计划表（长文件名）.xls", b"\xd0\xcf\x11\xe0xls")])  # fmt: skip

    parsed = read_message(_with_winmail(stream))

    assert [(f.filename, f.data, f.path) for f in parsed.files] == [
        ("材料（B11）.xlsx", WORKBOOK, (WINMAIL,)),
        ("计划表（长文件名）.xls", b"\xd0\xcf\x11\xe0xls", (WINMAIL,)),
    ]
    assert len(parsed.problems) == 1
    assert "attachment 1 has no long file name" in parsed.problems[0]
    assert "GB18030" in parsed.problems[0]


def test_winmail_attachment_without_any_name_gets_a_generated_one() -> None:
    parsed = read_message(_with_winmail(_tnef([(None, None, WORKBOOK)])))

    assert [(f.filename, f.path) for f in parsed.files] == [("winmail-attachment-1", (WINMAIL,))]
    assert any("no file name" in problem for problem in parsed.problems)


def test_a_message_attached_inside_winmail_dat_is_unpacked_too() -> None:
    inner = _tnef([("内层.xlsx".encode("gbk"), "内层表格.xlsx", WORKBOOK)])
    embedded = bytes.fromhex("0703020000000000c000000000000046") + inner  # IMessage signature
    data_object = struct.pack("<HHII", 0x000D, 0x3701, 1, len(embedded)) + embedded
    props = struct.pack("<I", 2) + _mapi_unicode(0x3707, "转发的邮件.msg")
    props += data_object + b"\0" * (-len(data_object) % 4)
    outer = _tnef([]) + _tnef_attribute(2, 0x9002, 0x0006, struct.pack("<HiiiH", 1, -1, 0, 0, 0))
    outer += _tnef_attribute(2, 0x9005, 0x0006, props)

    parsed = read_message(_with_winmail(outer))

    assert parsed.files == [FoundFile("内层表格.xlsx", None, WORKBOOK, (WINMAIL, "转发的邮件.msg"))]
    assert parsed.problems == []


@pytest.mark.parametrize(
    "stream",
    [
        b"not a tnef stream at all",
        b"\x78\x9f\x3e\x22\x01\x00" + bytes(random.Random(7).randrange(256) for _ in range(3000)),
        b"",
    ],
    ids=["garbage", "random-after-signature", "empty"],
)
def test_unreadable_winmail_dat_is_kept_whole_with_a_problem(stream: bytes) -> None:
    parsed = read_message(_with_winmail(stream))

    assert FoundFile("winmail.dat", "application/ms-tnef", stream, ()) in parsed.files
    assert any(problem.startswith("winmail.dat:") for problem in parsed.problems)


def test_truncated_winmail_dat_gives_what_it_holds_and_the_stream_itself() -> None:
    stream = _tnef([(b"a.xlsx", None, WORKBOOK), (b"b.xlsx", None, WORKBOOK)])
    cut = stream[: len(stream) - 100]

    parsed = read_message(_with_winmail(cut))

    names = [f.filename for f in parsed.files]
    assert names[0] == "winmail.dat"
    assert "a.xlsx" in names
    assert any("cut short" in problem for problem in parsed.problems)


def test_winmail_dat_claiming_billions_of_values_is_refused_before_tnefparse_loops() -> None:
    # A multi-valued short property claiming 2**32-1 values: tnefparse would loop that often.
    props = struct.pack("<IHHI", 1, 0x1002, 0x1234, 0xFFFFFFFF) + b"\0" * 8
    stream = struct.pack("<IH", 0x223E9F78, 1) + _tnef_attribute(1, 0x9003, 0x0006, props)

    parsed = read_message(_with_winmail(stream))

    assert [f.filename for f in parsed.files] == ["winmail.dat"]
    assert any("values" in problem for problem in parsed.problems)


# ---------------------------------------------------------------- limits and hostile input


def test_more_parts_than_the_cap_are_not_read() -> None:
    message = _built(filename=None)
    for index in range(MAX_PARTS + 20):
        message.add_attachment(b"x", maintype="application", subtype="octet-stream",
                               filename=f"f{index}.bin")  # fmt: skip

    parsed = read_message(message.as_bytes())

    # The root multipart and the text body count as parts too.
    assert len(parsed.files) == MAX_PARTS - 2
    assert parsed.files[-1].filename == f"f{MAX_PARTS - 3}.bin"
    assert any(f"more than {MAX_PARTS} parts" in problem for problem in parsed.problems)
    assert parsed.cut == "too-many-parts"  # what intake tells the sender (read_files says so)


def test_a_smaller_cap_can_be_given() -> None:
    parsed = read_message(_built().as_bytes(), max_parts=2)

    assert parsed.files == []
    assert parsed.problems == ["more than 2 parts: the rest of the message was not read"]


def test_parts_nested_deeper_than_the_cap_are_not_read() -> None:
    leaf = _attachment_part(b'Content-Type: application/octet-stream; name="deep.xlsx"')
    body = leaf
    for level in range(MAX_DEPTH + 5):
        boundary = f"b{level}".encode()
        body = (b"Content-Type: multipart/mixed; boundary=" + boundary + b"\r\n\r\n--" + boundary
                + b"\r\n" + body + b"\r\n--" + boundary + b"--")  # fmt: skip
    raw = b"From: deep@b12.example\r\nMIME-Version: 1.0\r\n" + body + b"\r\n"

    parsed = read_message(raw)

    assert parsed.files == []
    assert any(f"deeper than {MAX_DEPTH}" in problem for problem in parsed.problems)
    assert parsed.cut == "too-deep"


def _deeply_nested(levels: int) -> bytes:
    head = b"".join(
        b"Content-Type: multipart/mixed; boundary=x" + str(i).encode() + b"\r\n\r\n--x"
        + str(i).encode() + b"\r\n" for i in range(levels)
    )  # fmt: skip
    return b"From: a@b.example\r\n" + head + b"\r\nend\r\n"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00" * 100,
        bytes(random.Random(1).randrange(256) for _ in range(5000)),
        b"From: \r\nSubject: =?gbk?B?!!!?=\r\nDate: yesterday\r\n\r\n",
        b"From: <<<@@@>>>, ,\r\nContent-Type: multipart/mixed\r\n\r\nno boundary\r\n",
        b"Content-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\nContent-Type: "
        b"application/octet-stream; name=a.xlsx\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"@@@not*base64\r\n--z",
        b"From: " + b"x" * 100_000 + b"\r\n\r\n",
        b"Content-Disposition: attachment; filename*0*=unknown-charset''%FF%FE; filename*1=x\r\n"
        b"Content-Type: message/rfc822\r\n\r\n",
        _deeply_nested(3000),
    ],
    ids=[
        "empty",
        "nul",
        "random",
        "bad-headers",
        "bad-multipart",
        "bad-base64",
        "huge-header",
        "odd-params",
        "deep-nesting",
    ],
)
def test_read_message_never_raises(raw: bytes) -> None:
    parsed = read_message(raw)

    assert isinstance(parsed.files, list)
    assert all(isinstance(problem, str) for problem in parsed.problems)


def test_a_body_that_defeats_the_parser_still_gives_the_envelope() -> None:
    parsed = read_message(_deeply_nested(3000))

    assert parsed.envelope.sender == "a@b.example"
    assert parsed.files == []
    assert parsed.problems  # the parser's stack overflowed, or the depth cap stopped the walk
    assert parsed.cut == "too-deep"


def test_damaged_base64_and_missing_from_are_reported() -> None:
    raw = (b"Subject: x\r\nContent-Type: application/vnd.ms-excel; name=a.xls\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\nQUJD\r\nRE\r\n")  # fmt: skip

    parsed = read_message(raw)

    assert parsed.envelope.sender is None
    assert [f.filename for f in parsed.files] == ["a.xls"]
    assert "the message has no From header" in parsed.problems
    assert any("base64" in problem for problem in parsed.problems)


@pytest.mark.parametrize("line_end", [b"\r\n", b"\n", b"\r"], ids=["crlf", "lf", "cr"])
def test_the_envelope_alone_is_read_from_the_headers_as_read_message_reads_it(
    line_end: bytes,
) -> None:
    automatic = _built()
    automatic["Auto-Submitted"] = "auto-replied"
    automatic["X-Duban-Key"] = "escalation/7"
    foxmail = _raw(
        [b"From: " + '"交通局 办公室"'.encode("gbk") + b" <bgs@b03.example>",
         b"Subject: " + "回复：关于报送进展的通知".encode("gbk")],
        [TEXT_PART],
    )  # fmt: skip
    messages = [_built().as_bytes(policy=SMTP), automatic.as_bytes(), foxmail,
                _deeply_nested(3000), b"Subject: no body", b""]  # fmt: skip

    for raw in messages:
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", line_end)
        assert read_envelope(raw) == read_message(raw).envelope

    envelope = read_envelope(automatic.as_bytes())
    assert (envelope.auto_submitted, envelope.duban_key) == ("auto-replied", "escalation/7")
    assert read_envelope(foxmail).sender_name == "交通局 办公室"


# ---------------------------------------------------------------- the decoding helpers


def test_decode_bytes_prefers_valid_utf8_then_gb18030() -> None:
    assert decode_bytes("材料".encode()) == "材料"
    assert decode_bytes("材料".encode("gbk")) == "材料"
    assert decode_bytes("朱镕基".encode("gb18030"), "gb2312") == "朱镕基"
    assert decode_bytes("材料".encode("gbk"), "utf-8") == "材料"  # mislabelled


def test_parameters_are_split_outside_quotes_only() -> None:
    value, params = split_header('attachment; filename="a;b \\"c\\".xlsx"; size=3')

    assert value == "attachment"
    assert parameter(params, "filename") == 'a;b "c".xlsx'
    assert parameter(params, "size") == "3"
    assert parameter(params, "missing") is None
    assert decode_words("plain text") == "plain text"
