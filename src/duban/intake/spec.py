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

import math
import re
import ssl
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import SplitResult, quote, unquote, urlsplit

from ..errors import ConfigError

INTAKE_VARIABLE = "DUBAN_INTAKE"
DEFAULT_TIMEOUT = 30.0
_FORMS = (
    "write imap://user:pass@host:143/INBOX, imaps://user:pass@host:993/INBOX, "
    "maildir:/path/to/Maildir or dir:/path/to/folder"
)
_ENCODING_HINT = (
    "percent-encode / ? # @ : % in the user name and password (%2F %3F %23 %40 %3A %25)"
)
_OPTION_NAME = re.compile(r"[A-Za-z_]{1,30}")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ImapSecurity(StrEnum):
    PLAIN = "plain"
    STARTTLS = "starttls"
    TLS = "tls"


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
        if self.security is ImapSecurity.PLAIN:
            return None
        if not self.verify:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        try:
            return ssl.create_default_context(cafile=self.cafile)
        except (OSError, ssl.SSLError):
            raise spec_error(
                f"the CA file {self.cafile} cannot be read as PEM certificates",
                "set ?cafile= to a readable PEM file",
            ) from None


@dataclass(frozen=True)
class FolderSpec:
    """``maildir:PATH`` or ``dir:PATH``."""

    kind: str
    path: Path


def spec_error(message: str, hint: str) -> ConfigError:
    """A ``ConfigError`` that names the setting to fix."""
    return ConfigError(f"{INTAKE_VARIABLE}: {message}", hint=f"{hint} in {INTAKE_VARIABLE}")


def parse_intake_spec(spec: str) -> ImapConfig | FolderSpec:
    """Parse one ``DUBAN_INTAKE`` value; raise ``ConfigError`` naming what is wrong."""
    text = spec.strip()
    scheme, colon, rest = text.partition(":")
    if not colon:
        raise spec_error("no kind of source given", _FORMS)
    if scheme in ("maildir", "dir"):
        return _folder(scheme, rest)
    if scheme not in _SCHEMES:
        shown = repr(scheme) if re.fullmatch(r"[a-z+]{1,20}", scheme) else "(unreadable)"
        raise spec_error(f"unsupported kind {shown}", _FORMS)
    return _imap(text)


def _folder(kind: str, rest: str) -> FolderSpec:
    raw = rest[2:] if rest.startswith("//") else rest
    if not raw:
        raise spec_error(f"{kind}: needs a path", f"write {kind}:/path/to/folder")
    return FolderSpec(kind=kind, path=Path(raw).expanduser())


def _imap(text: str) -> ImapConfig:
    parts = urlsplit(text)
    security = _SCHEMES[parts.scheme]
    if parts.fragment or "@" in parts.path + parts.query:
        raise spec_error("text after the host could not be read", _ENCODING_HINT)
    user, password = _user_info(parts.username, parts.password)
    options = _options(parts.query, security)
    return ImapConfig(
        host=_host(parts.hostname),
        port=_port(parts, security),
        user=user,
        password=password,
        mailbox=_mailbox(parts.path),
        security=security,
        verify=options.verify,
        cafile=options.cafile,
        timeout=options.timeout,
    )


def _host(hostname: str | None) -> str:
    if not hostname or any(ch.isspace() for ch in hostname):
        raise spec_error("no host name", "write the server as imaps://user:pass@host:993")
    return hostname


def _port(parts: SplitResult, security: ImapSecurity) -> int:
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is None:
        return _DEFAULT_PORTS[security]
    if not 1 <= port <= 65535:
        raise spec_error("the port is not a number from 1 to 65535", _ENCODING_HINT)
    return port


def _user_info(user: str | None, password: str | None) -> tuple[str, str]:
    if not user:
        raise spec_error(
            "IMAP needs a user name and password", "write imaps://user:password@host:993/INBOX"
        )
    if password is None:
        raise spec_error(
            "a user name is given without a password",
            "write user:password@host (user:@host for an empty password)",
        )
    return unquote(user), unquote(password)


def _mailbox(path: str) -> str:
    name = unquote(path.lstrip("/"))
    if not name:
        return "INBOX"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        raise spec_error(
            "the mailbox name holds a control character", "write the mailbox after the port"
        )
    return name


@dataclass(frozen=True)
class _Options:
    verify: bool = True
    cafile: Path | None = None
    timeout: float = DEFAULT_TIMEOUT


def _options(query: str, security: ImapSecurity) -> _Options:
    values = _query_values(query)
    if security is ImapSecurity.PLAIN and ({"verify", "cafile"} & values.keys()):
        raise spec_error(
            "?verify and ?cafile apply only to TLS", "use imaps:// or imap+starttls://"
        )
    verify = _flag(values.get("verify", "true"))
    cafile = _cafile(values.get("cafile"))
    if cafile is not None and not verify:
        raise spec_error("?cafile and ?verify=false contradict each other", "keep one of them")
    return _Options(verify=verify, cafile=cafile, timeout=_timeout(values.get("timeout")))


def _query_values(query: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in filter(None, query.split("&")):
        name, _, value = item.partition("=")
        if name not in ("verify", "cafile", "timeout"):
            shown = repr(name) if _OPTION_NAME.fullmatch(name) else "(unreadable)"
            raise spec_error(f"unknown option {shown}", "the options are verify, cafile, timeout")
        if name in values:
            raise spec_error(f"option {name!r} is given twice", "keep one of them")
        values[name] = unquote(value)
    return values


def _flag(value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise spec_error("?verify must be true or false", "write ?verify=false or leave it out")


def _cafile(value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise spec_error(f"the CA file {path} does not exist", "set ?cafile= to a PEM file")
    return path


def _timeout(value: str | None) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= 3600:
        raise spec_error("?timeout must be a number of seconds from 0 to 3600", "write ?timeout=30")
    return seconds
