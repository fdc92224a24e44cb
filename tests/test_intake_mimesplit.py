"""``mimesplit.split`` builds the parser's own tree or none at all (issue 20).

Every message here is read both ways, ``split`` and ``BytesParser`` with intake's policy;
where ``split`` gives a tree it must be the parser's, attribute for attribute (headers,
payloads, preambles, epilogues, defects, default types, classes), all the way down. The
messages: the shapes real clients send (each of which ``split`` must take, or it saves
nothing), and several thousand generated from a fixed seed, well-formed and broken in the
ways that decide where a part ends (boundary look-alikes, white space after a boundary, line
ends mixed or lone, missing, doubled or early boundaries, header defects, nesting, forwarded
messages, digests, 8-bit bytes).
"""

from __future__ import annotations

import random
from email.message import Message
from email.parser import BytesParser
from typing import Any

import pytest

from duban.implement.intake.mime import _POLICY, read_files
from duban.implement.intake.mimesplit import split

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OCTETS = "application/octet-stream"


def parsed(data: bytes) -> Message:
    return BytesParser(policy=_POLICY).parsebytes(data)


def tree(message: Message) -> dict[str, Any]:
    """Everything a parsed message holds, its parts' trees in place of the parts."""
    state = dict(vars(message))
    payload = state.pop("_payload")
    state["defects"] = [type(d).__name__ for d in state["defects"]]
    state["class"] = type(message).__name__
    state["payload"] = [tree(p) for p in payload] if isinstance(payload, list) else payload
    return state


def same_or_none(data: bytes) -> bool:
    """True when ``split`` took the message (its tree is then the parser's)."""
    fast = split(data, _POLICY)
    if fast is None:
        return False
    assert tree(fast) == tree(parsed(data))
    return True


def b64(data: bytes) -> bytes:
    import base64

    return base64.encodebytes(data)


OUTLOOK = (
    b"From: =?gb2312?B?vfK9u8bf?= <jt@jt.example>\r\nTo: yhb@jt.example\r\n"
    b"Subject: =?gb2312?B?u9i4tA==?=\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed;\r\n\tboundary="_004_OUTLOOK_"\r\n\r\n'
    b"--_004_OUTLOOK_\r\n"
    b'Content-Type: multipart/alternative;\r\n\tboundary="_000_OUTLOOK_"\r\n\r\n'
    b'--_000_OUTLOOK_\r\nContent-Type: text/plain; charset="gb2312"\r\n'
    b"Content-Transfer-Encoding: base64\r\n\r\n"
    + b64("请查收。".encode("gb2312")).replace(b"\n", b"\r\n")
    + b'\r\n--_000_OUTLOOK_\r\nContent-Type: text/html; charset="gb2312"\r\n\r\n<p>x</p>\r\n'
    b"\r\n--_000_OUTLOOK_--\r\n\r\n"
    b"--_004_OUTLOOK_\r\nContent-Type: " + XLSX.encode() + b';\r\n\tname="plan.xlsx"\r\n'
    b'Content-Disposition: attachment;\r\n\tfilename="plan.xlsx"\r\n'
    b"Content-Transfer-Encoding: base64\r\n\r\n"
    + b64(bytes(range(256)) * 20).replace(b"\n", b"\r\n")
    + b"\r\n--_004_OUTLOOK_--\r\n"
)
THUNDERBIRD = (
    b"From: u@jt.example\nSubject: plan\nMIME-Version: 1.0\n"
    b'Content-Type: multipart/mixed; boundary="------------a.b+c(d)?"\n\n'
    b"This is a multi-part message in MIME format.\n"
    b"--------------a.b+c(d)?\nContent-Type: text/plain; charset=UTF-8\n"
    b"Content-Transfer-Encoding: 8bit\n\n"
    + "请查收\n---------------a.b+c(d)?x\n".encode()
    + b"\n--------------a.b+c(d)?\n"
    b'Content-Type: application/octet-stream; name="\xe5\xae\x9e.xlsx"\n'
    b"Content-Transfer-Encoding: base64\n\n"
    + b64(b"PK\x03\x04" * 300)
    + b"\n--------------a.b+c(d)?--  \n\nan epilogue\n"
)
FOXMAIL = (
    b"From: \xbd\xbb\xcd\xa8 <jt@jt.example>\r\nSubject: \xbb\xd8\xb8\xb4\r\n"
    b'Content-Type: multipart/mixed;\r\n\tboundary="----=_001_NextPart5_="\r\n\r\n'
    b"This is a multi-part message in MIME format.\r\n\r\n"
    b'------=_001_NextPart5_=\r\nContent-Type: text/plain; charset="GB2312"\r\n\r\n'
    b"\xc7\xeb\xb2\xe9\xca\xd5\r\n\r\n"
    b"------=_001_NextPart5_=\r\nContent-Type: application/octet-stream;\r\n"
    b'\tname="\xca\xb5\xca\xa9.xlsx"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
    + b64(b"PK" * 900).replace(b"\n", b"\r\n")
    + b"\r\n------=_001_NextPart5_=--\r\n\r\n\r\n"
)


def python_reply() -> bytes:
    from email.message import EmailMessage

    reply = EmailMessage()
    reply["From"], reply["To"], reply["Subject"] = "u1@jt.example", "yhb@jt.example", "回复：通知"
    reply.set_content("请查收。")
    reply.add_alternative("<p>请查收。</p>", subtype="html")
    reply.add_attachment(b"PK" * 5000, maintype="application", subtype="octet-stream",
                         filename="实施方案（第1单位）.xlsx")  # fmt: skip
    return reply.as_bytes()


@pytest.mark.parametrize("data", [OUTLOOK, THUNDERBIRD, FOXMAIL, python_reply()],
                         ids=["outlook", "thunderbird", "foxmail", "python"])  # fmt: skip
def test_the_shapes_clients_send_are_split_into_the_parsers_tree(data: bytes) -> None:
    assert same_or_none(data)
    fast = read_files(data)
    assert fast.files
    assert [f.data for f in fast.files] == [
        p.get_payload(decode=True)
        for p in parsed(data).walk()
        if p.get_filename() or p.get_content_type() == "application/octet-stream"
    ]


def test_what_is_not_the_usual_shape_is_left_to_the_parser() -> None:
    unusual = [
        THUNDERBIRD.replace(b"\n", b"\r", 3),  # lone CR line ends
        THUNDERBIRD.replace(b"--  \n\nan epilogue", b"\n"),  # no closing boundary
        THUNDERBIRD.replace(b"format.\n", b"format.\n--------------a.b+c(d)?--\n"),  # closes first
        THUNDERBIRD.replace(
            b"--------------a.b+c(d)?\nContent-Type: text/plain",
            b"--------------a.b+c(d)?\n--------------a.b+c(d)?\nContent-Type: text/plain",
        ),  # two boundary lines in a row
        THUNDERBIRD.replace(b"Subject: plan\n", b"Subject plan\n"),  # a header defect
        THUNDERBIRD.replace(b"multipart/mixed", b"multipart/digest"),
        THUNDERBIRD.replace(b"MIME-Version: 1.0\n", b"Content-Transfer-Encoding: base64\n"),
        b"From: u@jt.example\nContent-Type: message/rfc822\n\nSubject: inner\n\nbody\n",
        b"From: u@jt.example\nContent-Type: multipart/mixed\n\nno boundary\n",
        b"From: u@jt.example\nSubject: no empty line",
    ]
    for data in unusual:
        assert not same_or_none(data), data[:80]


# --- generated messages --------------------------------------------------------------------

BOUNDARY_CHARS = "abcXYZ019'()+_,-./:=? "
RAW_UTF8 = "请查收。".encode().decode("ascii", "surrogateescape")  # as BytesParser holds it
TEXT_LINES = [RAW_UTF8, "", " ", "--", "----", "x", "=?utf-8?b?5L2g?=", "\t", "a: b"]


class Maker:
    """Random messages from one seeded generator: a tree of parts, then perhaps a flaw."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def eol(self) -> str:
        return self.r.choice(["\n", "\n", "\r\n", "\r\n", "\r\n", "\r"] if self.r.random() < 0.05
                             else ["\n", "\r\n"])  # fmt: skip

    def boundary(self) -> str:
        size = self.r.randint(1, 30)
        return "".join(self.r.choice(BOUNDARY_CHARS) for _ in range(size)).strip() or "b"

    def lines(self, boundaries: list[str], eol: str) -> str:
        out = []
        for _ in range(self.r.randint(0, 6)):
            roll = self.r.random()
            if roll < 0.15 and boundaries:  # a look-alike of an enclosing boundary
                b = self.r.choice(boundaries)
                out.append("--" + b + self.r.choice(["x", "-", "--x", " x", "---", "-- -"]))
            elif roll < 0.2 and boundaries:  # an enclosing boundary, not at a line start
                out.append("text --" + self.r.choice(boundaries))
            elif roll < 0.25:
                out.append(self.r.choice(["\udcc7\udceb", "abc\udcff"]))  # 8-bit bytes
            else:
                out.append(self.r.choice(TEXT_LINES))
        return "".join(line + (eol if self.r.random() < 0.9 else self.eol()) for line in out)

    def leaf(self, boundaries: list[str], eol: str) -> str:
        kind = self.r.choice(
            ["text/plain; charset=utf-8", "text/html", XLSX, "application/octet-stream"]
        )
        headers = [f"Content-Type: {kind}"]
        if self.r.random() < 0.5:
            headers.append('Content-Disposition: attachment; filename="f.xlsx"')
        if self.r.random() < 0.3:
            headers.append("Content-Transfer-Encoding: base64")
        body = self.lines(boundaries, eol)
        if self.r.random() < 0.3:
            body += (
                b64(bytes(self.r.randrange(256) for _ in range(200))).decode().replace("\n", eol)
            )
        return "".join(h + eol for h in headers) + eol + body

    def multipart(self, boundaries: list[str], eol: str, depth: int) -> str:
        b = self.boundary()
        inner = [*boundaries, b]
        subtype = self.r.choice(["mixed", "mixed", "alternative", "related"])
        quoted = f'"{b}"' if self.r.random() < 0.8 or " " in b else b
        head = f"Content-Type: multipart/{subtype};{eol}\tboundary={quoted}{eol}{eol}"
        body = self.lines(inner, eol) if self.r.random() < 0.5 else ""
        for _ in range(self.r.randint(1, 3)):
            ws = self.r.choice(["", "", "", " ", "\t ", "  "])
            body += f"--{b}{ws}{eol}"
            body += self.part(inner, eol, depth + 1)
            body += eol if self.r.random() < 0.9 else ""
        ws = self.r.choice(["", "", " ", "\t"])
        body += f"--{b}--{ws}" + (eol if self.r.random() < 0.85 else "")
        body += self.lines(inner, eol) if self.r.random() < 0.4 else ""
        return head + body

    def part(self, boundaries: list[str], eol: str, depth: int) -> str:
        if depth < 4 and self.r.random() < 0.3:
            return self.multipart(boundaries, eol, depth)
        if self.r.random() < 0.03:
            return f"Content-Type: message/rfc822{eol}{eol}Subject: inner{eol}{eol}hi{eol}"
        return self.leaf(boundaries, eol)

    def message(self) -> bytes:
        eol = self.r.choice(["\n", "\r\n"])
        head = f"From: u@jt.example{eol}Subject: plan{eol}MIME-Version: 1.0{eol}"
        text = head + (self.multipart([], eol, 0) if self.r.random() < 0.9 else self.leaf([], eol))
        return self.flaw(text).encode("ascii", "surrogateescape")

    def flaw(self, text: str) -> str:
        """Now and then, one of the flaws that decide where a part ends."""
        roll = self.r.random()
        if roll < 0.05:  # cut short anywhere
            return text[: self.r.randrange(len(text) + 1)]
        if roll < 0.08:  # a header line without a colon
            return text.replace("MIME-Version: 1.0", "MIME-Version 1.0", 1)
        if roll < 0.11:  # a line end removed or added somewhere
            at = self.r.randrange(len(text) + 1)
            return text[:at] + self.r.choice(["", "\n", "\r", "\r\n"]) + text[at + 1 :]
        return text


def test_thousands_of_generated_messages_are_split_as_the_parser_splits_them() -> None:
    taken = 0
    count = 4000
    for seed in range(count):
        data = Maker(seed).message()
        taken += same_or_none(data)
    # most are of the usual shape, or the comparison above would prove little
    assert taken > count // 2
