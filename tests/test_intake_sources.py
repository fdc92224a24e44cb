"""Intake sources and the raw store: a real dovecot IMAP server, a Maildir, a drop folder.

The IMAP tests run Debian's dovecot on 127.0.0.1 (``duban.testing.imapserver.LocalImapServer``) in a
world-traversable folder under /tmp, and check the server's state through a separate imaplib
connection, so what the source claims is compared with what the server really holds.
"""

from __future__ import annotations

import email
import hashlib
import imaplib
import itertools
import mailbox
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import pytest

from duban.adapters.sources import DirSource, ImapSource, MaildirSource, open_source
from duban.adapters.sources import imap as sources_imap
from duban.adapters.sources import local as sources_local
from duban.adapters.sources.model import RawItem
from duban.adapters.sources.spec import ImapConfig, ImapSecurity, parse_intake_spec
from duban.errors import ConfigError
from duban.implement.intake import rawstore
from duban.implement.intake.rawstore import CorruptObjectError, Flush, MissingObjectError, RawStore
from duban.testing import imapserver
from duban.testing.imapserver import DovecotError, DovecotNotInstalledError, LocalImapServer

USER = "youhuaban"
PASSWORD = "s3cret@/?#:%pw"  # every character that must be percent-encoded in a URL
PROCESSED = "duban.processed"  # dovecot's Maildir++ layout uses "." as the separator


def _message(number: int, subject: str = "报送：实施方案") -> bytes:
    message = EmailMessage()
    message["From"] = f"单位{number} <unit{number}@example.gov.cn>"
    message["To"] = "youhuaban@jt.example"
    message["Subject"] = f"{subject} {number}"
    message["Message-ID"] = f"<reply-{number}@example.gov.cn>"
    message.set_content("见附件。")
    message.add_attachment(b"PK\x03\x04" + bytes([number]) * 500, maintype="application",
                           subtype="octet-stream", filename=f"材料{number}.xlsx")  # fmt: skip
    return message.as_bytes(policy=SMTP)


def _message_id(data: bytes) -> str:
    return str(email.message_from_bytes(data)["Message-ID"])


# ---------------------------------------------------------------- IMAP against dovecot


@pytest.fixture(scope="module")
def dovecot() -> Iterator[LocalImapServer]:
    """One dovecot for the module; each test gets a user of its own (a fresh mailbox).

    The folder is made under /tmp: pytest's tmp_path is 0700 and dovecot's users must be
    able to reach it (NOTES.md, "Mail").
    """
    with _temporary_folder() as folder:
        try:
            running = LocalImapServer(folder, {"nobody-yet": PASSWORD})
        except DovecotNotInstalledError as missing:
            pytest.skip(str(missing))
        with running:
            yield running


@contextmanager
def _temporary_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="duban-imap-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_users = itertools.count(1)


@dataclass(frozen=True)
class Account:
    """One test's user on the shared server."""

    server: LocalImapServer
    user: str

    def url(self, password: str = PASSWORD, mailbox: str = "INBOX") -> str:
        return self.server.url(self.user, password, mailbox)

    def deliver(self, raw: bytes, mailbox: str = "INBOX") -> None:
        self.server.deliver(self.user, raw, mailbox)

    def maildir(self) -> Path:
        return self.server.maildir(self.user)


@pytest.fixture
def account(dovecot: LocalImapServer) -> Account:
    user = f"unit{next(_users)}"
    dovecot.add_user(user, PASSWORD)
    return Account(dovecot, user)


@pytest.fixture
def source(account: Account) -> Iterator[ImapSource]:
    opened = open_source(account.url())
    assert isinstance(opened, ImapSource)
    yield opened
    opened.close()


class Inspector:
    """A second, independent IMAP connection to see what the server really holds."""

    def __init__(self, account: Account) -> None:
        self.client = imaplib.IMAP4(account.server.host, account.server.port)
        self.client.login(account.user, PASSWORD)

    def messages(self, mailbox_name: str = "INBOX") -> list[tuple[int, str, str]]:
        """(UID, flags, Message-ID) of every message, read without changing anything."""
        typ, _data = self.client.select(f'"{mailbox_name}"', readonly=True)
        assert typ == "OK", mailbox_name
        typ, data = self.client.uid(
            "FETCH", "1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
        )
        found = []
        for item in data:
            if isinstance(item, tuple):
                uid = int(re.search(rb"UID (\d+)", item[0]).group(1))  # type: ignore[union-attr]
                flags = re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1)  # type: ignore[union-attr]
                found.append((uid, flags.decode(), item[1].decode().split(":", 1)[1].strip()))
        return found

    def ids(self, mailbox_name: str = "INBOX") -> list[str]:
        return [message_id for _uid, _flags, message_id in self.messages(mailbox_name)]

    def close(self) -> None:
        self.client.logout()


@pytest.fixture
def inspector(account: Account) -> Iterator[Inspector]:
    opened = Inspector(account)
    yield opened
    opened.close()


def test_fetch_returns_messages_oldest_first_without_marking_them_seen(
    account: Account, source: ImapSource, inspector: Inspector
) -> None:
    for number in (1, 2, 3):
        account.deliver(_message(number))

    items = list(source.fetch(10))

    assert [_message_id(item.data) for item in items] == [f"<reply-{n}@example.gov.cn>"
                                                          for n in (1, 2, 3)]  # fmt: skip
    validity = items[0].ref.split(":")[0]
    assert [item.ref for item in items] == [f"{validity}:{uid}" for uid in (1, 2, 3)]
    assert all(item.is_message and item.source == source.name for item in items)
    assert all(isinstance(item.received_at, datetime) and item.received_at.tzinfo for item in items)
    assert PASSWORD not in source.name
    assert "%" not in source.name.split("@")[0]
    assert all("\\Seen" not in flags for _uid, flags, _id in inspector.messages())


def test_fetch_respects_the_limit(account: Account, source: ImapSource) -> None:
    for number in (1, 2, 3):
        account.deliver(_message(number))

    first_two = [_message_id(i.data) for i in source.fetch(2)]
    assert first_two == ["<reply-1@example.gov.cn>", "<reply-2@example.gov.cn>"]
    assert list(source.fetch(0)) == []


def test_a_message_another_reader_takes_meanwhile_does_not_shorten_the_batch(
    account: Account, source: ImapSource, inspector: Inspector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two collect runs on one mailbox: the first pending message may be gone by the time it
    is fetched. The batch goes on to the next, or a run would stop as if the mailbox were
    empty (and leave the rest until the next run)."""
    for number in (1, 2, 3):
        account.deliver(_message(number))
    pending = sources_imap._Session.pending
    others: list[str] = ["first call"]

    def searched_before_the_other_took_one(session: sources_imap._Session) -> tuple[int, list[int]]:
        found = pending(session)
        if others:
            others.clear()
            with closing(open_source(account.url())) as other:
                taken = list(other.fetch(1))
                other.done_many([item.ref for item in taken])
        return found

    monkeypatch.setattr(sources_imap._Session, "pending", searched_before_the_other_took_one)

    batch = list(source.fetch(1))

    assert [_message_id(item.data) for item in batch] == ["<reply-2@example.gov.cn>"]
    assert inspector.ids(PROCESSED) == ["<reply-1@example.gov.cn>"]


def test_done_moves_the_message_to_the_processed_folder(
    account: Account, source: ImapSource, inspector: Inspector
) -> None:
    for number in (1, 2):
        account.deliver(_message(number))
    first, second = source.fetch(10)

    source.done(first.ref)
    source.done(first.ref)  # repeating is harmless

    assert inspector.ids() == ["<reply-2@example.gov.cn>"]
    assert inspector.ids(PROCESSED) == ["<reply-1@example.gov.cn>"]
    assert [item.ref for item in source.fetch(10)] == [second.ref]
    moved = inspector.messages(PROCESSED)
    assert "\\Seen" not in moved[0][1]


def test_done_many_moves_a_batch_in_one_command_and_skips_what_was_moved(
    account: Account, source: ImapSource, inspector: Inspector, monkeypatch: pytest.MonkeyPatch
) -> None:
    moves: list[list[int]] = []
    move = sources_imap._Session.move

    def spy(session: sources_imap._Session, uids: list[int]) -> None:
        moves.append(list(uids))
        move(session, uids)

    monkeypatch.setattr(sources_imap._Session, "move", spy)
    for number in (1, 2, 3, 4):
        account.deliver(_message(number))
    items = list(source.fetch(3))
    source.done(items[0].ref)

    source.done_many([item.ref for item in items])  # the first is moved already
    source.done_many([])

    assert moves == [[1], [1, 2, 3]]
    assert inspector.ids() == ["<reply-4@example.gov.cn>"]
    assert sorted(inspector.ids(PROCESSED)) == [f"<reply-{n}@example.gov.cn>" for n in (1, 2, 3)]


@pytest.mark.parametrize("capabilities", [{"UIDPLUS"}, set()], ids=["uidplus", "plain-expunge"])
def test_without_move_the_message_is_copied_flagged_and_expunged(
    account: Account,
    inspector: Inspector,
    monkeypatch: pytest.MonkeyPatch,
    capabilities: set[str],
) -> None:
    monkeypatch.setattr(
        sources_imap, "_capabilities", lambda _client: frozenset({"IMAP4REV1", *capabilities})
    )
    for number in (1, 2):
        account.deliver(_message(number))
    account.deliver(_message(3))
    with closing(open_source(account.url())) as opened:
        first = next(iter(opened.fetch(1)))
        opened.done(first.ref)
        opened.done_many([item.ref for item in opened.fetch(1)])  # the batch form too
        remaining = [_message_id(item.data) for item in opened.fetch(10)]

    assert remaining == ["<reply-3@example.gov.cn>"]
    assert inspector.ids() == ["<reply-3@example.gov.cn>"]
    # Without NAMESPACE the folder's delimiter comes from LIST: still "duban.processed".
    assert inspector.ids(PROCESSED) == ["<reply-1@example.gov.cn>", "<reply-2@example.gov.cn>"]


def test_a_message_arriving_while_a_batch_is_processed_is_not_lost(
    account: Account, source: ImapSource, inspector: Inspector
) -> None:
    for number in (1, 2, 3):
        account.deliver(_message(number))
    batch = source.fetch(10)
    items = [next(batch)]
    account.deliver(_message(4))  # arrives in the middle of the fetch
    items += list(batch)
    account.deliver(_message(5))  # arrives before the batch is committed
    for item in items:
        source.done(item.ref)

    later = list(source.fetch(10))

    assert [_message_id(item.data) for item in items] == [f"<reply-{n}@example.gov.cn>"
                                                          for n in (1, 2, 3)]  # fmt: skip
    assert [_message_id(item.data) for item in later] == ["<reply-4@example.gov.cn>",
                                                          "<reply-5@example.gov.cn>"]  # fmt: skip
    for item in later:
        source.done(item.ref)
    assert inspector.ids() == []
    assert sorted(inspector.ids(PROCESSED)) == [f"<reply-{n}@example.gov.cn>" for n in range(1, 6)]


def _rebuild_uids(account: Account) -> None:
    """Make dovecot forget its UIDs: a new UIDVALIDITY, and UIDs numbered from 1 again."""
    for path in account.maildir().iterdir():
        if path.name.startswith("dovecot") and "uidvalidity" not in path.name:
            path.unlink()


def test_after_a_uidvalidity_change_done_finds_the_message_by_its_content(
    account: Account, source: ImapSource, inspector: Inspector, monkeypatch: pytest.MonkeyPatch
) -> None:
    searches: list[int] = []
    find = sources_imap._Session.find

    def spy(session: sources_imap._Session, size: int, sha256: str) -> int | None:
        searches.append(size)
        return find(session, size, sha256)

    monkeypatch.setattr(sources_imap._Session, "find", spy)
    for number in (1, 2, 3):
        account.deliver(_message(number))
    first, second, third = source.fetch(10)
    source.done(first.ref)  # now INBOX holds 2 (UID 2) and 3 (UID 3)
    _rebuild_uids(account)  # now 2 has UID 1 and 3 has UID 2: the old UID 2 names message 3

    source.done(second.ref)  # reconnects (dovecot drops the session) and must move 2, not 3

    assert searches == [len(second.data)]
    assert inspector.ids() == ["<reply-3@example.gov.cn>"]
    assert sorted(inspector.ids(PROCESSED)) == ["<reply-1@example.gov.cn>",
                                                "<reply-2@example.gov.cn>"]  # fmt: skip
    again = list(source.fetch(10))
    assert [item.data for item in again] == [third.data]
    assert again[0].ref != third.ref
    assert again[0].ref.endswith(":2")


def test_a_stale_ref_without_its_content_leaves_the_message_for_the_next_fetch(
    account: Account, inspector: Inspector
) -> None:
    account.deliver(_message(1))
    with closing(open_source(account.url())) as before:
        (item,) = before.fetch(10)
    _rebuild_uids(account)

    with closing(open_source(account.url())) as after:
        after.done(item.ref)  # a new process: it never saw the content behind this ref
        again = list(after.fetch(10))

    assert inspector.ids() == ["<reply-1@example.gov.cn>"]
    assert [i.data for i in again] == [item.data]
    assert again[0].ref != item.ref


def test_a_mailbox_with_a_chinese_name(account: Account) -> None:
    account.deliver(_message(7), mailbox="督办.回复")

    with closing(open_source(account.url(mailbox="督办.回复"))) as opened:
        items = list(opened.fetch(5))
        opened.done(items[0].ref)

    assert [_message_id(i.data) for i in items] == ["<reply-7@example.gov.cn>"]


def test_a_wrong_password_is_a_config_error_that_does_not_repeat_it(
    account: Account,
) -> None:
    with pytest.raises(ConfigError) as raised:
        open_source(account.url("wrong-Pa55word"))

    text = str(raised.value)
    assert "refused the login" in text
    assert "DUBAN_INTAKE" in text
    assert "wrong-Pa55word" not in text


def test_a_missing_mailbox_is_a_config_error(account: Account) -> None:
    with pytest.raises(ConfigError, match="cannot be opened"):
        open_source(account.url(mailbox="不存在"))


def test_an_unreachable_server_is_a_config_error() -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConfigError, match="no IMAP server answered") as raised:
        open_source(f"imap://u:secret-pw@127.0.0.1:{port}/INBOX?timeout=5")

    assert "secret-pw" not in str(raised.value)
    assert "DUBAN_INTAKE" in str(raised.value)


def test_imaps_and_starttls_verify_the_certificate() -> None:
    pytest.importorskip("cryptography")
    from duban.testing.mailserver import make_self_signed_certificate

    with _temporary_folder() as folder:
        cert, key = make_self_signed_certificate(folder / "tls")
        try:
            running = LocalImapServer(folder, {USER: PASSWORD}, tls=(cert, key))
        except DovecotNotInstalledError as missing:
            pytest.skip(str(missing))
        with running as server:
            server.deliver(USER, _message(1))
            plain = server.url(USER, PASSWORD, cafile=cert)
            for spec in (
                server.url(USER, PASSWORD, tls=True, cafile=cert),
                server.url(USER, PASSWORD, tls=True) + "?verify=false",
                plain.replace("imap://", "imap+starttls://"),
            ):
                with closing(open_source(spec)) as opened:
                    assert len(list(opened.fetch(5))) == 1
            with pytest.raises(ConfigError, match="TLS") as raised:
                open_source(server.url(USER, PASSWORD, tls=True))  # self-signed: not trusted

    assert "cafile" in str(raised.value)


def test_a_source_reads_dovecots_maildir_and_dovecot_sees_the_processed_folder(
    account: Account, inspector: Inspector
) -> None:
    account.deliver(_message(1))
    account.deliver(_message(2))
    maildir = open_source(f"maildir:{account.maildir()}")

    first = next(iter(maildir.fetch(1)))
    maildir.done(first.ref)

    processed = account.maildir() / ".duban.processed"
    assert processed.stat().st_uid == account.maildir().stat().st_uid  # not left to root
    assert inspector.ids() == ["<reply-2@example.gov.cn>"]
    assert inspector.ids(PROCESSED) == ["<reply-1@example.gov.cn>"]


def test_the_local_server_says_clearly_what_is_missing_or_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imapserver, "DOVECOT_CANDIDATES", (tmp_path / "no-dovecot",))
    with pytest.raises(DovecotNotInstalledError, match="apt-get install -y dovecot-imapd"):
        LocalImapServer(tmp_path, {USER: PASSWORD})
    monkeypatch.undo()
    if os.geteuid() != 0 or not Path("/usr/sbin/dovecot").exists():
        return
    server = LocalImapServer(tmp_path / "imap", {USER: PASSWORD})  # pytest's tmp_path is 0700
    with pytest.raises(DovecotError, match="not traversable by other users"):
        server.start()


# ---------------------------------------------------------------- DUBAN_INTAKE values


def test_an_imap_spec_is_read_with_percent_decoding() -> None:
    parsed = parse_intake_spec(
        "imaps://u%40b03:p%2Fw%3F%23@mail.example.gov.cn/%E7%9D%A3%E5%8A%9E?timeout=5"
    )

    assert parsed == ImapConfig(host="mail.example.gov.cn", port=993, user="u@b03",
                                password="p/w?#", mailbox="督办", security=ImapSecurity.TLS,
                                timeout=5.0)  # fmt: skip
    assert isinstance(parsed, ImapConfig)
    assert "p/w" not in repr(parsed)
    assert "p%2F" not in parsed.redacted()
    assert parse_intake_spec("imap://u:p@h") == ImapConfig("h", 143, "u", "p")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "no kind of source"),
        ("ftp://u:hunter2@h", "unsupported kind 'ftp'"),
        ("imap://h/INBOX", "needs a user name and password"),
        ("imap://u@h/INBOX", "without a password"),
        ("imap://u:hun#ter2@h/INBOX", "could not be read"),
        ("imap://u:hun/ter2@h/INBOX", "could not be read"),
        ("imap://u:hun?ter2@h/INBOX", "could not be read"),
        ("imap://u:hunter2@h:99999/INBOX", "port"),
        ("imap://u:hunter2@h/INBOX?verify=false", "apply only to TLS"),
        ("imaps://u:hunter2@h/INBOX?color=red", "unknown option 'color'"),
        ("imaps://u:hunter2@h/INBOX?cafile=/nonexistent/ca.pem", "does not exist"),
        ("imaps://u:hunter2@h/INBOX?timeout=0", "timeout"),
        ("imaps://u:hunter2@/INBOX", "no host"),
        ("maildir:", "needs a path"),
        ("maildir:/nonexistent/Maildir", "not a Maildir"),
        ("dir:/nonexistent/drop", "not a folder"),
    ],
)
def test_bad_specs_are_config_errors_naming_the_variable(spec: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        open_source(spec)

    text = str(raised.value)
    assert text.startswith("DUBAN_INTAKE:")
    assert message in text
    assert "ter2" not in text


# ---------------------------------------------------------------- Maildir


def _maildir_with(tmp_path: Path, mtimes: dict[int, int]) -> tuple[Path, dict[int, str]]:
    """A Maildir holding message N delivered at second ``mtimes[N]``; returns the keys."""
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    keys = {}
    for number, mtime in mtimes.items():
        key = box.add(_message(number))
        keys[number] = key
        path = tmp_path / "Maildir" / "new" / key
        os.utime(path, (mtime, mtime))
    return tmp_path / "Maildir", keys


def test_maildir_fetch_is_by_delivery_time_and_done_moves_without_deleting(tmp_path: Path) -> None:
    root, keys = _maildir_with(tmp_path, {1: 1_772_000_300, 2: 1_772_000_100, 3: 1_772_000_200})
    source = open_source(f"maildir:{root}")

    items = list(source.fetch(10))
    source.done(items[0].ref)
    source.done(items[0].ref)  # repeating is harmless
    later = list(source.fetch(10))

    assert [item.ref for item in items] == [keys[2], keys[3], keys[1]]
    assert items[0].received_at == datetime.fromtimestamp(1_772_000_100, tz=UTC)
    assert _message_id(items[0].data) == "<reply-2@example.gov.cn>"
    assert [item.ref for item in later] == [keys[3], keys[1]]
    moved = list((root / ".duban.processed" / "cur").iterdir())
    assert [path.name for path in moved] == [f"{keys[2]}:2,"]
    assert (root / ".duban.processed" / "maildirfolder").exists()
    assert source.name == f"maildir:{root}"


def test_maildir_done_follows_a_message_moved_after_fetch(tmp_path: Path) -> None:
    """A mail server may move a message from new/ to cur/ (adding flags) between fetch and done."""
    root, keys = _maildir_with(tmp_path, {1: 1_772_000_100, 2: 1_772_000_200})
    source = open_source(f"maildir:{root}")
    items = list(source.fetch(10))
    (root / "new" / keys[1]).rename(root / "cur" / f"{keys[1]}:2,S")

    for item in items:
        source.done(item.ref)

    assert list(source.fetch(10)) == []
    moved = sorted(path.name for path in (root / ".duban.processed" / "cur").iterdir())
    assert moved == sorted([f"{keys[1]}:2,S", f"{keys[2]}:2,"])


def test_maildir_done_many_moves_a_batch_flushing_each_folder_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, keys = _maildir_with(tmp_path, {1: 1_772_000_100, 2: 1_772_000_200, 3: 1_772_000_300})
    source = open_source(f"maildir:{root}")
    items = list(source.fetch(2))
    (root / "new" / keys[1]).rename(root / "cur" / f"{keys[1]}:2,S")  # moved by the server
    source.done(keys[3])  # never fetched by this source: looked for
    flushed: list[Path] = []
    monkeypatch.setattr(sources_local, "_fsync_folder", flushed.append)

    source.done_many([item.ref for item in items])

    assert sorted(flushed) == sorted({root / "new", root / "cur", root / ".duban.processed/cur"})
    moved = sorted(path.name for path in (root / ".duban.processed" / "cur").iterdir())
    assert moved == sorted([f"{keys[1]}:2,S", f"{keys[2]}:2,", f"{keys[3]}:2,"])
    assert list(source.fetch(10)) == []


def test_maildir_batch_skips_what_another_reader_took_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, keys = _maildir_with(tmp_path, {1: 1_772_000_100, 2: 1_772_000_200, 3: 1_772_000_300})
    source = MaildirSource(root)
    listed = MaildirSource._pending

    def listed_before_the_other_took_one(self: MaildirSource) -> list[Any]:
        entries = listed(self)
        (root / "new" / keys[1]).unlink()  # taken (moved away) by another reader
        return entries

    monkeypatch.setattr(MaildirSource, "_pending", listed_before_the_other_took_one)

    assert [item.ref for item in source.fetch(2)] == [keys[2], keys[3]]


def test_maildir_skips_trashed_messages_and_sees_new_deliveries(tmp_path: Path) -> None:
    root, keys = _maildir_with(tmp_path, {1: 1_772_000_000})
    (root / "cur" / "1772000001.trashed.host:2,ST").write_bytes(_message(9))
    source = MaildirSource(root)

    first = list(source.fetch(10))
    mailbox.Maildir(root).add(_message(2))  # delivered while the first is processed
    source.done(first[0].ref)
    second = list(source.fetch(10))

    assert [item.ref for item in first] == [keys[1]]
    assert [_message_id(item.data) for item in second] == ["<reply-2@example.gov.cn>"]


def test_maildir_refuses_refs_that_are_not_keys(tmp_path: Path) -> None:
    root, _keys = _maildir_with(tmp_path, {1: 1_772_000_000})
    source = MaildirSource(root)

    for ref in ("../x", "cur/x", ".hidden", "a:2,S", ""):
        with pytest.raises(ValueError, match="not a Maildir key"):
            source.done(ref)


# ---------------------------------------------------------------- drop folder


def _drop(folder: Path, relative: str, data: bytes, mtime: int) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path


def test_a_drop_folder_gives_every_file_oldest_first_and_skips_the_rest(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    _drop(drop, "B03/实施方案.xlsx", b"b03", 1_772_000_200)
    _drop(drop, "T01 实施方案.xlsx", b"t01", 1_772_000_100)
    _drop(drop, "processed/old.xlsx", b"old", 1_772_000_000)  # already done
    _drop(drop, ".partial.xlsx", b"half", 1_772_000_000)  # still being written
    _drop(drop, "~$实施方案.xlsx", b"lock", 1_772_000_000)  # an Office lock file
    _drop(drop, ".tmp/x.xlsx", b"x", 1_772_000_000)
    (tmp_path / "secret").write_bytes(b"elsewhere")
    (drop / "link.xlsx").symlink_to(tmp_path / "secret")

    items = list(open_source(f"dir:{drop}").fetch(10))

    assert [(i.ref, i.data, i.is_message) for i in items] == [
        ("T01 实施方案.xlsx", b"t01", False),
        ("B03/实施方案.xlsx", b"b03", False),
    ]
    assert items[0].received_at == datetime.fromtimestamp(1_772_000_100, tz=UTC)


def test_done_moves_a_dropped_file_into_processed_adding_a_suffix_on_a_clash(
    tmp_path: Path,
) -> None:
    drop = tmp_path / "drop"
    _drop(drop, "B03/实施方案.xlsx", b"b03", 1_772_000_100)
    _drop(drop, "B05/实施方案.xlsx", b"b05", 1_772_000_200)
    _drop(drop, "processed/实施方案.xlsx", b"earlier", 1_772_000_000)
    source = DirSource(drop)

    for item in source.fetch(10):
        source.done(item.ref)
    source.done("B03/实施方案.xlsx")  # already moved: nothing happens

    assert sorted(p.name for p in (drop / "processed").iterdir()) == [
        "实施方案 (2).xlsx", "实施方案 (3).xlsx", "实施方案.xlsx"
    ]  # fmt: skip
    assert (drop / "processed" / "实施方案.xlsx").read_bytes() == b"earlier"
    assert (drop / "processed" / "实施方案 (2).xlsx").read_bytes() == b"b03"
    assert list(source.fetch(10)) == []


def test_done_many_moves_the_files_of_a_batch_but_not_one_replaced_after_fetch(
    tmp_path: Path,
) -> None:
    drop = tmp_path / "drop"
    _drop(drop, "B03/实施方案.xlsx", b"b03", 1_772_000_100)
    replaced = _drop(drop, "B05/实施方案.xlsx", b"b05", 1_772_000_200)
    _drop(drop, "进展.xlsx", b"progress", 1_772_000_300)
    source = DirSource(drop)
    items = list(source.fetch(10))
    replaced.write_bytes(b"b05, corrected")

    source.done_many([item.ref for item in items])

    assert sorted(p.read_bytes() for p in (drop / "processed").iterdir()) == [b"b03", b"progress"]
    assert [item.data for item in source.fetch(10)] == [b"b05, corrected"]


def test_a_file_replaced_after_fetch_is_not_moved(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    path = _drop(drop, "进展.xlsx", b"first version", 1_772_000_100)
    source = DirSource(drop)
    (item,) = source.fetch(10)
    path.write_bytes(b"corrected version, sent again")

    source.done(item.ref)

    (again,) = source.fetch(10)
    assert again.data == b"corrected version, sent again"
    assert not (drop / "processed").exists()


@pytest.mark.parametrize(
    "ref", ["../outside.xlsx", "/etc/passwd", "processed/x.xlsx", "a/../b", ""]
)
def test_a_drop_folder_refuses_refs_outside_it(tmp_path: Path, ref: str) -> None:
    with pytest.raises(ValueError, match="not a drop-folder ref"):
        DirSource(tmp_path).done(ref)


# ---------------------------------------------------------------- the raw store


def test_raw_store_puts_gets_and_lays_out_by_hash(tmp_path: Path) -> None:
    store = RawStore(tmp_path / "raw")
    data = _message(1)

    sha = store.put(data)

    assert sha == hashlib.sha256(data).hexdigest()
    assert store.path(sha) == tmp_path / "raw" / sha[:2] / sha[2:4] / sha
    assert store.has(sha)
    assert store.get(sha) == data
    assert not stat.S_IMODE(store.path(sha).stat().st_mode) & 0o222  # read-only
    assert store.get(store.put(b"")) == b""


def test_raw_store_put_is_idempotent_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = RawStore(tmp_path / "raw")

    first = store.put(b"same bytes")
    second = store.put(b"same bytes")

    assert first == second
    assert [p.name for p in store.path(first).parent.iterdir()] == [first]


@pytest.mark.parametrize("flush", ["files", "filesystem"])
def test_raw_store_puts_a_batch_in_order_durably_and_once(tmp_path: Path, flush: Flush) -> None:
    store = RawStore(tmp_path / "raw", flush)
    first = store.put(b"stored before")
    batch = [b"a", b"stored before", b"b", b"a", b""]

    shas = store.put_many(batch)

    assert shas == [hashlib.sha256(data).hexdigest() for data in batch]
    assert shas[1] == first
    assert [store.get(sha) for sha in shas] == batch
    objects = sorted(p for p in (tmp_path / "raw").rglob("*") if p.is_file())
    assert [p.name for p in objects] == sorted(set(shas))  # no temporary files left
    assert all(not stat.S_IMODE(p.stat().st_mode) & 0o222 for p in objects)
    assert store.put_many([]) == []


def test_raw_store_flushes_every_file_and_folder_or_the_whole_file_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``put_many`` waits for: each written file before it is renamed and each folder
    touched after (``files``), or one ``syncfs`` for each of those two steps
    (``filesystem``); the renames happen only after the first flush."""
    flushed: list[tuple[str, str]] = []
    real_replace = Path.replace

    def replace(path: Path, target: Path) -> Path:
        flushed.append(("rename", path.name[:5]))
        return real_replace(path, target)

    monkeypatch.setattr(Path, "replace", replace)
    monkeypatch.setattr(rawstore, "_fsync_file", lambda p: flushed.append(("file", p.name[:5])))
    monkeypatch.setattr(rawstore, "_fsync_folder", lambda p: flushed.append(("folder", p.name)))
    real_syncfs = rawstore._syncfs

    def syncfs(path: Path) -> None:
        flushed.append(("syncfs", path.name))
        real_syncfs(path)

    monkeypatch.setattr(rawstore, "_syncfs", syncfs)

    RawStore(tmp_path / "one", "files").put_many([b"a", b"b"])
    by_files, flushed[:] = list(flushed), []
    RawStore(tmp_path / "two", "filesystem").put_many([b"a", b"b"])

    assert by_files[:2] == [("file", ".tmp-"), ("file", ".tmp-")]
    assert by_files[2:4] == [("rename", ".tmp-"), ("rename", ".tmp-")]
    assert {kind for kind, _ in by_files[4:]} == {"folder"}
    assert len(by_files[4:]) == 5  # the root, two first-level folders and two leaves
    assert flushed == [("syncfs", "two"), ("rename", ".tmp-"), ("rename", ".tmp-"),
                       ("syncfs", "two")]  # fmt: skip
    assert RawStore(tmp_path / "three").flush == "filesystem"  # auto, on Linux
    with pytest.raises(ValueError, match="flush must be one of"):
        RawStore(tmp_path, "sometimes")  # type: ignore[arg-type]


@pytest.mark.parametrize("flush", ["files", "filesystem"])
def test_raw_store_put_later_is_in_the_store_only_once_settled(
    tmp_path: Path, flush: Flush
) -> None:
    """``put_later`` leaves a temporary file only (what a crash would leave); ``settle``
    puts every object in place at once, and a second ``settle`` has nothing to do."""
    store = RawStore(tmp_path / "raw", flush)
    before = store.put(b"stored before")

    shas = [store.put_later(data) for data in (b"a", b"stored before", b"b", b"a")]

    assert shas == [hashlib.sha256(d).hexdigest() for d in (b"a", b"stored before", b"b", b"a")]
    assert shas[1] == before
    assert not store.has(shas[0])
    assert not store.has(shas[2])
    assert len(list((tmp_path / "raw").rglob(".tmp-*"))) == 2
    store.settle()
    store.settle()
    assert [store.get(sha) for sha in shas] == [b"a", b"stored before", b"b", b"a"]
    objects = sorted(p.name for p in (tmp_path / "raw").rglob("*") if p.is_file())
    assert objects == sorted(set(shas))  # no temporary files left


def test_raw_store_detects_corruption_and_put_repairs_a_truncated_object(tmp_path: Path) -> None:
    store = RawStore(tmp_path / "raw")
    sha = store.put(b"the workbook as received")
    path = store.path(sha)
    path.chmod(0o644)
    path.write_bytes(b"the workbook as tampered")  # same size, different bytes

    with pytest.raises(CorruptObjectError, match="damaged"):
        store.get(sha)
    path.write_bytes(b"the work")  # truncated, as a crash could leave it
    assert store.put(b"the workbook as received") == sha
    assert store.get(sha) == b"the workbook as received"


def test_raw_store_missing_and_malformed_hashes(tmp_path: Path) -> None:
    store = RawStore(tmp_path / "raw")

    assert not store.has("0" * 64)
    with pytest.raises(MissingObjectError):
        store.get("0" * 64)
    for bad in ("../../etc/passwd", "A" * 64, "0" * 63):
        with pytest.raises(ValueError, match="SHA-256"):
            store.path(bad)


def test_raw_items_are_what_the_store_keeps(account: Account, source: ImapSource,
                                            tmp_path: Path) -> None:  # fmt: skip
    account.deliver(_message(1))
    store = RawStore(tmp_path / "raw")

    items: list[RawItem] = list(source.fetch(1))

    assert store.get(store.put(items[0].data)) == items[0].data
