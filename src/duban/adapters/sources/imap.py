"""Read replies from an IMAP mailbox without changing them until they are safely recorded.

Why it works the way it does:

* **UIDs, not sequence numbers.** A message's sequence number shifts whenever another client
  deletes mail; its UID does not. ``ref`` is ``UIDVALIDITY:UID``, which names one message for
  as long as the server keeps that UIDVALIDITY.
* **``BODY.PEEK[]``.** Fetching never sets ``\\Seen``, so the coordinator's own mail client
  still shows the replies as unread and a crash leaves no trace on the server.
* **Moved only after commit.** ``done(ref)`` is called once the caller has recorded the item;
  only then is the message moved to ``duban/processed`` (``MOVE`` when the server has it, else
  ``COPY`` + ``\\Deleted`` + ``EXPUNGE`` of that UID only, where the server has UIDPLUS). What is
  still in the mailbox is, by definition, not yet processed: ``fetch`` returns it again after a
  crash, and mail that arrives while a batch is being processed waits for the next ``fetch``.
* **A changed UIDVALIDITY** (the mailbox was rebuilt or restored) makes old UIDs meaningless,
  and an old UID may now name a *different* message. ``done`` then looks the message up by its
  exact size and SHA-256 (remembered at fetch time) instead of trusting the UID; a message it
  cannot find again stays in the mailbox and comes back from the next ``fetch`` under its new
  UID, where the caller recognises it by its hash.
* **A dropped connection** (servers log idle clients out) is reopened once per operation.
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import logging
import re
import ssl
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from types import TracebackType
from typing import Self, TypeVar

from imap_tools.imap_utf7 import utf7_encode

from duban.adapters.sources.model import RawItem
from duban.adapters.sources.spec import INTAKE_VARIABLE, ImapConfig, ImapSecurity
from duban.errors import ConfigError, DubanError

PROCESSED_FOLDER = ("duban", "processed")
_FETCH_ITEMS = "(UID INTERNALDATE RFC822.SIZE BODY.PEEK[])"
_REF = re.compile(r"(\d{1,10}):(\d{1,10})")
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_UIDS_PER_COMMAND = 400
"""UIDs in one command's set: a command line of a few KB, which every server accepts."""
_INTERNALDATE = re.compile(
    rb'INTERNALDATE "\s?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)"'
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        b"jan feb mar apr may jun jul aug sep oct nov dec".split(),
        start=1,
    )
}
_QUOTED_OR_NIL = rb'(?:"((?:[^"\\]|\\.)*)"|NIL)'
_NAMESPACE = re.compile(rb"\(\(" + _QUOTED_OR_NIL + rb" " + _QUOTED_OR_NIL)
_LIST_DELIMITER = re.compile(rb"\) " + _QUOTED_OR_NIL + rb" ")

_log = logging.getLogger(__name__)
_T = TypeVar("_T")


class ImapUnreachableError(ConfigError):
    """No IMAP server answered at the host and port of ``DUBAN_INTAKE``."""


class ImapTlsError(ConfigError):
    """TLS could not be set up: certificate not trusted, or the port does not speak TLS."""


class ImapAuthenticationError(ConfigError):
    """The IMAP server refused the user name or password of ``DUBAN_INTAKE``."""


class ImapError(DubanError):
    """The server refused a command in the middle of intake (not a setting to fix)."""


@dataclass(frozen=True)
class _Fetched:
    """What identifies a fetched message if its UID stops meaning anything."""

    size: int
    sha256: str


@dataclass(frozen=True)
class _Message:
    data: bytes
    internaldate: datetime | None


class _ValidityChangedError(Exception):
    """The mailbox's UIDVALIDITY changed in the middle of a ``fetch``."""


class ImapSource:
    """``open_source("imap://…")``: the messages of one mailbox, oldest (lowest UID) first."""

    def __init__(self, config: ImapConfig) -> None:
        self.config = config
        self.name = config.redacted()
        self._fetched: dict[str, _Fetched] = {}
        self._session: _Session | None = _Session.open(config)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def fetch(self, limit: int) -> Iterator[RawItem]:
        """Up to ``limit`` messages still in the mailbox, lowest UID (earliest arrival) first."""
        if limit <= 0:
            return
        validity, uids = self._call(_Session.pending)
        given = 0
        try:
            for uid in uids:  # past the first ``limit``: another reader may take some meanwhile
                item = self._call(partial(self._item, validity=validity, uid=uid))
                if item is not None:
                    yield item
                    given += 1
                    if given == limit:
                        return
        except _ValidityChangedError:
            return  # the next fetch starts again under the new UIDVALIDITY

    def done(self, ref: str) -> None:
        """Move the message to the processed folder: the caller has committed its record."""
        self.done_many([ref])

    def done_many(self, refs: Sequence[str]) -> None:
        """``done`` for each message: the sizes of all checked in one command and the messages
        moved in one more (a few hundred round trips fewer per batch against a distant
        server); a message whose UID no longer names what was fetched is looked for alone."""
        parsed = [(ref, *parse_ref(ref)) for ref in refs]
        if not parsed:
            return
        self._call(partial(self._move_many, parsed=parsed))
        for ref in refs:
            self._fetched.pop(ref, None)

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.logout()

    def _item(self, session: _Session, *, validity: int, uid: int) -> RawItem | None:
        if session.validity != validity:
            raise _ValidityChangedError
        message = session.fetch(uid)
        if message is None:
            return None  # expunged by another client since the search
        ref = f"{validity}:{uid}"
        self._fetched[ref] = _Fetched(len(message.data), hashlib.sha256(message.data).hexdigest())
        return RawItem(self.name, ref, message.data, message.internaldate, is_message=True)

    def _move_many(self, session: _Session, parsed: Sequence[tuple[str, int, int]]) -> None:
        session.sync()  # a changed UIDVALIDITY shows here (dovecot drops the session)
        current = [uid for _ref, validity, uid in parsed if validity == session.validity]
        sizes = session.sizes(current)
        plain: list[int] = []
        for ref, validity, uid in parsed:
            seen = self._fetched.get(ref)
            if validity == session.validity and (
                seen is None or sizes.get(uid, seen.size) == seen.size
            ):
                plain.append(uid)  # a UID already moved is a no-op: done() may be repeated
            else:
                self._find_and_move(session, seen, ref)
        session.move(plain)

    def _find_and_move(self, session: _Session, seen: _Fetched | None, ref: str) -> None:
        found = None if seen is None else session.find(seen.size, seen.sha256)
        if found is None:
            _log.warning(
                "%s: %s no longer names the message fetched under it (UIDVALIDITY changed) and "
                "the message was not found again; it stays in the mailbox and comes back from "
                "the next fetch under its new UID",
                self.name,
                ref,
            )
            return
        session.move([found])

    def _call(self, action: Callable[[_Session], _T]) -> _T:
        """Run ``action`` on a live session, reconnecting once if the connection dropped."""
        try:
            return action(self._live())
        except (imaplib.IMAP4.abort, OSError):
            self._drop()
        try:
            return action(self._live())
        except (imaplib.IMAP4.abort, OSError) as exc:
            self._drop()
            raise ImapError(
                f"{self.name}: the connection was lost twice in a row ({_reason(exc)})",
                zh=f"{self.name}：连接连续两次中断（{_reason(exc)}）",
            ) from exc

    def _live(self) -> _Session:
        if self._session is None:
            self._session = _Session.open(self.config)
        return self._session

    def _drop(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.shutdown()


def parse_ref(ref: str) -> tuple[int, int]:
    """``"UIDVALIDITY:UID"`` as two numbers."""
    match = _REF.fullmatch(ref)
    if match is None:
        raise ValueError(f"not an IMAP ref (UIDVALIDITY:UID): {ref[:80]!r}")
    return int(match.group(1)), int(match.group(2))


class _Session:
    """One logged-in connection with the mailbox selected."""

    def __init__(self, client: imaplib.IMAP4, config: ImapConfig) -> None:
        self.client = client
        self.capabilities = _capabilities(client)
        self.processed = _quoted(_processed_name(client, self.capabilities))
        self.validity = _select(client, config.mailbox)
        self._processed_ready = False

    @classmethod
    def open(cls, config: ImapConfig) -> _Session:
        client = _connect(config)
        try:
            _login(client, config)
            return cls(client, config)
        except BaseException:
            with contextlib.suppress(Exception):
                client.shutdown()
            raise

    def pending(self) -> tuple[int, list[int]]:
        """The UIDVALIDITY and every UID not marked for deletion, in ascending order.

        NOOP first: a server reports mail that arrived since the last command only at the end
        of a command (dovecot does), and SEARCH returns only messages the client was told of.
        """
        self.sync()
        return self.validity, self._search("UNDELETED")

    def sync(self) -> None:
        typ, data = self.client.noop()
        _check(typ, data, "check for new mail")

    def sizes(self, uids: Sequence[int]) -> dict[int, int]:
        """RFC822.SIZE of each of ``uids`` still in the mailbox (one command per few hundred);
        a UID already moved is missing from the answer."""
        wanted, found = set(uids), {}
        for chunk in _uid_sets(uids):
            typ, data = self.client.uid("FETCH", chunk, "(UID RFC822.SIZE)")
            _check(typ, data, "fetch the messages' sizes")
            for item in _bytes(data):
                uid = _UID.search(item)
                size = _SIZE.search(item)
                if uid is not None and size is not None and int(uid.group(1)) in wanted:
                    found[int(uid.group(1))] = int(size.group(1))
        return found

    def fetch(self, uid: int) -> _Message | None:
        typ, data = self.client.uid("FETCH", str(uid), _FETCH_ITEMS)
        _check(typ, data, "fetch a message")
        return _parse_fetch(data, uid)

    def find(self, size: int, sha256: str) -> int | None:
        """The UID of the message with exactly these bytes, if it is still in the mailbox."""
        if size > 0:
            criteria = f"UNDELETED LARGER {size - 1} SMALLER {size + 1}"
        else:
            criteria = "UNDELETED SMALLER 1"
        for uid in self._search(criteria):
            message = self.fetch(uid)
            if message is not None and hashlib.sha256(message.data).hexdigest() == sha256:
                return uid
        return None

    def move(self, uids: Sequence[int]) -> None:
        """Move these messages to the processed folder (UIDs already gone are skipped)."""
        folder = self._processed_folder() if uids else ""
        for chunk in _uid_sets(uids):
            if "MOVE" in self.capabilities:
                typ, data = self.client.uid("MOVE", chunk, folder)
                _check(typ, data, "move messages to the processed folder")
                continue
            typ, data = self.client.uid("COPY", chunk, folder)
            _check(typ, data, "copy messages to the processed folder")
            typ, data = self.client.uid("STORE", chunk, "+FLAGS.SILENT", r"(\Deleted)")
            _check(typ, data, "mark copied messages deleted")
            if "UIDPLUS" in self.capabilities:
                typ, data = self.client.uid("EXPUNGE", chunk)
            else:  # without UIDPLUS only a plain EXPUNGE exists; it also removes others' \Deleted
                typ, data = self.client.expunge()
            _check(typ, data, "expunge moved messages")

    def logout(self) -> None:
        with contextlib.suppress(Exception):
            self.client.logout()

    def shutdown(self) -> None:
        with contextlib.suppress(Exception):
            self.client.shutdown()

    def _search(self, criteria: str) -> list[int]:
        typ, data = self.client.uid("SEARCH", criteria)
        _check(typ, data, "search the mailbox")
        words = b" ".join(item for item in data if isinstance(item, bytes)).split()
        return sorted(int(word) for word in words if word.isdigit())

    def _processed_folder(self) -> str:
        """The quoted processed folder, created (and subscribed) the first time it is needed."""
        if not self._processed_ready:
            typ, data = self.client.list('""', self.processed)
            if typ != "OK" or not any(data):
                typ, data = self.client.create(self.processed)
                if typ != "OK" and b"ALREADYEXISTS" not in b" ".join(_bytes(data)):
                    _check(typ, data, "create the processed folder")
                self.client.subscribe(self.processed)
            self._processed_ready = True
        return self.processed


def _connect(config: ImapConfig) -> imaplib.IMAP4:
    context = config.ssl_context()
    where = f"{config.host}:{config.port}"
    try:
        if config.security is ImapSecurity.TLS:
            return imaplib.IMAP4_SSL(
                config.host, config.port, ssl_context=context, timeout=config.timeout
            )
        client = imaplib.IMAP4(config.host, config.port, timeout=config.timeout)
    except ssl.SSLError as exc:
        raise _tls_error(where, exc) from None
    except (OSError, imaplib.IMAP4.error) as exc:
        raise ImapUnreachableError(
            f"{INTAKE_VARIABLE}: no IMAP server answered at {where} ({_reason(exc)})",
            hint=f"check the host and port in {INTAKE_VARIABLE} and that the server is running",
            zh=f"{INTAKE_VARIABLE}：{where} 没有 IMAP 服务器应答（{_reason(exc)}）",
            zh_hint=f"请检查 {INTAKE_VARIABLE} 中的主机和端口，并确认邮件服务器正在运行",
        ) from None
    if config.security is ImapSecurity.STARTTLS:
        _starttls(client, context, where)
    return client


def _starttls(client: imaplib.IMAP4, context: ssl.SSLContext | None, where: str) -> None:
    try:
        client.starttls(context)
    except ssl.SSLError as exc:
        client.shutdown()
        raise _tls_error(where, exc) from None
    except (OSError, imaplib.IMAP4.error) as exc:
        client.shutdown()
        raise ImapTlsError(
            f"{INTAKE_VARIABLE}: STARTTLS failed at {where} ({_reason(exc)})",
            hint=f"use imaps:// (usually port 993) in {INTAKE_VARIABLE} if the server has it",
            zh=f"{INTAKE_VARIABLE}：在 {where} 启用 STARTTLS 失败（{_reason(exc)}）",
            zh_hint=f"服务器支持的话，请在 {INTAKE_VARIABLE} 中改用 imaps://（通常为 993 端口）",
        ) from None


def _tls_error(where: str, exc: ssl.SSLError) -> ImapTlsError:
    return ImapTlsError(
        f"{INTAKE_VARIABLE}: TLS with {where} failed ({_reason(exc)})",
        hint=f"for a private CA add ?cafile=/path/ca.pem to {INTAKE_VARIABLE}; check the port",
        zh=f"{INTAKE_VARIABLE}：与 {where} 建立 TLS 加密连接失败（{_reason(exc)}）",
        zh_hint=f"如使用自建的证书机构，请在 {INTAKE_VARIABLE} 中加上 ?cafile=/path/ca.pem；"
        "并检查端口",
    )


def _login(client: imaplib.IMAP4, config: ImapConfig) -> None:
    """LOGIN for ASCII credentials; AUTHENTICATE PLAIN (UTF-8) otherwise, which LOGIN can't."""
    try:
        if config.user.isascii() and config.password.isascii():
            client.login(config.user, config.password)
        else:
            token = f"\0{config.user}\0{config.password}".encode()
            client.authenticate("PLAIN", lambda _challenge: token)
    except (imaplib.IMAP4.abort, OSError) as exc:
        raise ImapUnreachableError(
            f"{INTAKE_VARIABLE}: the IMAP server closed the connection at login ({_reason(exc)})",
            hint=f"check the host and port in {INTAKE_VARIABLE}",
            zh=f"{INTAKE_VARIABLE}：登录时 IMAP 服务器断开了连接（{_reason(exc)}）",
            zh_hint=f"请检查 {INTAKE_VARIABLE} 中的主机和端口",
        ) from None
    except imaplib.IMAP4.error as exc:
        raise ImapAuthenticationError(
            f"{INTAKE_VARIABLE}: the IMAP server refused the login of user {config.user!r} "
            f"({_reason(exc)})",
            hint=f"check the user name and password in {INTAKE_VARIABLE}; " + _PERCENT_HINT,
            zh=f"{INTAKE_VARIABLE}：IMAP 服务器拒绝了用户“{config.user}”登录（{_reason(exc)}）",
            zh_hint=f"请检查 {INTAKE_VARIABLE} 中的用户名和密码；" + _PERCENT_HINT_ZH,
        ) from None


_PERCENT_HINT = "percent-encode / ? # @ : % in them (%2F %3F %23 %40 %3A %25)"
_PERCENT_HINT_ZH = "其中的 / ? # @ : % 要写成百分号编码（%2F %3F %23 %40 %3A %25）"


def _capabilities(client: imaplib.IMAP4) -> frozenset[str]:
    """Ask again after login: many servers (dovecot too) offer MOVE and UIDPLUS only then."""
    typ, data = client.capability()
    _check(typ, data, "list capabilities")
    return frozenset(b" ".join(_bytes(data)).decode("ascii", "replace").upper().split())


def _processed_name(client: imaplib.IMAP4, capabilities: frozenset[str]) -> str:
    """``duban/processed`` in the server's own hierarchy: its delimiter and personal prefix.

    dovecot's default Maildir++ layout refuses ``/`` and uses ``.``; Courier-style servers keep
    personal folders under ``INBOX.``.
    """
    prefix: str | None = ""
    delimiter: str | None = None
    if "NAMESPACE" in capabilities:
        typ, data = client.namespace()
        match = _NAMESPACE.match(b" ".join(_bytes(data))) if typ == "OK" else None
        if match is not None:
            prefix, delimiter = _unquote(match.group(1)), _unquote(match.group(2))
    if delimiter is None:
        typ, data = client.list('""', '""')
        match = _LIST_DELIMITER.search(b" ".join(_bytes(data))) if typ == "OK" else None
        delimiter = None if match is None else _unquote(match.group(1))
    return (prefix or "") + (delimiter or ".").join(PROCESSED_FOLDER)


def _select(client: imaplib.IMAP4, mailbox: str) -> int:
    try:
        typ, data = client.select(_quoted(mailbox))
    except imaplib.IMAP4.readonly:
        raise ConfigError(
            f"{INTAKE_VARIABLE}: the mailbox {mailbox!r} is read-only for this user",
            hint="duban moves processed messages, so it needs write access to the mailbox",
            zh=f"{INTAKE_VARIABLE}：邮箱文件夹“{mailbox}”对该用户是只读的",
            zh_hint="duban 要移走已处理的邮件，需要该邮箱文件夹的写权限",
        ) from None
    if typ != "OK":
        raise ConfigError(
            f"{INTAKE_VARIABLE}: the mailbox {mailbox!r} cannot be opened ({_text(data)})",
            hint=f"write an existing mailbox after the port in {INTAKE_VARIABLE}, e.g. /INBOX",
            zh=f"{INTAKE_VARIABLE}：无法打开邮箱文件夹“{mailbox}”（{_text(data)}）",
            zh_hint=f"请在 {INTAKE_VARIABLE} 的端口号后面写一个已有的邮箱文件夹，如 /INBOX",
        )
    _name, values = client.response("UIDVALIDITY")
    if values and isinstance(values[0], bytes) and values[0].isdigit():
        return int(values[0])
    typ, data = client.status(_quoted(mailbox), "(UIDVALIDITY)")
    match = re.search(rb"UIDVALIDITY (\d+)", b" ".join(_bytes(data)))
    if typ != "OK" or match is None:
        raise ImapError(
            f"{INTAKE_VARIABLE}: the server gave no UIDVALIDITY for {mailbox!r}",
            zh=f"{INTAKE_VARIABLE}：服务器没有给出邮箱文件夹“{mailbox}”的 UIDVALIDITY",
        )
    return int(match.group(1))


def _parse_fetch(data: Sequence[object], uid: int) -> _Message | None:
    """The ``BODY[]`` literal of ``uid`` among the responses (unsolicited ones are skipped)."""
    for index, item in enumerate(data):
        if not (isinstance(item, tuple) and len(item) == 2):
            continue
        meta, literal = item
        if not (isinstance(meta, bytes) and isinstance(literal, bytes)):
            continue
        after = data[index + 1] if index + 1 < len(data) else b""
        head = meta + b" " + (after if isinstance(after, bytes) else b"")
        match = _UID.search(head)
        if match is None or int(match.group(1)) != uid or b"BODY[]" not in meta:
            continue
        return _Message(literal, _internaldate(head))
    return None


def _internaldate(head: bytes) -> datetime | None:
    match = _INTERNALDATE.search(head)
    if match is None:
        return None
    day, month, year, hour, minute, second, sign, off_h, off_m = match.groups()
    number = _MONTHS.get(month.lower())
    if number is None:
        return None
    offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == b"-" else 1)
    try:
        return datetime(
            int(year), number, int(day), int(hour), int(minute), int(second),
            tzinfo=timezone(offset),
        )  # fmt: skip
    except ValueError:
        return None


def _quoted(mailbox: str) -> str:
    """An IMAP quoted string of the mailbox name in modified UTF-7 (RFC 3501 5.1.3)."""
    encoded = utf7_encode(mailbox).decode("ascii")
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(value: bytes | None) -> str | None:
    if value is None:
        return None
    return re.sub(rb"\\(.)", rb"\1", value).decode("utf-8", "replace")


def _check(typ: str, data: Sequence[object], doing: str) -> None:
    if typ != "OK":
        raise ImapError(
            f"IMAP: the server refused to {doing}: {_text(data)}",
            zh=f"IMAP：服务器拒绝{_DOING_ZH.get(doing, doing)}：{_text(data)}",
        )


_DOING_ZH = {
    "check for new mail": "检查新邮件",
    "fetch the messages' sizes": "读取邮件大小",
    "fetch a message": "读取邮件",
    "move messages to the processed folder": "把邮件移到已处理文件夹",
    "copy messages to the processed folder": "把邮件复制到已处理文件夹",
    "mark copied messages deleted": "把已复制的邮件标记为删除",
    "expunge moved messages": "清除已移走的邮件",
    "search the mailbox": "搜索邮箱文件夹",
    "create the processed folder": "创建已处理文件夹",
    "list capabilities": "列出服务器功能",
}


def _uid_sets(uids: Sequence[int]) -> Iterator[str]:
    """IMAP sequence sets (``3,5,9``) of at most ``_UIDS_PER_COMMAND`` UIDs each."""
    for start in range(0, len(uids), _UIDS_PER_COMMAND):
        yield ",".join(str(uid) for uid in uids[start : start + _UIDS_PER_COMMAND])


def _bytes(data: Sequence[object]) -> list[bytes]:
    return [item for item in data if isinstance(item, bytes)]


def _text(data: Sequence[object]) -> str:
    return b" ".join(_bytes(data)).decode("utf-8", "replace")[:200]


def _reason(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:200]
