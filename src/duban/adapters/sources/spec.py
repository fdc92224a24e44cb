"""Read a ``DUBAN_INTAKE`` value: where intake collects what units send.

::

    imap://user:pass@host:143/INBOX            plain IMAP (a local or trusted network only)
    imap+starttls://user:pass@host:143/INBOX   STARTTLS, then login
    imaps://user:pass@host:993/INBOX           TLS from the first byte, then login
    maildir:/var/mail/duban/Maildir            a Maildir the mail system delivers into
    dir:/srv/duban/drop                        a drop folder: every file is one item

As with ``DUBAN_SMTP_URL``, user and password are percent-decoded, certificates are verified
unless ``?verify=false``, ``?cafile=/path/ca.pem`` trusts a private CA and ``?timeout=30`` sets
the socket timeout. The mailbox after the port defaults to ``INBOX`` and may be Chinese
(``/%E7%9D%A3%E5%8A%9E`` or written as is).

Errors never repeat the value as given: a password with an unencoded ``/``, ``?`` or ``#``
lands where the host, port, mailbox or options should be, so messages name only what is wrong.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from duban.adapters.urls import (
    DEFAULT_TIMEOUT,
    ENCODING_HINT,
    Options,
    Security,
    read_host,
    read_options,
    read_port,
    tls_context,
)
from duban.errors import ConfigError

INTAKE_VARIABLE = "DUBAN_INTAKE"
_FORMS = (
    "write imap://user:pass@host:143/INBOX, imaps://user:pass@host:993/INBOX, "
    "maildir:/path/to/Maildir or dir:/path/to/folder"
)
_FORMS_ZH = (
    "写成 imap://user:pass@host:143/INBOX、imaps://user:pass@host:993/INBOX、"
    "maildir:/path/to/Maildir 或 dir:/path/to/folder"
)
_ENCODING_HINT_ZH = "把用户名和密码中的 / ? # @ : % 写成百分号编码（%2F %3F %23 %40 %3A %25）"
ImapSecurity = Security
"""How an IMAP connection is protected (the same three ways as SMTP)."""


_SCHEMES = {
    "imap": ImapSecurity.PLAIN,
    "imap+starttls": ImapSecurity.STARTTLS,
    "imaps": ImapSecurity.TLS,
}
_DEFAULT_PORTS = {ImapSecurity.PLAIN: 143, ImapSecurity.STARTTLS: 143, ImapSecurity.TLS: 993}


@dataclass(frozen=True)
class ImapConfig:
    """One IMAP mailbox to read; ``repr`` and ``redacted`` leave the password out."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    mailbox: str = "INBOX"
    security: ImapSecurity = ImapSecurity.PLAIN
    verify: bool = True
    cafile: Path | None = None
    timeout: float = DEFAULT_TIMEOUT

    @property
    def scheme(self) -> str:
        return next(name for name, value in _SCHEMES.items() if value is self.security)

    def redacted(self) -> str:
        """The spec without the password, for messages, logs and ``RawItem.source``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        mailbox = quote(self.mailbox, safe="/")
        return f"{self.scheme}://{quote(self.user, safe='')}@{host}:{self.port}/{mailbox}"

    def ssl_context(self) -> ssl.SSLContext | None:
        """The client TLS context the spec asks for; ``None`` for plain ``imap://``."""
        return tls_context(self.security, Options(self.verify, self.cafile), spec_error)


@dataclass(frozen=True)
class FolderSpec:
    """``maildir:PATH`` or ``dir:PATH``."""

    kind: str
    path: Path


def spec_error(
    message: str, hint: str, *, zh: str | None = None, zh_hint: str | None = None
) -> ConfigError:
    """A ``ConfigError`` that names the setting to fix; ``zh_hint`` reads after “在 … 中”.

    The shared URL rules (``duban.adapters.urls``) call it with the English wording only.
    """
    return ConfigError(
        f"{INTAKE_VARIABLE}: {message}",
        hint=f"{hint} in {INTAKE_VARIABLE}",
        zh=None if zh is None else f"{INTAKE_VARIABLE}：{zh}",
        zh_hint=None if zh_hint is None else f"在 {INTAKE_VARIABLE} 中{zh_hint}",
    )


def parse_intake_spec(spec: str) -> ImapConfig | FolderSpec:
    """Parse one ``DUBAN_INTAKE`` value; raise ``ConfigError`` naming what is wrong."""
    text = spec.strip()
    scheme, colon, rest = text.partition(":")
    if not colon:
        raise spec_error(
            "no kind of source given", _FORMS, zh="没有写明收件来源的类型", zh_hint=_FORMS_ZH
        )
    if scheme in ("maildir", "dir"):
        return _folder(scheme, rest)
    if scheme not in _SCHEMES:
        shown = repr(scheme) if re.fullmatch(r"[a-z+]{1,20}", scheme) else "(unreadable)"
        raise spec_error(
            f"unsupported kind {shown}", _FORMS, zh=f"不支持的类型 {shown}", zh_hint=_FORMS_ZH
        )
    return _imap(text)


def _folder(kind: str, rest: str) -> FolderSpec:
    raw = rest[2:] if rest.startswith("//") else rest
    if not raw:
        raise spec_error(
            f"{kind}: needs a path",
            f"write {kind}:/path/to/folder",
            zh=f"{kind}：需要写明文件夹路径",
            zh_hint=f"写成 {kind}:/path/to/folder",
        )
    return FolderSpec(kind=kind, path=Path(raw).expanduser())


def _imap(text: str) -> ImapConfig:
    parts = urlsplit(text)
    security = _SCHEMES[parts.scheme]
    if parts.fragment or "@" in parts.path + parts.query:
        raise spec_error(
            "text after the host could not be read",
            ENCODING_HINT,
            zh="主机名后面的内容无法识别",
            zh_hint=_ENCODING_HINT_ZH,
        )
    user, password = _user_info(parts.username, parts.password)
    options = read_options(parts.query, security, spec_error, "use imaps:// or imap+starttls://")
    return ImapConfig(
        host=read_host(
            parts.hostname, spec_error, "write the server as imaps://user:pass@host:993"
        ),
        port=read_port(parts, security, _DEFAULT_PORTS, spec_error),
        user=user,
        password=password,
        mailbox=_mailbox(parts.path),
        security=security,
        verify=options.verify,
        cafile=options.cafile,
        timeout=options.timeout,
    )


def _user_info(user: str | None, password: str | None) -> tuple[str, str]:
    if not user:
        raise spec_error(
            "IMAP needs a user name and password",
            "write imaps://user:password@host:993/INBOX",
            zh="IMAP 需要用户名和密码",
            zh_hint="写成 imaps://user:password@host:993/INBOX",
        )
    if password is None:
        raise spec_error(
            "a user name is given without a password",
            "write user:password@host (user:@host for an empty password)",
            zh="只写了用户名，没有写密码",
            zh_hint="写成 user:password@host（密码为空时写 user:@host）",
        )
    return unquote(user), unquote(password)


def _mailbox(path: str) -> str:
    name = unquote(path.lstrip("/"))
    if not name:
        return "INBOX"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        raise spec_error(
            "the mailbox name holds a control character",
            "write the mailbox after the port",
            zh="邮箱文件夹名称中含有控制字符",
            zh_hint="把邮箱文件夹名称写在端口号后面",
        )
    return name
